/**
 * The phone's call history: the last calls of this browser (who, direction, when, how long, how
 * it ended), kept in localStorage under one key per account. Pure functions over a plain
 * `Storage`-like object, so the Node tests run them as they are.
 */

export type Direction = 'outgoing' | 'incoming';
/** How a call ended: talked, no answer (missed for an incoming one), refused, or failed. */
export type CallOutcome = 'answered' | 'missed' | 'cancelled' | 'rejected' | 'busy' | 'failed';

export interface HistoryEntry {
  /** How the page named the other side ("bob", "Alice Liddell"). */
  readonly who: string;
  /** What "call again" dials: the SIP URI of the other side. */
  readonly uri: string;
  readonly direction: Direction;
  /** When the call began (ms since the epoch). */
  readonly at: number;
  /** Seconds talked; 0 for a call that was never answered. */
  readonly duration: number;
  readonly outcome: CallOutcome;
}

/** How many calls the history keeps. */
export const HISTORY_LENGTH = 20;

/** The part of Storage the history needs (localStorage in the page, a Map-backed stub in tests). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function historyKey(aor: string): string {
  return `parley-phone.history.${aor}`;
}

const DIRECTIONS: ReadonlySet<string> = new Set(['outgoing', 'incoming']);
const OUTCOMES: ReadonlySet<string> = new Set(['answered', 'missed', 'cancelled', 'rejected', 'busy', 'failed']);

function isEntry(v: unknown): v is HistoryEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.who === 'string' && typeof e.uri === 'string' && DIRECTIONS.has(e.direction as string) && Number.isFinite(e.at) &&
    Number.isFinite(e.duration) && OUTCOMES.has(e.outcome as string);
}

/** The stored history, newest first; what another version or a person wrote that is not an entry is left out. */
export function readHistory(store: KeyValueStore, aor: string): HistoryEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(store.getItem(historyKey(aor)) ?? '[]');
  } catch {
    return [];
  }
  return Array.isArray(parsed) ? parsed.filter(isEntry).slice(0, HISTORY_LENGTH) : [];
}

/** Put `entry` first and keep the last HISTORY_LENGTH calls; returns the new list. A full or refused storage keeps the old list. */
export function addToHistory(store: KeyValueStore, aor: string, entry: HistoryEntry): HistoryEntry[] {
  const list = [entry, ...readHistory(store, aor)].slice(0, HISTORY_LENGTH);
  try {
    store.setItem(historyKey(aor), JSON.stringify(list));
  } catch {
    // quota exceeded or storage disabled: the page still shows this session's list
  }
  return list;
}

/** The outcome of a call that ended, from how it ended (JsSIP's cause and status) and whether it was answered. */
export function outcomeOf(o: { answered: boolean; direction: Direction; cause: string; status?: number | undefined; originator?: string | undefined }): CallOutcome {
  if (o.answered) return 'answered';
  if (o.status === 486 || o.status === 600 || o.cause === 'Busy') return 'busy';
  if (o.cause === 'Canceled') return o.direction === 'incoming' ? 'missed' : 'cancelled';
  if (o.status === 603 || o.cause === 'Rejected') return 'rejected';
  if (o.direction === 'incoming' && (o.cause === 'No Answer' || o.cause === 'Request Timeout' || o.cause === 'Expires')) return 'missed';
  if (o.direction === 'outgoing' && o.cause === 'No Answer') return 'missed';
  return 'failed';
}

/** One line of the list, in words: "Outgoing · 3:07", "Missed", "bob was busy". */
export function describeEntry(e: HistoryEntry, formatDuration: (s: number) => string): string {
  const dir = e.direction === 'outgoing' ? 'Outgoing' : 'Incoming';
  switch (e.outcome) {
    case 'answered':
      return `${dir} · ${formatDuration(e.duration)}`;
    case 'missed':
      return e.direction === 'incoming' ? 'Missed' : 'Outgoing · no answer';
    case 'cancelled':
      return 'Outgoing · cancelled';
    case 'rejected':
      return `${dir} · declined`;
    case 'busy':
      return `${dir} · busy`;
    case 'failed':
      return `${dir} · failed`;
  }
}
