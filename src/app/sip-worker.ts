/**
 * The entry of a SIP worker thread (server/workers): it builds the SIP core from the
 * configuration it is given — transactions, authentication, registrar with a replica of the
 * registrations, proxy — and serves the messages the socket thread hands it.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { systemClock } from '../lib/clock.js';
import { FailureLimiter, SipServer } from '../server/index.js';
import { LocationService } from '../server/registrar/location-service.js';
import { MessagePath, type Flow, type ListenerInfo } from '../server/transport/index.js';
import { Batcher } from '../server/workers/batcher.js';
import { MAX_DATAGRAM_QUEUE_MS, type FromWorker, type ToPeer, type ToWorker } from '../server/workers/worker-messages.js';
import { WorkerWire } from '../server/workers/worker-wire.js';
import { SqliteBindingStore } from '../store/sqlite/sqlite-binding-store.js';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteSubscriberStore } from '../store/sqlite/sqlite-subscriber-store.js';
import type { ParleyConfig } from './config.js';
import { stdoutLogger } from './logger.js';
import { buildSipCore } from './sip-core.js';

/** What the socket thread gives each worker. */
export interface SipWorkerData {
  readonly index: number;
  readonly count: number;
  readonly config: ParleyConfig;
  readonly listeners: readonly ListenerInfo[];
  readonly nonceSecret: Uint8Array;
  readonly flowTokenSecret: Uint8Array;
  /** Ports of the web server's trusted listeners. */
  readonly trustedPorts: readonly number[];
  /** How long a stream send may take to fail, ms. */
  readonly streamFailureWindowMs: number;
  readonly limits: { readonly maxMessageSize: number; readonly maxHeaders: number };
}

type Control = { readonly k: 'peer'; readonly i: number; readonly port: MessagePort } | { readonly k: 'stop' };

async function main(port: MessagePort, data: SipWorkerData): Promise<void> {
  const { config, index } = data;
  const log = stdoutLogger(config.log.level).child({ worker: index });
  const clock = systemClock;
  const db = SqliteDatabase.open(config.dataDir);
  const subscribers = new SqliteSubscriberStore(db);
  const peers = new Map<number, MessagePort>();
  const toPeers = new Batcher<ToPeer>((items) => {
    for (const p of peers.values()) p.postMessage(items);
  });
  const location = new LocationService({
    clock,
    store: new SqliteBindingStore(db),
    log: log.child({ module: 'location' }),
    onChange: (d) => toPeers.push({ k: 'bindings', d }),
  });
  const restoredBindings = await location.start();

  /** The socket thread's open connections, as it announces them. */
  const connections = new Map<number, Flow>();
  const out = new Batcher<FromWorker>((items) => port.postMessage(items));
  const wire = new WorkerWire(out, data.streamFailureWindowMs);
  const path = new MessagePath({ wire, limits: data.limits, log: log.child({ module: 'transport' }) });
  const { timers } = config.sip;
  const sip = new SipServer({ path, timers: { T1: timers.t1, T2: timers.t2, T4: timers.t4 }, serverName: config.sip.serverName, log });

  // blocks are decided by the socket thread's limiter, which sees the failures of every worker
  const blocks = config.auth.failureLimit.enabled ? new FailureLimiter({ clock, maxFailures: 1 }) : undefined;
  const limiter = blocks && {
    isBlocked: (address: string) => blocks.isBlocked(address),
    recordFailure: (address: string) => {
      out.push({ k: 'auth-failure', a: address });
      return false;
    },
  };
  const { proxy } = buildSipCore({
    config,
    sip,
    listeners: data.listeners,
    subscribers,
    location,
    clock,
    log,
    nonceSecret: data.nonceSecret,
    flowTokenSecret: data.flowTokenSecret,
    trustedPorts: data.trustedPorts,
    nonceIssuer: index,
    connectionFlow: (id) => connections.get(id),
    ...(limiter ? { limiter } : {}),
  });

  /** Datagrams dropped because they waited too long for this worker (overload). */
  let shed = 0;
  const onBatch = (items: ToWorker[]): void => {
    for (const m of items) {
      switch (m.k) {
        case 'in':
          if (!m.d) path.receiveStreamMessage(m.b, m.f);
          else if (Date.now() - m.t <= MAX_DATAGRAM_QUEUE_MS) path.receiveDatagram(m.b, m.f);
          else shed++;
          break;
        case 'opened':
          connections.set(m.id, m.f);
          break;
        case 'closed':
          connections.delete(m.id);
          void location.removeConnection(m.id);
          break;
        case 'send-error':
          wire.failed(m.s, m.m);
          break;
        case 'block':
          blocks?.blockFor(m.a, m.ms);
          break;
      }
    }
  };

  const statsTimer = setInterval(() => {
    log.info(
      {
        transactions: sip.transactions.size,
        proxyContexts: proxy.size,
        bindings: location.bindingCount,
        requests: sip.stats.requests,
        responses: sip.stats.responses,
        parseErrors: sip.stats.parseErrors,
        shedDatagrams: shed,
        heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1048576),
      },
      'stats',
    );
  }, config.log.statsInterval * 1000);
  statsTimer.unref();

  const stop = async (): Promise<void> => {
    clearInterval(statsTimer);
    await sip.stop();
    await location.stop();
    wire.close();
    db.close();
    for (const p of peers.values()) p.close();
    port.close();
  };

  port.on('message', (m: ToWorker[] | Control) => {
    if (Array.isArray(m)) {
      onBatch(m);
      return;
    }
    if (m.k === 'peer') {
      peers.get(m.i)?.close();
      peers.set(m.i, m.port);
      m.port.on('message', (items: ToPeer[]) => {
        for (const d of items) location.applyRemote(d.d);
      });
    } else if (m.k === 'stop') {
      stop().catch((e: unknown) => log.error({ err: e }, 'SIP worker did not stop cleanly'));
    }
  });
  port.postMessage({ k: 'ready', restoredBindings });
}

if (parentPort !== null) {
  const port = parentPort;
  main(port, workerData as SipWorkerData).catch((e: unknown) => {
    port.postMessage({ k: 'failed', error: e instanceof Error ? e.message : String(e) });
  });
}
