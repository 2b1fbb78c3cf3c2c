/**
 * The main thread's side of the TURN thread (turn-worker.ts): which listeners and relay
 * addresses it gets, starting it, and stopping it.
 *
 * Listeners: `turn.listen` when it names some (required: one that cannot be bound stops the
 * start, naming its key); else UDP and TCP 3478 (and TLS 5349 with `sip.tls.cert`) on each address
 * a SIP listener binds (optional: a port in use, e.g. by a coturn on the host or a second Parley,
 * gives a warning and no TURN).
 */
import type { ParleyEvent } from '../lib/events.js';
import { networkInterfaces } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { Logger as PinoLogger } from 'pino';
import { startWorker } from '../sip-server/workers/start-worker.js';
import { listenError } from '../sip-server/transport/listen-error.js';
import type { ConfigLocator, ParleyConfig, TurnListenConfig } from './config.js';
import { PeerPolicy } from '../turn/peer-policy.js';
import { StartError } from './start-error.js';
import type { FromTurnWorker, ToTurnWorker, TurnWorkerData } from './turn-worker.js';

/** RFC 8656 §3.1: the default port of TURN over UDP and TCP (3478) and over TLS (5349). */
export const TURN_PORT = 3478;
export const TURNS_PORT = 5349;

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** Restarts of a TURN thread that died, within a minute, before TURN stays off. */
const RESTARTS_PER_MINUTE = 5;

/** The running TURN thread. */
export interface TurnThread {
  /** The listeners as bound (port 0 resolved). */
  readonly listeners: readonly TurnListenConfig[];
  readonly realm: string;
  /** The thread now running (for diagnostics and tests). */
  readonly worker: Worker;
  /** Snapshots of the allocations (user, counters, duration), from the TURN thread. */
  allocations(): Promise<unknown[]>;
  /** The TURN thread's Prometheus metrics (getMetricsAsJSON); empty when it is gone. */
  metrics(): Promise<unknown[]>;
  /** A subscriber changed (`parley user`): its cached key is dropped. */
  subscriberChanged(username?: string, domain?: string): void;
  /** The shared failed-auth limiter blocked `address`'s source for `ms`: TURN refuses it too. */
  block(address: string, ms: number): void;
  /** log.level changed (a configuration reload); a restarted thread gets it too. */
  setLogLevel(level: string): void;
  stop(): Promise<void>;
}

/** The listeners: `turn.listen`, or UDP and TCP 3478 (TLS 5349) on each distinct address of the SIP listeners. */
export function turnListeners(config: ParleyConfig, sipAddresses: readonly string[], defaultPort = TURN_PORT): { readonly listeners: readonly TurnListenConfig[]; readonly required: boolean } {
  if (config.turn.listen.length > 0) return { listeners: config.turn.listen, required: true };
  // '::' stands for every address of both families (as SIP's dual-stack sockets take it): TURN's
  // sockets are of one family each, so 0.0.0.0 is bound beside it
  const addresses = [...new Set(sipAddresses.flatMap((a) => (a === '::' ? ['0.0.0.0', '::'] : [a])))];
  // a wildcard covers the specific addresses of its family
  const v4Any = addresses.includes('0.0.0.0');
  const v6Any = addresses.includes('::');
  const kept = addresses.filter((a) => WILDCARDS.has(a) || (a.includes(':') ? !v6Any : !v4Any));
  // TLS only with a certificate of the operator's: a development certificate is no use to a client that checks
  const tls = config.sip.tls.cert !== undefined;
  const listeners = (kept.length > 0 ? kept : ['0.0.0.0']).flatMap((address): TurnListenConfig[] => [
    { transport: 'udp', address, port: defaultPort },
    { transport: 'tcp', address, port: defaultPort },
    ...(tls ? [{ transport: 'tls' as const, address, port: defaultPort === TURN_PORT ? TURNS_PORT : defaultPort + 1 }] : []),
  ]);
  return { listeners, required: false };
}

/**
 * The local relay address of each family: `turn.relayAddresses`, else a listener's own specific
 * address, else the host's first external address of that family (a wildcard listener).
 */
export function relayAddresses(config: ParleyConfig, listeners: readonly TurnListenConfig[], interfaces = networkInterfaces()): { 4?: string; 6?: string } {
  const out: { 4?: string; 6?: string } = {};
  for (const a of config.turn.relayAddresses) {
    const f = a.includes(':') ? 6 : 4;
    out[f] ??= a;
  }
  for (const l of listeners) {
    if (WILDCARDS.has(l.address)) continue;
    const f = l.address.includes(':') ? 6 : 4;
    out[f] ??= l.address;
  }
  const anyV4 = listeners.some((l) => l.address === '0.0.0.0' || l.address === '::');
  const anyV6 = listeners.some((l) => l.address === '::');
  const external = Object.values(interfaces).flatMap((list) => list ?? []).filter((i) => !i.internal);
  if (anyV4 && out[4] === undefined) {
    const v4 = external.find((i) => i.family === 'IPv4');
    if (v4 !== undefined) out[4] = v4.address;
  }
  if (anyV6 && out[6] === undefined) {
    const v6 = external.find((i) => i.family === 'IPv6' && !i.address.toLowerCase().startsWith('fe80'));
    if (v6 !== undefined) out[6] = v6.address;
  }
  return out;
}

/** Parley's own addresses: every listener's, and every address of the host for a wildcard one. */
export function ownAddresses(addresses: readonly string[], interfaces = networkInterfaces()): string[] {
  const own = new Set<string>();
  for (const a of addresses) {
    if (WILDCARDS.has(a)) for (const list of Object.values(interfaces)) for (const i of list ?? []) own.add(i.address);
    else own.add(a);
  }
  return [...own].map((a) => (a.includes(':') ? `${a.split('%')[0]}/128` : `${a}/32`));
}

export interface StartTurnOptions {
  readonly config: ParleyConfig;
  readonly entry: URL;
  /** Addresses the SIP listeners (and the HTTP ones) bound. */
  readonly sipAddresses: readonly string[];
  /** The SIP domain: the default realm. */
  readonly domain: string;
  readonly nonceSecret: Uint8Array;
  readonly locate: ConfigLocator;
  readonly log: Pick<PinoLogger, 'debug' | 'info' | 'warn' | 'error'>;
  /** The port of the default listeners (TURN_PORT; tests take another). */
  readonly defaultPort?: number;
  /** A failed TURN authentication from `address`, for the failed-auth limiter SIP shares. */
  readonly onAuthFailure?: (address: string) => void;
  /** The sources blocked now (the shared limiter's), given to a TURN thread that is restarted. */
  readonly blocked?: () => ReadonlyArray<{ readonly source: string; readonly remainingMs: number }>;
  /** The TURN thread's events (allocations made and ended), for the event hub. */
  readonly onEvents?: (events: readonly ParleyEvent[]) => void;
}

/** Start the TURN thread; undefined when TURN is off, or its default port was taken. */
export async function startTurnThread(o: StartTurnOptions): Promise<TurnThread | undefined> {
  const { config, log } = o;
  if (!config.turn.enabled) return undefined;
  const { listeners, required } = turnListeners(config, o.sipAddresses, o.defaultPort);
  if (config.turn.minPort > config.turn.maxPort) throw new StartError(o.locate(['turn', 'minPort']), `is above turn.maxPort (${config.turn.minPort} > ${config.turn.maxPort})`);
  // what the TURN thread would refuse, named here by its key: each CIDR, each secret
  for (const list of ['allow', 'deny'] as const) {
    config.turn.peers[list].forEach((cidr, i) => {
      try {
        new PeerPolicy({ [list]: [cidr] });
      } catch {
        throw new StartError(o.locate(['turn', 'peers', list, i]), `"${cidr}" is not an IP address or CIDR`);
      }
    });
  }
  config.turn.restSecrets.forEach((secret, i) => {
    if (secret.length === 0) throw new StartError(o.locate(['turn', 'restSecrets', i]), 'is empty');
  });
  const relays = relayAddresses(config, listeners);
  const external: { 4?: string; 6?: string } = {};
  for (const a of config.turn.externalAddresses) external[a.includes(':') ? 6 : 4] ??= a;
  const realm = config.turn.realm ?? o.domain;
  const data: TurnWorkerData = {
    config,
    listeners,
    realm,
    relayAddresses: relays,
    externalAddresses: external,
    ownAddresses: ownAddresses([...o.sipAddresses, ...listeners.map((l) => l.address), ...Object.values(relays), ...config.turn.externalAddresses]),
    nonceSecret: o.nonceSecret,
  };
  const worker: Worker = startWorker(o.entry, { workerData: data });
  const outcome = await new Promise<FromTurnWorker | { k: 'exit'; code: number } | { k: 'error'; error: Error }>((resolve) => {
    worker.once('message', resolve);
    worker.once('error', (error) => resolve({ k: 'error', error }));
    worker.once('exit', (code) => resolve({ k: 'exit', code }));
  });
  if (outcome.k !== 'ready') {
    await worker.terminate();
    if (outcome.k === 'listen-failed') {
      const l = listeners[outcome.index]!;
      const e = listenError(outcome.index, l, Object.assign(new Error(outcome.message), outcome.code === undefined ? {} : { code: outcome.code }));
      if (!required && (outcome.code === 'EADDRINUSE' || outcome.code === 'EACCES' || outcome.code === 'EADDRNOTAVAIL')) {
        log.warn({ module: 'turn', listener: `${l.transport}:${l.address}:${l.port}`, detail: e.detail }, 'TURN is off: its default port cannot be bound (set turn.listen to another port, or turn.enabled: false)');
        return undefined;
      }
      throw new StartError(o.locate(required ? ['turn', 'listen', outcome.index, ...(e.field === undefined ? [] : [e.field])] : ['turn', 'listen']), e.detail, { cause: e });
    }
    const why = outcome.k === 'failed' ? outcome.error : outcome.k === 'error' ? outcome.error.message : outcome.k === 'exit' ? `exited with code ${outcome.code}` : 'it answered out of turn';
    throw new StartError(o.locate(['turn']), `the TURN thread did not start: ${why}`);
  }
  const bound = outcome.listeners;
  // said once, in the ready line (run-server.ts); here at debug
  log.debug({ module: 'turn', listeners: bound.map((l) => `${l.transport}:${l.address}:${l.port}`), realm, relayAddresses: relays }, 'TURN server ready');
  let nextId = 0;
  const waiting = new Map<number, (a: unknown[]) => void>();
  let current = worker;
  let exited: Promise<void> = Promise.resolve();
  let stopping = false;
  /** log.level set by a configuration reload, for a restarted thread. */
  let logLevel: string | undefined;
  /** When the thread was restarted within the last minute (at most RESTARTS_PER_MINUTE). */
  let restarts: number[] = [];
  const attach = (w: Worker): void => {
    current = w;
    w.on('message', (m: FromTurnWorker) => {
      if (m.k === 'allocations' || m.k === 'metrics') {
        waiting.get(m.id)?.(m.k === 'allocations' ? m.allocations : m.metrics);
        waiting.delete(m.id);
      } else if (m.k === 'auth-failure') {
        o.onAuthFailure?.(m.a);
      } else if (m.k === 'events') {
        o.onEvents?.(m.e);
      }
    });
    w.on('error', (e) => log.error({ module: 'turn', err: e }, 'the TURN thread failed'));
    exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    void exited.then(() => {
      // what the dead thread was asked and did not answer
      for (const resolve of waiting.values()) resolve([]);
      waiting.clear();
      if (!stopping) void restart();
    });
  };
  // a TURN thread that dies (it should not: a packet's fault is caught) is started again on the
  // same ports; its allocations are lost, clients allocate again
  const restart = async (): Promise<void> => {
    const now = Date.now();
    restarts = restarts.filter((t) => now - t < 60_000);
    if (restarts.length >= RESTARTS_PER_MINUTE) {
      log.error({ module: 'turn' }, `the TURN thread exited ${RESTARTS_PER_MINUTE + 1} times within a minute: TURN is off until Parley restarts`);
      return;
    }
    restarts.push(now);
    log.error({ module: 'turn' }, 'the TURN thread exited: starting another on the same ports (its allocations are lost)');
    const w = startWorker(o.entry, { workerData: { ...data, listeners: bound } satisfies TurnWorkerData });
    const again = await new Promise<FromTurnWorker | { k: 'exit' }>((resolve) => {
      w.once('message', resolve);
      w.once('exit', () => resolve({ k: 'exit' }));
    });
    if (again.k === 'ready' && !stopping) {
      attach(w);
      // the blocks the dead thread applied (a source key, an IPv4 address or an IPv6 prefix, blocks as itself)
      for (const b of o.blocked?.() ?? []) w.postMessage({ k: 'block', a: b.source, ms: b.remainingMs } satisfies ToTurnWorker);
      if (logLevel !== undefined) w.postMessage({ k: 'log-level', level: logLevel } satisfies ToTurnWorker);
      log.info({ module: 'turn' }, 'TURN thread restarted');
    } else {
      await w.terminate();
      if (!stopping) log.error({ module: 'turn', outcome: again }, 'the TURN thread could not be restarted: TURN is off');
    }
  };
  attach(worker);
  const post = (m: ToTurnWorker): void => current.postMessage(m);
  return {
    listeners: bound,
    realm,
    get worker() {
      return current;
    },
    allocations: () =>
      new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        post({ k: 'allocations', id });
      }),
    metrics: () =>
      new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        post({ k: 'metrics', id });
      }),
    subscriberChanged: (u, d) => post({ k: 'subscriber', ...(u === undefined ? {} : { u }), ...(d === undefined ? {} : { d }) }),
    block: (a, ms) => post({ k: 'block', a, ms }),
    setLogLevel: (level) => {
      logLevel = level;
      post({ k: 'log-level', level });
    },
    stop: async () => {
      stopping = true;
      post({ k: 'stop' });
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 2000)))]);
      clearTimeout(timer);
      if (!inTime) await current.terminate();
    },
  };
}
