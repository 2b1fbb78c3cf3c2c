import type { Clock } from '../../../lib/clock.js';
import type { EventSink } from '../../../lib/events.js';
import { silentLogger, type Logger } from '../../../lib/logger.js';
import { CallRecord, type CallEndReason, type CallSide, type CallSnapshot } from './call-record.js';
import { RenewingMap } from '../../../lib/renewing-map.js';

export interface CallTrackerOptions {
  readonly clock: Clock;
  /** Wall-clock time, ms since the epoch (start and answer times, durations). Default Date.now. */
  readonly now?: () => number;
  /** A call still open after this long ends with reason `timeout` (proxy.callTimeout). Default 12 h. */
  readonly timeoutMs?: number;
  /** Most calls tracked at once (proxy.maxCalls); one more is relayed but not tracked. Default 100,000. */
  readonly maxCalls?: number;
  /** call.started / call.answered / call.ended go here. */
  readonly events?: EventSink;
  /** One info line per call end. */
  readonly log?: Logger;
}

/** Which calls to list (CallTracker.query). */
export interface CallQuery {
  readonly callId?: string;
  readonly search?: string;
  readonly limit?: number;
}

/** What a new call is made of: the INVITE's side (the callee's To URI only). */
export interface CallStart {
  readonly callId: string;
  readonly caller: Pick<CallSide, 'uri' | 'field' | 'tag' | 'contact' | 'flow' | 'cseq'>;
  readonly calleeUri: string;
  readonly media: boolean;
}

/**
 * The calls one SIP core relays (Kamailio's dialog module, its `dlg.list` and `dlg.end_dlg`):
 * records by Call-ID and the caller's tag, bounded in number and in time, and the call.* events
 * and the call-end log line. It only keeps the records: the proxy (proxy-calls.ts) tells it what
 * the messages of each call say.
 */
export class CallTracker {
  private readonly byCallId = new RenewingMap<string, CallRecord[]>();
  private count = 0;
  private readonly clock: Clock;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly maxCalls: number;
  private readonly events: EventSink | undefined;
  private readonly log: Logger;
  /** Calls tracked since start. */
  started = 0;
  /** Calls answered since start. */
  answered = 0;
  /** Calls relayed but not tracked: maxCalls were open. */
  untracked = 0;

  constructor(options: CallTrackerOptions) {
    this.clock = options.clock;
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? 43_200_000;
    this.maxCalls = options.maxCalls ?? 100_000;
    this.events = options.events;
    this.log = options.log ?? silentLogger;
  }

  /** Calls open now (for metrics). */
  get size(): number {
    return this.count;
  }

  /**
   * A new call: undefined when maxCalls are open (counted in `untracked`), or when a call with the
   * same Call-ID and caller tag is open (the INVITE spiralled back through Parley: one call).
   */
  start(s: CallStart): CallRecord | undefined {
    const same = this.byCallId.get(s.callId);
    if (same?.some((r) => r.caller.tag === s.caller.tag)) return undefined;
    if (this.count >= this.maxCalls) {
      this.untracked++;
      if (this.untracked === 1 || this.untracked % 1000 === 0) this.log.warn({ maxCalls: this.maxCalls, untracked: this.untracked }, 'calls beyond proxy.maxCalls are relayed but not tracked');
      return undefined;
    }
    const record = new CallRecord(
      s.callId,
      { ...s.caller },
      { uri: s.calleeUri, field: undefined, tag: undefined, contact: undefined, flow: undefined, cseq: 0 },
      this.now(),
      s.media,
    );
    if (same === undefined) this.byCallId.set(s.callId, [record]);
    else same.push(record);
    this.count++;
    this.started++;
    record.timer = this.clock.setTimeout(() => {
      record.timer = undefined;
      this.end(record, 'timeout', record.status ?? 408);
    }, this.timeoutMs);
    this.emit(record, 'call.started');
    return record;
  }

  /**
   * The open call a request with these tags belongs to, and whether the caller sent it (its tag
   * in From) or the callee (the caller's tag in To).
   */
  find(callId: string, fromTag: string | undefined, toTag: string | undefined): { readonly record: CallRecord; readonly fromCaller: boolean } | undefined {
    const list = this.byCallId.get(callId);
    if (list === undefined) return undefined;
    for (const record of list) {
      const tag = record.caller.tag;
      if (tag === fromTag && (toTag === undefined || record.callee.tag === undefined || record.callee.tag === toTag)) return { record, fromCaller: true };
      if (tag === toTag && (record.callee.tag === undefined || record.callee.tag === fromTag)) return { record, fromCaller: false };
    }
    return undefined;
  }

  /** Every open call with this Call-ID. */
  withCallId(callId: string): readonly CallRecord[] {
    return this.byCallId.get(callId) ?? [];
  }

  /** A provisional response (18x) of a branch went upstream: ringing. */
  ringing(record: CallRecord): void {
    if (record.state === 'trying') record.state = 'ringing';
  }

  /** The first 2xx: answered (the side fields are set by the caller of this). */
  answer(record: CallRecord, status: number): void {
    if (record.ended || record.answeredAt !== undefined) return;
    record.state = record.state === 'ending' ? 'ending' : 'answered';
    record.answeredAt = this.now();
    record.status = status;
    this.answered++;
    this.emit(record, 'call.answered');
  }

  /** The call ends now: removed, call.ended, one info line. Once per record. */
  end(record: CallRecord, reason: CallEndReason, status: number): void {
    if (record.ended) return;
    record.ended = true;
    if (record.timer !== undefined) this.clock.clearTimeout(record.timer);
    record.timer = undefined;
    const list = this.byCallId.get(record.callId);
    if (list !== undefined) {
      const i = list.indexOf(record);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byCallId.delete(record.callId);
    }
    this.count--;
    const why: CallEndReason = record.hangupRequested ? 'hangup' : reason;
    const duration = record.answeredAt === undefined ? 0 : Math.max(0, Math.round((this.now() - record.answeredAt) / 1000));
    this.emit(record, 'call.ended', { status, reason: why, duration });
    this.log.info({ callId: record.callId, from: record.caller.uri, to: record.callee.uri, status, reason: why, duration }, 'call ended');
  }

  /**
   * The open calls matching `q`, oldest first (then by Call-ID): `callId` exactly, `search` a
   * substring (case-insensitive) of the Call-ID, the caller's or the callee's URI; at most
   * `limit` of them, with `total` the number matching.
   */
  query(q: CallQuery = {}): { readonly total: number; readonly items: CallSnapshot[] } {
    const needle = q.search?.toLowerCase();
    const matches: CallRecord[] = [];
    const consider = (r: CallRecord): void => {
      if (needle === undefined || needle === '' || r.callId.toLowerCase().includes(needle) || r.caller.uri.toLowerCase().includes(needle) || r.callee.uri.toLowerCase().includes(needle)) matches.push(r);
    };
    if (q.callId !== undefined) for (const r of this.byCallId.get(q.callId) ?? []) consider(r);
    else for (const records of this.byCallId.values()) for (const r of records) consider(r);
    matches.sort(byAge);
    const now = this.now();
    const items = matches.slice(0, q.limit ?? matches.length).map((r) => r.snapshot(now));
    return { total: matches.length, items };
  }

  snapshot(record: CallRecord): CallSnapshot {
    return record.snapshot(this.now());
  }

  /** Forget every call without events (the core stops). */
  clear(): void {
    for (const records of this.byCallId.values()) for (const r of records) if (r.timer !== undefined) this.clock.clearTimeout(r.timer);
    this.byCallId.clear();
    this.count = 0;
  }

  private emit(record: CallRecord, type: 'call.started' | 'call.answered' | 'call.ended', end?: { status: number; reason: CallEndReason; duration: number }): void {
    if (this.events === undefined) return;
    try {
      this.events({ type, time: this.now(), callId: record.callId, from: record.caller.uri, to: record.callee.uri, ...end });
    } catch {
      // an EventSink never throws; should one, the call goes on
    }
  }
}

/** Oldest first; the same start: by Call-ID (a stable order for pages). */
export function byAge(a: { readonly startedAt: number | string; readonly callId: string }, b: { readonly startedAt: number | string; readonly callId: string }): number {
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt ? -1 : 1;
  return a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0;
}
