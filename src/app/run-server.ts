import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Logger as PinoLogger } from 'pino';
import { systemClock } from '../lib/clock.js';
import { FailureLimiter, SipServer } from '../server/index.js';
import { LocalIdentity } from '../server/core/local-identity.js';
import { LocationService, type BindingDelta } from '../server/registrar/location-service.js';
import { DEFAULT_TRANSPORT_LIMITS, TransportLayer, type ListenerInfo, type ListenerOptions, type TransportLimits } from '../server/transport/index.js';
import { SipWorkerPool } from '../server/workers/sip-worker-pool.js';
import { SqliteBindingStore } from '../store/sqlite/sqlite-binding-store.js';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteSubscriberStore } from '../store/sqlite/sqlite-subscriber-store.js';
import type { ListenConfig, ParleyConfig } from './config.js';
import { stdoutLogger } from './logger.js';
import { buildSipCore } from './sip-core.js';
import type { SipWorkerData } from './sip-worker.js';
import type { SubscriberStore } from '../store/subscriber-store.js';
import { ScriptHost, type ReloadOutcome } from '../routing/script-host.js';
import { ControlSocket } from './control-socket.js';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export { stdoutLogger } from './logger.js';

export interface RunningServer {
  readonly listeners: readonly ListenerInfo[];
  readonly log: PinoLogger;
  readonly subscribers: SubscriberStore;
  /** The domain users are added under by default: the first configured, else this host's address. */
  readonly domain: string;
  /** SIP worker threads (1: the SIP core runs in the main thread). */
  readonly workers: number;
  /** The routing script: its active version, and a reload (as `parley reload` and SIGHUP do). */
  readonly script: { readonly version: number; readonly source: string };
  reload(trigger?: 'command' | 'signal' | 'watch'): Promise<ReloadOutcome>;
  stop(): Promise<void>;
}

/** Worker threads for `sip.workers` (0: one per core, and no threads on a single core). */
export function workerCount(configured: number): number {
  return configured === 0 ? Math.max(1, availableParallelism()) : configured;
}

/**
 * The composition root: build every part from the configuration and start it. Nothing else
 * reads the configuration; the parts get plain options.
 *
 * One core: sockets and SIP core in this thread. N cores: this thread keeps the sockets and
 * connections (TransportLayer with a SipWorkerPool as its receiver) and runs core 0; N-1 worker
 * threads each build a core (src/app/sip-worker.ts) around a replica of the registrations.
 */
export async function runServer(config: ParleyConfig, log: PinoLogger = stdoutLogger(config.log.level)): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true });
  const db = SqliteDatabase.open(config.dataDir);
  const subscribers = new SqliteSubscriberStore(db);
  const workers = workerCount(config.sip.workers);
  // nonces of every worker verify everywhere: one secret for all of them
  const nonceSecret = config.auth.nonceSecret ?? randomBytes(32);
  const limiter = config.auth.failureLimit.enabled
    ? new FailureLimiter({ maxFailures: config.auth.failureLimit.maxFailures, window: config.auth.failureLimit.window, blockTime: config.auth.failureLimit.blockTime, clock: systemClock, logger: log.child({ module: 'auth' }) })
    : undefined;
  const listenerOptions: ListenerOptions[] = config.sip.listen.map(({ transport, address, port }) => ({ transport, address, port }));
  const tls = { ...(config.sip.tls.cert ? { certFile: config.sip.tls.cert } : {}), ...(config.sip.tls.key ? { keyFile: config.sip.tls.key } : {}) };
  const limits = transportLimits(config);

  const clock = systemClock;
  // the routing script: compiled and checked before anything listens (a bad one stops the start)
  const scripts = new ScriptHost({
    ...(config.routing.script === undefined ? {} : { file: config.routing.script }),
    outDir: join(config.dataDir, 'routing'),
    watch: config.routing.watch,
    log: log.child({ module: 'routing' }),
  });
  let initialScript;
  try {
    initialScript = await scripts.start();
  } catch (e) {
    db.close();
    throw e;
  }
  // several cores: this thread runs core 0 beside the sockets, worker threads the others
  let pool: SipWorkerPool | undefined;
  const location = new LocationService({
    clock,
    store: new SqliteBindingStore(db),
    log: log.child({ module: 'location' }),
    ...(workers > 1 ? { onChange: (d: BindingDelta) => pool?.publishBindings(d) } : {}),
  });
  const restoredBindings = await location.start();
  const transports = new TransportLayer({
    listeners: listenerOptions,
    tls,
    dataDir: config.dataDir,
    limits,
    log,
    ...(workers > 1 ? { receiver: { onBytes: (b, f, d) => pool?.onBytes(b, f, d), onFramingError: (e, f) => pool?.onFramingError(e, f) } } : {}),
  });
  const { timers } = config.sip;
  const sip = new SipServer({ path: transports.path, timers: { T1: timers.t1, T2: timers.t2, T4: timers.t4 }, serverName: config.sip.serverName, log });
  let listeners: readonly ListenerInfo[];
  try {
    listeners = await transports.start();
    if (workers > 1) {
      pool = new SipWorkerPool({
        count: workers,
        local: {
          receive: (bytes, flow, datagram) => (datagram ? transports.path.receiveDatagram(bytes, flow) : transports.path.receiveStreamMessage(bytes, flow)),
          applyBindings: (d) => location.applyRemote(d),
        },
        entry: new URL(`./sip-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
        workerData: (index): SipWorkerData => ({
          index,
          count: workers,
          config,
          listeners,
          nonceSecret: typeof nonceSecret === 'string' ? new TextEncoder().encode(nonceSecret) : nonceSecret,
          streamFailureWindowMs: limits.connectTimeoutMs + limits.handshakeTimeoutMs + 1000,
          limits: { maxMessageSize: limits.maxMessageSize, maxHeaders: limits.maxHeaders },
          // a worker started (or restarted) now runs the version every other core runs
          script: scripts.active,
        }),
        ...(limiter ? { limiter } : {}),
        log: log.child({ module: 'workers' }),
      });
      await pool.start(transports);
    }
  } catch (e) {
    scripts.close();
    await sip.stop();
    await transports.stop();
    await location.stop();
    db.close();
    throw e;
  }
  const localPool = pool;
  const { proxy, routing } = buildSipCore({
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
    // with worker threads, failures are counted over every core and blocks reach them all
    ...(limiter ? { limiter: localPool ? { isBlocked: (a: string) => limiter.isBlocked(a), recordFailure: (a: string) => localPool.recordFailure(a) } : limiter } : {}),
    ...(localPool ? { nonceIssuer: 0 } : {}),
  });
  // every core switches script versions together: all load it, then all switch (script-host.ts)
  scripts.attach({
    prepare: async (v, loaded) => {
      routing.prepare(loaded);
      if (localPool) await localPool.prepareScript(v);
    },
    commit: async (version) => {
      const others = localPool?.commitScript(version);
      routing.commit(version);
      await others;
    },
    abort: (version) => {
      routing.abort(version);
      localPool?.abortScript(version);
    },
  });
  const control = await ControlSocket.open(
    config.dataDir,
    async (request) => (request.cmd === 'reload' ? { ...(await scripts.reload('command')) } : { ok: true, pid: process.pid, workers, script: scripts.active.version, source: scripts.active.source }),
    log,
  );
  const pidFile = join(config.dataDir, 'parley.pid');
  writeFileSync(pidFile, `${process.pid}\n`);
  // a binding made over a connection goes with it (RFC 5626 flows); the pool tells the workers
  transports.connections.on('close', (connection: { id: number }) => {
    void location.removeConnection(connection.id);
  });
  const stats = (): Record<string, unknown> => ({
    workers,
    transactions: sip.transactions.size,
    proxyContexts: proxy.size,
    bindings: location.bindingCount,
    connections: transports.connections.size,
    requests: sip.stats.requests,
    responses: sip.stats.responses,
    parseErrors: sip.stats.parseErrors,
    script: routing.script.version,
    handledByScript: Object.fromEntries(routing.handled),
  });
  const stopCore = async (): Promise<void> => {
    scripts.close();
    await control?.close();
    rmSync(pidFile, { force: true });
    await transports.stop();
    await pool?.stop();
    await sip.stop();
    await location.stop();
  };

  // a line of counters now and then: what an operator looks at first when something grows
  // (counters of this thread's core; each worker thread writes its own line)
  const statsTimer = setInterval(() => {
    const m = process.memoryUsage();
    log.info({ ...stats(), rssMB: Math.round(m.rss / 1048576), heapUsedMB: Math.round(m.heapUsed / 1048576) }, 'stats');
  }, config.log.statsInterval * 1000);
  statsTimer.unref();

  const identity = new LocalIdentity(listeners, {
    ...(config.sip.domains.length > 0 ? { domains: config.sip.domains } : {}),
    ...(config.sip.advertise ? { advertise: config.sip.advertise } : {}),
  });
  log.info(
    {
      dataDir: config.dataDir,
      listeners: listeners.map((l) => `${l.transport}:${l.address}:${l.port}`),
      realms: identity.servedDomains,
      restoredBindings,
      subscribers: await subscribers.count(),
      workers,
      script: scripts.active.version,
      scriptSource: scripts.active.source,
      ...(config.routing.traceCallIdPrefix === undefined ? {} : { traceCallIdPrefix: config.routing.traceCallIdPrefix }),
    },
    'Parley is ready',
  );
  return {
    listeners,
    log,
    subscribers,
    workers,
    get script() {
      return scripts.active;
    },
    reload: (trigger = 'command') => scripts.reload(trigger),
    domain: config.sip.domains[0]?.toLowerCase() ?? defaultDomain(identity, listeners),
    stop: async () => {
      clearInterval(statsTimer);
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

/** `udp:127.0.0.1:5060`, `tls:[::1]:5061`, `tcp::5060` (+ `;noauth`) → a listener. */
export function parseListenSpec(spec: string): ListenConfig {
  const m = /^(udp|tcp|tls):(\[[^\]]+\]|[^:]*):(\d+)(;noauth)?$/.exec(spec);
  if (!m) throw new Error(`bad --listen "${spec}": expected transport:address:port[;noauth], e.g. udp:0.0.0.0:5060 or tls:[::]:5061`);
  const address = m[2]!.replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`bad --listen "${spec}": port out of range`);
  return { transport: m[1] as ListenConfig['transport'], address, port, ...(m[4] ? { auth: false } : {}) };
}
