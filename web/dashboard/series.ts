import type { StatsSnapshot } from '../../src/api/operations.js';

/** The charts of the overview, each a series over time. */
export type ChartName = 'callRate' | 'registrations' | 'failureRate' | 'turnRate' | 'mediaSessions';

export interface ChartData {
  /** Seconds since the epoch (uPlot's x). */
  readonly x: number[];
  readonly y: Record<ChartName, Array<number | null>>;
}

/** One hour of samples is what the charts show. */
export const WINDOW_MS = 3_600_000;

/** A counter's change per second between two samples (null across a restart: the counter went down). */
function rate(now: number, before: number, seconds: number): number | null {
  if (seconds <= 0 || now < before) return null;
  return (now - before) / seconds;
}

/**
 * Chart series from snapshots (oldest first): gauges as they are (registrations, media
 * sessions), counters as rates per second between neighbouring samples (calls, auth failures,
 * TURN bytes). The first sample has no rate (null: a gap). Samples older than an hour before the
 * newest are left out.
 */
export function chartSeries(samples: readonly StatsSnapshot[]): ChartData {
  const newest = samples.at(-1)?.time ?? 0;
  const kept = samples.filter((s) => s.time > newest - WINDOW_MS);
  const data: ChartData = { x: [], y: { callRate: [], registrations: [], failureRate: [], turnRate: [], mediaSessions: [] } };
  kept.forEach((s, i) => {
    const prev = kept[i - 1];
    const seconds = prev === undefined ? 0 : (s.time - prev.time) / 1000;
    data.x.push(s.time / 1000);
    data.y.registrations.push(s.registrations);
    data.y.mediaSessions.push(s.mediaSessions);
    data.y.callRate.push(prev === undefined ? null : rate(s.calls, prev.calls, seconds));
    data.y.failureRate.push(prev === undefined ? null : rate(s.authFailures, prev.authFailures, seconds));
    data.y.turnRate.push(prev === undefined ? null : rate(s.turnBytes, prev.turnBytes, seconds));
  });
  return data;
}

/** Add a sample to a history (kept in time order, an hour long, one sample per time). */
export function addSample(history: StatsSnapshot[], s: StatsSnapshot): void {
  const last = history.at(-1);
  if (last !== undefined && s.time <= last.time) return;
  history.push(s);
  while (history.length > 0 && history[0]!.time <= s.time - WINDOW_MS) history.shift();
}

/** Add samples of any time (the history, arriving after live samples): kept in time order, one per time, an hour long. */
export function mergeSamples(history: StatsSnapshot[], samples: readonly StatsSnapshot[]): void {
  const byTime = new Map<number, StatsSnapshot>();
  for (const s of [...samples, ...history]) byTime.set(s.time, s);
  const merged = [...byTime.values()].sort((a, b) => a.time - b.time);
  const newest = merged.at(-1)?.time ?? 0;
  history.splice(0, history.length, ...merged.filter((s) => s.time > newest - WINDOW_MS));
}

/** Requests per second between two snapshots (requests and responses are counters). */
export function requestRate(now: StatsSnapshot, before: StatsSnapshot | undefined): number | undefined {
  if (before === undefined) return undefined;
  const r = rate(now.requests, before.requests, (now.time - before.time) / 1000);
  return r ?? undefined;
}

/** A figure as people read it: 1234 → `1,234`, 1.5e6 → `1.5 M`, a rate with one decimal. */
export function formatFigure(n: number | undefined, decimals = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  return n.toLocaleString('en-US', { maximumFractionDigits: decimals, minimumFractionDigits: decimals });
}

/** An axis tick in a few characters: 1500 → `1.5k`, 2e6 → `2M`. */
export function formatTick(n: number): string {
  const short = (v: number): string => String(Number(v.toFixed(1)));
  if (Math.abs(n) >= 1e9) return `${short(n / 1e9)}G`;
  if (Math.abs(n) >= 1e6) return `${short(n / 1e6)}M`;
  if (Math.abs(n) >= 1e3) return `${short(n / 1e3)}k`;
  return short(n);
}
