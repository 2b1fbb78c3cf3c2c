/**
 * The entry of the TURN thread (src/turn): it binds the TURN listeners and serves STUN and TURN
 * on them, with relay sockets of its own, so that relayed packets never wait behind SIP work (and
 * SIP never behind them). Credentials: Parley's subscribers, read from the SQLite store like the
 * SIP workers do (the stored MD5 and SHA-256 HA1s are the long-term keys when realm = the SIP
 * domain; USERHASH finds them through an index made on first use), and REST credentials when
 * `turn.restSecrets` has secrets.
 */
import type { ParleyEvent } from '../lib/events.js';
import { BatchedEventSink } from './event-sink.js';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { systemClock } from '../lib/clock.js';
import { FailureLimiter } from '../sip-server/index.js';
import { TLS_MIN_VERSION, TLS_SERVER_CIPHERS } from '../sip-server/transport/index.js';
import { loadServerCertificate, type TlsCertificate } from '../sip-server/transport/tls-certificate.js';
import { StreamListener } from '../turn/stream-listener.js';
import { CachedSubscriberStore } from '../store/cached-subscriber-store.js';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteSubscriberStore } from '../store/sqlite/sqlite-subscriber-store.js';
import { NonceIssuer } from '../turn/nonce.js';
import { PeerPolicy } from '../turn/peer-policy.js';
import { ipLiteralLookup, RelayPorts } from '../turn/relay-ports.js';
import { RestSecrets } from '../turn/rest-credentials.js';
import type { KeyAlgorithm, TurnCredentials, TurnKeys } from '../turn/turn-credentials.js';
import { UserHashIndex } from '../turn/user-hashes.js';
import { keyFromHa1 } from '../stun/credentials.js';
import { TurnServer, type TurnListener } from '../turn/turn-server.js';
import type { ParleyConfig, TurnListenConfig } from './config.js';
import { setLogLevel, stdoutLogger } from './logger.js';
import { turnRegistry } from './metrics/turn-metrics.js';

/** What the main thread gives the TURN thread. */
export interface TurnWorkerData {
  readonly config: ParleyConfig;
  /** The listeners to bind (turn.listen, or the defaults derived from the SIP listeners). */
  readonly listeners: readonly TurnListenConfig[];
  readonly realm: string;
  /** The local address relayed transport addresses are taken on, per family. */
  readonly relayAddresses: { readonly 4?: string; readonly 6?: string };
  readonly externalAddresses: { readonly 4?: string; readonly 6?: string };
  /** Parley's own addresses: peers there are denied unless allowed. */
  readonly ownAddresses: readonly string[];
  readonly nonceSecret: Uint8Array;
}

/** TURN thread → main thread. */
export type FromTurnWorker =
  | { readonly k: 'ready'; readonly listeners: readonly TurnListenConfig[] }
  | { readonly k: 'listen-failed'; readonly index: number; readonly code?: string; readonly message: string }
  | { readonly k: 'failed'; readonly error: string }
  | { readonly k: 'allocations'; readonly id: number; readonly allocations: unknown[] }
  | { readonly k: 'metrics'; readonly id: number; readonly metrics: unknown[] }
  /** A failed authentication from this address: the main thread's limiter (SIP's) counts it. */
  | { readonly k: 'auth-failure'; readonly a: string }
  /** Allocations made and ended (lib/events.ts), at most one post per 100 ms (event-sink.ts). */
  | { readonly k: 'events'; readonly e: readonly ParleyEvent[] };

/** Main thread → TURN thread. */
export type ToTurnWorker =
  | { readonly k: 'stop' }
  | { readonly k: 'subscriber'; readonly u?: string; readonly d?: string }
  | { readonly k: 'allocations'; readonly id: number }
  /** This thread's Prometheus metrics (registry.getMetricsAsJSON()), answered by `metrics`. */
  | { readonly k: 'metrics'; readonly id: number }
  /** The shared limiter blocked this address's source for `ms` (failures on SIP, HTTP or TURN). */
  | { readonly k: 'block'; readonly a: string; readonly ms: number }
  /** log.level changed (a configuration reload). */
  | { readonly k: 'log-level'; readonly level: string };

/**
 * Subscribers' long-term keys (their stored HA1: MD5 for the MD5 key, SHA-256 for the SHA-256
 * key, RFC 8489 §9.2.2 and RFC 7616 §3.4.2 hash the same `user:realm:password`), REST credentials,
 * and the USERHASH index of the subscribers, as TurnCredentials.
 */
export function turnCredentials(
  subscribers: Pick<SqliteSubscriberStore, 'get'>,
  rest: RestSecrets | undefined,
  nowS: () => number = () => Date.now() / 1000,
  userHashes?: UserHashIndex,
): TurnCredentials {
  return {
    async keys(username: string, realm: string, algorithm: KeyAlgorithm): Promise<TurnKeys | undefined> {
      // a SIP username has no ':' (RFC 3261 user), a REST username always has one
      if (rest !== undefined && username.includes(':')) {
        const r = rest.keys(username, realm, nowS(), algorithm === 'sha256' ? 'SHA-256' : 'MD5');
        return r.ok ? { keys: r.value.keys, user: r.value.user } : undefined;
      }
      const s = await subscribers.get(username, realm);
      // DEVIATION(RFC 8489 §9.2.2): the stored HA1 hashed the password as typed, not its
      // OpaqueString (RFC 8265): the same key but for non-ASCII spaces or non-NFC text
      const key = s === undefined ? undefined : keyFromHa1(algorithm === 'sha256' ? s.ha1Sha256 : s.ha1Md5);
      return key === undefined ? undefined : { keys: [key], user: username };
    },
    ...(userHashes === undefined ? {} : { usernameOfHash: (hash: Uint8Array, realm: string) => userHashes.find(hash, realm) }),
  };
}

function listen(srv: Server, l: TurnListenConfig): Promise<void> {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen({ port: l.port, host: l.address, exclusive: true, ipv6Only: l.address.includes(':') }, () => {
      srv.off('error', reject);
      resolve();
    });
  });
}

function bindListener(l: TurnListenConfig): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // IPv6 only: a dual-stack socket would see IPv4 clients as ::ffff:a.b.c.d (a wildcard listener
    // of each family is bound, turn-thread.ts)
    const socket = createSocket(l.address.includes(':') ? { type: 'udp6', ipv6Only: true, lookup: ipLiteralLookup } : { type: 'udp4', lookup: ipLiteralLookup });
    socket.once('error', reject);
    socket.bind({ port: l.port, address: l.address, exclusive: true }, () => {
      socket.off('error', reject);
      // every client's packets queue on this one socket: the kernel's default buffer (about
      // 200 KB, some 270 relayed packets) overflows in a pause of 30 ms at 10,000 packets/s (a
      // garbage collection); the kernel caps the size at net.core.rmem_max/wmem_max
      try {
        socket.setRecvBufferSize(LISTENER_BUFFER);
        socket.setSendBufferSize(LISTENER_BUFFER);
      } catch {
        // not fatal: the default buffers still work
      }
      resolve(socket);
    });
  });
}

/** Receive and send buffers of a UDP TURN listener, bytes (as the SIP listeners'). */
const LISTENER_BUFFER = 4 * 1024 * 1024;

async function main(port: MessagePort, data: TurnWorkerData): Promise<void> {
  const { config } = data;
  const turn = config.turn;
  const log = stdoutLogger(config.log.level, 1, config.log.format).child({ module: 'turn' });
  const db = SqliteDatabase.open(config.dataDir, { synchronous: config.registrar.synchronous });
  const subscribers = new CachedSubscriberStore(new SqliteSubscriberStore(db), { ttlMs: config.auth.subscriberCache * 1000 });
  const userHashes = new UserHashIndex({
    realm: data.realm,
    list: async (realm) => (await subscribers.list({ domain: realm })).map((x) => x.username),
    // a hash not found remakes the index at most once a minute (or per subscriber-cache period)
    maxAgeMs: Math.max(config.auth.subscriberCache, 60) * 1000,
    now: () => performance.now(),
  });
  const rest = turn.restSecrets.length > 0 ? new RestSecrets(turn.restSecrets) : undefined;
  // one failed-auth limiter for SIP, the TURN credentials route and TURN (issue 16): the main
  // thread's counts every failure, this thread reports its own and applies the blocks it is told of
  // (as a SIP worker does), so that a source blocked for SIP digest failures gets no TURN answer
  // and TURN failures block SIP
  const blocks = config.auth.failureLimit.enabled ? new FailureLimiter({ clock: systemClock, maxFailures: 1 }) : undefined;
  const limiter = blocks && {
    isBlocked: (address: string) => blocks.isBlocked(address),
    recordFailure: (address: string) => port.postMessage({ k: 'auth-failure', a: address } satisfies FromTurnWorker),
  };
  const events = new BatchedEventSink((e) => port.postMessage({ k: 'events', e } satisfies FromTurnWorker));
  const server = new TurnServer({
    realm: data.realm,
    credentials: turnCredentials(subscribers, rest, undefined, userHashes),
    peers: new PeerPolicy({ allow: turn.peers.allow, deny: turn.peers.deny, ownAddresses: data.ownAddresses }),
    relays: new RelayPorts({ addresses: data.relayAddresses, minPort: turn.minPort, maxPort: turn.maxPort }),
    externalAddresses: data.externalAddresses,
    lifetime: turn.lifetime,
    nonces: new NonceIssuer(data.nonceSecret, turn.nonceLifetime * 1000),
    quotas: turn.quotas,
    bandwidth: turn.bandwidth,
    ...(limiter === undefined ? {} : { limiter }),
    onEvent: events.sink,
    clock: systemClock,
    log,
  });

  // the listeners, once the server can answer what they read
  const sockets: Socket[] = [];
  const streams: StreamListener[] = [];
  const bound: TurnListenConfig[] = [];
  const closeAll = (): void => {
    for (const s of sockets) s.close();
    for (const s of streams) s.close();
    server.close();
    db.close();
  };
  let certificate: TlsCertificate | undefined;
  for (let i = 0; i < data.listeners.length; i++) {
    const l = data.listeners[i]!;
    try {
      if (l.transport === 'udp') {
        const socket = await bindListener(l);
        sockets.push(socket);
        const a = socket.address();
        const listener: TurnListener = { id: i, transport: 'udp', address: a.address, port: a.port, send: (bytes, p, addr) => socket.send(bytes as Uint8Array, p, addr) };
        socket.on('message', (msg, rinfo) => server.receive(listener, msg, rinfo.address, rinfo.port));
        // an ICMP error from a client's address must not end the thread
        socket.on('error', (e) => log.debug({ err: e }, 'TURN listener socket error'));
        bound.push({ transport: 'udp', address: a.address, port: a.port });
      } else {
        if (l.transport === 'tls') certificate ??= await loadServerCertificate({ ...(config.sip.tls.cert ? { certFile: config.sip.tls.cert } : {}), ...(config.sip.tls.key ? { keyFile: config.sip.tls.key } : {}) }, config.dataDir, log);
        const srv =
          l.transport === 'tls'
            ? createTlsServer({ cert: certificate!.cert, key: certificate!.key, minVersion: TLS_MIN_VERSION, ciphers: TLS_SERVER_CIPHERS, handshakeTimeout: 10_000 })
            : createServer();
        await listen(srv, l);
        const a = srv.address() as AddressInfo;
        // connection 5-tuples get ids of their own, apart from the listeners' indexes
        streams.push(
          new StreamListener({
            server: srv,
            transport: l.transport,
            turn: server,
            firstId: 1_000_000 * (i + 1),
            maxConnections: turn.connections.max,
            maxConnectionsPerSource: turn.connections.perSource,
            idleTimeoutMs: turn.lifetime.max * 1000,
            messageTimeoutMs: turn.connections.messageTimeout * 1000,
            clock: systemClock,
            log,
          }),
        );
        bound.push({ transport: l.transport, address: a.address, port: a.port });
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      closeAll();
      port.postMessage({ k: 'listen-failed', index: i, ...(err.code === undefined ? {} : { code: err.code }), message: err.message } satisfies FromTurnWorker);
      return;
    }
  }
  const tick = setInterval(() => {
    server.tick();
    for (const s of streams) s.tick();
  }, 1000);
  const metrics = turnRegistry({ allocations: () => server.allocationCount, relayedBytes: () => server.relayedBytes(), stats: server.stats });
  const statsTimer = setInterval(() => {
    let up = 0;
    let down = 0;
    for (const a of server.allocations()) {
      up += a.counters.packetsToPeer;
      down += a.counters.packetsFromPeer;
    }
    // stream connections: open, closed at once (max, perSource), closed late (messageTimeout), unframable
    let streamConnections = 0;
    const streamsRefused = { total: 0, perSource: 0 };
    let streamTimeouts = 0;
    let streamFramingErrors = 0;
    for (const s of streams) {
      streamConnections += s.size;
      streamsRefused.total += s.refused.total;
      streamsRefused.perSource += s.refused.perSource;
      streamTimeouts += s.messageTimeouts;
      streamFramingErrors += s.framingErrors;
    }
    log.info(
      {
        allocations: server.allocationCount,
        packetsToPeers: up,
        packetsFromPeers: down,
        ...server.stats,
        ...(streams.length > 0 ? { streamConnections, streamsRefused, streamTimeouts, streamFramingErrors } : {}),
        heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1048576),
      },
      'stats',
    );
  }, config.log.statsInterval * 1000);
  statsTimer.unref();

  port.on('message', (m: ToTurnWorker) => {
    if (m.k === 'stop') {
      clearInterval(tick);
      clearInterval(statsTimer);
      closeAll();
      events.close();
      port.close();
    } else if (m.k === 'subscriber') {
      subscribers.invalidate(m.u, m.d);
      userHashes.invalidate(m.u, m.d);
    } else if (m.k === 'block') {
      blocks?.blockFor(m.a, m.ms);
    } else if (m.k === 'log-level') {
      setLogLevel(log, m.level);
    } else if (m.k === 'allocations') {
      port.postMessage({ k: 'allocations', id: m.id, allocations: server.allocations() } satisfies FromTurnWorker);
    } else if (m.k === 'metrics') {
      void metrics.getMetricsAsJSON().then((json) => port.postMessage({ k: 'metrics', id: m.id, metrics: json } satisfies FromTurnWorker));
    }
  });
  port.postMessage({ k: 'ready', listeners: bound } satisfies FromTurnWorker);
}

if (parentPort !== null) {
  const port = parentPort;
  main(port, workerData as TurnWorkerData).catch((e: unknown) => {
    port.postMessage({ k: 'failed', error: e instanceof Error ? e.message : String(e) } satisfies FromTurnWorker);
  });
}
