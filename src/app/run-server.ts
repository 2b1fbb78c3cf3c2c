import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Logger as PinoLogger } from 'pino';
import { systemClock } from '../lib/clock.js';
import { FailureLimiter, SipServer } from '../sip-server/index.js';
import { LocalIdentity } from '../sip-server/core/local-identity.js';
import { LocationService } from '../sip-server/registrar/location-service.js';
import { DEFAULT_TRANSPORT_LIMITS, TransportLayer, type ListenerInfo, type ListenerOptions, type TransportLimits } from '../sip-server/transport/index.js';
import { SipWorkerPool } from '../sip-server/workers/sip-worker-pool.js';
import { loadOrCreateRouteKey } from '../sip-server/proxy/route-key.js';
import { SqliteBindingStore } from '../store/sqlite/sqlite-binding-store.js';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteSubscriberStore } from '../store/sqlite/sqlite-subscriber-store.js';
import { keyOnly, type ConfigLocator, type HttpListenConfig, type ListenConfig, type ParleyConfig } from './config.js';
import { locateStartError, StartError } from './start-error.js';
import { setLogLevel, stdoutLogger } from './logger.js';
import { changedKeys, keyPath, LIVE_KEYS, refusedOutcome, withKeys, type ConfigReloadOutcome } from './config-reload.js';
import { startWebServer, type WebServer } from './web-server.js';
import { phonePagePlugin } from '../web/phone-page.js';
import { icePagePlugin } from '../web/ice-page.js';
import { dashboardPagePlugin } from '../web/dashboard-page.js';
import { turnCredentialsPlugin, turnUris, type TurnCredentialSource } from '../web/turn-credentials-route.js';
import { RestSecrets } from '../turn/rest-credentials.js';
import { loadOrCreateRestSecret } from '../turn/rest-secret-file.js';
import { buildSipCore } from './sip-core.js';
import type { BindingWriterData } from './binding-writer.js';
import type { SipWorkerData } from './sip-worker.js';
import type { SubscriberStore } from '../store/subscriber-store.js';
import { ScriptHost, type ReloadOutcome } from '../routing/script-host.js';
import { ControlSocket } from './control-socket.js';
import { runOp } from './control-ops.js';
import { rmSync, writeFileSync } from 'node:fs';
import { startTurnThread, type TurnThread } from './turn-thread.js';
import { startMediaThread, type MediaThread } from './media-thread.js';
import { siblingModule } from '../sip-server/workers/start-worker.js';
import { join } from 'node:path';
import { OpsError, type Operations } from '../api/operations.js';
import { createOperations } from './ops/index.js';
import { startHepCollector, type RunningHepCollector } from './hep-collector-wiring.js';
import { PARLEY_VERSION } from './ops/server-ops.js';
import { apiPlugin } from '../api/api-plugin.js';
import { SqliteTokenStore } from '../store/sqlite/sqlite-token-store.js';
import type { CoreAnswer, ServerParts } from './ops/server-parts.js';
import type { CoreQuery } from '../sip-server/workers/worker-messages.js';
import { EventHub } from './ops/event-hub.js';
import { LOGGED_EVENT_TYPES, logEvent } from './event-log.js';
import type { ParleyEvent } from '../lib/events.js';
import { EVENTS_PATH, eventStreamUpgrade } from '../api/routes/events.js';
import { tokenAuthorizer } from './event-stream-wiring.js';
import { mainRegistry } from './metrics/main-metrics.js';
import { startHepCapture, stopHepCapture } from './hep/hep-capture.js';

export { stdoutLogger } from './logger.js';

export interface RunningServer {
  /** SIP listeners, then the web server's as `wss`/`ws` (SIP over WebSocket). */
  readonly listeners: readonly ListenerInfo[];
  /** The web server (HTTPS/HTTP, SIP over WebSocket), when `http.listen` has listeners. */
  readonly web: WebServer | undefined;
  readonly log: PinoLogger;
  readonly subscribers: SubscriberStore;
  /** The domain users are added under by default: the first configured, else this host's address. */
  readonly domain: string;
  /** SIP worker threads (0: the SIP core runs in the main thread). */
  readonly workers: number;
  /** The STUN/TURN server's thread, when it runs (`turn.enabled`, and its default port was free). */
  readonly turn: TurnThread | undefined;
  /** The media plane's thread, when it runs (`media.enabled`). */
  readonly media: MediaThread | undefined;
  /** The routing script: its active version, and a reload (as `parley reload` and SIGHUP do). */
  readonly script: { readonly version: number; readonly source: string };
  reload(trigger?: 'command' | 'signal' | 'watch'): Promise<ReloadOutcome>;
  /**
   * Read the configuration file again (RunServerOptions.reread) and apply what changed and can
   * change live (config-reload.ts LIVE_KEYS); other changes are logged as needing a restart. A
   * file that fails its check changes nothing. Never rejects.
   */
  reloadConfig(trigger?: 'command' | 'signal'): Promise<ConfigReloadOutcome>;
  /** The configuration in force: the one started with, and what reloads applied since. */
  readonly config: ParleyConfig;
  /** What the API, the control socket and the dashboard ask of it (src/api/operations.ts). */
  readonly ops: Operations;
  stop(): Promise<void>;
}

/**
 * The configuration the TURN thread gets: `turn.restSecrets` as configured, or, when empty and
 * TURN is on, the secret of `<dataDir>/turn-rest.secret` (made at the first start), which the web
 * server signs the phone page's credentials with too. Throws ParleyError ERR_TURN_SECRET.
 */
export function withTurnRestSecrets(config: ParleyConfig, log: Pick<PinoLogger, 'info' | 'warn'>): ParleyConfig {
  if (!config.turn.enabled || config.turn.restSecrets.length > 0) return config;
  const s = loadOrCreateRestSecret(config.dataDir);
  if (s.created) log.info({ path: s.path }, 'TURN REST secret created (the phone page\'s TURN credentials are signed with it)');
  if (s.readableByOthers) log.warn({ path: s.path }, 'the TURN REST secret can be read by other users: chmod 600 it');
  return { ...config, turn: { ...config.turn, restSecrets: [s.secret] } };
}

/**
 * The key of the Record-Route signatures: `proxy.recordRouteSecret` when configured (nodes that
 * share dialogs), else the data directory's key file, made on the first start.
 */
export function recordRouteKey(config: ParleyConfig, log: Pick<PinoLogger, 'info' | 'warn'>): Uint8Array {
  const configured = config.proxy.recordRouteSecret;
  if (configured !== undefined) return new TextEncoder().encode(configured);
  const k = loadOrCreateRouteKey(config.dataDir);
  if (k.created) log.info({ path: k.path }, 'Record-Route signing key created');
  if (k.readableByOthers) log.warn({ path: k.path }, 'the Record-Route signing key can be read by other users: chmod 600 it');
  return k.key;
}

/**
 * Can the SIP workers share the UDP ports (SO_REUSEPORT, dgram's `reusePort`, Node >= 22.12 and
 * 23.1)? Linux spreads the datagrams over the sockets of a port; elsewhere the option is refused
 * or does not spread them, and the main thread keeps reading them.
 */
export function reusePortAvailable(platform = process.platform, version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return platform === 'linux' && (major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12));
}

/** Worker threads for `sip.workers`: -1 (auto) is one per core, none on a single core. */
export function workerCount(configured: number, cores = availableParallelism()): number {
  if (configured >= 0) return configured;
  return cores > 1 ? cores : 0;
}

/**
 * The composition root: build every part from the configuration and start it. Nothing else
 * reads the configuration; the parts get plain options.
 *
 * No worker threads: sockets and SIP core in this thread. N worker threads: this thread keeps the
 * sockets and connections (TransportLayer with a SipWorkerPool as its receiver) and each worker
 * builds a SIP core (src/app/sip-worker.ts) around a replica of the registrations.
 */

export interface RunServerOptions {
  /**
   * Names where a configuration key was set (the file and line, or a command-line option), for
   * errors found at start (StartError). Default: the key alone.
   */
  readonly locate?: ConfigLocator;
  /**
   * Read the configuration again, as at start (the file, then the command line's options over
   * it), for a configuration reload; throws ConfigError. Without it, a reload has nothing to read.
   */
  readonly reread?: () => { readonly config: ParleyConfig; readonly locate: ConfigLocator; readonly file: string };
  /**
   * Run once everything is up, before "Parley is ready" is logged (`serve --demo` creates its
   * users here, so that the ready line counts them).
   */
  readonly beforeReady?: (server: { readonly subscribers: SubscriberStore; readonly domain: string }) => Promise<void>;
}

export async function runServer(config: ParleyConfig, log: PinoLogger = stdoutLogger(config.log.level, 1, config.log.format), options: RunServerOptions = {}): Promise<RunningServer> {
  const locate = options.locate ?? keyOnly;
  /** The configuration in force: `config`, then what configuration reloads applied. */
  let effective: ParleyConfig = config;
  const startedAt = Date.now();
  // the operations exist once every part runs; the web server, which starts before, asks through this
  let operations: Operations | undefined;
  const ops = (): Operations => {
    if (operations === undefined) throw new OpsError(503, 'Parley is starting');
    return operations;
  };
  // every event of every thread comes here once (ops/event-hub.ts): the API's stream and the log
  const events = new EventHub({ maxStreams: config.api.maxEventStreams });
  const publish = events.publish;
  const eventLog = log.child({ module: 'events' });
  events.listen(LOGGED_EVENT_TYPES, (e) => logEvent(eventLog, e));
  let db: SqliteDatabase;
  try {
    mkdirSync(config.dataDir, { recursive: true });
    db = SqliteDatabase.open(config.dataDir, { synchronous: config.registrar.synchronous });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StartError(locate(['dataDir']), code === undefined ? (e as Error).message : `cannot create ${config.dataDir} (${code})`, { cause: e });
  }
  // Record-Route signatures must verify after a restart (calls outlive it) and on every core
  const routeSecret = recordRouteKey(config, log);
  const subscribers = new SqliteSubscriberStore(db);
  // nonces and flow tokens of every core verify everywhere: one secret each for all of them
  const nonceSecret = config.auth.nonceSecret ?? randomBytes(32);
  const flowTokenSecret = randomBytes(32);
  // One failed-auth limiter for SIP, the TURN credentials route and TURN (issue 16): every failure
  // is counted here (SIP workers' and the TURN thread's by message); a block it decides reaches the
  // SIP workers (pool) and the TURN thread (onBlock), so a source that fails on one is refused by all
  let blockOnTurn: ((address: string, ms: number) => void) | undefined;
  const limiter = config.auth.failureLimit.enabled
    ? new FailureLimiter({
        maxFailures: config.auth.failureLimit.maxFailures,
        window: config.auth.failureLimit.window,
        blockTime: config.auth.failureLimit.blockTime,
        clock: systemClock,
        logger: log.child({ module: 'auth' }),
        onBlock: (address, ms) => {
          publish({ type: 'source.blocked', time: Date.now(), source: address, seconds: Math.round(ms / 1000) });
          blockOnTurn?.(address, ms);
        },
      })
    : undefined;
  const listenerOptions: ListenerOptions[] = config.sip.listen.map(({ transport, address, port, auth }) => ({ transport, address, port, ...(auth === false ? { trusted: true } : {}) }));
  const tls = { ...(config.sip.tls.cert ? { certFile: config.sip.tls.cert } : {}), ...(config.sip.tls.key ? { keyFile: config.sip.tls.key } : {}) };
  const limits = transportLimits(config);

  const clock = systemClock;
  const threads = workerCount(config.sip.workers);
  // the routing script: compiled and checked before anything listens (a bad one stops the start)
  const scripts = new ScriptHost({
    ...(config.routing.script === undefined ? {} : { file: config.routing.script }),
    outDir: join(config.dataDir, 'routing'),
    watch: config.routing.watch,
    log: log.child({ module: 'routing' }),
    onOutcome: (o, trigger) =>
      publish({
        type: 'script.reloaded',
        time: Date.now(),
        version: o.version,
        outcome: o.ok ? (o.changed ? 'reloaded' : 'unchanged') : 'refused',
        trigger,
        ...(o.ok ? {} : { error: o.error.message }),
      }),
  });
  let initialScript;
  try {
    initialScript = await scripts.start();
  } catch (e) {
    db.close();
    throw e;
  }
  let pool: SipWorkerPool | undefined;
  // each worker reads and writes its own UDP sockets (SO_REUSEPORT), this thread only the streams
  const ownUdp = threads > 0 && config.sip.workerUdp && reusePortAvailable();
  // HEP copies of what this thread's SIP sockets read and write (app/hep); none without collectors
  const hep = startHepCapture(config.hep, log.child({ module: 'hep' }));
  const transports = new TransportLayer({
    listeners: listenerOptions,
    tls,
    dataDir: config.dataDir,
    limits,
    // a source that authenticated keeps its place in the connection reserve as long as a
    // registration it made can last
    authenticatedSourceTtlMs: config.registrar.maxExpires * 1000,
    serverName: config.sip.serverName,
    log,
    udpReusePort: ownUdp,
    // with worker threads this thread keeps the sockets and hands every message to a worker
    ...(threads > 0 ? { receiver: { onBytes: (b, f, d) => pool?.onBytes(b, f, d), onFramingError: (e, f) => pool?.onFramingError(e, f) } } : {}),
  });
  // without worker threads, the SIP core runs here
  const location = threads > 0 ? undefined : new LocationService({ clock, store: new SqliteBindingStore(db), log: log.child({ module: 'location' }), onEvent: publish });
  let restoredBindings = (await location?.start()) ?? 0;
  const { timers } = config.sip;
  const sip = threads > 0 ? undefined : new SipServer({ path: transports.path, timers: { T1: timers.t1, T2: timers.t2, T4: timers.t4 }, serverName: config.sip.serverName, log });
  let listeners: readonly ListenerInfo[];
  let web: WebServer | undefined;
  let media: MediaThread | undefined;
  let domain = '';
  // the REST secrets the TURN thread checks and the web server signs with (turnRestSecrets)
  let turnConfig: ParleyConfig;
  try {
    turnConfig = withTurnRestSecrets(config, log);
  } catch (e) {
    scripts.close();
    await location?.stop();
    db.close();
    throw new StartError(locate(['turn', 'restSecrets']), (e as Error).message, { cause: e });
  }
  // what the web server's TURN credentials route needs, once the TURN thread runs
  let turnSource: TurnCredentialSource | undefined;
  // the limiter SIP counts in, for the web server's logins (API tokens, the dashboard's, the phone's
  // TURN credentials): with workers, a block decided here reaches every worker; each failure is an event
  const authLimiter =
    limiter === undefined
      ? undefined
      : {
          isBlocked: (a: string) => limiter.isBlocked(a),
          recordFailure: (a: string) => {
            publish({ type: 'auth.failed', time: Date.now(), source: a, method: 'HTTP' });
            return pool ? pool.recordFailure(a) : limiter.recordFailure(a);
          },
        };
  // the token check of the event stream's WebSocket upgrade (outside fastify, so outside the API plugin's hook)
  const eventSocket = eventStreamUpgrade({ ops, authorize: tokenAuthorizer(new SqliteTokenStore(db), authLimiter) });
  const webPlugins = [
    // the REST API (src/api): tokens are read from the store at each request
    ...(config.api.enabled
      ? [
          apiPlugin({
            ops,
            tokens: new SqliteTokenStore(db),
            limiter: authLimiter,
            settings: { bodyLimit: config.api.bodyLimit, importBodyLimit: config.api.importBodyLimit, allowPlainHttp: config.api.allowPlainHttp, corsOrigins: config.api.cors.origins },
            log,
            version: PARLEY_VERSION,
            metricsAllowLoopback: config.metrics.allowLoopback,
          }),
        ]
      : []),
    phonePagePlugin({ domain: () => domain, iceServers: config.phone.iceServers }),
    icePagePlugin(),
    // the operator's dashboard: a static page over the REST API (/api/v1)
    dashboardPagePlugin(),
    turnCredentialsPlugin({
      subscribers,
      domain: () => domain,
      turn: () => turnSource,
      // the limiter SIP counts in; with workers, a block decided here reaches every worker
      ...(authLimiter === undefined ? {} : { limiter: authLimiter }),
    }),
  ];
  try {
    // SIP listeners first, then the web server's (SIP over WebSocket) as `wss`/`ws`, with the
    // browser phone at /phone (its domain is known once every listener is bound, below)
    listeners = await transports.start().catch((e: unknown) => Promise.reject(locateStartError(e, 'sip', locate)));
    web = await startWebServer(config, transports, log, webPlugins).catch((e: unknown) =>
      Promise.reject(locateStartError(e, 'http', locate)),
    );
    listeners = [...listeners, ...(web?.listeners ?? [])];
    if (config.api.enabled) web?.http.addUpgradeRoute(EVENTS_PATH, eventSocket);
    // the media plane, on a thread of its own (media never waits behind signaling), before the
    // SIP cores: each gets a channel to it
    media = await startMediaThread({ config, entry: siblingModule(import.meta.url, 'media-worker'), sipAddresses: listeners.map((l) => l.address), locate, log });
    if (threads > 0) {
      pool = new SipWorkerPool({
        count: threads,
        entry: siblingModule(import.meta.url, 'sip-worker'),
        ownUdp,
        workerData: (index, writer, udp): SipWorkerData => ({
          index,
          count: threads,
          // a worker (re)started after a configuration reload gets the values in force
          config: effective,
          listeners,
          nonceSecret: typeof nonceSecret === 'string' ? new TextEncoder().encode(nonceSecret) : nonceSecret,
          flowTokenSecret,
          routeSecret,
          trustedPorts: web?.trustedPorts ?? [],
          streamFailureWindowMs: limits.connectTimeoutMs + limits.handshakeTimeoutMs + 1000,
          limits: { maxMessageSize: limits.maxMessageSize, maxHeaders: limits.maxHeaders },
          // a worker started (or restarted) now runs the version every other core runs
          script: scripts.active,
          ...(writer === undefined ? {} : { writer }),
          ...(udp === undefined ? {} : { udp }),
          ...(media === undefined ? {} : { media: media.channel(), mediaPlane: media.plane }),
        }),
        transfer: (data) => ((data as SipWorkerData).media === undefined ? [] : [(data as SipWorkerData).media!]),
        ...(config.sip.workerYoungGeneration > 0 ? { resourceLimits: { maxYoungGenerationSizeMb: config.sip.workerYoungGeneration } } : {}),
        writer: {
          entry: siblingModule(import.meta.url, 'binding-writer'),
          workerData: { dataDir: config.dataDir, logLevel: config.log.level, logFormat: config.log.format, synchronous: config.registrar.synchronous } satisfies BindingWriterData,
        },
        ...(limiter ? { limiter } : {}),
        onEvents: (e: readonly ParleyEvent[]) => {
          for (const x of e) publish(x);
        },
        queue: config.sip.workerQueue,
        watchdogMs: config.sip.workerWatchdog * 1000,
        log: log.child({ module: 'workers' }),
      });
      // every worker loads the same bindings from the store
      restoredBindings = (await pool.start(transports))[0]?.restoredBindings ?? 0;
      // the workers' sockets take every datagram from now on (a socket of this thread left in the
      // group would get its share from the kernel)
      if (ownUdp) await transports.releaseUdp();
    }
  } catch (e) {
    scripts.close();
    await web?.stop();
    await pool?.stop();
    await media?.stop();
    await sip?.stop();
    await transports.stop();
    await location?.stop();
    db.close();
    throw e;
  }

  let stats: () => Record<string, unknown>;
  let askCores: ServerParts['askCores'];
  let identity: LocalIdentity;
  let subscriberChanged: (username?: string, domain?: string) => void;
  if (sip !== undefined && location !== undefined) {
    const core = buildSipCore({
      script: initialScript,
      core: 0,
      config,
      sip,
      listeners,
      subscribers,
      location,
      clock,
      log,
      nonceSecret,
      flowTokenSecret,
      routeSecret,
      trustedPorts: web?.trustedPorts ?? [],
      connectionFlow: (id) => transports.connections.get(id)?.flow(),
      ...(limiter ? { limiter } : {}),
      onAuthenticated: (address) => transports.connections.authenticatedSources.mark(address),
      events: publish,
      ...(media === undefined ? {} : { media: media.client(), mediaAnchor: config.media.anchor }),
    });
    identity = core.identity;
    subscriberChanged = core.subscriberChanged;
    askCores = async (q) => {
      try {
        return [{ core: 0, answer: await core.query(q) }];
      } catch (e) {
        return [{ core: 0, error: e instanceof Error ? e : new Error(String(e)) } satisfies CoreAnswer];
      }
    };
    const { routing } = core;
    // a new script version: loaded, then switched to (script-host.ts)
    scripts.attach({
      prepare: async (_v, loaded) => routing.prepare(loaded),
      commit: async (version) => {
        routing.commit(version);
      },
      abort: (version) => routing.abort(version),
    });
    // a binding made over a connection goes with it (RFC 5626 flows)
    transports.connections.on('close', (connection: { id: number }) => {
      void location.removeConnection(connection.id);
    });
    stats = () => ({
      transactions: sip.transactions.size,
      proxyContexts: core.proxy.size,
      bindings: location.bindingCount,
      bindingCommits: location.commits,
      connections: transports.connections.size,
      requests: sip.stats.requests,
      responses: sip.stats.responses,
      parseErrors: sip.stats.parseErrors,
      lateParseErrors: sip.stats.lateParseErrors,
      stunAnswered: transports.stun.answered,
      stunDropped: transports.stun.dropped,
      script: routing.script.version,
      handledByScript: Object.fromEntries(routing.handled),
    });
  } else {
    // every worker loads a new version, then all switch to it (script-host.ts, sip-worker-pool.ts)
    const workerPool = pool!;
    scripts.attach({
      prepare: (v) => workerPool.prepareScript(v),
      commit: (version) => workerPool.commitScript(version),
      abort: (version) => workerPool.abortScript(version),
    });
    identity = new LocalIdentity(listeners, {
      ...(config.sip.domains.length > 0 ? { domains: config.sip.domains } : {}),
      ...(config.sip.advertise ? { advertise: config.sip.advertise } : {}),
    });
    subscriberChanged = (username, domain) => pool?.subscriberChanged(username, domain);
    askCores = (q, timeoutMs) => workerPool.ask(q, timeoutMs);
    // the SIP counters are in each worker's own stats line
    stats = () => ({ workers: threads, connections: transports.connections.size, script: scripts.active.version, ...pool?.queueStats() });
  }
  const control = await ControlSocket.open(
    config.dataDir,
    async (request) => {
      switch (request.cmd) {
        case 'reload': {
          // the configuration first: a new routing.script is the file the script reload compiles
          const configOutcome = await reloadConfig('command');
          return { ...(await scripts.reload('command')), config: configOutcome };
        }
        case 'subscriber-changed':
          subscriberChanged(request.username, request.domain);
          turn?.subscriberChanged(request.username, request.domain);
          return { ok: true };
        case 'status':
          return { ok: true, pid: process.pid, workers: threads, script: scripts.active.version, source: scripts.active.source };
        case 'op':
          // `parley status|calls|…`: the operations, through the allowlist (503 until they exist)
          return { ...(await runOp(ops, request)) };
      }
    },
    log,
  );
  const pidFile = join(config.dataDir, 'parley.pid');
  writeFileSync(pidFile, `${process.pid}\n`);
  domain = config.sip.domains[0]?.toLowerCase() ?? defaultDomain(identity, listeners);
  let turn: TurnThread | undefined;
  const stopCore = async (): Promise<void> => {
    eventSocket.close();
    await turn?.stop();
    scripts.close();
    await control?.close();
    rmSync(pidFile, { force: true });
    await web?.stop();
    await transports.stop();
    stopHepCapture(hep);
    await pool?.stop();
    await sip?.stop();
    await media?.stop();
    await location?.stop();
  };

  // the STUN/TURN server, on a thread of its own (its relayed packets never wait behind SIP)
  try {
    turn = await startTurnThread({
      config: turnConfig,
      entry: siblingModule(import.meta.url, 'turn-worker'),
      sipAddresses: listeners.map((l) => l.address),
      domain,
      nonceSecret: randomBytes(32),
      locate,
      log,
      // a TURN failure counts as a SIP one (with workers, a block it decides reaches every worker)
      ...(limiter === undefined
        ? {}
        : {
            onAuthFailure: (a: string) => {
              publish({ type: 'auth.failed', time: Date.now(), source: a, method: 'TURN' });
              return pool ? pool.recordFailure(a) : limiter.recordFailure(a);
            },
            blocked: () => limiter.blockedSources(),
          }),
      onEvents: (e) => {
        for (const x of e) publish(x);
      },
    });
    const running = turn;
    if (running !== undefined && limiter !== undefined) {
      blockOnTurn = (a, ms) => running.block(a, ms);
      // blocks decided while the TURN thread started
      for (const b of limiter.blockedSources()) running.block(b.source, b.remainingMs);
    }
  } catch (e) {
    await stopCore();
    db.close();
    throw e;
  }
  if (turn !== undefined) {
    const secrets = new RestSecrets(turnConfig.turn.restSecrets);
    const running = turn;
    turnSource = {
      make: (user) => secrets.make(user, config.turn.restTtl, Date.now() / 1000),
      uris: (host) => (config.turn.urls.length > 0 ? config.turn.urls : turnUris(running.listeners, host)),
    };
  }

  // one configuration reload at a time
  let configQueue: Promise<unknown> = Promise.resolve();
  const reloadConfigNow = async (trigger: 'command' | 'signal' | 'api'): Promise<ConfigReloadOutcome> => {
    if (options.reread === undefined) {
      log.info({ trigger }, 'configuration: the server was started without a configuration file: nothing to read again');
      return { ok: true, file: undefined, applied: [], restart: [] };
    }
    let read: { config: ParleyConfig; locate: ConfigLocator; file: string };
    try {
      read = options.reread();
    } catch (e) {
      const outcome = refusedOutcome(e, '(configuration file)');
      if (!outcome.ok) log.error({ trigger, file: outcome.file, line: outcome.line, key: outcome.key, err: outcome.error }, 'configuration refused; the running configuration stays');
      return outcome;
    }
    const next = read.config;
    const changed = changedKeys(effective, next);
    const applied: string[] = [];
    const restart: string[] = [];
    // what every SIP core (in this thread, or each worker's) is told, in one question
    let reconfigure: Extract<CoreQuery, { q: 'reconfigure' }> = { q: 'reconfigure' };
    for (const key of changed) {
      if (!LIVE_KEYS.includes(key)) {
        restart.push(key);
        continue;
      }
      if (key === 'log.level') {
        const level = next.log.level;
        setLogLevel(log, level);
        turn?.setLogLevel(level);
        media?.setLogLevel(level);
        reconfigure = { ...reconfigure, logLevel: level };
        applied.push(key);
      } else if (key.startsWith('registrar.') && key.endsWith('Expires')) {
        const { minExpires, maxExpires, defaultExpires } = next.registrar;
        reconfigure = { ...reconfigure, expiry: { minExpires, maxExpires, defaultExpires } };
        applied.push(key);
      } else if (key === 'proxy.outbound') {
        reconfigure = { ...reconfigure, outbound: next.proxy.outbound };
        applied.push(key);
      } else if (key.startsWith('auth.failureLimit.')) {
        // without a limiter (auth.failureLimit.enabled false at start) there is nothing to change: its values wait for a restart with it on
        if (limiter === undefined) restart.push(key);
        else {
          limiter.setLimits({ maxFailures: next.auth.failureLimit.maxFailures, window: next.auth.failureLimit.window, blockTime: next.auth.failureLimit.blockTime });
          applied.push(key);
        }
      } else if (key === 'routing.script') {
        if (next.routing.script !== undefined && scripts.useFile(next.routing.script)) applied.push(key);
        else restart.push(key);
      }
    }
    if (Object.keys(reconfigure).length > 1) {
      const answers = await askCores(reconfigure, 5000);
      for (const a of answers) if ('error' in a) log.error({ core: a.core, err: a.error.message }, 'a SIP core did not take the reloaded configuration (a worker started later gets it)');
    }
    effective = withKeys(effective, next, applied);
    log.info({ trigger, file: read.file, applied, restart }, changed.length === 0 ? 'configuration unchanged' : applied.length > 0 ? 'configuration reloaded' : 'configuration reloaded: nothing applies before a restart');
    for (const key of restart) log.warn({ key, where: read.locate(keyPath(key)), file: read.file }, `configuration: ${key} changed: restart to apply (the running value stays)`);
    return { ok: true, file: read.file, applied, restart };
  };
  const reloadConfig = (trigger: 'command' | 'signal' | 'api' = 'command'): Promise<ConfigReloadOutcome> => {
    const run = configQueue.then(() => reloadConfigNow(trigger));
    configQueue = run.catch(() => undefined);
    return run;
  };

  // the HEP collector (`hep.listen`): what capture agents send, stored by Call-ID for the dashboard
  let hepCollector: RunningHepCollector | undefined;
  try {
    hepCollector = await startHepCollector(config, locate, log);
  } catch (e) {
    await stopCore();
    db.close();
    throw e;
  }

  // what the operations hold that must end with the server (timers)
  const onStop: Array<() => void> = [];
  const mainMetrics = mainRegistry({
    connectionsByTransport: () => {
      const by: Record<string, number> = {};
      for (const c of transports.connections.values()) by[c.transport] = (by[c.transport] ?? 0) + 1;
      return by;
    },
    ...(limiter === undefined ? {} : { blockedSources: () => limiter.blockedSources().length }),
    ...(pool === undefined ? {} : { workerQueue: () => pool!.queueStats() }),
  });
  operations = createOperations({
    // the configuration in force (a configuration reload changes it: ServerOps.config shows that)
    get config() {
      return effective;
    },
    log,
    db,
    subscribers,
    startedAt,
    workers: threads,
    listeners,
    transports,
    scripts,
    web,
    media,
    turn: () => turn,
    events,
    askCores,
    subscriberChanged: (username, domain) => {
      subscriberChanged(username, domain);
      turn?.subscriberChanged(username, domain);
    },
    mainMetrics,
    turnRestSecrets: turn === undefined ? [] : turnConfig.turn.restSecrets,
    onStop: (fn) => onStop.push(fn),
    reloadConfig,
    ...(hepCollector === undefined ? {} : { captures: hepCollector.source }),
  });

  // a line of counters now and then: what an operator looks at first when something grows
  // (with worker threads, each writes its own line with its transactions and bindings)
  const statsTimer = setInterval(() => {
    const m = process.memoryUsage();
    log.info({ ...stats(), rssMB: Math.round(m.rss / 1048576), heapUsedMB: Math.round(m.heapUsed / 1048576) }, 'stats');
  }, config.log.statsInterval * 1000);
  statsTimer.unref();

  if (options.beforeReady !== undefined) {
    try {
      await options.beforeReady({ subscribers, domain });
    } catch (e) {
      clearInterval(statsTimer);
      await hepCollector?.stop();
      await stopCore();
      db.close();
      throw e;
    }
  }
  // everything once: what listens, where, with what (the threads' own start lines are at debug)
  log.info(
    {
      dataDir: config.dataDir,
      listeners: listeners.map((l) => `${l.transport}:${l.address}:${l.port}`),
      realms: identity.servedDomains,
      restoredBindings,
      subscribers: await subscribers.count(),
      workers: threads,
      turn: turn?.listeners.map((l) => `${l.transport}:${l.address}:${l.port}`) ?? [],
      ...(turn === undefined ? {} : { turnRealm: turn.realm }),
      media: media === undefined ? 'off' : `${media.address} ${config.media.ports.min}-${config.media.ports.max} (anchor ${config.media.anchor})`,
      script: scripts.active.version,
      scriptSource: scripts.active.source,
      ...(config.routing.traceCallIdPrefix === undefined ? {} : { traceCallIdPrefix: config.routing.traceCallIdPrefix }),
      ...(hepCollector === undefined ? {} : { hep: hepCollector.listening }),
    },
    'Parley is ready',
  );
  return {
    listeners,
    web,
    log,
    subscribers,
    workers: threads,
    turn,
    media,
    get script() {
      return scripts.active;
    },
    reload: (trigger = 'command') => scripts.reload(trigger),
    reloadConfig,
    get config() {
      return effective;
    },
    ops: operations,
    domain,
    stop: async () => {
      clearInterval(statsTimer);
      for (const fn of onStop) fn();
      await hepCollector?.stop();
      await stopCore();
      db.close();
      log.info('Parley stopped');
    },
  };
}

function transportLimits(config: ParleyConfig): Partial<TransportLimits> & Pick<TransportLimits, 'maxMessageSize' | 'maxHeaders' | 'connectTimeoutMs' | 'handshakeTimeoutMs'> {
  const { limits } = config.sip;
  return {
    maxMessageSize: limits.maxMessageSize,
    maxHeaders: limits.maxHeaders,
    maxConnections: limits.maxConnections,
    maxConnectionsPerAddress: limits.maxConnectionsPerSource,
    authenticatedReserve: limits.authenticatedReserve / 100,
    inboundIdleTimeoutMs: limits.idleTimeout * 1000,
    connectTimeoutMs: DEFAULT_TRANSPORT_LIMITS.connectTimeoutMs,
    handshakeTimeoutMs: DEFAULT_TRANSPORT_LIMITS.handshakeTimeoutMs,
  };
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
