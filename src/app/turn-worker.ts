/**
 * The entry of the TURN thread (src/turn): it binds the TURN listeners and serves STUN and TURN
 * on them, with relay sockets of its own, so that relayed packets never wait behind SIP work (and
 * SIP never behind them). Credentials: Parley's subscribers, read from the SQLite store like the
 * SIP workers do (the stored MD5 HA1 is the long-term key when realm = the SIP domain), and REST
 * credentials when `turn.restSecrets` has secrets.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { systemClock } from '../lib/clock.js';
import { FailureLimiter } from '../sip-server/index.js';
import { CachedSubscriberStore } from '../store/cached-subscriber-store.js';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteSubscriberStore } from '../store/sqlite/sqlite-subscriber-store.js';
import { NonceIssuer } from '../turn/nonce.js';
import { PeerPolicy } from '../turn/peer-policy.js';
import { RelayPorts } from '../turn/relay-ports.js';
import { RestSecrets } from '../turn/rest-credentials.js';
import type { TurnCredentials, TurnKeys } from '../turn/turn-credentials.js';
import { TurnServer, type TurnListener } from '../turn/turn-server.js';
import type { ParleyConfig, TurnListenConfig } from './config.js';
import { stdoutLogger } from './logger.js';

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
  | { readonly k: 'allocations'; readonly id: number; readonly allocations: unknown[] };

/** Main thread → TURN thread. */
export type ToTurnWorker = { readonly k: 'stop' } | { readonly k: 'subscriber'; readonly u?: string; readonly d?: string } | { readonly k: 'allocations'; readonly id: number };

/** Subscribers' long-term keys (their MD5 HA1) and REST credentials, as TurnCredentials. */
export function turnCredentials(subscribers: Pick<SqliteSubscriberStore, 'get'>, rest: RestSecrets | undefined, nowS: () => number = () => Date.now() / 1000): TurnCredentials {
  return {
    async keys(username: string, realm: string): Promise<TurnKeys | undefined> {
      // a SIP username has no ':' (RFC 3261 user), a REST username always has one
      if (rest !== undefined && username.includes(':')) {
        const r = rest.keys(username, realm, nowS());
        return r.ok ? { keys: r.value.keys, user: r.value.user } : undefined;
      }
      const s = await subscribers.get(username, realm);
      return s === undefined ? undefined : { keys: [Buffer.from(s.ha1Md5, 'hex')], user: username };
    },
  };
}

function bindListener(l: TurnListenConfig): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(l.address.includes(':') ? { type: 'udp6', ipv6Only: l.address !== '::' ? true : false } : { type: 'udp4' });
    socket.once('error', reject);
    socket.bind({ port: l.port, address: l.address, exclusive: true }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

async function main(port: MessagePort, data: TurnWorkerData): Promise<void> {
  const { config } = data;
  const turn = config.turn;
  const log = stdoutLogger(config.log.level).child({ module: 'turn' });
  const sockets: Socket[] = [];
  const listeners: TurnListener[] = [];
  for (let i = 0; i < data.listeners.length; i++) {
    const l = data.listeners[i]!;
    if (l.transport !== 'udp') {
      port.postMessage({ k: 'listen-failed', index: i, message: `TURN over ${l.transport} is not supported yet (udp only)` } satisfies FromTurnWorker);
      for (const s of sockets) s.close();
      return;
    }
    let socket: Socket;
    try {
      socket = await bindListener(l);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      for (const s of sockets) s.close();
      port.postMessage({ k: 'listen-failed', index: i, ...(err.code === undefined ? {} : { code: err.code }), message: err.message } satisfies FromTurnWorker);
      return;
    }
    sockets.push(socket);
    const bound = socket.address();
    listeners.push({
      id: i,
      transport: 'udp',
      address: bound.address,
      port: bound.port,
      send: (bytes, p, a) => socket.send(bytes as Uint8Array, p, a),
    });
  }

  const db = SqliteDatabase.open(config.dataDir, { synchronous: config.registrar.synchronous });
  const subscribers = new CachedSubscriberStore(new SqliteSubscriberStore(db), { ttlMs: config.auth.subscriberCache * 1000 });
  const rest = turn.restSecrets.length > 0 ? new RestSecrets(turn.restSecrets) : undefined;
  const fl = config.auth.failureLimit;
  const limiter = fl.enabled ? new FailureLimiter({ maxFailures: fl.maxFailures, window: fl.window, blockTime: fl.blockTime, clock: systemClock, logger: log }) : undefined;
  const server = new TurnServer({
    realm: data.realm,
    credentials: turnCredentials(subscribers, rest),
    peers: new PeerPolicy({ allow: turn.peers.allow, deny: turn.peers.deny, ownAddresses: data.ownAddresses }),
    relays: new RelayPorts({ addresses: data.relayAddresses, minPort: turn.minPort, maxPort: turn.maxPort }),
    externalAddresses: data.externalAddresses,
    lifetime: turn.lifetime,
    nonces: new NonceIssuer(data.nonceSecret, turn.nonceLifetime * 1000),
    quotas: turn.quotas,
    bandwidth: turn.bandwidth,
    ...(limiter === undefined ? {} : { limiter }),
    clock: systemClock,
    log,
  });
  sockets.forEach((socket, i) => {
    const listener = listeners[i]!;
    socket.on('message', (msg, rinfo) => server.receive(listener, msg, rinfo.address, rinfo.port));
    // an ICMP error from a client's address must not end the thread
    socket.on('error', (e) => log.debug({ err: e }, 'TURN listener socket error'));
  });
  const tick = setInterval(() => server.tick(), 1000);
  const statsTimer = setInterval(() => {
    let up = 0;
    let down = 0;
    for (const a of server.allocations()) {
      up += a.counters.packetsToPeer;
      down += a.counters.packetsFromPeer;
    }
    log.info({ allocations: server.allocationCount, packetsToPeers: up, packetsFromPeers: down, ...server.stats, heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1048576) }, 'stats');
  }, config.log.statsInterval * 1000);
  statsTimer.unref();

  port.on('message', (m: ToTurnWorker) => {
    if (m.k === 'stop') {
      clearInterval(tick);
      clearInterval(statsTimer);
      server.close();
      for (const s of sockets) s.close();
      db.close();
      port.close();
    } else if (m.k === 'subscriber') {
      subscribers.invalidate(m.u, m.d);
    } else if (m.k === 'allocations') {
      port.postMessage({ k: 'allocations', id: m.id, allocations: server.allocations() } satisfies FromTurnWorker);
    }
  });
  port.postMessage({ k: 'ready', listeners: listeners.map((l) => ({ transport: l.transport, address: l.address, port: l.port })) } satisfies FromTurnWorker);
}

if (parentPort !== null) {
  const port = parentPort;
  main(port, workerData as TurnWorkerData).catch((e: unknown) => {
    port.postMessage({ k: 'failed', error: e instanceof Error ? e.message : String(e) } satisfies FromTurnWorker);
  });
}
