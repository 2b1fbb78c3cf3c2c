import type { Logger } from '../../lib/logger.js';
import { silentLogger } from '../../lib/logger.js';
import { parseUri, type Flow, type ServerTransaction, type SipRequest } from '../../sip/index.js';
import type { SubscriberStore } from '../../store/subscriber-store.js';
import type { ProxyCore } from '../proxy/proxy-core.js';
import type { ProxyTarget } from '../proxy/response-context.js';
import { addressOfRecord, splitAor } from '../registrar/address-of-record.js';
import type { LocationService } from '../registrar/location-service.js';
import type { Registrar } from '../registrar/registrar.js';
import type { SipServer } from '../sip-server.js';
import type { LocalIdentity } from './local-identity.js';
import type { RequestHandler, StatelessAnswer } from './request-handler.js';
import { optionsHeaders } from './options-headers.js';

/** The outcome of checking a request's credentials (the auth module implements it). */
export type AuthOutcome =
  | { readonly ok: true; readonly username: string; readonly realm: string }
  | { readonly ok: false; readonly status: number; readonly reason?: string; readonly headers: ReadonlyArray<readonly [string, string]> };

/** Digest authentication as the handler uses it (policy lives in src/server/auth). */
export interface RequestAuthenticator {
  authenticate(request: SipRequest, source: Flow): Promise<AuthOutcome>;
  /** The refusal that needs no store lookup (no credentials: a challenge), or undefined. */
  precheck?(request: SipRequest, source: Flow): (AuthOutcome & { ok: false }) | undefined;
}

export interface DefaultHandlerOptions {
  readonly identity: LocalIdentity;
  readonly registrar: Registrar;
  readonly location: LocationService;
  readonly proxy: ProxyCore;
  readonly subscribers: SubscriberStore;
  /** Digest authentication; requests from listeners in `trusted` skip it. */
  readonly auth?: RequestAuthenticator;
  /** Listener ports (any transport) whose requests are not authenticated (trusted trunks, benchmarks). */
  readonly trustedPorts?: ReadonlySet<number>;
  /** Where requests for domains Parley does not serve may go (an outbound proxy or trunk), by domain or `*`. */
  readonly outbound?: ReadonlyMap<string, string>;
  readonly log?: Logger;
}

const METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'MESSAGE', 'INFO', 'UPDATE', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'REFER'];

/**
 * What Parley does with a request when no routing script says otherwise — the behaviour of a
 * stock Kamailio configuration: sanity checks, loop detection, in-dialog requests along their
 * recorded route, CANCEL, OPTIONS to the server, REGISTER (authenticated) to the registrar, and
 * calls (authenticated when the caller claims a local user) to the location service, never
 * relaying to a domain it does not serve unless an outbound route is configured.
 */
export class DefaultHandler implements RequestHandler {
  readonly allow = METHODS;
  readonly supported = ['path'];
  private readonly o: DefaultHandlerOptions;
  private readonly log: Logger;

  constructor(options: DefaultHandlerOptions) {
    this.o = options;
    this.log = options.log ?? silentLogger;
  }

  onRequest(request: SipRequest, tx: ServerTransaction, server: SipServer): void {
    this.route(request, tx, server).catch((e: unknown) => {
      this.log.error({ err: e, callId: request.callId }, 'routing failed');
      if (tx.lastResponse === undefined || tx.lastResponse.status < 200) server.reply(tx, 500);
    });
  }

  /**
   * Answered without a transaction: an OPTIONS ping to the server itself, and the challenge (or
   * refusal) of an initial request that needs authentication but carries no credentials — the
   * same answers the stateful path gives, only cheaper. Anything the stateful path would check
   * first (483, 482, 420, 416, in-dialog, CANCEL, Route) goes the stateful way.
   */
  statelessAnswer(request: SipRequest, source: Flow): StatelessAnswer | undefined {
    const { identity } = this.o;
    const method = request.method;
    if (method === 'ACK' || method === 'CANCEL' || request.to.tag !== undefined || request.has('route')) return undefined;
    if (request.maxForwards === 0 || request.has('proxy-require') || request.via.length > 1) return undefined;
    const ruri = request.requestUri;
    if (ruri.kind !== 'sip') return undefined;
    if (method === 'OPTIONS' && ruri.user === undefined && identity.isLocalUri(ruri)) return { status: 200, headers: optionsHeaders(this) };
    if (this.o.auth?.precheck === undefined || (this.o.trustedPorts?.has(source.localPort ?? -1) ?? false)) return undefined;
    if (method !== 'REGISTER') {
      const from = request.from.uri;
      if (from.kind !== 'sip' || !identity.servesDomain(from.host)) return undefined;
    }
    const refusal = this.o.auth.precheck(request, source);
    return refusal === undefined ? undefined : { status: refusal.status, headers: refusal.headers, ...(refusal.reason === undefined ? {} : { reason: refusal.reason }) };
  }

  onAck(ack: SipRequest, source: Flow, _server: SipServer): void {
    // an ACK for a 2xx follows the route set like any in-dialog request
    if (this.o.proxy.processRoute(ack, source) && !this.o.identity.isLocalUri(ack.requestUri)) this.o.proxy.forwardAck(ack);
  }

  private async route(request: SipRequest, tx: ServerTransaction, server: SipServer): Promise<void> {
    const { identity, proxy } = this.o;
    const ruri = request.requestUri;

    // §16.3 step 3: Max-Forwards; an OPTIONS to the server itself is answered here anyway
    if (request.maxForwards === 0 && !(request.method === 'OPTIONS' && identity.isLocalUri(ruri))) {
      server.reply(tx, 483);
      return;
    }
    // §16.3 step 4
    if (request.via.length > 1 && proxy.loopDetected(request)) {
      server.reply(tx, 482);
      return;
    }
    // §16.3 step 6: Proxy-Require lists extensions the proxy must support; Parley supports none there
    const unsupported = request.proxyRequire;
    if (unsupported.length > 0) {
      server.reply(tx, 420, { headers: [['Unsupported', unsupported.join(', ')]] });
      return;
    }
    if (ruri.kind !== 'sip' && ruri.kind !== 'tel') {
      server.reply(tx, 416);
      return;
    }

    if (request.method === 'CANCEL') {
      proxy.cancel(request, tx);
      return;
    }

    // in-dialog requests (a To tag) follow the route Parley recorded
    const routed = proxy.processRoute(request, tx.source);
    if (request.to.tag !== undefined) {
      if (routed && !identity.isLocalUri(request.requestUri)) {
        proxy.relay(request, tx);
        return;
      }
      if (request.method === 'OPTIONS' && identity.isLocalUri(request.requestUri)) {
        server.replyOptions(tx, this);
        return;
      }
      server.reply(tx, 404, { reason: 'Not Here' });
      return;
    }
    // an initial request may not carry a Route that Parley did not put there (no open relay)
    if (request.route.length > 0) {
      server.reply(tx, 403, { reason: 'Forbidden (preloaded Route)' });
      return;
    }

    if (request.method === 'OPTIONS' && identity.isLocalUri(ruri) && (ruri.kind !== 'sip' || ruri.user === undefined)) {
      server.replyOptions(tx, this);
      return;
    }

    const trusted = this.o.trustedPorts?.has(tx.source.localPort ?? -1) ?? false;

    if (request.method === 'REGISTER') {
      if (!trusted) {
        const user = await this.authenticate(request, tx, server, 'register');
        if (user === undefined) return;
      }
      const result = await this.o.registrar.register(request, tx.source);
      server.reply(tx, result.status, { ...(result.reason === undefined ? {} : { reason: result.reason }), headers: result.headers });
      return;
    }

    // a caller who claims to be a local user must prove it
    const fromUri = request.from.uri;
    const fromLocal = fromUri.kind === 'sip' && identity.servesDomain(fromUri.host);
    if (fromLocal && !trusted) {
      const user = await this.authenticate(request, tx, server, 'request');
      if (user === undefined) return;
    }

    // targets: the location service for a served domain
    const aor = ruri.kind === 'sip' && identity.servesDomain(ruri.host) ? addressOfRecord(ruri) : undefined;
    if (aor !== undefined) {
      const bindings = this.o.location.lookup(aor);
      if (bindings.length === 0) {
        const { user, domain } = splitAor(aor);
        const known = (await this.o.subscribers.get(user, domain)) !== undefined || this.o.location.known(aor);
        server.reply(tx, known ? 480 : 404);
        return;
      }
      const targets: ProxyTarget[] = bindings.map((b) => ({
        uri: parseUri(b.contact),
        q: b.q,
        flow: flowOf(b.received, b.connectionId),
        ...(b.path.length > 0 ? { route: b.path } : {}),
      }));
      proxy.forward(request, tx, targets);
      return;
    }
    if (ruri.kind === 'sip' && identity.isLocalUri(ruri)) {
      // a request for the server itself that it does not handle
      server.reply(tx, request.method === 'OPTIONS' ? 200 : 404);
      return;
    }

    // another domain: only through a configured outbound route, and only for local, authenticated callers
    const host = ruri.kind === 'sip' ? ruri.host.toLowerCase() : '';
    const outbound = this.o.outbound?.get(host) ?? this.o.outbound?.get('*');
    if (outbound !== undefined && (fromLocal || trusted)) {
      proxy.forward(request, tx, [{ uri: request.requestUri, q: 1, route: [`<${outbound};lr>`] }]);
      return;
    }
    server.reply(tx, 403, { reason: 'Forbidden (relaying denied)' });
  }

  /**
   * Digest authentication (401 for REGISTER, 407 otherwise) and the rule that the identity in
   * From (and To for REGISTER) is the authenticated user's: 403 otherwise. Returns the user, or
   * undefined after answering.
   */
  private async authenticate(request: SipRequest, tx: ServerTransaction, server: SipServer, kind: 'register' | 'request'): Promise<string | undefined> {
    const auth = this.o.auth;
    if (auth === undefined) return 'anonymous';
    const r = await auth.authenticate(request, tx.source);
    if (!r.ok) {
      server.reply(tx, r.status, { ...(r.reason === undefined ? {} : { reason: r.reason }), headers: r.headers });
      return undefined;
    }
    const claimed = [request.from.uri, ...(kind === 'register' ? [request.to.uri] : [])];
    for (const uri of claimed) {
      const aor = addressOfRecord(uri);
      if (aor === undefined || aor !== `${r.username}@${r.realm.toLowerCase()}`) {
        server.reply(tx, 403, { reason: 'Forbidden (identity does not match the credentials)' });
        return undefined;
      }
    }
    // the credentials were for this proxy: consume them (RFC 3261 §22.3 — a proxy forwards only
    // credentials meant for others)
    if (kind === 'request') request.remove('Proxy-Authorization');
    return r.username;
  }
}

function flowOf(received: { transport: Flow['transport']; address: string; port: number; localAddress?: string; localPort?: number }, connectionId: number | undefined): Flow {
  return {
    transport: received.transport,
    remoteAddress: received.address,
    remotePort: received.port,
    ...(received.localAddress === undefined ? {} : { localAddress: received.localAddress }),
    ...(received.localPort === undefined ? {} : { localPort: received.localPort }),
    ...(connectionId === undefined ? {} : { connectionId }),
  };
}
