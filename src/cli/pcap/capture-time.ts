// Capture times for `parley pcap`: a record's time in ns since the epoch, and how the
// subcommands print it (UTC), the same in every table and JSON.
import type { CaptureRecord } from '../../pcap/index.js';

/** Capture time of a record in ns since the epoch. */
export function recordTime(record: CaptureRecord): bigint {
  return BigInt(record.seconds) * 1_000_000_000n + BigInt(record.nanoseconds);
}

/** A capture time as UTC date and time to the millisecond: 2026-12-07 11:45:38.123. */
export function formatTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The time of day only (UTC): 11:45:38.123. */
export function formatTimeOfDay(ns: bigint): string {
  return formatTime(ns).slice(11);
}

/** ISO 8601 with nanoseconds, for JSON: 2026-12-07T11:45:38.123456789Z. */
export function isoNs(ns: bigint): string {
  const s = new Date(Number(ns / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
  return `${s}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
}
