import type { MetricsOps, StatsSnapshot } from '../../api/operations.js';
import { aggregateMetrics, sumOf, type MetricsJson } from '../metrics/aggregate.js';
import type { ServerParts } from './server-parts.js';

/** One sample every 10 s for an hour: the dashboard's charts. */
export const HISTORY_INTERVAL_MS = 10_000;
export const HISTORY_SAMPLES = 360;

/** How long a scrape waits for a SIP core, the TURN or the media thread, ms. */
const THREAD_TIMEOUT_MS = 2000;

/**
 * MetricsOps: `/metrics` aggregates the metrics of every thread on each scrape (the main thread's
 * registry, each SIP core's by CoreQuery `metrics`, the TURN and media threads' over their
 * channels); stats() reads the same figures as one StatsSnapshot; history() keeps a snapshot
 * every 10 s for the last hour. A thread that does not answer in time is left out of that scrape.
 */
export function createMetricsOps(parts: Pick<ServerParts, 'mainMetrics' | 'askCores' | 'turn' | 'media' | 'onStop' | 'log'>): MetricsOps {
  const gather = async (): Promise<MetricsJson[]> => {
    const [main, cores, turn, media] = await Promise.all([
      parts.mainMetrics.getMetricsAsJSON(),
      parts.askCores({ q: 'metrics' }, THREAD_TIMEOUT_MS),
      within(parts.turn()?.metrics()),
      within(parts.media?.metrics()),
    ]);
    const out: MetricsJson[] = [main as MetricsJson];
    for (const c of cores) if ('answer' in c && Array.isArray(c.answer)) out.push(c.answer as MetricsJson);
    out.push(turn as MetricsJson, media as MetricsJson);
    return out;
  };
  const stats = async (): Promise<StatsSnapshot> => snapshot((await aggregateMetrics(await gather()).getMetricsAsJSON()) as MetricsJson, Date.now());
  const history: StatsSnapshot[] = [];
  const timer = setInterval(() => {
    stats().then(
      (s) => {
        history.push(s);
        if (history.length > HISTORY_SAMPLES) history.shift();
      },
      (e: unknown) => parts.log.debug({ err: e instanceof Error ? e.message : String(e) }, 'stats sample not taken'),
    );
  }, HISTORY_INTERVAL_MS);
  timer.unref();
  parts.onStop(() => clearInterval(timer));
  return {
    prometheus: async () => {
      const registry = aggregateMetrics(await gather());
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    stats,
    history: () => [...history],
  };
}

/** A thread's answer, or none after THREAD_TIMEOUT_MS (a thread busy or gone). */
async function within(p: Promise<unknown[]> | undefined): Promise<unknown[]> {
  if (p === undefined) return [];
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<unknown[]>((resolve) => (timer = setTimeout(() => resolve([]), THREAD_TIMEOUT_MS)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The StatsSnapshot of aggregated metrics. `requests`: SIP requests received; `responses`: SIP
 * responses sent (Kamailio's rcv_requests and sent_replies). `calls` and `callsAnswered`: the
 * calls the proxies tracked since start (`parley_calls_total`, `parley_calls_answered_total`).
 */
export function snapshot(m: MetricsJson, time: number): StatsSnapshot {
  return {
    time,
    requests: sumOf(m, 'parley_sip_requests_total', { direction: 'in' }),
    responses: sumOf(m, 'parley_sip_responses_total', { direction: 'out' }),
    transactions: sumOf(m, 'parley_sip_transactions'),
    registrations: sumOf(m, 'parley_registrations'),
    calls: sumOf(m, 'parley_calls_total'),
    callsAnswered: sumOf(m, 'parley_calls_answered_total'),
    authFailures: sumOf(m, 'parley_auth_failures_total'),
    blockedSources: sumOf(m, 'parley_blocked_sources'),
    connections: sumOf(m, 'parley_connections'),
    turnAllocations: sumOf(m, 'parley_turn_allocations'),
    turnBytes: sumOf(m, 'parley_turn_relayed_bytes_total'),
    mediaSessions: sumOf(m, 'parley_media_sessions'),
    mediaPackets: sumOf(m, 'parley_media_packets_total'),
  };
}
