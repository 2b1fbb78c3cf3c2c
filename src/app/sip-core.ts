import { setLogLevel } from './logger.js';
import { join } from 'node:path';
import type { Logger as PinoLogger } from 'pino';
import type { SipRequest } from '../sip/index.js';
import type { Clock } from '../lib/clock.js';
import { DigestAuthenticator, NonceManager, challengeHeaders, listenerAlgorithms, type FailureLimiter, type ListenerAlgorithms, type SipServer } from '../sip-server/index.js';
import { LocalIdentity } from '../sip-server/core/local-identity.js';
import { ProxyCore } from '../sip-server/proxy/proxy-core.js';
import type { LocationService } from '../sip-server/registrar/location-service.js';
import { Registrar } from '../sip-server/registrar/registrar.js';
import type { Flow, ListenerInfo } from '../sip-server/transport/index.js';
import type { SubscriberStore } from '../store/subscriber-store.js';
import type { LoadedScript } from '../routing/loaded-script.js';
import { RateCounter } from '../routing/rate-counter.js';
import { ScriptHandler } from '../routing/script-handler.js';
import { TraceRecorder } from '../routing/trace-recorder.js';
import type { DnsLookup } from '../sip-server/proxy/dns-resolver.js';
import { TraceFileSink } from '../routing/trace-store.js';
import type { ParleyConfig } from './config.js';
import { CachedSubscriberStore } from '../store/cached-subscriber-store.js';
import type { MediaControl } from '../lib/media-control.js';
import type { CoreQuery } from '../sip-server/workers/worker-messages.js';
import type { EventSink } from '../lib/events.js';
import { coreRegistry, type CoreCounters } from './metrics/core-metrics.js';

export interface SipCoreParts {
  readonly config: ParleyConfig;
  readonly sip: SipServer;
  /** The listeners as bound (real ports), wherever the sockets are. */
  readonly listeners: readonly ListenerInfo[];
  readonly subscribers: SubscriberStore;
  readonly location: LocationService;
  readonly clock: Clock;
  readonly log: Pick<PinoLogger, 'child' | 'debug' | 'info' | 'warn' | 'error' | 'isLevelEnabled'>;
  /** Counts failed authentications per source; none when the config disables it. */
  readonly limiter?: Pick<FailureLimiter, 'isBlocked' | 'recordFailure'>;
  /**
   * Told of each source address a request passed digest authentication from (the connection
   * table's reserve for authenticated sources); a worker passes it on to the socket thread.
   */
  readonly onAuthenticated?: (address: string) => void;
  /** Key of the nonce HMAC, shared by every worker (random per start unless configured). */
  readonly nonceSecret: Uint8Array | string;
  /** This worker's number, written into its nonces (see NonceManager.issuer); none in one thread. */
  readonly nonceIssuer?: number;
  /** Key of the flow tokens in Record-Route (RFC 5626), shared by every core; default: random. */
  readonly flowTokenSecret?: Uint8Array;
  /** Key of the Record-Route signatures, shared by every core and kept across restarts; default: random. */
  readonly routeSecret?: Uint8Array;
  /** Open stream connections by id (a worker's view of the socket thread's table); default: the server's own. */
  readonly connectionFlow?: (id: number) => Flow | undefined;
  /** Ports of other trusted listeners (the web server's with `auth: false`). */
  readonly trustedPorts?: readonly number[];
  /** The routing script version to start with (the same in every core). */
  readonly script: LoadedScript;
  /** This core's number (0: the main thread), for traces. */
  readonly core?: number;
  /** Traces of test calls; default: files in `<dataDir>/traces` when routing.traceCallIdPrefix is set. */
  readonly tracer?: TraceRecorder;
  /** DNS for the proxy's RFC 3263 lookups (the test harness gives a table). */
  readonly dns?: DnsLookup;
  /** The media plane the proxy anchors calls in (the media thread's client); none: no call is anchored. */
  readonly media?: MediaControl;
  /** The default of the routing's `relay({ media })` (configuration `media.anchor`); default `auto` with a media plane, `off` without. */
  readonly mediaAnchor?: 'auto' | 'always' | 'off';
  /**
   * Where this core's events go (lib/events.ts: auth.failed here, call events from the proxy;
   * registration events come from the LocationService it is given): the hub in the main thread,
   * a BatchedEventSink in a worker. None: no events.
   */
  readonly events?: EventSink;
  /** The thread's name in `parley_event_loop_lag_seconds` (`sip-0`…); none in the main thread, which has its own. */
  readonly thread?: string;
}

export interface SipCore {
  readonly identity: LocalIdentity;
  readonly proxy: ProxyCore;
  /** The request handler running the routing script; its versions are swapped by the script host. */
  readonly routing: ScriptHandler;
  /** A subscriber (or every one, without arguments) changed in the store: forget the cached copy. */
  subscriberChanged(username?: string, domain?: string): void;
  /** Answer a question of the operator's API (sip-server/workers/worker-messages.ts CoreQuery). */
  query(q: CoreQuery): Promise<unknown>;
}

/**
 * The SIP core's routing, wired from the configuration: local identity, digest authentication,
 * registrar, proxy, and the routing script's handler (with the traces of test calls) installed as
 * the server's handler. The same in the main thread (one thread) and in each worker thread.
 */
export function buildSipCore(p: SipCoreParts): SipCore {
  const { config, sip, listeners, location, clock, log } = p;
  // the subscriber of every answered challenge: remembered for auth.subscriberCache seconds, or
  // until `parley user` says it changed (subscriberChanged)
  const subscribers = config.auth.subscriberCache > 0 ? new CachedSubscriberStore(p.subscribers, { ttlMs: config.auth.subscriberCache * 1000 }) : p.subscribers;
  const identity = new LocalIdentity(listeners, {
    ...(config.sip.domains.length > 0 ? { domains: config.sip.domains } : {}),
    ...(config.sip.advertise ? { advertise: config.sip.advertise } : {}),
  });
  // a realm is a served domain: HA1 is stored per user@domain with realm = domain
  const realms = identity.servedDomains;
  // the realm is the domain of the identity claimed: any domain Parley serves
  const realmOf = (request: SipRequest): string => {
    const uri = request.method === 'REGISTER' ? request.to.uri : request.from.uri;
    return uri.kind === 'sip' && identity.servesDomain(uri.host) ? uri.host.toLowerCase().replace(/^\[(.*)\]$/, '$1') : realms[0]!;
  };
  // counted where the work is done, read by the metrics endpoint (metrics/core-metrics.ts)
  const counters: CoreCounters = { authFailures: 0, scriptErrors: 0 };
  // the authenticator tells its limiter of each failure: counted on the way (with or without a limiter)
  const countingLimiter: Pick<FailureLimiter, 'isBlocked' | 'recordFailure'> = {
    isBlocked: (address) => p.limiter?.isBlocked(address) ?? false,
    recordFailure: (address) => {
      counters.authFailures++;
      return p.limiter?.recordFailure(address) ?? false;
    },
  };
  const authenticator = new DigestAuthenticator({
    realms,
    subscribers,
    nonces: new NonceManager({
      lifetime: config.auth.nonceLifetime,
      secret: p.nonceSecret,
      ...(p.nonceIssuer === undefined ? {} : { issuer: p.nonceIssuer }),
    }),
    limiter: countingLimiter,
    ...(p.onAuthenticated ? { onAuthenticated: p.onAuthenticated } : {}),
    ...(p.events ? { onFailure: p.events } : {}),
    isLocalUri: (uri) => identity.isLocalUri(uri),
    realmOf,
    algorithms: config.auth.algorithms,
    algorithmsFor: listenerAlgorithms(configuredListeners(config, listeners), config.auth.algorithms),
  });
  const proxy = new ProxyCore(sip, identity, { clock, timerC: config.proxy.timerC * 1000, maxContextsPerSource: config.proxy.maxContextsPerSource, callTimeout: config.proxy.callTimeout * 1000, maxCalls: config.proxy.maxCalls, ...(p.events === undefined ? {} : { events: p.events }), ...(p.flowTokenSecret ? { flowTokenSecret: p.flowTokenSecret } : {}), ...(p.routeSecret ? { routeSecret: p.routeSecret } : {}), ...(p.connectionFlow ? { connectionFlow: p.connectionFlow } : {}), log: log.child({ module: 'proxy' }), ...(p.dns === undefined ? {} : { dns: p.dns }), ...(p.media === undefined ? {} : { media: p.media }) });
  const registrar = new Registrar(location, identity, { ...config.registrar });
  const trustedPorts = new Set(
    config.sip.listen
      .filter((l) => l.auth === false)
      .map((l) => listeners.find((b) => b.transport === l.transport && (l.port === 0 || b.port === l.port))?.port ?? l.port),
  );
  for (const port of p.trustedPorts ?? []) trustedPorts.add(port);
  const routingLog = log.child({ module: 'routing' });
  // the outbound routes, refilled in place by a configuration reload (reconfigure)
  const outbound = new Map(config.proxy.outbound.map((o) => [o.domain.toLowerCase(), o.uri]));
  const prefix = config.routing.traceCallIdPrefix;
  const tracer = p.tracer ?? (prefix === undefined ? undefined : new TraceRecorder(prefix, new TraceFileSink(join(config.dataDir, 'traces'), routingLog), p.core ?? 0));
  if (tracer !== undefined) sip.messages.observer = tracer;
  const routing = new ScriptHandler(
    {
      server: sip,
      identity,
      registrar,
      location,
      proxy,
      subscribers,
      trustedPorts,
      ...(p.limiter ? { limiter: p.limiter } : {}),
      outbound,
      rates: new RateCounter(),
      mediaAnchor: p.media === undefined ? 'off' : (p.mediaAnchor ?? 'auto'),
      auth: {
        authenticate: async (request, source) => {
          const r = await authenticator.authenticate(request, source);
          if (r.ok) return { ok: true, username: r.username, realm: r.realm };
          if (r.status !== 401 && r.status !== 407) log.debug({ callId: request.callId, status: r.status, why: r.reason }, 'authentication refused');
          return { ok: false, status: r.status, headers: challengeHeaders(r) };
        },
        precheck: (request, source) => {
          const r = authenticator.precheck(request, source);
          return r === undefined ? undefined : { ok: false, status: r.status, headers: challengeHeaders(r) };
        },
        challenge: (request, source) => {
          const r = authenticator.challenge(request.method === 'REGISTER' ? 'www' : 'proxy', realmOf(request), false, 'challenged by the routing script', source);
          return { ok: false, status: r.status, headers: challengeHeaders(r) };
        },
      },
      log: routingLog,
      counters,
    },
    p.script,
    { ...(tracer === undefined ? {} : { tracer }), logEachRequest: log.isLevelEnabled('debug') },
  );
  sip.handler = routing;
  const subscriberChanged = (username?: string, domain?: string): void => {
    if (subscribers instanceof CachedSubscriberStore) subscribers.invalidate(username, domain);
  };
  const metrics = coreRegistry({
    counts: sip.messages.counts,
    counters,
    transactions: () => sip.transactions.size,
    proxyContexts: () => proxy.size,
    bindings: () => location.bindingCount,
    parseErrors: () => sip.stats.parseErrors + sip.stats.lateParseErrors,
    calls: () => ({ open: proxy.calls.size, started: proxy.calls.started, answered: proxy.calls.answered, untracked: proxy.calls.untracked }),
    ...(p.thread === undefined ? {} : { thread: p.thread }),
  });
  const query = async (q: CoreQuery): Promise<unknown> => {
    switch (q.q) {
      case 'ping':
        return { ok: true };
      case 'reconfigure':
        if (q.logLevel !== undefined) {
          setLogLevel(log, q.logLevel);
          routing.logEachRequest = log.isLevelEnabled('debug');
        }
        if (q.expiry !== undefined) registrar.setExpiry(q.expiry);
        if (q.outbound !== undefined) {
          outbound.clear();
          for (const o of q.outbound) outbound.set(o.domain.toLowerCase(), o.uri);
        }
        return { ok: true };
      case 'unregister': {
        // every binding of the AOR (expired ones too: they are going anyway), or one contact
        const before = location.lookup(q.aor);
        const keep = q.contact === undefined ? [] : before.filter((b) => b.contact !== q.contact);
        const removed = before.length - keep.length;
        if (removed > 0) await location.update(q.aor, keep);
        return { removed };
      }
      case 'calls':
        return proxy.calls.query(q);
      case 'hangup':
        return { found: proxy.hangup(q.callId) };
      case 'metrics':
        return metrics.getMetricsAsJSON();
    }
  };
  return { identity, proxy, routing, subscriberChanged, query };
}

/**
 * The listeners as bound (`listeners`: the SIP ones in the order of `sip.listen`, then the web
 * server's in the order of `http.listen`), each with the `algorithms` its configuration entry
 * sets. A bound listener is paired with its entry by position when the transports agree, else
 * by transport and configured port.
 */
export function configuredListeners(config: ParleyConfig, listeners: readonly ListenerInfo[]): ListenerAlgorithms[] {
  const entries = [
    ...config.sip.listen.map((l) => ({ transport: l.transport, port: l.port, algorithms: l.algorithms })),
    ...config.http.listen.map((l) => ({ transport: l.transport === 'https' ? ('wss' as const) : ('ws' as const), port: l.port, algorithms: l.algorithms })),
  ];
  return listeners.map((bound, i) => {
    const entry = entries[i]?.transport === bound.transport ? entries[i] : entries.find((e) => e.transport === bound.transport && e.port === bound.port);
    return { transport: bound.transport, address: bound.address, port: bound.port, ...(entry?.algorithms === undefined ? {} : { algorithms: entry.algorithms }) };
  });
}
