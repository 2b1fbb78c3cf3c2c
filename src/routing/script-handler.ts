import { SipParseError, type Flow, type ServerTransaction, type SipRequest } from '../sip/index.js';
import type { RequestHandler, StatelessAnswer } from '../sip-server/core/request-handler.js';
import { optionsHeaders } from '../sip-server/core/options-headers.js';
import type { SipServer } from '../sip-server/sip-server.js';
import type { LoadedScript } from './loaded-script.js';
import type { RoutingEnv } from './routing-env.js';
import { RequestCtx, StatelessCtx, type RoutingDone } from './script-contexts.js';
import { SipReply } from './sip-reply.js';
// a script without onInDialog follows the default script's rule for in-dialog requests
import * as defaultScript from './scripts/default.js';
import type { TraceRecorder, TraceReport } from './trace-recorder.js';

const METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'MESSAGE', 'INFO', 'UPDATE', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'REFER'];

export interface ScriptHandlerOptions {
  /** Traces of test calls (routing.traceCallIdPrefix); none: no request is traced. */
  readonly tracer?: TraceRecorder;
  /** A debug line per routed request (its script version and outcome). */
  readonly logEachRequest?: boolean;
}

/**
 * The transaction user that runs a routing script (src/routing): each new request goes to the
 * version active when its transaction is created, and every later step of that transaction —
 * branch responses, the failure route — runs on that same version (its RequestCtx holds it),
 * whatever reloads happen meanwhile. Versions are swapped in two steps so that several SIP cores
 * can switch together (script-host.ts): `prepare` keeps a loaded version aside, `commit` makes it
 * the active one (one assignment: a request sees either the old or the new version, never a mix).
 *
 * A script's exception answers 500 for that request only and is logged with the script's stack;
 * a thrown SipReply answers with its status.
 */
export class ScriptHandler implements RequestHandler, RoutingDone {
  readonly allow = METHODS;
  readonly supported = ['path'];
  private current: LoadedScript;
  private readonly prepared = new Map<number, LoadedScript>();
  /** Requests handled per script version (new requests and ACKs, stateless answers included). */
  readonly handled = new Map<number, number>();
  private readonly tracer: TraceRecorder | undefined;
  private logEach: boolean;
  /** Reports begun by onStateless for a request that went on to a transaction. */
  private readonly pendingTraces = new WeakMap<SipRequest, TraceReport>();
  private readonly optionsAnswer = (): ReadonlyArray<readonly [string, string]> => optionsHeaders(this);

  constructor(
    readonly env: RoutingEnv,
    initial: LoadedScript,
    options: ScriptHandlerOptions = {},
  ) {
    this.current = initial;
    this.tracer = options.tracer;
    this.logEach = options.logEachRequest ?? false;
  }

  /** Log every request at debug (set when the log level changes: a configuration reload). */
  set logEachRequest(on: boolean) {
    this.logEach = on;
  }

  /** The active version. */
  get script(): LoadedScript {
    return this.current;
  }

  // ---- versions ---------------------------------------------------------------------------

  /** Keep a loaded version ready for `commit`. */
  prepare(script: LoadedScript): void {
    this.prepared.set(script.version, script);
  }

  /** Make a prepared version the active one; false if it was not prepared here. */
  commit(version: number): boolean {
    const next = this.prepared.get(version);
    if (next === undefined) return false;
    for (const v of this.prepared.keys()) if (v <= version) this.prepared.delete(v);
    this.current = next;
    return true;
  }

  /** Forget a prepared version that will not become active. */
  abort(version: number): void {
    this.prepared.delete(version);
  }

  // ---- RequestHandler -----------------------------------------------------------------------

  statelessAnswer(request: SipRequest, source: Flow): StatelessAnswer | undefined {
    const script = this.current;
    const fn = script.onStateless;
    if (fn === undefined) return undefined;
    const tracer = this.tracer;
    const trace = tracer !== undefined && tracer.matches(request.callId) ? tracer.begin(request, source, script) : undefined;
    const ctx = new StatelessCtx(script, this.env, trace, request, source, this.optionsAnswer);
    trace?.mark('onStateless', 'start', undefined, undefined);
    try {
      fn(ctx);
      trace?.mark('onStateless', 'end', undefined, undefined);
    } catch (e) {
      if (e instanceof SipParseError) {
        // a malformed header the script read: the server answers 400 (SipServer.answerLateParseError)
        trace?.mark('onStateless', 'throw', undefined, undefined, { error: e.name, message: e.message });
        trace?.close();
        throw e;
      }
      if (SipReply.is(e) && request.method !== 'ACK') {
        trace?.step('onStateless', 'throw', [e.status, e.reason ?? null]);
        ctx.answer = { status: e.status, headers: e.headers, ...(e.reason === undefined ? {} : { reason: e.reason }) };
      } else if (!SipReply.is(e)) {
        const err = e instanceof Error ? e : new Error(String(e));
        if (this.env.counters !== undefined) this.env.counters.scriptErrors++;
        this.env.log.error({ callId: request.callId, method: request.method, script: script.version, source: script.source, handler: 'onStateless', err: err.stack ?? err.message }, 'routing script threw');
        trace?.mark('onStateless', 'throw', undefined, undefined, { error: err.name, message: err.message });
        if (request.method !== 'ACK') ctx.answer = { status: 500, headers: [] };
      }
    }
    const answer = ctx.answer;
    if (answer !== undefined) {
      this.count(script.version);
      if (this.logEach) this.env.log.debug({ callId: request.callId, method: request.method, script: script.version, status: answer.status, stateless: true }, 'routed');
      trace?.close();
    } else if (trace !== undefined) this.pendingTraces.set(request, trace);
    return answer;
  }

  onRequest(request: SipRequest, tx: ServerTransaction, server: SipServer): void {
    this.route(request, tx, tx.source, server);
  }

  /** An ACK no INVITE server transaction absorbed (for a 2xx): onInDialog, without a transaction. */
  onAck(ack: SipRequest, source: Flow, server: SipServer): void {
    this.route(ack, undefined, source, server);
  }

  onAbsorbed(request: SipRequest): void {
    if (this.tracer === undefined) return;
    const begun = this.pendingTraces.get(request);
    if (begun === undefined) return;
    this.pendingTraces.delete(request);
    this.tracer.discard(begun);
  }

  private route(request: SipRequest, tx: ServerTransaction | undefined, source: Flow, server: SipServer): void {
    const script = this.current;
    this.count(script.version);
    const trace = this.traceFor(request, source, script);
    const ctx = new RequestCtx(script, this.env, trace, request, tx, source, this);
    const fn = ctx.handler === 'onRequest' ? script.onRequest : (script.onInDialog ?? defaultScript.onInDialog);
    trace?.mark(ctx.handler, 'start', undefined, script.dumpVars);
    let r: void | Promise<void>;
    try {
      r = fn(ctx);
    } catch (e) {
      this.failed(ctx, e, server);
      return;
    }
    if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
      (r as Promise<void>).then(
        () => this.ended(ctx),
        (e: unknown) => this.failed(ctx, e, server),
      );
    } else this.ended(ctx);
  }

  private traceFor(request: SipRequest, source: Flow, script: LoadedScript): TraceReport | undefined {
    const tracer = this.tracer;
    if (tracer === undefined || !tracer.matches(request.callId)) return undefined;
    const begun = this.pendingTraces.get(request);
    if (begun === undefined) return tracer.begin(request, source, script);
    this.pendingTraces.delete(request);
    return begun;
  }

  /** The handler returned. A request it neither answered, relayed nor dropped gets 500. */
  private ended(ctx: RequestCtx): void {
    ctx.trace?.mark(ctx.handler, 'end', ctx.varsIfAny, ctx.script.dumpVars);
    if (ctx.decision === 'open' && ctx.tx !== undefined && !ctx.answered) {
      this.env.log.warn({ callId: ctx.callId, method: ctx.method, script: ctx.script.version, handler: ctx.handler }, 'routing script ended without answering, relaying or dropping the request: 500');
      ctx.answer(500, 'Server Internal Error (no routing decision)');
    }
    this.settled(ctx);
  }

  /**
   * The handler threw: a SipReply answers with its status; a parse error (a malformed header the
   * script read, e.g. in sanityCheck) 400 naming it, logged at debug level and counted by the
   * server (network input, not a fault of the script); anything else 500, logged with the
   * script's stack.
   */
  private failed(ctx: RequestCtx, e: unknown, server: SipServer): void {
    if (e instanceof SipParseError) {
      ctx.trace?.mark(ctx.handler, 'throw', ctx.varsIfAny, ctx.script.dumpVars, { error: e.name, message: e.message });
      if (!ctx.answered && ctx.decision !== 'relayed') server.answerLateParseError(ctx.request, e, ctx.tx, ctx.source);
    } else if (SipReply.is(e)) {
      ctx.trace?.step(ctx.handler, 'throw', [e.status, e.reason ?? null]);
      if (!ctx.answered && ctx.decision !== 'relayed') ctx.answer(e.status, e.reason, e.headers);
    } else {
      ctx.scriptThrew(ctx.handler, e);
      if (ctx.tx !== undefined && !ctx.answered && ctx.decision !== 'relayed') ctx.answer(500);
    }
    this.settled(ctx);
  }

  private settled(ctx: RequestCtx): void {
    if (this.logEach) this.env.log.debug({ callId: ctx.callId, method: ctx.method, script: ctx.script.version, decision: ctx.decision, status: ctx.tx?.lastStatus }, 'routed');
    // a relayed request's routing ends when its response context is released (requestDone)
    if (!ctx.forwarded) this.requestDone(ctx);
  }

  /** RoutingDone: the request's routing is over (for its trace). */
  requestDone(ctx: RequestCtx): void {
    const trace = ctx.trace;
    if (trace === undefined) return;
    if (ctx.pendingSend !== undefined) void ctx.pendingSend.finally(() => trace.close());
    else trace.close();
  }

  private count(version: number): void {
    this.handled.set(version, (this.handled.get(version) ?? 0) + 1);
  }
}
