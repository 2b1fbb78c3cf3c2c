/**
 * The entry of a SIP worker thread (sip-server/workers): it builds the SIP core from the
 * configuration it is given — transactions, authentication, registrar with a replica of the
 * registrations, proxy — and serves the messages the socket thread hands it, and, with sockets of
 * its own on the UDP listeners (SO_REUSEPORT, sip-server/workers/worker-udp.ts), the datagrams of its
 * Call-IDs that it or another worker reads.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { systemClock } from '../lib/clock.js';
import { FailureLimiter, SipServer } from '../sip-server/index.js';
import { LocationService } from '../sip-server/registrar/location-service.js';
import { MessagePath, sourcePrefix, type Flow, type ListenerInfo } from '../sip-server/transport/index.js';
import { OncePerWindow } from '../sip-server/workers/once-per-window.js';
import { Batcher } from '../sip-server/workers/batcher.js';
import { MAX_DATAGRAM_QUEUE_MS, type FromWorker, type EventsOut, type QueryAnswer, type QueryAsk, type ScriptAck, type ScriptControl, type ToPeer, type ToWorker } from '../sip-server/workers/worker-messages.js';
import { TookReport } from '../sip-server/workers/took-report.js';
import { beat, type Heartbeat } from '../sip-server/workers/worker-watchdog.js';
import { WorkerWire } from '../sip-server/workers/worker-wire.js';
import { HandOffBound } from '../sip-server/workers/hand-off-bound.js';
import type { QueueLimits } from '../sip-server/workers/in-flight.js';
import { WorkerUdp, type HandedDatagrams } from '../sip-server/workers/worker-udp.js';
import { ForwardingBindingStore } from '../sip-server/workers/forwarding-binding-store.js';
import { SqliteBindingStore } from '../store/sqlite/sqlite-binding-store.js';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteSubscriberStore } from '../store/sqlite/sqlite-subscriber-store.js';
import { LoadedScript } from '../routing/loaded-script.js';
import { builtinDefault, type ScriptVersion } from '../routing/script-host.js';
import type { ParleyConfig } from './config.js';
import { stdoutLogger } from './logger.js';
import { buildSipCore } from './sip-core.js';
import { MediaControlClient } from './media-thread.js';
import type { MediaPlaneInfo } from '../media/first-offer.js';
import { BatchedEventSink } from './event-sink.js';
import { startHepCapture, stopHepCapture } from './hep/hep-capture.js';

/** What the socket thread gives each worker. */
export interface SipWorkerData {
  readonly index: number;
  readonly count: number;
  readonly config: ParleyConfig;
  readonly listeners: readonly ListenerInfo[];
  readonly nonceSecret: Uint8Array;
  readonly flowTokenSecret: Uint8Array;
  /** Key of the Record-Route signatures (the same in every core, kept across restarts). */
  readonly routeSecret: Uint8Array;
  /** Ports of the web server's trusted listeners. */
  readonly trustedPorts: readonly number[];
  /** How long a stream send may take to fail, ms. */
  readonly streamFailureWindowMs: number;
  readonly limits: { readonly maxMessageSize: number; readonly maxHeaders: number };
  /** The routing script version active when the worker starts. */
  readonly script: ScriptVersion;
  /** The channel to the binding writer thread; none: this worker writes its bindings itself. */
  readonly writer?: MessagePort;
  /**
   * The counters of the datagrams the workers hand each other (hand-off-bound.ts), and their
   * bound; present when this worker binds its own UDP sockets (SO_REUSEPORT) to the UDP listeners
   * and receives and sends its datagrams itself. Absent: every datagram comes from, and goes
   * through, the socket thread.
   */
  readonly udp?: { readonly counters: SharedArrayBuffer; readonly queue: QueueLimits };
  /** This worker's channel to the media thread (media-thread.ts); none: media is off. */
  readonly media?: MessagePort;
  /** The media thread's family and profiles (MediaThread.plane), with `media`. */
  readonly mediaPlane?: MediaPlaneInfo;
}

/** A version as this worker loads it: the compiled module the main thread wrote, or the built-in default. */
async function loadVersion(v: { readonly version: number; readonly source: string; readonly url?: string }): Promise<LoadedScript> {
  if (v.url === undefined) return builtinDefault(v.version);
  process.setSourceMapsEnabled(true);
  return LoadedScript.import(v.url, v.version, v.source);
}

/** Items per postMessage to the socket thread (see `out` in main). */
const OUT_BATCH_MAX = 2;

type Control =
  | { readonly k: 'peer'; readonly i: number; readonly port: MessagePort }
  /** A new channel to the binding writer (it was restarted); none: it could not be (writes fail). */
  | { readonly k: 'writer'; readonly port?: MessagePort }
  | Heartbeat
  | QueryAsk
  | { readonly k: 'stop' };

async function main(port: MessagePort, data: SipWorkerData): Promise<void> {
  const { config, index } = data;
  const log = stdoutLogger(config.log.level, 1, config.log.format).child({ worker: index });
  const clock = systemClock;
  const hep = startHepCapture(config.hep, log.child({ module: 'hep' }));
  const db = SqliteDatabase.open(config.dataDir, { synchronous: config.registrar.synchronous });
  const subscribers = new SqliteSubscriberStore(db);
  const peers = new Map<number, MessagePort>();
  /** The socket thread's open connections, as it announces them, and the highest id announced. */
  const connections = new Map<number, Flow>();
  let lastOpened = 0;
  const forwarding = data.writer === undefined ? undefined : new ForwardingBindingStore(new SqliteBindingStore(db), data.writer);
  const bindingStore = forwarding ?? new SqliteBindingStore(db);
  const toPeers = new Batcher<ToPeer>((items) => {
    for (const p of peers.values()) p.postMessage(items);
  });
  // the operator's events (lib/events.ts), to the main thread's hub at most every 100 ms
  const events = new BatchedEventSink((e) => port.postMessage({ k: 'events', e } satisfies EventsOut));
  const location = new LocationService({
    clock,
    store: bindingStore,
    log: log.child({ module: 'location' }),
    onEvent: events.sink,
    // expiry and closed connections happen in every replica: worker 0 tells of them
    reportsSharedChanges: index === 0,
    onChange: (d) => toPeers.push({ k: 'bindings', d }),
    // connection ids only grow: one this worker was told of and is not open any more has closed
    isConnectionOpen: (id) => connections.has(id) || id > lastOpened,
  });
  const restoredBindings = await location.start();

  // Responses and requests go to the socket thread two at a time, as they are made, and leave as
  // they come. Handed over per event-loop turn, they left in bursts (up to 256 datagrams to one
  // peer at 5,000 REGISTER/s): more than a peer's default socket buffer holds (sipp's 128 KiB
  // takes ~100 datagrams), so the peer dropped the end of each burst and retransmitted. One per
  // postMessage smooths as well but costs more (postMessage was 14 % of a worker's time).
  const out = new Batcher<FromWorker>((items) => {
    took.posted();
    port.postMessage(items);
  }, 0, OUT_BATCH_MAX);
  // what this worker has taken of what the socket thread handed it (the bound on its queue),
  // reported with the sends when it can
  const took = new TookReport(out);
  // this worker's own UDP sockets, when it has them: datagrams of its Call-IDs go to `path`,
  // the others to their workers (peers below); what it sends over UDP leaves from them
  const udp =
    data.udp === undefined
      ? undefined
      : new WorkerUdp({
          index,
          count: data.count,
          listeners: data.listeners,
          bound: new HandOffBound(data.udp.counters, data.udp.queue),
          receive: (bytes, flow) => path.receiveDatagram(bytes, flow),
          log: log.child({ module: 'transport' }),
        });
  const wire = new WorkerWire(out, data.streamFailureWindowMs, udp);
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
  // sources that authenticated, for the socket thread's connection reserve: once a minute each
  const successes = new OncePerWindow(60_000, clock);
  const onAuthenticated = (address: string): void => {
    if (successes.first(sourcePrefix(address))) out.push({ k: 'auth-success', a: address });
  };
  const script = await loadVersion(data.script);
  const media = data.media === undefined ? undefined : new MediaControlClient(data.media, data.mediaPlane);
  const { proxy, routing, subscriberChanged, query } = buildSipCore({
    script,
    core: index,
    config,
    sip,
    listeners: data.listeners,
    subscribers,
    location,
    clock,
    log,
    nonceSecret: data.nonceSecret,
    flowTokenSecret: data.flowTokenSecret,
    routeSecret: data.routeSecret,
    trustedPorts: data.trustedPorts,
    nonceIssuer: index,
    thread: `sip-${index}`,
    ...(media === undefined ? {} : { media, mediaAnchor: config.media.anchor }),
    connectionFlow: (id) => connections.get(id),
    ...(limiter ? { limiter } : {}),
    onAuthenticated,
    events: events.sink,
  });

  /** Datagrams dropped because they waited too long for this worker (overload). */
  let shed = 0;
  const onBatch = (items: ToWorker[]): void => {
    for (const m of items) {
      switch (m.k) {
        case 'in':
          took.take(m.b.byteLength);
          if (!m.d) path.receiveStreamMessage(m.b, m.f);
          else if (Date.now() - m.t <= MAX_DATAGRAM_QUEUE_MS) path.receiveDatagram(m.b, m.f);
          else shed++;
          break;
        case 'opened':
          connections.set(m.id, m.f);
          if (m.id > lastOpened) lastOpened = m.id;
          break;
        case 'closed':
          connections.delete(m.id);
          void location.removeConnection(m.id);
          break;
        case 'send-error':
          wire.failed(m.s, m.m);
          break;
        case 'sent':
          wire.handled(m.s);
          break;
        case 'block':
          blocks?.blockFor(m.a, m.ms);
          break;
        case 'subscriber':
          subscriberChanged(m.u, m.d);
          break;
      }
    }
    took.batchDone();
  };

  const statsTimer = setInterval(() => {
    log.info(
      {
        transactions: sip.transactions.size,
        proxyContexts: proxy.size,
        bindings: location.bindingCount,
        bindingCommits: location.commits,
        requests: sip.stats.requests,
        responses: sip.stats.responses,
        parseErrors: sip.stats.parseErrors,
        lateParseErrors: sip.stats.lateParseErrors,
        shedDatagrams: shed + (udp?.stale ?? 0),
        ...(udp === undefined ? {} : { handedOff: udp.handedOff, takenOver: udp.takenOver, stunAnswered: udp.stun.answered, stunDropped: udp.stun.dropped }),
        heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1048576),
        script: routing.script.version,
        handledByScript: Object.fromEntries(routing.handled),
      },
      'stats',
    );
  }, config.log.statsInterval * 1000);
  statsTimer.unref();

  let heartbeat: NodeJS.Timeout | undefined;
  const stop = async (): Promise<void> => {
    clearInterval(statsTimer);
    clearInterval(heartbeat);
    events.close();
    took.close();
    await udp?.close();
    stopHepCapture(hep);
    await sip.stop();
    await location.stop();
    forwarding?.close();
    media?.close();
    wire.close();
    db.close();
    for (const p of peers.values()) p.close();
    port.close();
  };

  const scriptStep = (m: ScriptControl): void => {
    const reply = (ack: ScriptAck): void => port.postMessage(ack);
    if (m.k === 'script-prepare') {
      loadVersion({ version: m.v, source: m.source, ...(m.url === undefined ? {} : { url: m.url }) }).then(
        (loaded) => {
          routing.prepare(loaded);
          reply({ k: 'script-prepared', v: m.v });
        },
        (e: unknown) => reply({ k: 'script-prepared', v: m.v, error: (e as Error).message }),
      );
    } else if (m.k === 'script-commit') {
      const ok = routing.commit(m.v);
      if (ok) log.debug({ script: m.v }, 'routing script version active in this worker');
      reply({ k: 'script-committed', v: m.v, ok });
    } else routing.abort(m.v);
  };

  port.on('message', (m: ToWorker[] | Control | ScriptControl) => {
    if (Array.isArray(m)) {
      onBatch(m);
      return;
    }
    if (m.k === 'script-prepare' || m.k === 'script-commit' || m.k === 'script-abort') {
      scriptStep(m);
      return;
    }
    if (m.k === 'peer') {
      peers.get(m.i)?.close();
      peers.set(m.i, m.port);
      udp?.setPeer(m.i, m.port);
      const peer = m.port;
      peer.on('message', (items: ToPeer[] | HandedDatagrams) => {
        if (Array.isArray(items)) for (const d of items) location.applyRemote(d.d);
        else udp?.takeOver(items);
      });
      // the other worker is gone: nothing more is handed to it until its successor's channel comes
      peer.once('close', () => {
        if (peers.get(m.i) === peer) {
          peers.delete(m.i);
          udp?.dropPeer(m.i);
        }
      });
    } else if (m.k === 'writer') {
      // a new writer: the writes the old one left unanswered go to it
      forwarding?.setWriter(m.port);
    } else if (m.k === 'heartbeat') {
      // the socket thread's watchdog: a timer of this event loop advances a shared counter
      clearInterval(heartbeat);
      heartbeat = beat(m);
    } else if (m.k === 'ask') {
      query(m.q).then(
        (a) => port.postMessage({ k: 'answer', id: m.id, a } satisfies QueryAnswer),
        (e: unknown) => port.postMessage({ k: 'answer', id: m.id, error: e instanceof Error ? e.message : String(e) } satisfies QueryAnswer),
      );
    } else if (m.k === 'stop') {
      stop().catch((e: unknown) => log.error({ err: e }, 'SIP worker did not stop cleanly'));
    }
  });
  // bound last: a datagram is taken from the kernel only once the core can answer it
  await udp?.start();
  port.postMessage({ k: 'ready', restoredBindings, script: script.version });
}

if (parentPort !== null) {
  const port = parentPort;
  main(port, workerData as SipWorkerData).catch((e: unknown) => {
    port.postMessage({ k: 'failed', error: e instanceof Error ? e.message : String(e) });
  });
}
