import { hash } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import {
  MAGIC_COOKIE, newTag, parseNameAddr, SipRequest, splitList, type ClientTransactionUser, type Flow, type FlowTransport, type SipMessage, type ServerTransaction, type SipResponse, type Uri,
} from '../../sip/index.js';
import type { LocalIdentity } from '../core/local-identity.js';
import { sourcePrefix } from '../transport/source-prefix.js';
import type { SipServer } from '../sip-server.js';
import { resolveSipUri, systemDns, type DnsLookup } from './dns-resolver.js';
import { FlowTokens } from './flow-token.js';
import { ROUTE_SIGNATURE_PARAM, RouteSignature, routeTarget, type RouteCheck } from './route-signature.js';
import type { MediaControl } from '../../lib/media-control.js';
import { MEDIA_ROUTE_PARAM, MediaAnchor, type ContextMedia, type MediaAnchoring } from './media-anchor.js';
import { Branch, ResponseContext, type BranchLauncher, type ProxyTarget, type ResponseObserver } from './response-context.js';
import type { EventSink } from '../../lib/events.js';
import { CallTracker } from './calls/call-tracker.js';
import { ProxyCalls } from './calls/proxy-calls.js';
import { RenewingMap } from '../../lib/renewing-map.js';

export interface ProxyCoreOptions {
  readonly clock: Clock;
  /** Timer C in ms; RFC 3261 §16.6 step 11: "MUST be set for a value greater than 3 minutes". Default 181,000. */
  readonly timerC?: number;
  /** Most response contexts open at once for requests from one source (sourcePrefix); 0: no limit. Default 1,000. */
  readonly maxContextsPerSource?: number;
  readonly dns?: DnsLookup;
  readonly log?: Logger;
  /** Key of the flow tokens in Record-Route (RFC 5626 §5.2); nodes sharing dialogs share it. Default: random. */
  readonly flowTokenSecret?: Uint8Array;
  /**
   * Key of the signatures in Parley's Record-Route entries (route-signature.ts); it must outlive
   * restarts (calls do) and be shared by the nodes that share dialogs. Default: random.
   */
  readonly routeSecret?: Uint8Array;
  /**
   * The flow of an open stream connection by its id, undefined once it has closed. Default: the
   * server's own connection table; a SIP core in a worker thread passes its view of the socket
   * thread's table.
   */
  readonly connectionFlow?: (id: number) => Flow | undefined;
  /**
   * The media plane (src/lib/media-control.ts): the SDP of calls relayed with `media` other than
   * `off` goes to it and comes back rewritten (media-anchor.ts). None: no call is anchored.
   */
  readonly media?: MediaControl;
  /** Calls (INVITE dialogs relayed with Parley's Record-Route) open after this long end (`timeout`); ms. Default 12 h. */
  readonly callTimeout?: number;
  /** Most calls tracked at once; one more is relayed untracked. Default 100,000. */
  readonly maxCalls?: number;
  /** Where call.started / call.answered / call.ended go. */
  readonly events?: EventSink;
}

/** Methods that create a dialog, so the proxy records its route (§16.6 step 4). */
export const DIALOG_CREATING: ReadonlySet<string> = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

export interface ForwardOptions {
  /** Add Record-Route (§16.6 step 4); default: for dialog-creating methods. */
  readonly recordRoute?: boolean;
  readonly observer?: ResponseObserver;
  /**
   * Count the context against its source's share (maxContextsPerSource, see admits); default
   * true. The routing layer passes false for a request that is not a stranger's: it came over a
   * trusted listener, or its credentials were verified.
   */
  readonly perSource?: boolean;
  /**
   * Media anchoring of an INVITE outside a dialog [rtpengine_manage]: `auto` (the media plane
   * anchors when the sides differ), `always`, `off` (default; and whenever the proxy has no media
   * plane). An anchored call is record-routed whatever `recordRoute` says: its in-dialog requests
   * must come back through Parley. A request inside a dialog whose route Parley recorded for an
   * anchored call (`;media`) goes to the media plane in mode `dialog` unless this is `off`.
   */
  readonly media?: MediaAnchoring;
}

/**
 * The stateful proxy core of RFC 3261 §16: route information processing (§16.4), forwarding to
 * targets with Record-Route, Via and Max-Forwards (§16.6), response contexts (§16.7), Timer C
 * (§16.8), CANCEL (§16.10), and end-to-end forwarding of ACKs for 2xx. Policy — who may call
 * whom, which targets — is the request handler's (and later the routing script's).
 */
export class ProxyCore implements BranchLauncher {
  readonly clock: Clock;
  readonly timerC: number;
  private readonly dns: DnsLookup;
  private readonly log: Logger;
  private readonly contexts = new RenewingMap<ServerTransaction, ResponseContext>();
  /** The Record-Route state of each context that records the route (absent: it does not). */
  private readonly recordRouteFor = new WeakMap<ResponseContext, RecordRouteState>();
  private readonly maxContextsPerSource: number;
  /** Open response contexts by the source of their request (sourcePrefix), and each context's source. */
  private readonly contextsBySource = new Map<string, number>();
  private readonly sourceOf = new WeakMap<ResponseContext, string>();
  private seq = 0;
  private readonly flowTokens: FlowTokens;
  private readonly routeSignature: RouteSignature;
  /**
   * The connection an in-dialog request must leave on, read from the flow token of the last
   * Route value of ours it carried (processRoute), for relay and forwardAck.
   */
  private readonly routeFlows = new WeakMap<SipRequest, number>();
  /** In-dialog requests whose Route values of ours carried the media flag (processRoute). */
  private readonly mediaRoutes = new WeakSet<SipRequest>();
  /** Media anchoring, when there is a media plane. */
  private readonly media: MediaAnchor | undefined;
  /** Transports Parley listens on, hence can send over (RFC 3263 picks among them). */
  private readonly transports: ReadonlySet<FlowTransport>;
  private readonly connectionFlow: (id: number) => Flow | undefined;
  /** The calls this core relays (calls/call-tracker.ts), and what the proxy tells it. */
  private readonly callsOf: ProxyCalls;

  constructor(
    private readonly server: SipServer,
    private readonly identity: LocalIdentity,
    options: ProxyCoreOptions,
  ) {
    this.clock = options.clock;
    this.timerC = options.timerC ?? 181_000;
    this.maxContextsPerSource = options.maxContextsPerSource ?? 1000;
    this.dns = options.dns ?? systemDns;
    this.log = options.log ?? silentLogger;
    this.flowTokens = new FlowTokens(options.flowTokenSecret);
    this.routeSignature = new RouteSignature(options.routeSecret);
    this.connectionFlow = options.connectionFlow ?? ((id) => server.transports?.connections.get(id)?.flow());
    this.transports = new Set((['udp', 'tcp', 'tls'] as const).filter((t) => identity.has(t)));
    this.media = options.media === undefined ? undefined : new MediaAnchor(options.media, this.clock, this.log, (flow) => identity.sentBy(flow.transport).host);
    const tracker = new CallTracker({
      clock: this.clock,
      ...(options.callTimeout === undefined ? {} : { timeoutMs: options.callTimeout }),
      ...(options.maxCalls === undefined ? {} : { maxCalls: options.maxCalls }),
      ...(options.events === undefined ? {} : { events: options.events }),
      log: this.log,
    });
    this.callsOf = new ProxyCalls(tracker, server, identity, this.media, this.log);
  }

  /** The calls in progress (their records, counts for metrics: `calls.size`, `started`, `answered`, `untracked`). */
  get calls(): CallTracker {
    return this.callsOf.tracker;
  }

  /**
   * The operator hangs up the call(s) with this Call-ID (calls/proxy-calls.ts): BYE to both sides
   * when answered, CANCEL downstream and 487 upstream before. False when this core has none.
   */
  hangup(callId: string): boolean {
    return this.callsOf.hangup(callId);
  }

  /** Response contexts alive (for metrics and tests). */
  get size(): number {
    return this.contexts.size;
  }

  /**
   * §16.4 route information preprocessing. "If the Request-URI of the request contains a value
   * this proxy previously placed into a Record-Route header field … the proxy MUST replace the
   * Request-URI in the request with the last value from the Route header field, and remove that
   * value from the Route header field" (a strict router before us). "If the first value in the
   * Route header field indicates this proxy, the proxy MUST remove that value from the request."
   * Parley removes every consecutive top value naming it (its double Record-Route).
   *
   * Returns what those values were (RouteCheck): none; entries Parley signed for this request's
   * dialog (its Call-ID and its From or To tag, route-signature.ts) — a route Parley recorded;
   * entries without a signature (a preloaded Route, or made up); or a signature that does not
   * verify (forged, cut, another dialog's). Only `signed` shows that Parley recorded the route:
   * a Route naming Parley is otherwise something anyone can write in front of any Request-URI.
   *
   * When the last value of ours carries a flow token (Parley's side towards a WebSocket client),
   * the request is to leave over that connection (RFC 5626 §5.3, see outgoingFlow); `source`, the
   * flow the request came in on, tells a request from that client from one towards it.
   */
  processRoute(request: SipRequest, source?: Flow): RouteCheck {
    const ours: Uri[] = [];
    const routes = request.route;
    if (routes.length > 0 && this.identity.isLocalUri(request.requestUri) && request.requestUri.kind === 'sip' && request.requestUri.lr) {
      // a strict router put our Record-Route URI (with lr) into the Request-URI
      ours.push(request.requestUri);
      const last = routes[routes.length - 1]!;
      request.requestUri = last.uri;
      const kept = routes.slice(0, -1).map((r) => r.toString());
      request.remove('Route');
      if (kept.length > 0) request.append('Route', kept.join(', '));
    }
    // the list parsed once and the values of ours removed in one pass (request.route and
    // removeFirstValue per value were quadratic: 1,920 values of ours took 855 ms of a worker)
    const list = request.route;
    let top = 0;
    while (top < list.length && this.identity.isLocalUri(list[top]!.uri)) ours.push(list[top++]!.uri);
    if (top > 0) request.removeFirstValues('route', top);
    const flow = this.outgoingFlow(ours, source);
    if (flow !== undefined) this.routeFlows.set(request, flow);
    if (this.media !== undefined && ours.some((uri) => uri.kind === 'sip' && uri.param(MEDIA_ROUTE_PARAM) !== undefined)) this.mediaRoutes.add(request);
    return this.checkSignatures(ours, request);
  }

  /**
   * Were Parley's Route values signed by Parley for this request's dialog? Every entry Parley
   * recorded carries a signature (both of a double Record-Route), and every signature must
   * verify. Entries without one are allowed only in front of the signed ones: a phone that has
   * Parley as its outbound proxy may put that Route before the dialog's route set on every
   * request; they add nothing an attacker could use (the signed entries decide, and the flow
   * token is read from the last entry, a signed one). Without any signature: `unsigned`.
   */
  private checkSignatures(ours: readonly Uri[], request: SipRequest): RouteCheck {
    if (ours.length === 0) return 'none';
    let signed = 0;
    const callId = request.callId;
    const fromTag = request.from.tag;
    const toTag = request.to.tag;
    // the signature names where the dialog's requests through this entry go (route-signature.ts)
    const target = routeTarget(request.requestUri);
    for (const uri of ours) {
      const sig = uri.kind === 'sip' ? uri.param(ROUTE_SIGNATURE_PARAM) : undefined;
      if (sig === undefined) {
        if (signed > 0) return 'invalid'; // an unsigned entry after a signed one: not a route we recorded
        continue;
      }
      if (sig === null || !this.routeSignature.verify(sig, callId, fromTag, toTag, target)) return 'invalid';
      signed++;
    }
    return signed === 0 ? 'unsigned' : 'signed';
  }

  /**
   * The connection named by the flow token of the last Route value of ours, if the request is
   * going towards that flow. Parley's two Record-Route entries are met in dialog order: the
   * first names the side the request arrives from, the last the side it leaves on. RFC 5626
   * §5.3 tells an "outgoing" request (from the flow's own client: routed on as usual) from an
   * "incoming" one (towards the client: sent over the flow) by comparing the token's flow with
   * the request's source; with a single value of ours, a token naming the arrival connection
   * marks an outgoing request, routed on by its Request-URI.
   */
  private outgoingFlow(ours: readonly Uri[], source: Flow | undefined): number | undefined {
    const last = ours[ours.length - 1];
    if (last === undefined || last.kind !== 'sip') return undefined;
    const id = this.flowTokens.decode(last.user);
    if (id === undefined) return undefined;
    if (ours.length === 1 && source?.connectionId === id) return undefined;
    return id;
  }

  /**
   * §16.3 step 4 loop detection: "the proxy MUST check … the request contains a Via header field
   * with a sent-by value that equals a value placed into previous requests by the proxy … the
   * request has been previously forwarded by this element. The request has either looped or is
   * legitimately spiraling": a loop when the branch's hash of the request's routing-relevant fields
   * equals the one Parley computes now.
   */
  loopDetected(request: SipRequest): boolean {
    const hash = loopHash(request);
    for (const via of request.via) {
      const b = via.branch;
      if (b !== undefined && b.startsWith(MAGIC_COOKIE + 'P' + hash + '.')) return true;
    }
    return false;
  }

  /**
   * Forward `request` statefully to `targets` (§16.5–16.7): highest q in parallel, lower q
   * serially. `recordRoute` defaults to true for dialog-creating methods; `observer` hears the
   * branches' responses and runs the failure route (a routing script).
   */
  /**
   * May a request that came in over `tx` be relayed now? Not when its source already has
   * maxContextsPerSource requests being relayed (each holds its context, branches and their
   * retransmissions until its final response: without a bound, one stranger's INVITEs to a phone
   * that never answers fill the memory). The caller answers 503 instead.
   *
   * The bound is for strangers: the routing layer neither asks nor counts (ForwardOptions.perSource)
   * for a request that came over a trusted listener (a trunk, an SBC, a benchmark: thousands of
   * calls in progress from one address) or whose credentials were verified. Counted for everyone,
   * one load spike from a trunk left hundreds of ringing contexts until Timer C and every new
   * call from it refused with 503 for three minutes.
   */
  admits(tx: ServerTransaction): boolean {
    if (this.maxContextsPerSource === 0) return true;
    return (this.contextsBySource.get(sourcePrefix(tx.source.remoteAddress)) ?? 0) < this.maxContextsPerSource;
  }

  forward(request: SipRequest, tx: ServerTransaction, targets: readonly ProxyTarget[], options: ForwardOptions = {}): ResponseContext {
    const context = new ResponseContext(request, tx, targets, this, options.observer);
    if (this.maxContextsPerSource !== 0 && options.perSource !== false) {
      const source = sourcePrefix(tx.source.remoteAddress);
      this.sourceOf.set(context, source);
      this.contextsBySource.set(source, (this.contextsBySource.get(source) ?? 0) + 1);
    }
    if (options.recordRoute ?? DIALOG_CREATING.has(request.method)) this.recordRouteFor.set(context, new RecordRouteState());
    this.contexts.set(tx, context);
    this.media?.begin(context, options.media, this.mediaRoutes.has(request));
    this.callsOf.forwarded(context, this.recordRouteFor.has(context));
    context.start();
    return context;
  }

  /**
   * Forward along the route the request carries (in-dialog, after processRoute): one target, its
   * Request-URI, over the flow a flow token of ours named. When that flow has closed, the
   * request gets 430 (Flow Failed), as RFC 5626 §5.3 has an edge proxy answer (and undefined is
   * returned).
   */
  /**
   * The flow an in-dialog request must leave on, named by a flow token of ours in its route
   * (processRoute); null when that connection has closed (the request gets 430), undefined when
   * no token named one.
   */
  routeFlowOf(request: SipRequest): Flow | null | undefined {
    const id = this.routeFlows.get(request);
    if (id === undefined) return undefined;
    return this.connectionFlow(id) ?? null;
  }

  relay(request: SipRequest, tx: ServerTransaction): ResponseContext | undefined {
    const id = this.routeFlows.get(request);
    if (id === undefined) return this.forward(request, tx, [{ uri: request.requestUri, q: 1 }], { recordRoute: false });
    const flow = this.connectionFlow(id);
    if (flow === undefined) {
      this.server.reply(tx, 430);
      return undefined;
    }
    return this.forward(request, tx, [{ uri: request.requestUri, q: 1, flow }], { recordRoute: false });
  }

  /**
   * CANCEL from upstream (§16.10): "If a matching response context is found, the element MUST
   * immediately return a 200 (OK) response to the CANCEL request … and generate CANCEL requests
   * for all pending client transactions in the context". Without one, 481: Parley forwards every
   * INVITE statefully, so a CANCEL it knows nothing about has nothing to cancel.
   */
  cancel(cancel: SipRequest, tx: ServerTransaction): void {
    const invite = this.server.transactions.findInviteForCancel(cancel);
    const context = invite === undefined ? undefined : this.contexts.get(invite);
    if (invite === undefined || context === undefined) {
      // DEVIATION(RFC 3261 §16.10): an unmatched CANCEL is answered 481, not forwarded statelessly.
      this.server.reply(tx, invite === undefined ? 481 : 200);
      return;
    }
    this.server.reply(tx, 200);
    context.cancel();
  }

  /**
   * An ACK for a 2xx travels end to end (§13.2.2.4, §16.7 step 5 note): forward it statelessly
   * along its route, with a Via of ours (its branch need not match anything). Resolves once it
   * is handed to the transport (or dropped); never rejects. An ACK with the answer to an offer its
   * 2xx carried goes to the media plane first (unless `media` is false; `source`: where it came
   * from), and on with the SDP it returns.
   */
  forwardAck(ack: SipRequest, source?: Flow, media = true): Promise<void> {
    // the answer to an offer its 2xx carried (an INVITE without one) goes to the media plane first
    const answered = media ? this.media?.ack(ack, source) : undefined;
    if (answered !== undefined) return answered.then(() => this.forwardAck(ack, source, false));
    let flow: Flow | undefined;
    const id = this.routeFlows.get(ack);
    if (id !== undefined) {
      flow = this.connectionFlow(id);
      if (flow === undefined) {
        this.log.debug({ callId: ack.callId, connectionId: id }, 'ACK dropped: its flow is closed');
        return Promise.resolve();
      }
    }
    return this.nextHop(ack, flow).then((dest) => {
      if (dest === undefined) {
        this.log.debug({ callId: ack.callId }, 'ACK dropped: next hop does not resolve');
        return;
      }
      if (!this.prepare(ack, dest, undefined, undefined, this.newBranch(ack), false)) return;
      this.server.messages.sendRequest(ack, dest, (e) => this.log.debug({ err: e.message }, 'ACK not sent'));
    }, (e: unknown) => this.log.debug({ err: (e as Error).message }, 'ACK dropped: next hop resolution failed'));
  }

  // ---- BranchLauncher ----------------------------------------------------------------------

  /**
   * Parley's Record-Route entries in a response going upstream to the caller get a signature for
   * the callee's Contact in that response: the caller's requests in the dialog go there
   * (route-signature.ts). RFC 3261 §16.7 step 6: "If the selected response contains a
   * Record-Route header field value originally provided by this proxy, the proxy MAY choose to
   * rewrite the value before forwarding the response. This allows the proxy to provide different
   * URIs for itself to the next upstream and downstream elements."
   */
  signResponseRoute(context: ResponseContext, response: SipResponse): void {
    const state = this.recordRouteFor.get(context);
    if (state === undefined || response.status <= 100 || response.status >= 300 || !response.has('record-route')) return;
    let fields: string[];
    try {
      // the 180 and the 200 of a branch name the same Contact: signed once
      const target = contactTarget(response);
      if (state.responseSignature === undefined || state.responseTarget !== target) {
        state.responseTarget = target;
        state.responseSignature = this.routeSignature.sign(response.callId, response.from.tag, target);
      }
      const signature = state.responseSignature;
      if (state.requestSignature !== undefined && resignInPlace(response, state.requestSignature, signature)) return;
      let changed = false;
      // field by field, each value in its place: the fields as the UAS wrote them (some UAs read
      // one Record-Route value per field)
      fields = response.getAll('record-route').map((field) => splitList(field, true).map((text) => {
        const entry = parseNameAddr(text);
        const uri = entry.uri;
        if (uri.kind !== 'sip' || uri.param(ROUTE_SIGNATURE_PARAM) === undefined || !this.identity.isLocalUri(uri)) return text;
        changed = true;
        return entry.withUri(uri.withParam(ROUTE_SIGNATURE_PARAM, signature)).toString();
      }).join(', '));
      if (!changed) return;
    } catch {
      return; // a Record-Route or Contact that does not parse: passed on as it is, its route will not verify
    }
    response.set('Record-Route', fields[0]!);
    for (const field of fields.slice(1)) response.append('Record-Route', field);
  }

  launch(context: ResponseContext, target: ProxyTarget): void {
    // §16.6 step 1: "Make a copy of the received request"; step 2: update the Request-URI.
    const copy = copyRequest(context.request);
    copy.requestUri = target.uri;
    if (target.route && target.route.length > 0) copy.prepend('Route', target.route.join(', '));
    const explicit = target.route && target.route.length > 0 ? undefined : target.flow;
    void this.nextHop(copy, explicit).then(
      (dest) => {
        if (dest === undefined) {
          context.onLaunchFailed(503, 'Service Unavailable (next hop does not resolve)');
          return;
        }
        const cm = this.media?.of(context);
        if (cm === undefined) {
          this.send(context, target, copy, dest, this.newBranch(copy), false);
          return;
        }
        return this.anchorAndSend(context, target, copy, dest, this.media!, cm).catch((e: unknown) => {
          this.log.error({ err: e, callId: copy.callId }, 'could not anchor the media of a branch');
          context.onLaunchFailed(500);
        });
      },
      (e: unknown) => {
        this.log.warn({ err: e }, 'target resolution failed');
        context.onLaunchFailed(500);
      },
    );
  }

  /**
   * A branch of a call whose media goes to the media plane: its offer first (one per branch, named
   * by the branch's Via branch), the media plane's SDP in place of the body; a refusal fails the
   * branch with its status and a Warning (RFC 3261 §20.43). An anchored call, or
   * one that may be (an INVITE without an offer), is record-routed with the media flag.
   */
  private async anchorAndSend(context: ResponseContext, target: ProxyTarget, copy: SipRequest, dest: Flow, media: MediaAnchor, cm: ContextMedia): Promise<void> {
    const mf = copy.maxForwards;
    if (mf !== undefined && mf <= 0) {
      context.onLaunchFailed(483);
      return;
    }
    const branch = this.newBranch(copy);
    const r = await media.launch(context, cm, copy, branch, dest);
    if (r !== undefined && !r.ok) {
      const source = context.serverTx.source;
      context.onLaunchFailed(r.status, undefined, [media.warning(r, source)], newTag());
      return;
    }
    const anchored = cm.mode !== 'dialog' && ((r !== undefined && r.anchored) || cm.lateOffer);
    if (anchored && !this.recordRouteFor.has(context)) {
      this.recordRouteFor.set(context, new RecordRouteState());
      this.callsOf.forwarded(context, true);
    }
    this.send(context, target, copy, dest, branch, anchored);
  }

  /** The copy prepared (Max-Forwards, Record-Route, Via) and sent as a new branch of the context. */
  private send(context: ResponseContext, target: ProxyTarget, copy: SipRequest, dest: Flow, viaBranch: string, media: boolean): void {
    if (!this.prepare(copy, dest, this.recordRouteFor.get(context), context.serverTx.source, viaBranch, media)) {
      context.onLaunchFailed(483);
      return;
    }
    const branch = new Branch(target, copy, dest);
    context.add(branch);
    try {
      branch.tx = this.server.transactions.createClientTransaction(copy, dest, new BranchUser(context, branch, this.callsOf));
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not create a client transaction');
      context.onTransportError(branch);
    }
  }

  beforeUpstream(context: ResponseContext, branch: Branch, response: SipResponse): Promise<void> | undefined {
    return this.media?.beforeUpstream(context, branch, response);
  }

  branchFailed(context: ResponseContext, branch: Branch): void {
    this.media?.branchFailed(context, branch);
  }

  contextFailed(context: ResponseContext, status: number): void {
    this.media?.contextFailed(context, status);
    this.callsOf.contextFailed(context, status);
  }

  cancelBranch(branch: Branch): void {
    // §9.1: "The Request-URI, Call-ID, To, the numeric part of CSeq, and From header fields in
    // the CANCEL request MUST be identical to those in the request being cancelled, including
    // tags. … A CANCEL constructed by a client MUST have only a single Via header field value
    // matching the top Via value in the request being cancelled." Route is copied too.
    const inv = branch.request;
    const cancel = new SipRequest('CANCEL', inv.requestUri);
    cancel.append('Via', inv.topVia!.toString());
    cancel.append('Max-Forwards', '70');
    for (const name of ['To', 'From', 'Call-ID']) cancel.append(name, inv.get(name)!);
    cancel.append('CSeq', `${inv.cseq.seq} CANCEL`);
    for (const r of inv.getAll('route')) cancel.append('Route', r);
    try {
      this.server.transactions.createClientTransaction(cancel, branch.destination, IGNORING_USER);
    } catch (e) {
      this.log.debug({ err: (e as Error).message }, 'CANCEL not sent');
    }
  }

  release(context: ResponseContext): void {
    this.contexts.delete(context.serverTx);
    this.callsOf.released(context);
    const source = this.sourceOf.get(context);
    if (source === undefined) return;
    this.sourceOf.delete(context);
    const n = (this.contextsBySource.get(source) ?? 1) - 1;
    if (n <= 0) this.contextsBySource.delete(source);
    else this.contextsBySource.set(source, n);
  }

  // ---- forwarding mechanics ------------------------------------------------------------------

  /**
   * §16.6 steps 6–7: the next hop is the first Route value if there is one (a strict router
   * among them is handled by §16.6 step 6's rewrite), else the Request-URI, else an explicit
   * flow (a registered contact's connection).
   */
  private async nextHop(request: SipRequest, flow: Flow | undefined): Promise<Flow | undefined> {
    if (flow !== undefined) return flow;
    let hop: Uri = request.requestUri;
    const top = request.route[0];
    if (top !== undefined) {
      if (top.uri.kind === 'sip' && !top.uri.lr) {
        // §16.6 step 6 (strict routing): "the proxy MUST place the Request-URI into the Route
        // header field as the last value and place the first Route header field value into the
        // Request-URI"
        const rest = request.route.slice(1).map((r) => r.toString());
        rest.push(`<${request.uri}>`);
        request.requestUri = top.uri;
        request.remove('Route');
        if (rest.length > 0) request.append('Route', rest.join(', '));
      } else hop = top.uri;
    }
    const found = await resolveSipUri(hop, this.dns, this.transports);
    const first = found[0];
    if (first === undefined) return undefined;
    return { transport: first.transport, remoteAddress: first.address, remotePort: first.port };
  }

  /**
   * §16.6 steps 3, 4 and 8: Max-Forwards decremented (or set to 70), Record-Route added, and a
   * Via with a new branch on top. Returns false when Max-Forwards is exhausted.
   *
   * Record-Route gets two entries, one per side (RFC 5658 §3.2 double Record-Route), when the
   * transports on the two sides differ, or when a side is a WebSocket client: that side's entry
   * carries the flow token of the client's connection (RFC 5626 §5.2; RFC 7118 clients cannot be
   * reached any other way), so that requests coming back along the route find the connection.
   * Each entry carries the route signature of the dialog (`;rrsig=`, route-signature.ts), which
   * processRoute checks when the dialog's requests come back.
   */
  private prepare(request: SipRequest, dest: Flow, recordRoute: RecordRouteState | undefined, inbound: Flow | undefined, branch: string, media: boolean): boolean {
    const mf = request.maxForwards;
    if (mf !== undefined && mf <= 0) return false;
    request.set('Max-Forwards', String(mf === undefined ? 70 : mf - 1));
    if (recordRoute !== undefined) {
      const destToken = this.flowTokenOf(dest);
      const inboundToken = inbound === undefined ? undefined : this.flowTokenOf(inbound);
      // both entries signed for the dialog (Call-ID and the caller's tag: all that is known yet)
      // and for the caller's Contact: where the callee's requests along this route go; the
      // caller's copy is signed for the callee's Contact in each response (signResponseRoute)
      // (every branch copies the same request: signed once per context)
      const signature = (recordRoute.requestSignature ??= this.routeSignature.sign(request.callId, request.from.tag, contactTarget(request)));
      if (inbound !== undefined && (inbound.transport !== dest.transport || destToken !== undefined || inboundToken !== undefined)) {
        request.prepend('Record-Route', this.identity.recordRoute(inbound.transport, inboundToken, signature, media));
      }
      request.prepend('Record-Route', this.identity.recordRoute(dest.transport, destToken, signature, media));
    }
    const { host, port } = this.identity.sentBy(dest.transport);
    request.prepend('Via', `SIP/2.0/${dest.transport.toUpperCase()} ${host}:${port};branch=${branch};rport`);
    return true;
  }

  /**
   * The branch of the Via Parley puts on a request it forwards (§16.6 step 8): the hash of the
   * fields loop detection compares (loopDetected), then a unique part. Made before Max-Forwards
   * changes (it is not among the fields).
   */
  private newBranch(request: SipRequest): string {
    return `${MAGIC_COOKIE}P${loopHash(request)}.${(++this.seq).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  }

  private flowTokenOf(flow: Flow): string | undefined {
    return isConnectionOnly(flow) ? this.flowTokens.encode(flow.connectionId!) : undefined;
  }
}

/** The TU of a branch's client transaction: what it hears goes to the branch's context (methods, not three closures per branch). */
class BranchUser implements ClientTransactionUser {
  constructor(
    private readonly context: ResponseContext,
    private readonly branch: Branch,
    private readonly calls: ProxyCalls,
  ) {}

  onResponse(response: SipResponse): void {
    this.calls.branchResponse(this.context, this.branch, response);
    this.context.onResponse(this.branch, response);
  }

  onTimeout(): void {
    this.context.onTimeout(this.branch);
  }

  onTransportError(): void {
    this.context.onTransportError(this.branch);
  }
}

/** The TU of a CANCEL's client transaction: nothing depends on its outcome. */
const IGNORING_USER: ClientTransactionUser = { onResponse() {}, onTimeout() {}, onTransportError() {} };

/** What a context that records the route keeps of its signatures (route-signature.ts). */
class RecordRouteState {
  /** The signature in the Record-Route entries of the requests it forwards (the caller's Contact). */
  requestSignature: string | undefined = undefined;
  /** The Contact target of the last response signed, and its signature (the callee's Contact). */
  responseTarget: string | undefined = undefined;
  responseSignature: string | undefined = undefined;
}

/**
 * The common case of signResponseRoute without parsing: the UAS echoed Parley's entries as Parley
 * wrote them, so each carries `;rrsig=` and the request's signature. When every `rrsig` in the
 * response's Record-Route fields is one of those, each is replaced in the text (the rest of every
 * field as the UAS wrote it) and true is returned; otherwise (an entry changed on the way, a
 * parameter in other case, another signature) nothing is touched and false is returned, for the
 * parsing path. An entry not naming Parley that carried the request's signature would get the new
 * one too: harmless, a signature is only ever checked in entries naming Parley (processRoute).
 */
function resignInPlace(response: SipResponse, requestSignature: string, signature: string): boolean {
  const fields = response.getAll('record-route');
  const ours = `;${ROUTE_SIGNATURE_PARAM}=${requestSignature}`;
  let found = 0;
  for (const field of fields) {
    const all = countOf(field.toLowerCase(), ROUTE_SIGNATURE_PARAM);
    if (all === 0) continue;
    if (countOf(field, ours) !== all) return false;
    found += all;
  }
  if (found === 0) return false;
  if (signature === requestSignature) return true;
  const mine = `;${ROUTE_SIGNATURE_PARAM}=${signature}`;
  response.set('Record-Route', fields[0]!.replaceAll(ours, mine));
  for (let i = 1; i < fields.length; i++) response.append('Record-Route', fields[i]!.replaceAll(ours, mine));
  return true;
}

/** Occurrences of `part` in `text`. */
function countOf(text: string, part: string): number {
  let n = 0;
  for (let i = text.indexOf(part); i !== -1; i = text.indexOf(part, i + part.length)) n++;
  return n;
}

/** A flow reached only over its own connection (a WebSocket client) has a flow token; others none. */
function isConnectionOnly(flow: Flow): boolean {
  return flow.connectionId !== undefined && (flow.transport === 'ws' || flow.transport === 'wss');
}

/** The copy a proxy forwards (§16.6 step 1): same start line, header fields and body. */
function copyRequest(r: SipRequest): SipRequest {
  return new SipRequest(r.method, r.requestUri, [...r.fields], r.body);
}

/** Hash of the fields RFC 3261 §16.6 step 8 names for loop detection (Via excluded, see loopDetected). */
function loopHash(r: SipRequest): string {
  // one string, one call: a Hash object and its eight updates cost more than the hashing
  const text = `${r.uri}\0${r.callId}\0${r.from.tag ?? ''}\0${r.to.tag ?? ''}\0${r.cseq.seq}\0${r.getAll('proxy-require').join(',')}\0${r.getAll('proxy-authorization').join(',')}`;
  return hash('md5', text, 'hex').slice(0, 12);
}


/** routeTarget of a message's first Contact ('' without one, or when it does not parse). */
function contactTarget(message: SipMessage): string {
  try {
    return routeTarget(message.contact[0]?.uri);
  } catch {
    return '';
  }
}
