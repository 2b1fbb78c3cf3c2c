import { mkdirSync } from 'node:fs';
import { destination as pinoDestination, pino, type Logger as PinoLogger } from 'pino';
import { systemClock } from '../lib/clock.js';
import { DigestAuthenticator, FailureLimiter, NonceManager, SipServer, challengeHeaders } from '../server/index.js';
import { DefaultHandler } from '../server/core/default-handler.js';
import { LocalIdentity } from '../server/core/local-identity.js';
import { ProxyCore } from '../server/proxy/proxy-core.js';
import { LocationService } from '../server/registrar/location-service.js';
import { Registrar } from '../server/registrar/registrar.js';
import type { ListenerInfo } from '../server/transport/index.js';
import { SqliteBindingStore } from '../store/sqlite/sqlite-binding-store.js';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteSubscriberStore } from '../store/sqlite/sqlite-subscriber-store.js';
import type { HttpListenConfig, ListenConfig, ParleyConfig } from './config.js';
import { startWebServer, type WebServer } from './web-server.js';
import type { SubscriberStore } from '../store/subscriber-store.js';

export interface RunningServer {
  readonly sip: SipServer;
  /** SIP listeners, then the web server's as `wss`/`ws` (SIP over WebSocket). */
  readonly listeners: readonly ListenerInfo[];
  /** The web server (HTTPS/HTTP, SIP over WebSocket), when `http.listen` has listeners. */
  readonly web: WebServer | undefined;
  readonly log: PinoLogger;
  readonly location: LocationService;
  readonly subscribers: SubscriberStore;
  /** The domain users are added under by default: the first configured, else this host's address. */
  readonly domain: string;
  stop(): Promise<void>;
}

/**
 * The composition root: build every part from the configuration and start it. Nothing else
 * reads the configuration; the parts get plain options.
 */
export async function runServer(config: ParleyConfig, log: PinoLogger = stdoutLogger(config.log.level)): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true });
  const db = SqliteDatabase.open(config.dataDir);
  const subscribers = new SqliteSubscriberStore(db);
  const clock = systemClock;
  const location = new LocationService({ clock, store: new SqliteBindingStore(db), log: log.child({ module: 'location' }) });
  const restored = await location.start();

  const { limits, timers } = config.sip;
  const sip = new SipServer({
    listeners: config.sip.listen.map(({ transport, address, port }) => ({ transport, address, port })),
    tls: { ...(config.sip.tls.cert ? { certFile: config.sip.tls.cert } : {}), ...(config.sip.tls.key ? { keyFile: config.sip.tls.key } : {}) },
    dataDir: config.dataDir,
    limits: {
      maxMessageSize: limits.maxMessageSize,
      maxHeaders: limits.maxHeaders,
      maxConnections: limits.maxConnections,
      maxConnectionsPerAddress: limits.maxConnectionsPerSource,
      inboundIdleTimeoutMs: limits.idleTimeout * 1000,
    },
    timers: { T1: timers.t1, T2: timers.t2, T4: timers.t4 },
    serverName: config.sip.serverName,
    log,
  });
  let listeners: readonly ListenerInfo[];
  let web: WebServer | undefined;
  try {
    listeners = await sip.start();
    web = await startWebServer(config, sip, log);
  } catch (e) {
    await sip.stop();
    await location.stop();
    db.close();
    throw e;
  }
  const allListeners = [...listeners, ...(web?.listeners ?? [])];

  const identity = new LocalIdentity(allListeners, {
    ...(config.sip.domains.length > 0 ? { domains: config.sip.domains } : {}),
    ...(config.sip.advertise ? { advertise: config.sip.advertise } : {}),
  });
  // a realm is a served domain: HA1 is stored per user@domain with realm = domain
  const realms = identity.servedDomains;
  const limiter = config.auth.failureLimit.enabled
    ? new FailureLimiter({ maxFailures: config.auth.failureLimit.maxFailures, window: config.auth.failureLimit.window, blockTime: config.auth.failureLimit.blockTime, clock, logger: log.child({ module: 'auth' }) })
    : undefined;
  const authenticator = new DigestAuthenticator({
    realms,
    subscribers,
    nonces: new NonceManager({ lifetime: config.auth.nonceLifetime, ...(config.auth.nonceSecret ? { secret: config.auth.nonceSecret } : {}) }),
    ...(limiter ? { limiter } : {}),
    isLocalUri: (uri) => identity.isLocalUri(uri),
    // the realm is the domain of the identity claimed: any domain Parley serves
    realmOf: (request) => {
      const uri = request.method === 'REGISTER' ? request.to.uri : request.from.uri;
      return uri.kind === 'sip' && identity.servesDomain(uri.host) ? uri.host.toLowerCase().replace(/^\[(.*)\]$/, '$1') : realms[0]!;
    },
    algorithms: config.auth.algorithms,
  });
  const proxy = new ProxyCore(sip, identity, { clock, timerC: config.proxy.timerC * 1000, log: log.child({ module: 'proxy' }) });
  const registrar = new Registrar(location, identity, { ...config.registrar });
  const trustedPorts = new Set(config.sip.listen.filter((l) => l.auth === false).map((l) => listeners.find((b) => b.transport === l.transport && (l.port === 0 || b.port === l.port))?.port ?? l.port));
  for (const port of web?.trustedPorts ?? []) trustedPorts.add(port);
  sip.handler = new DefaultHandler({
    identity,
    registrar,
    location,
    proxy,
    subscribers,
    trustedPorts,
    outbound: new Map(config.proxy.outbound.map((o) => [o.domain.toLowerCase(), o.uri])),
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
    },
    log: log.child({ module: 'routing' }),
  });
  // a binding made over a connection goes with it (RFC 5626 flows)
  sip.transports.connections.on('close', (connection: { id: number }) => {
    void location.removeConnection(connection.id);
  });

  // a line of counters now and then: what an operator looks at first when something grows
  const statsTimer = setInterval(() => {
    const m = process.memoryUsage();
    log.info(
      {
        transactions: sip.transactions.size,
        proxyContexts: proxy.size,
        bindings: location.bindingCount,
        connections: sip.transports.connections.size,
        requests: sip.stats.requests,
        responses: sip.stats.responses,
        parseErrors: sip.stats.parseErrors,
        rssMB: Math.round(m.rss / 1048576),
        heapUsedMB: Math.round(m.heapUsed / 1048576),
      },
      'stats',
    );
  }, config.log.statsInterval * 1000);
  statsTimer.unref();

  log.info(
    { dataDir: config.dataDir, listeners: allListeners.map((l) => `${l.transport}:${l.address}:${l.port}`), realms, restoredBindings: restored, subscribers: await subscribers.count() },
    'Parley is ready',
  );
  return {
    sip,
    listeners: allListeners,
    web,
    log,
    location,
    subscribers,
    domain: config.sip.domains[0]?.toLowerCase() ?? defaultDomain(identity, listeners),
    stop: async () => {
      clearInterval(statsTimer);
      await web?.stop();
      await sip.stop();
      await location.stop();
      db.close();
      log.info('Parley stopped');
    },
  };
}

/**
 * JSON lines on stdout, written asynchronously. If stdout goes away (the reader of a pipe exits),
 * logging stops and the server keeps serving: a log line never blocks SIP.
 */
export function stdoutLogger(level: string): PinoLogger {
  const destination = pinoDestination({ dest: 1, sync: false });
  destination.on('error', () => {
    // EPIPE and friends: nothing more can be written; drop further lines
    log.level = 'silent';
  });
  const log = pino({ level }, destination);
  return log;
}

/** A listener's own address when it has one, else the host's first external address. */
function defaultDomain(identity: LocalIdentity, listeners: readonly ListenerInfo[]): string {
  const specific = listeners.find((l) => l.address !== '0.0.0.0' && l.address !== '::');
  if (specific) return specific.address;
  return identity.sentBy(listeners[0]?.transport ?? 'udp').host.replace(/^\[(.*)\]$/, '$1');
}

/**
 * `udp:127.0.0.1:5060`, `tls:[::1]:5061`, `tcp::5060` (+ `;noauth`) → a SIP listener;
 * `wss:[::]:8443`, `ws:127.0.0.1:8080` (or `https:`, `http:`) → an HTTP listener carrying SIP
 * over WebSocket.
 */
export function parseListenSpec(spec: string): ListenConfig | HttpListenConfig {
  const m = /^(udp|tcp|tls|wss|ws|https|http):(\[[^\]]+\]|[^:]*):(\d+)(;noauth)?$/.exec(spec);
  if (!m) throw new Error(`bad --listen "${spec}": expected transport:address:port[;noauth], e.g. udp:0.0.0.0:5060, tls:[::]:5061 or wss:0.0.0.0:8443`);
  const address = m[2]!.replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`bad --listen "${spec}": port out of range`);
  const auth = m[4] ? { auth: false } : {};
  const t = m[1]!;
  if (t === 'wss' || t === 'https') return { transport: 'https', address, port, ...auth };
  if (t === 'ws' || t === 'http') return { transport: 'http', address, port, ...auth };
  return { transport: t as ListenConfig['transport'], address, port, ...auth };
}

/** Is this parsed --listen spec an HTTP (WebSocket) listener? */
export function isHttpListen(l: ListenConfig | HttpListenConfig): l is HttpListenConfig {
  return l.transport === 'https' || l.transport === 'http';
}
