import { serializeToString, type AnySipMessage, type Flow, type SipRequest } from '../sip/index.js';
import type { MessageObserver } from '../sip-server/transport/index.js';

/** The handlers of a routing script, as traces name them. */
export type HandlerName = 'onStateless' | 'onRequest' | 'onInDialog' | 'onResponse' | 'onFailure';

/** One routing step: a handler started or ended (with the dumped variables), or an action ran. */
export interface TraceStep {
  /** ms since the request was received. */
  readonly t: number;
  readonly handler: HandlerName;
  /** `start`, `end`, `throw`, or the action's name (`relay`, `authenticate`, …). */
  readonly action: string;
  readonly args?: readonly unknown[];
  readonly result?: unknown;
  /** At `start` and `end`: the variables the script lists in `dumpVars`. */
  readonly vars?: Readonly<Record<string, unknown>>;
}

/** A message sent or received while the request was routed. */
export interface TraceMessage {
  readonly t: number;
  /** `udp:192.0.2.1:5060`: where it went to (sent) or came from (received). */
  readonly peer: string;
  readonly message: string;
}

/** One traced request, as written to `<dataDir>/traces/<call>/<seq>-<method>.json`. */
export interface TraceReportJson {
  readonly format: 'parley-trace/1';
  readonly callId: string;
  /** Order of this request among the call's traced requests (1, 2, …). */
  readonly seq: number;
  readonly method: string;
  readonly cseq: number;
  /** When it was received (ISO 8601, whole ms). */
  readonly at: string;
  /**
   * The same instant in ms since the epoch, with its fraction: the ladder orders messages of
   * different reports by it (a 407 and the ACK for it can be less than 1 ms apart on loopback).
   * Absent in reports written before it existed.
   */
  readonly atMs?: number;
  /** The SIP core that routed it (0: the main thread). */
  readonly core: number;
  readonly script: { readonly version: number; readonly source: string };
  /** The request as received, before the script changed it. */
  readonly received: TraceMessage;
  readonly steps: readonly TraceStep[];
  /** Every message sent for it: responses upstream, requests downstream (branches, CANCEL, ACK). */
  readonly sent: readonly TraceMessage[];
  /** Responses that came back from its branches. */
  readonly responses: readonly TraceMessage[];
  /** ms from reception to the end of its routing (final response sent and no branch pending). */
  readonly durationMs: number;
}

/** Where finished reports go: files (TraceFileSink), or the test harness. */
export interface TraceSink {
  /** The number of the next request of this call (1 for the first). */
  nextSeq(callId: string): number;
  write(report: TraceReportJson): void;
}

/** The version a trace names. */
export interface TracedScript {
  readonly version: number;
  readonly source: string;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * The trace of one request while it is routed. Contexts add steps; the recorder adds the
 * messages of its Call-ID; `close` hands it to the sink once its routing has ended.
 */
export class TraceReport {
  readonly steps: TraceStep[] = [];
  readonly sent: TraceMessage[] = [];
  readonly responses: TraceMessage[] = [];
  readonly callId: string;
  readonly method: string;
  readonly cseq: number;
  readonly startedAt: number;
  private readonly wall: number;
  private readonly received: TraceMessage;
  closed = false;
  /** ms from reception to the end of its routing (set when the report is written). */
  private duration: number | undefined;

  constructor(
    private readonly recorder: TraceRecorder,
    request: SipRequest,
    source: Flow,
    readonly seq: number,
    readonly script: TracedScript,
  ) {
    this.callId = request.callId;
    this.method = request.method;
    this.cseq = request.cseq.seq;
    this.startedAt = recorder.now();
    // sub-ms wall clock; timeOrigin + now() agrees across worker threads
    this.wall = performance.timeOrigin + performance.now();
    this.received = { t: 0, peer: `${source.transport}:${source.remoteAddress}:${source.remotePort}`, message: serializeToString(request) };
  }

  /** ms since the request was received. */
  elapsed(): number {
    return round(this.recorder.now() - this.startedAt);
  }

  step(handler: HandlerName, action: string, args?: readonly unknown[], result?: unknown): void {
    const s: { -readonly [K in keyof TraceStep]: TraceStep[K] } = { t: this.elapsed(), handler, action };
    if (args !== undefined && args.length > 0) s.args = args.map(jsonSafe);
    if (result !== undefined) s.result = jsonSafe(result);
    this.steps.push(s);
  }

  /** A handler's start or end, with the variables to dump. */
  mark(handler: HandlerName, action: 'start' | 'end' | 'throw', vars: Record<string, unknown> | undefined, names: readonly string[] | undefined, result?: unknown): void {
    const s: { -readonly [K in keyof TraceStep]: TraceStep[K] } = { t: this.elapsed(), handler, action };
    if (names !== undefined && names.length > 0) {
      const dumped: Record<string, unknown> = {};
      for (const n of names) dumped[n] = vars === undefined || !(n in vars) ? null : jsonSafe(vars[n]);
      s.vars = dumped;
    }
    if (result !== undefined) s.result = jsonSafe(result);
    this.steps.push(s);
  }

  /** Routing is over: write the report after what is being sent now has been sent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    setImmediate(() => {
      // after what was being sent when routing ended (a stateless answer goes right after its handler)
      this.duration = this.elapsed();
      this.recorder.finish(this);
    });
  }

  toJSON(): TraceReportJson {
    return {
      format: 'parley-trace/1',
      callId: this.callId,
      seq: this.seq,
      method: this.method,
      cseq: this.cseq,
      at: new Date(Math.floor(this.wall)).toISOString(),
      atMs: round(this.wall),
      core: this.recorder.core,
      script: { version: this.script.version, source: this.script.source },
      received: this.received,
      steps: this.steps,
      sent: this.sent,
      responses: this.responses,
      durationMs: this.duration ?? this.elapsed(),
    };
  }
}

/**
 * Traces of test calls, as Kamailio's cfgt writes them: a request whose Call-ID starts with the
 * configured prefix gets a report of every routing step and every message sent for it. One per
 * SIP core (a call's messages all reach one core). It observes the core's MessagePath for the
 * messages; other calls cost one `startsWith`.
 */
export class TraceRecorder implements MessageObserver {
  /** Open reports by Call-ID (a call can have several: an INVITE and its CANCEL). */
  private readonly open = new Map<string, TraceReport[]>();
  readonly now: () => number;

  constructor(
    private readonly prefix: string,
    private readonly sink: TraceSink,
    readonly core = 0,
    now: () => number = () => performance.now(),
  ) {
    this.now = now;
  }

  matches(callId: string): boolean {
    return callId.startsWith(this.prefix);
  }

  /** A report for a request about to be routed (the caller checked `matches`). */
  begin(request: SipRequest, source: Flow, script: TracedScript): TraceReport {
    const report = new TraceReport(this, request, source, this.sink.nextSeq(request.callId), script);
    const list = this.open.get(report.callId);
    if (list === undefined) this.open.set(report.callId, [report]);
    else list.push(report);
    return report;
  }

  /** A report that will never be finished (its request turned out to be a retransmission). */
  discard(report: TraceReport): void {
    report.closed = true;
    this.detach(report);
  }

  finish(report: TraceReport): void {
    this.detach(report);
    this.sink.write(report.toJSON());
  }

  onReceived(message: AnySipMessage, flow: Flow): void {
    if (message.isRequest || !this.matches(message.callId)) return;
    const report = this.reportFor(message);
    report?.responses.push({ t: report.elapsed(), peer: `${flow.transport}:${flow.remoteAddress}:${flow.remotePort}`, message: serializeToString(message) });
  }

  onSent(message: AnySipMessage, bytes: Uint8Array, to: { readonly transport: string; readonly host: string; readonly port: number }): void {
    if (!this.matches(message.callId)) return;
    const report = this.reportFor(message);
    report?.sent.push({ t: report.elapsed(), peer: `${to.transport}:${to.host}:${to.port}`, message: new TextDecoder().decode(bytes) });
  }

  private detach(report: TraceReport): void {
    const list = this.open.get(report.callId);
    if (list === undefined) return;
    const i = list.indexOf(report);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.open.delete(report.callId);
  }

  /**
   * The open report a message belongs to: the one of the same CSeq number and method; for an
   * ACK or CANCEL without one of its own, the INVITE's; else the latest of the call.
   */
  private reportFor(message: AnySipMessage): TraceReport | undefined {
    const list = this.open.get(message.callId);
    if (list === undefined || list.length === 0) return undefined;
    let cseq: { seq: number; method: string };
    try {
      cseq = message.cseq;
    } catch {
      return list[list.length - 1];
    }
    let invite: TraceReport | undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const r = list[i]!;
      if (r.cseq !== cseq.seq) continue;
      if (r.method === cseq.method) return r;
      if (r.method === 'INVITE') invite = r;
    }
    return invite ?? list[list.length - 1];
  }
}

/** A value as it can go into JSON: URIs and header values as text, errors as their message. */
export function jsonSafe(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  if (value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (typeof value !== 'object') return String(value);
  if (value instanceof Error) return { error: value.name, message: value.message };
  if (depth >= 4) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => jsonSafe(v, depth + 1));
  if (value instanceof Map) return Object.fromEntries([...value].slice(0, 50).map(([k, v]) => [String(k), jsonSafe(v, depth + 1)]));
  if (value instanceof Set) return [...value].slice(0, 50).map((v) => jsonSafe(v, depth + 1));
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== Object.prototype && proto !== null) {
    // a class instance: a URI, a name-addr, a message: its text form says it best
    const text = String(value);
    if (text !== '[object Object]') return text;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = jsonSafe(v, depth + 1);
  return out;
}
