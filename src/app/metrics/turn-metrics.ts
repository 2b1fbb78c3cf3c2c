import { Counter, Gauge, Registry } from 'prom-client';
import { registerEventLoopLag } from './lag.js';

/** What the TURN thread's metrics read when scraped (turn-worker.ts). */
export interface TurnMetricSources {
  allocations(): number;
  /** Bytes relayed since start: client → peer, peer → client. */
  relayedBytes(): { readonly toPeer: number; readonly fromPeer: number };
  readonly stats: { readonly requests: number; readonly allocationsMade: number; readonly relayDropped: number };
}

/** The TURN thread's metrics (`parley_turn_…`), in its own registry, asked for by the main thread. */
export function turnRegistry(s: TurnMetricSources): Registry {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: 'parley_turn_allocations',
    help: 'TURN allocations (RFC 8656) open now',
    registers,
    collect() {
      this.set(s.allocations());
    },
  });
  new Counter({
    name: 'parley_turn_relayed_bytes_total',
    help: 'Application bytes relayed by TURN allocations: direction="to_peer" (client to peer), "to_client" (peer to client)',
    labelNames: ['direction'],
    registers,
    collect() {
      const b = s.relayedBytes();
      this.reset();
      this.inc({ direction: 'to_peer' }, b.toPeer);
      this.inc({ direction: 'to_client' }, b.fromPeer);
    },
  });
  new Counter({
    name: 'parley_turn_requests_total',
    help: 'STUN/TURN requests received by the TURN listeners',
    registers,
    collect() {
      this.reset();
      this.inc(s.stats.requests);
    },
  });
  new Counter({
    name: 'parley_turn_allocations_made_total',
    help: 'TURN allocations made since start',
    registers,
    collect() {
      this.reset();
      this.inc(s.stats.allocationsMade);
    },
  });
  new Counter({
    name: 'parley_turn_relay_dropped_total',
    help: 'Packets of allocations not relayed (no permission or channel, peer denied, over the bandwidth limit)',
    registers,
    collect() {
      this.reset();
      this.inc(s.stats.relayDropped);
    },
  });
  registerEventLoopLag(registry, 'turn');
  return registry;
}
