/**
 * The contexts a routing script's handlers get (the types are in routing-api.ts): the request,
 * the actions, and the bookkeeping behind them — what was decided, the targets `lookup` found,
 * the transaction's variables, the trace. A RequestCtx lives as long as its request's
 * transaction: it is also the proxy's ResponseObserver, so that onResponse and onFailure run on
 * the script version, variables and trace the request started with.
 */
import { createResponse, newTag, parseUri, type SipRequest, type Flow, type ServerTransaction, type SipResponse, type Uri } from '../sip/index.js';
import type { StatelessAnswer } from '../sip-server/core/request-handler.js';
import type { Branch, FailureOutcome, ProxyTarget, ResponseContext, ResponseObserver } from '../sip-server/proxy/response-context.js';
import { addressOfRecord, splitAor } from '../sip-server/registrar/address-of-record.js';
import { bindingTarget } from '../sip-server/registrar/binding-target.js';
import type { ContactBinding } from '../store/binding-store.js';
import type { LoadedScript } from './loaded-script.js';
import type {
  AuthCheck, FailureContext, LogLevel, RelayOptions, RelayTarget, ReplyContext, RequestContext, RouteCheck, SaveOptions, StatelessContext,
} from './routing-api.js';
import type { RoutingEnv } from './routing-env.js';
import { SipReply } from './sip-reply.js';
import type { HandlerName, TraceReport } from './trace-recorder.js';

/**
 * The most contacts of one AOR that `lookup` makes targets of. Nothing else bounds what one
 * request costs: the registrar keeps every contact a REGISTER carries, each target is a branch
 * (a client transaction, and up to 7 INVITE retransmissions over UDP), so an AOR holding
 * hundreds of contacts turned one unauthenticated INVITE into hundreds of branches — a fork bomb
 * and an amplifier towards wherever the contacts lead. 16 is more devices than a person has.
 */
export const MAX_LOOKUP_TARGETS = 16;

/** The MAX_LOOKUP_TARGETS bindings tried first: highest q, then the latest refreshed (latest expiry). */
function mostWanted(bindings: readonly ContactBinding[]): ContactBinding[] {
  return [...bindings].sort((a, b) => b.q - a.q || b.expires - a.expires).slice(0, MAX_LOOKUP_TARGETS);
}

type Headers = ReadonlyArray<readonly [string, string]>;

/** How a request context ended (or not yet). */
export type Decision = 'open' | 'replied' | 'relayed' | 'dropped';

/** Calls back the handler's owner (ScriptHandler) when a request's routing has ended. */
export interface RoutingDone {
  requestDone(ctx: RequestCtx): void;
}

function toUri(u: string | Uri): Uri {
  return typeof u === 'string' ? parseUri(u) : u;
}

function headerValueList(values: Headers | undefined): Headers {
  return values ?? [];
}

/**
 * Turn what a script passed to relay() into proxy targets: text URIs parsed; with `serial`, q
 * falls with the position so that each target gets its own serial step; an outbound proxy
 * becomes a Route on each.
 */
function proxyTargets(targets: RelayTarget | readonly RelayTarget[], options: RelayOptions | undefined): ProxyTarget[] {
  const list: readonly RelayTarget[] = Array.isArray(targets) ? targets : [targets as RelayTarget];
  const n = list.length;
  const route = options?.outboundProxy === undefined ? undefined : [`<${options.outboundProxy};lr>`];
  return list.map((t, i) => {
    const spec = typeof t === 'string' || !('uri' in t) ? { uri: t as string | Uri } : t;
    const q = options?.serial === true ? (n - i) / n : (spec.q ?? 1);
    return { uri: toUri(spec.uri), q, ...(route === undefined ? {} : { route }) };
  });
}

function describeTargets(targets: readonly ProxyTarget[]): string[] {
  return targets.map((t) => `${t.uri.toString()}${t.q === 1 ? '' : `;q=${Math.round(t.q * 1000) / 1000}`}${t.route ? ` via ${t.route.join(', ')}` : ''}`);
}

/** What every context shares: the script version, the environment, the trace. */
abstract class BaseCtx {
  abstract readonly handler: HandlerName;

  constructor(
    readonly script: LoadedScript,
    readonly env: RoutingEnv,
    readonly trace: TraceReport | undefined,
  ) {}

  get version(): number {
    return this.script.version;
  }

  abstract readonly callId: string;

  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    const log = this.env.log;
    const line = { callId: this.callId, script: this.script.version, handler: this.handler, ...fields };
    if (level === 'debug') log.debug(line, message);
    else if (level === 'info') log.info(line, message);
    else if (level === 'warn') log.warn(line, message);
    else log.error(line, message);
    this.trace?.step(this.handler, 'log', [level, message, ...(fields === undefined ? [] : [fields])]);
  }
}

/** A context whose handler may edit the request: its Request-URI and header fields. */
abstract class EditingCtx extends BaseCtx {
  abstract readonly request: SipRequest;

  setRuri(uri: string | Uri): void {
    this.request.requestUri = toUri(uri);
    this.trace?.step(this.handler, 'setRuri', [uri], this.request.uri);
  }

  setRuriUser(user: string): void {
    const ruri = this.request.requestUri;
    if (ruri.kind !== 'sip') throw new TypeError(`setRuriUser: the Request-URI ${ruri.toString()} is not a sip/sips URI`);
    this.request.requestUri = ruri.withUser(user);
    this.trace?.step(this.handler, 'setRuriUser', [user], this.request.uri);
  }

  setRuriHost(host: string, port?: number): void {
    const ruri = this.request.requestUri;
    if (ruri.kind !== 'sip') throw new TypeError(`setRuriHost: the Request-URI ${ruri.toString()} is not a sip/sips URI`);
    this.request.requestUri = ruri.withHostPort(host, port);
    this.trace?.step(this.handler, 'setRuriHost', port === undefined ? [host] : [host, port], this.request.uri);
  }

  header(name: string): string | undefined {
    return this.request.get(name);
  }

  headers(name: string): string[] {
    return this.request.getAll(name);
  }

  addHeader(name: string, value: string): void {
    this.request.append(name, value);
    this.trace?.step(this.handler, 'addHeader', [name, value]);
  }

  setHeader(name: string, value: string): void {
    this.request.set(name, value);
    this.trace?.step(this.handler, 'setHeader', [name, value]);
  }

  removeHeader(name: string): number {
    const n = this.request.remove(name);
    this.trace?.step(this.handler, 'removeHeader', [name], n);
    return n;
  }
}

/** onRequest / onInDialog (and the parent of onResponse / onFailure). */
export class RequestCtx extends EditingCtx implements RequestContext, ResponseObserver {
  readonly handler: HandlerName;
  decision: Decision = 'open';
  /** The request went to the proxy core: its routing ends when the response context is released. */
  forwarded = false;
  /** An ACK sent on statelessly: the trace waits for it. */
  pendingSend: Promise<void> | undefined;
  private targets: ProxyTarget[] | undefined;
  private rr = false;
  private _routeCheck: RouteCheck = 'none';
  /** The request's credentials were verified (authenticate or checkAuth succeeded with digest). */
  private authenticated = false;
  private _vars: Record<string, unknown> | undefined;

  constructor(
    script: LoadedScript,
    env: RoutingEnv,
    trace: TraceReport | undefined,
    readonly request: SipRequest,
    /** Undefined for an ACK (no transaction). */
    readonly tx: ServerTransaction | undefined,
    readonly source: Flow,
    private readonly done: RoutingDone,
  ) {
    super(script, env, trace);
    // every ACK that reaches routing is one for a 2xx: onInDialog, like the requests of a dialog
    this.handler = request.to.tag === undefined && tx !== undefined ? 'onRequest' : 'onInDialog';
  }

  get callId(): string {
    return this.request.callId;
  }

  get vars(): Record<string, unknown> {
    return (this._vars ??= {});
  }

  /** The variables if any were set (for traces, without creating them). */
  get varsIfAny(): Record<string, unknown> | undefined {
    return this._vars;
  }

  get method(): string {
    return this.request.method;
  }

  get ruri(): Uri {
    return this.request.requestUri;
  }

  get inDialog(): boolean {
    return this.request.to.tag !== undefined;
  }

  get trusted(): boolean {
    return this.env.trustedPorts.has(this.source.localPort ?? -1);
  }

  isLocal(uri: Uri): boolean {
    return this.env.identity.isLocalUri(uri);
  }

  servesDomain(host: string): boolean {
    return this.env.identity.servesDomain(host);
  }

  // ---- checks ---------------------------------------------------------------------------

  sanityCheck(): boolean {
    const { request, env } = this;
    const ruri = request.requestUri;
    let refusal: [number, Headers?] | undefined;
    // §16.3 step 3: Max-Forwards; an OPTIONS to the server itself is answered here anyway
    if (request.maxForwards === 0 && !(request.method === 'OPTIONS' && env.identity.isLocalUri(ruri))) refusal = [483];
    // §16.3 step 4
    else if (request.via.length > 1 && env.proxy.loopDetected(request)) refusal = [482];
    else {
      // §16.3 step 6: Proxy-Require lists extensions the proxy must support; Parley supports none there
      const unsupported = request.proxyRequire;
      if (unsupported.length > 0) refusal = [420, [['Unsupported', unsupported.join(', ')]]];
      else if (ruri.kind !== 'sip' && ruri.kind !== 'tel') refusal = [416];
      else refusal = this.uasRefusal();
    }
    if (refusal !== undefined && this.tx !== undefined) this.answer(refusal[0], undefined, refusal[1]);
    this.trace?.step(this.handler, 'sanityCheck', undefined, refusal === undefined ? true : refusal[0]);
    return refusal === undefined;
  }

  /**
   * What Parley refuses where it is the UAS itself: a REGISTER (the registrar) or a request to the
   * server's own address (no user part).
   *
   * "If a UAS does not understand an option-tag listed in a Require header field, it MUST respond
   *  by generating a response with status code 420 (Bad Extension). The UAS MUST add an
   *  Unsupported header field, and list in it those options it does not understand amongst those
   *  in the Require header field of the request." (RFC 3261 §8.2.2.3; not for CANCEL, nor ACK.)
   * 501: "This is the appropriate response when a UAS does not recognize the request method and
   *  is not capable of supporting it for any user. (Proxies forward all requests regardless of
   *  method.)" (RFC 3261 §21.5.2): a method Parley does not know, sent to the server itself.
   */
  private uasRefusal(): [number, Headers?] | undefined {
    const { request, env } = this;
    const method = request.method;
    if (method === 'ACK' || method === 'CANCEL') return undefined;
    const ruri = request.requestUri;
    const toServer = ruri.kind === 'sip' && ruri.user === undefined && env.identity.isLocalUri(ruri);
    if (method !== 'REGISTER' && !toServer) return undefined;
    const handler = env.server.handler;
    if (request.has('require')) {
      const supported = new Set(handler.supported.map((t) => t.toLowerCase()));
      const unknown = request.require.filter((t) => !supported.has(t.toLowerCase()));
      if (unknown.length > 0) return [420, [['Unsupported', unknown.join(', ')]]];
    }
    if (toServer && !handler.allow.includes(method)) return [501];
    return undefined;
  }

  looseRoute(): boolean {
    const check = this.env.proxy.processRoute(this.request, this.source);
    this._routeCheck = check;
    // traced as true / false, or why a Route naming Parley was not followed
    this.trace?.step(this.handler, 'looseRoute', undefined, check === 'signed' ? true : check === 'none' ? false : check);
    return check === 'signed';
  }

  get routeCheck(): RouteCheck {
    return this._routeCheck;
  }

  isBlocked(): boolean {
    const blocked = this.env.limiter?.isBlocked(this.source.remoteAddress) ?? false;
    this.trace?.step(this.handler, 'isBlocked', undefined, blocked);
    return blocked;
  }

  countFailure(): void {
    this.env.limiter?.recordFailure(this.source.remoteAddress);
    this.trace?.step(this.handler, 'countFailure', undefined, this.env.limiter === undefined ? 'no limiter' : this.source.remoteAddress);
  }

  rateLimited(max: number, perSeconds: number, key: string = this.source.remoteAddress): boolean {
    const over = this.env.rates.hit(key, max, perSeconds);
    this.trace?.step(this.handler, 'rateLimited', [max, perSeconds, key], over);
    return over;
  }

  // ---- authentication -----------------------------------------------------------------------

  async authenticate(): Promise<string | undefined> {
    const { request, env } = this;
    const auth = env.auth;
    if (auth === undefined) {
      this.trace?.step(this.handler, 'authenticate', undefined, 'anonymous (no authentication configured)');
      return 'anonymous';
    }
    const r = await auth.authenticate(request, this.source);
    if (!r.ok) {
      this.answer(r.status, r.reason, r.headers);
      this.trace?.step(this.handler, 'authenticate', undefined, { ok: false, status: r.status });
      return undefined;
    }
    // the identity claimed in From (and To for REGISTER) must be the authenticated user's
    const register = request.method === 'REGISTER';
    const claimed = register ? [request.from.uri, request.to.uri] : [request.from.uri];
    for (const uri of claimed) {
      const aor = addressOfRecord(uri);
      if (aor === undefined || aor !== `${r.username}@${r.realm.toLowerCase()}`) {
        this.answer(403, 'Forbidden (identity does not match the credentials)');
        this.trace?.step(this.handler, 'authenticate', undefined, { ok: false, status: 403, user: r.username });
        return undefined;
      }
    }
    // the credentials were for this proxy: consume them (RFC 3261 §22.3 — a proxy forwards only
    // credentials meant for others)
    if (!register) request.remove('Proxy-Authorization');
    this.authenticated = true;
    this.trace?.step(this.handler, 'authenticate', undefined, { ok: true, user: r.username });
    return r.username;
  }

  async checkAuth(): Promise<AuthCheck> {
    const auth = this.env.auth;
    let out: AuthCheck;
    if (auth === undefined) out = { ok: true, user: 'anonymous', realm: '' };
    else {
      const r = await auth.authenticate(this.request, this.source);
      out = r.ok ? { ok: true, user: r.username, realm: r.realm } : { ok: false, status: r.status, ...(r.reason === undefined ? {} : { reason: r.reason }) };
      if (r.ok) this.authenticated = true;
    }
    this.trace?.step(this.handler, 'checkAuth', undefined, out);
    return out;
  }

  challenge(): void {
    const auth = this.env.auth;
    if (auth === undefined) throw new Error('challenge: no authentication is configured');
    const c = auth.challenge(this.request, this.source);
    this.answer(c.status, c.reason, c.headers);
    this.trace?.step(this.handler, 'challenge', undefined, c.status);
  }

  // ---- registrar and location -----------------------------------------------------------

  async save(options?: SaveOptions): Promise<number> {
    const tx = this.requireTx('save');
    const r = await this.env.registrar.register(this.request, tx.source, options?.natDetection);
    this.answer(r.status, r.reason, r.headers);
    this.trace?.step(this.handler, 'save', undefined, r.status);
    return r.status;
  }

  lookup(aor?: string): number {
    const key = aor ?? this.defaultAor();
    const found = key === undefined ? [] : this.env.location.lookup(key);
    const bindings = found.length > MAX_LOOKUP_TARGETS ? mostWanted(found) : found;
    this.targets = bindings.length === 0 ? undefined : bindings.map(bindingTarget);
    this.trace?.step(this.handler, 'lookup', aor === undefined ? undefined : [aor], this.targets === undefined ? [] : describeTargets(this.targets));
    return bindings.length;
  }

  async userExists(aor?: string): Promise<boolean> {
    const key = aor ?? this.defaultAor();
    let known = false;
    if (key !== undefined) {
      const { user, domain } = splitAor(key);
      // both lookups whatever the first says: the same work for a user who exists and one who does not
      const subscriber = await this.env.subscribers.get(user, domain);
      const registered = this.env.location.known(key);
      known = subscriber !== undefined || registered;
    }
    this.trace?.step(this.handler, 'userExists', aor === undefined ? undefined : [aor], known);
    return known;
  }

  outboundRoute(domain: string): string | undefined {
    const out = this.env.outbound;
    const route = out.get(domain.toLowerCase()) ?? out.get('*');
    this.trace?.step(this.handler, 'outboundRoute', [domain], route ?? null);
    return route;
  }

  // ---- answers ----------------------------------------------------------------------------

  recordRoute(): void {
    this.rr = true;
    this.trace?.step(this.handler, 'recordRoute');
  }

  relay(targets?: RelayTarget | readonly RelayTarget[], options?: RelayOptions): void {
    this.open('relay');
    const { request, env, tx } = this;
    if (request.method === 'CANCEL' && tx !== undefined) {
      // §16.10: matched to the INVITE's response context; 200 to the CANCEL and its branches cancelled (481 when none)
      env.proxy.cancel(request, tx);
      this.decision = 'replied';
      this.trace?.step(this.handler, 'relay', undefined, `CANCEL → ${tx.lastStatus ?? '?'}`);
      return;
    }
    if (tx === undefined) {
      // an ACK for a 2xx: on along its route, statelessly (§16.7 step 5 note, RFC 6026 §7.1)
      if (targets !== undefined) request.requestUri = proxyTargets(targets, undefined)[0]!.uri;
      this.pendingSend = env.proxy.forwardAck(request, this.source, options?.media !== 'off');
      this.decision = 'relayed';
      this.trace?.step(this.handler, 'relay', targets === undefined ? undefined : [targets], `ACK → ${request.uri}`);
      return;
    }
    let list: ProxyTarget[];
    if (targets !== undefined) list = proxyTargets(targets, options);
    else if (this.targets !== undefined) {
      const route = options?.outboundProxy === undefined ? undefined : [`<${options.outboundProxy};lr>`];
      list = route === undefined ? this.targets : this.targets.map((t) => ({ ...t, route }));
    } else {
      // in dialog: the Request-URI, over the flow a flow token of ours names (RFC 5626 §5.3)
      const flow = env.proxy.routeFlowOf(request);
      if (flow === null) {
        this.trace?.step(this.handler, 'relay', undefined, '430: the flow is closed');
        this.answer(430);
        return;
      }
      list = proxyTargets(request.requestUri, options).map((t) => (flow === undefined ? t : { ...t, flow }));
    }
    if (list.length === 0) throw new Error('relay: no target');
    // the bound on requests in progress per source is for strangers (ProxyCore.admits)
    const perSource = !this.authenticated && !this.trusted;
    if (perSource && !env.proxy.admits(tx)) {
      // RFC 3261 §21.5.4: "The server MAY indicate when the client should retry the request in a Retry-After header field."
      this.trace?.step(this.handler, 'relay', undefined, '503: too many requests in progress from this source');
      this.answer(503, 'Service Unavailable (too many requests in progress from this source)', [['Retry-After', '10']]);
      return;
    }
    this.trace?.step(this.handler, 'relay', targets === undefined ? (options === undefined ? undefined : [null, options]) : [targets, ...(options === undefined ? [] : [options])], describeTargets(list));
    this.forwarded = true;
    this.decision = 'relayed';
    // outside a dialog the script's choice or the configured default; inside one, the proxy
    // follows the route's media flag unless the script says `off`
    const media = options?.media ?? (this.inDialog ? undefined : env.mediaAnchor);
    env.proxy.forward(request, tx, list, { recordRoute: this.rr, observer: this, perSource, ...(media === undefined ? {} : { media }) });
  }

  reply(status: number, reason?: string, headers?: Headers): void {
    if (this.tx === undefined) {
      this.trace?.step(this.handler, 'reply', [status], 'ignored: an ACK gets no response');
      this.decision = 'dropped';
      return;
    }
    if (status >= 200) this.open('reply');
    this.answer(status, reason, headers);
    this.trace?.step(this.handler, 'reply', reason === undefined && headers === undefined ? [status] : [status, reason ?? null, ...(headers === undefined ? [] : [headers])]);
  }

  replyOptions(): void {
    const tx = this.requireTx('replyOptions');
    this.open('replyOptions');
    this.env.server.replyOptions(tx, this.env.server.handler);
    this.decision = 'replied';
    this.trace?.step(this.handler, 'replyOptions', undefined, 200);
  }

  drop(): void {
    this.open('drop');
    this.decision = 'dropped';
    this.trace?.step(this.handler, 'drop');
  }

  // ---- for the handler ----------------------------------------------------------------------

  /** A response went (or goes) out: final ones decide the request. */
  answer(status: number, reason?: string, headers?: Headers): void {
    const tx = this.tx;
    if (tx === undefined) return;
    this.env.server.reply(tx, status, { ...(reason === undefined ? {} : { reason }), headers: headerValueList(headers) });
    if (status >= 200) this.decision = 'replied';
  }

  /** A final response has gone out for this request. */
  get answered(): boolean {
    const last = this.tx?.lastStatus;
    return last !== undefined && last >= 200;
  }

  private open(action: string): void {
    if (this.decision !== 'open') throw new Error(`${action}: this request was already ${this.decision}`);
  }

  private requireTx(action: string): ServerTransaction {
    if (this.tx === undefined) throw new Error(`${action}: an ACK has no transaction`);
    return this.tx;
  }

  /** The AOR of the Request-URI when Parley serves its domain. */
  private defaultAor(): string | undefined {
    const ruri = this.request.requestUri;
    return ruri.kind === 'sip' && this.env.identity.servesDomain(ruri.host) ? addressOfRecord(ruri) : undefined;
  }

  // ---- ResponseObserver: the script's onResponse and onFailure for this request -------------------

  onBranchResponse(_context: ResponseContext, branch: Branch, response: SipResponse): void {
    const fn = this.script.onResponse;
    if (fn === undefined) return;
    const ctx = new ReplyCtx(this, response, branch);
    this.trace?.mark('onResponse', 'start', this._vars, this.script.dumpVars, response.status);
    try {
      fn(ctx);
      this.trace?.mark('onResponse', 'end', this._vars, this.script.dumpVars);
    } catch (e) {
      // the response goes on unchanged; the script's mistake is logged
      this.scriptThrew('onResponse', e);
    }
  }

  onFailure(context: ResponseContext, best: SipResponse): boolean {
    const fn = this.script.onFailure;
    if (fn === undefined) return false;
    const ctx = new FailureCtx(this, context, best);
    this.trace?.mark('onFailure', 'start', this._vars, this.script.dumpVars, best.status);
    let r: void | Promise<void>;
    try {
      r = fn(ctx);
    } catch (e) {
      ctx.threw(e);
      return true;
    }
    if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
      (r as Promise<void>).then(
        () => ctx.end(),
        (e: unknown) => ctx.threw(e),
      );
    } else ctx.end();
    return true;
  }

  onRelease(): void {
    this.done.requestDone(this);
  }

  /** Log a script's exception with its stack and the version, and trace it. */
  scriptThrew(handler: HandlerName, e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.env.counters !== undefined) this.env.counters.scriptErrors++;
    this.env.log.error({ callId: this.callId, method: this.request.method, script: this.script.version, source: this.script.source, handler, err: err.stack ?? err.message }, 'routing script threw');
    this.trace?.mark(handler, 'throw', this._vars, this.script.dumpVars, { error: err.name, message: err.message });
  }
}

/** onStateless: before the transaction layer; an answer here is sent without state. */
export class StatelessCtx extends BaseCtx implements StatelessContext {
  readonly handler = 'onStateless' as const;
  answer: StatelessAnswer | undefined;

  constructor(
    script: LoadedScript,
    env: RoutingEnv,
    trace: TraceReport | undefined,
    readonly request: SipRequest,
    readonly source: Flow,
    private readonly allowAndSupported: () => Headers,
  ) {
    super(script, env, trace);
  }

  get callId(): string {
    return this.request.callId;
  }

  get method(): string {
    return this.request.method;
  }

  get ruri(): Uri {
    return this.request.requestUri;
  }

  get trusted(): boolean {
    return this.env.trustedPorts.has(this.source.localPort ?? -1);
  }

  header(name: string): string | undefined {
    return this.request.get(name);
  }

  isLocal(uri: Uri): boolean {
    return this.env.identity.isLocalUri(uri);
  }

  servesDomain(host: string): boolean {
    return this.env.identity.servesDomain(host);
  }

  reply(status: number, reason?: string, headers?: Headers): void {
    if (this.request.method === 'ACK') {
      this.trace?.step(this.handler, 'reply', [status], 'ignored: an ACK gets no response');
      return;
    }
    if (this.answer !== undefined) throw new Error('reply: this request was already answered');
    this.answer = { status, headers: headerValueList(headers), ...(reason === undefined ? {} : { reason }) };
    this.trace?.step(this.handler, 'reply', reason === undefined && headers === undefined ? [status] : [status, reason ?? null, ...(headers === undefined ? [] : [headers])]);
  }

  replyOptions(): void {
    if (this.answer !== undefined) throw new Error('replyOptions: this request was already answered');
    this.answer = { status: 200, headers: this.allowAndSupported() };
    this.trace?.step(this.handler, 'replyOptions', undefined, 200);
  }

  requireCredentials(): boolean {
    const auth = this.env.auth;
    const refusal = auth?.precheck(this.request, this.source);
    if (refusal !== undefined && this.request.method !== 'ACK') {
      if (this.answer !== undefined) throw new Error('requireCredentials: this request was already answered');
      this.answer = { status: refusal.status, headers: refusal.headers, ...(refusal.reason === undefined ? {} : { reason: refusal.reason }) };
    }
    this.trace?.step(this.handler, 'requireCredentials', undefined, refusal === undefined ? false : refusal.status);
    return refusal !== undefined;
  }

  rateLimited(max: number, perSeconds: number, key: string = this.source.remoteAddress): boolean {
    const over = this.env.rates.hit(key, max, perSeconds);
    this.trace?.step(this.handler, 'rateLimited', [max, perSeconds, key], over);
    return over;
  }
}

/** onResponse: one branch's response. */
export class ReplyCtx extends BaseCtx implements ReplyContext {
  readonly handler = 'onResponse' as const;

  constructor(
    private readonly parent: RequestCtx,
    readonly response: SipResponse,
    private readonly branch: Branch,
  ) {
    super(parent.script, parent.env, parent.trace);
  }

  get callId(): string {
    return this.parent.callId;
  }

  get vars(): Record<string, unknown> {
    return this.parent.vars;
  }

  get request(): SipRequest {
    return this.parent.request;
  }

  get status(): number {
    return this.response.status;
  }

  get target(): Uri {
    return this.branch.target.uri;
  }

  header(name: string): string | undefined {
    return this.response.get(name);
  }

  headers(name: string): string[] {
    return this.response.getAll(name);
  }

  addHeader(name: string, value: string): void {
    this.response.append(name, value);
    this.trace?.step(this.handler, 'addHeader', [name, value]);
  }

  removeHeader(name: string): number {
    const n = this.response.remove(name);
    this.trace?.step(this.handler, 'removeHeader', [name], n);
    return n;
  }
}

/** onFailure: every branch failed; relay to other targets, answer, or let the best response go. */
export class FailureCtx extends EditingCtx implements FailureContext {
  readonly handler = 'onFailure' as const;
  private outcome: FailureOutcome | undefined;
  private ended = false;

  constructor(
    private readonly parent: RequestCtx,
    private readonly context: ResponseContext,
    readonly response: SipResponse,
  ) {
    super(parent.script, parent.env, parent.trace);
  }

  get callId(): string {
    return this.parent.callId;
  }

  get vars(): Record<string, unknown> {
    return this.parent.vars;
  }

  get request(): SipRequest {
    return this.context.request;
  }

  get status(): number {
    return this.response.status;
  }

  get ruri(): Uri {
    return this.context.request.requestUri;
  }

  get canRelay(): boolean {
    return !this.context.isCancelled && !this.context.sawGlobalFailure;
  }

  relay(targets?: RelayTarget | readonly RelayTarget[], options?: RelayOptions): void {
    if (this.outcome !== undefined) throw new Error(`relay: the failure route already chose ${this.outcome.kind === 'targets' ? 'new targets' : 'a response'}`);
    if (!this.canRelay) {
      // §16.7 step 5 (6xx) and §16.10 (cancelled): no new branch
      this.log('warn', 'relay refused in onFailure: the request was cancelled or a 6xx arrived (RFC 3261 §16.7)');
      this.trace?.step(this.handler, 'relay', targets === undefined ? undefined : [targets], 'refused');
      return;
    }
    const list = proxyTargets(targets ?? this.request.requestUri, options);
    this.outcome = { kind: 'targets', targets: list };
    this.trace?.step(this.handler, 'relay', targets === undefined ? undefined : [targets, ...(options === undefined ? [] : [options])], describeTargets(list));
  }

  reply(status: number, reason?: string, headers?: Headers): void {
    if (this.outcome !== undefined) throw new Error(`reply: the failure route already chose ${this.outcome.kind === 'targets' ? 'new targets' : 'a response'}`);
    if (status < 200) throw new RangeError('reply in onFailure: a final status');
    const server = this.parent.env.server;
    this.outcome = { kind: 'response', response: server.buildResponse(this.context.request, status, { toTag: newTag(), ...(reason === undefined ? {} : { reason }), headers: headerValueList(headers) }) };
    this.trace?.step(this.handler, 'reply', reason === undefined && headers === undefined ? [status] : [status, reason ?? null, ...(headers === undefined ? [] : [headers])]);
  }

  /** The handler returned: go on with what it chose. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.trace?.mark('onFailure', 'end', this.parent.varsIfAny, this.script.dumpVars);
    this.context.resume(this.outcome ?? { kind: 'best' });
  }

  /** The handler threw: a SipReply answers with it, anything else with 500 (and is logged). */
  threw(e: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (SipReply.is(e)) {
      this.trace?.step(this.handler, 'throw', [e.status, e.reason ?? null]);
      this.outcome = { kind: 'response', response: this.parent.env.server.buildResponse(this.context.request, e.status, { toTag: newTag(), ...(e.reason === undefined ? {} : { reason: e.reason }), headers: e.headers }) };
    } else {
      this.parent.scriptThrew('onFailure', e);
      this.outcome = { kind: 'response', response: createResponse(this.context.request, 500, { toTag: newTag() }) };
    }
    this.context.resume(this.outcome);
  }
}

