import { Counter, Gauge, Registry } from 'prom-client';
import { registerEventLoopLag } from './lag.js';
import { registerHepMetrics } from './hep-metrics.js';

/** What the media thread's metrics read when scraped (media-worker.ts). */
export interface MediaMetricSources {
  sessions(): number;
  sockets(): number;
  timedOut(): number;
  /** Packets since start: received from the sides, sent to them. */
  packets(): { readonly in: number; readonly out: number };
}

/** The media thread's metrics (`parley_media_…`), in its own registry, asked for by the main thread. */
export function mediaRegistry(s: MediaMetricSources): Registry {
  const registry = new Registry();
  const registers = [registry];
  registerHepMetrics(registers);
  new Gauge({
    name: 'parley_media_sessions',
    help: 'Anchored calls with a media session now',
    registers,
    collect() {
      this.set(s.sessions());
    },
  });
  new Gauge({
    name: 'parley_media_sockets',
    help: 'Media sockets (ports) open now',
    registers,
    collect() {
      this.set(s.sockets());
    },
  });
  new Counter({
    name: 'parley_media_packets_total',
    help: 'RTP and RTCP packets of anchored calls: direction="in" (received from the sides), "out" (sent to them)',
    labelNames: ['direction'],
    registers,
    collect() {
      const p = s.packets();
      this.reset();
      this.inc({ direction: 'in' }, p.in);
      this.inc({ direction: 'out' }, p.out);
    },
  });
  new Counter({
    name: 'parley_media_sessions_timed_out_total',
    help: 'Media sessions deleted for want of media or of an answer in time',
    registers,
    collect() {
      this.reset();
      this.inc(s.timedOut());
    },
  });
  registerEventLoopLag(registry, 'media');
  return registry;
}
