import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { registerEventLoopLag } from './lag.js';
import { registerHepMetrics } from './hep-metrics.js';

/** What the main thread's metrics read when scraped. */
export interface MainMetricSources {
  /** Open stream connections (TCP, TLS, WS, WSS) by transport. */
  connectionsByTransport(): Readonly<Record<string, number>>;
  /** Sources the failed-auth limiter blocks now; none: the limiter is off. */
  blockedSources?(): number;
  /** The SIP worker pool's queue figures; none: no worker threads. */
  workerQueue?(): { readonly shedDatagrams: number; readonly lostMessages: number; readonly silentWorkers: number; readonly pausedConnections: number };
}

/** The stream transports, always exposed (0 when none is open), so that a dashboard has its series. */
const STREAM_TRANSPORTS = ['tcp', 'tls', 'ws', 'wss'] as const;

/**
 * The main thread's metrics: the sockets and connections it owns, the failed-auth limiter, the
 * SIP worker pool's queues, its event-loop lag, and the process metrics of prom-client
 * (collectDefaultMetrics: CPU, memory, heap, handles, with the `process_`/`nodejs_` prefixes).
 */
export function mainRegistry(s: MainMetricSources): Registry {
  const registry = new Registry();
  const registers = [registry];
  registerHepMetrics(registers);
  collectDefaultMetrics({ register: registry });
  // gauges named like counters (promtool check metrics refuses them); `nodejs_active_handles` and
  // the others without the suffix say the same by type
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  new Gauge({
    name: 'parley_connections',
    help: 'Open SIP stream connections by transport (tcp, tls, ws, wss); UDP has none',
    labelNames: ['transport'],
    registers,
    collect() {
      const by = s.connectionsByTransport();
      for (const t of STREAM_TRANSPORTS) this.set({ transport: t }, by[t] ?? 0);
    },
  });
  new Gauge({
    name: 'parley_blocked_sources',
    help: 'Sources (IPv4 addresses, IPv6 /64 prefixes) the failed-auth limiter blocks now',
    registers,
    collect() {
      this.set(s.blockedSources?.() ?? 0);
    },
  });
  if (s.workerQueue !== undefined) {
    const q = s.workerQueue;
    new Counter({
      name: 'parley_sip_worker_shed_datagrams_total',
      help: 'Datagrams dropped because they waited too long for their SIP worker (overload)',
      registers,
      collect() {
        this.reset();
        this.inc(q().shedDatagrams);
      },
    });
    new Counter({
      name: 'parley_sip_worker_lost_messages_total',
      help: 'Messages lost with a SIP worker that died',
      registers,
      collect() {
        this.reset();
        this.inc(q().lostMessages);
      },
    });
    new Gauge({
      name: 'parley_sip_worker_paused_connections',
      help: 'Stream connections paused because their SIP worker is behind',
      registers,
      collect() {
        this.set(q().pausedConnections);
      },
    });
    new Gauge({
      name: 'parley_sip_workers_silent',
      help: 'SIP workers whose event loop did not answer the watchdog',
      registers,
      collect() {
        this.set(q().silentWorkers);
      },
    });
  }
  registerEventLoopLag(registry, 'main');
  return registry;
}
