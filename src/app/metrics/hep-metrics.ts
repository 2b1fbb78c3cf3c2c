import { Counter, type Registry } from 'prom-client';
import { hepCounts } from '../hep/hep-counts.js';

/**
 * `parley_hep_packets_total{result}` of this thread's HEP capture (app/hep/hep-counts.ts), read at
 * scrape time; every thread that captures registers it and /metrics sums them.
 */
export function registerHepMetrics(registers: Registry[]): void {
  new Counter({
    name: 'parley_hep_packets_total',
    help: 'HEP packets for the collectors (hep.collectors), per collector: "sent" (handed to the socket), "dropped" (queue full, TCP collector not reading or not connected, over 65535 bytes); and SIP messages left out by hep.sampling ("sampled_out")',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      this.inc({ result: 'sent' }, hepCounts.sent);
      this.inc({ result: 'dropped' }, hepCounts.dropped);
      this.inc({ result: 'sampled_out' }, hepCounts.sampledOut);
    },
  });
}
