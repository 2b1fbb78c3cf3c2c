import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** How long one reading of the event-loop delay histogram lasts before it starts again. */
const WINDOW_MS = 10_000;
/** The sampling timer's period, ms: each sample is this period plus the lag, so it is taken off. */
const RESOLUTION_MS = 10;

/**
 * `parley_event_loop_lag_seconds{thread}`: the 99th percentile of this thread's event-loop delay
 * (node:perf_hooks monitorEventLoopDelay, sampled every 10 ms, the 10 ms taken off) over the last window of about 10 s.
 * A window, not "since the last scrape": two scrapers (Prometheus and the dashboard's history)
 * read the same figure. Each thread registers its own, labelled with its name (`main`, `sip-0`…,
 * `turn`, `media`), so the figures are kept apart when the threads' metrics are aggregated.
 */
export function registerEventLoopLag(registry: Registry, thread: string): void {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let windowStart = Date.now();
  let last = 0;
  new Gauge({
    name: 'parley_event_loop_lag_seconds',
    help: "99th percentile of the thread's event-loop delay over the last ~10 s window, by thread",
    labelNames: ['thread'],
    registers: [registry],
    aggregator: 'sum',
    collect() {
      const now = Date.now();
      // the window that ended; the current one while the first is still running
      if (now - windowStart >= WINDOW_MS || last === 0) {
        last = histogram.count > 0 ? Math.max(0, histogram.percentile(99) / 1e6 - RESOLUTION_MS) / 1000 : 0;
        if (now - windowStart >= WINDOW_MS) {
          histogram.reset();
          windowStart = now;
        }
      }
      this.set({ thread }, last);
    },
  });
}
