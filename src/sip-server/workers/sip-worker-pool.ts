import { MessageChannel, type MessagePort, type ResourceLimits, type Worker } from 'node:worker_threads';
import type { SipParseError } from '../../sip/index.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import type { FailureLimiter } from '../auth/failure-limiter.js';
import type { Flow } from '../transport/flow.js';
import { flowLog } from '../transport/message-path.js';
import type { RawReceiver, TransportLayer } from '../transport/transport-layer.js';
import { Batcher } from './batcher.js';
import { workerOf } from './call-id-hash.js';
import { exactBytes } from './exact-bytes.js';
import { DEFAULT_QUEUE_LIMITS, InFlight, type EpisodeEnd, type QueueLimits } from './in-flight.js';
import { startWorker } from './start-worker.js';
import type { CoreQuery, EventsOut, FromWorker, QueryAnswer, QueryAsk, ScriptAck, ScriptControl, SendsHandled, ToWorker, WorkerFailed, WorkerReady, WriterControl } from './worker-messages.js';
import type { ParleyEvent } from '../../lib/events.js';
import { WorkerWatchdog } from './worker-watchdog.js';
import { HandOffBound } from './hand-off-bound.js';

/** How often the socket thread reads the hand-off counters for its episodes (ms). */
const HAND_OFF_CHECK_MS = 250;

export interface SipWorkerPoolOptions {
  /** Worker threads (1 or more), each a SIP core, numbered 0 … count-1. */
  readonly count: number;
  /** The worker's module (an ES module that builds the SIP core from its workerData). */
  readonly entry: URL;
  /**
   * What each worker is given at start (structured-cloneable); `writer`: its channel to the
   * binding writer, when there is one (transferred with the data); `udp`: with `ownUdp`, what the
   * worker needs to bind its own UDP sockets and hand datagrams to the others (SipWorkerData.udp).
   */
  readonly workerData: (index: number, writer: MessagePort | undefined, udp: { readonly counters: SharedArrayBuffer; readonly queue: QueueLimits } | undefined) => unknown;
  /** What of a worker's data is transferred rather than copied besides the writer's channel (a channel to the media thread). */
  readonly transfer?: (workerData: unknown) => readonly MessagePort[];
  /**
   * Each worker binds its own UDP sockets to the UDP listeners (SO_REUSEPORT) and receives and
   * sends its datagrams itself, handing those of other workers' Call-IDs to them directly
   * (worker-udp.ts); this thread then sees only stream messages. Default false.
   */
  readonly ownUdp?: boolean;
  /**
   * The binding writer thread (app/binding-writer.ts): the one thread that writes bindings to
   * the store. Started before the workers, each of which gets a channel to it; stopped after them.
   */
  readonly writer?: { readonly entry: URL; readonly workerData: unknown };
  /** Heap limits of each SIP worker (e.g. its young generation); none: V8's defaults. */
  readonly resourceLimits?: ResourceLimits;
  /** Counts failed authentications reported by every worker; blocks go to all of them. */
  readonly limiter?: FailureLimiter;
  readonly log?: Logger;
  /** Events the workers made (EventsOut), as they come. */
  readonly onEvents?: (events: readonly ParleyEvent[], core: number) => void;
  /** Most restarts of crashed workers in a minute before the pool gives up (and says so). Default 5. */
  readonly maxRestartsPerMinute?: number;
  /** The bound on what is in flight to each worker (in-flight.ts). Default DEFAULT_QUEUE_LIMITS. */
  readonly queue?: QueueLimits;
  /**
   * A worker whose event loop has not turned for this long (ms) is terminated and replaced
   * (worker-watchdog.ts); 0 or absent: no watchdog.
   */
  readonly watchdogMs?: number;
}

/** The socket thread's counters of the worker queues (in the main thread's stats line). */
export interface QueueStats {
  /** Datagrams dropped because their worker's queue was full, since the start. */
  readonly shedDatagrams: number;
  /** Messages that were in flight to a worker that died or was terminated, since the start. */
  readonly lostMessages: number;
  /** Workers terminated by the watchdog, since the start. */
  readonly silentWorkers: number;
  /** Connections paused now because a worker's queue is full. */
  readonly pausedConnections: number;
}

/** A routing script version as the workers load it (a compiled module's URL; none: the built-in default). */
export interface ScriptVersionRef {
  readonly version: number;
  readonly source: string;
  readonly url?: string;
}

interface Slot {
  readonly index: number;
  worker: Worker;
  readonly inbox: Batcher<ToWorker>;
  ready: boolean;
  /** The "sends handled" item in the inbox now, raised while nothing else follows it. */
  handled: SendsHandled | undefined;
  /** Received messages handed to this worker and not yet taken (the bound). */
  readonly inFlight: InFlight;
  /** The worker exited or is being terminated: nothing more goes to it. */
  gone: boolean;
  /** Connections paused for this worker when it went: they read again once its successor is there. */
  pausedWhenGone: readonly number[];
  /** Terminated by the watchdog. */
  silent: boolean;
}

/**
 * The socket thread's side of running the SIP core in worker threads. With `ownUdp` (Linux,
 * SO_REUSEPORT) each worker reads and writes its own UDP sockets and hands datagrams of other
 * workers' Call-IDs to them directly (worker-udp.ts): this thread keeps the stream connections
 * (TCP, TLS, WebSocket) and watches what the workers hand each other (hand-off-bound.ts). Without
 * it, this thread does the socket work of UDP too: receiving and sending cost about as much as all
 * the SIP processing of a message, so it is a full share of the work.
 *
 *   sockets (TransportLayer, receiver = this) ─ Call-ID hash k ─▶ worker k: parse, transactions,
 *   auth, registrar, proxy ─ serialized bytes ─▶ this thread ─▶ sockets
 *
 * Every message of a call and every refresh of a registration carries one Call-ID, so it meets its
 * transactions and proxy context in the same core. Registrations are replicated between
 * cores (each sends its binding changes to the others over a channel of their own), and one
 * binding writer thread (options.writer) writes every core's changes to the store. Stream
 * connections stay here; a closed one is announced to every worker. Failed authentications are counted here, so a source that spreads its guesses
 * over several Call-IDs is still blocked everywhere. Successes are reported here too (once per
 * source and minute by each worker), for the connection table's reserve for authenticated sources.
 */
export class SipWorkerPool implements RawReceiver {
  /** Worker threads by core number. */
  private readonly slots: Slot[] = [];
  private readonly log: Logger;
  private transports: TransportLayer | undefined;
  private stopping = false;
  /** Script steps waiting for a worker's answer, by `step:version:worker`. */
  private readonly scriptWaits = new Map<string, (ack: ScriptAck | Error) => void>();
  /** Queries (ask) waiting for a worker's answer, by id. */
  private readonly queryWaits = new Map<number, (answer: QueryAnswer) => void>();
  private nextQuery = 1;
  /** Versions prepared, and the one every worker was told to switch to (for workers that restart). */
  private readonly preparedScripts = new Map<number, ScriptVersionRef>();
  private activeScript: ScriptVersionRef | undefined;
  private restarts: number[] = [];
  private writer: Worker | undefined;
  private readonly watchdog: WorkerWatchdog | undefined;
  private shedDatagrams = 0;
  private lostMessages = 0;
  private silentWorkers = 0;
  /** The counters of the datagrams the workers hand each other (with `ownUdp`). */
  private readonly handOff: HandOffBound | undefined;
  /** Per worker, the hand-off sheds already taken into its episode. */
  private readonly shedSeen: number[] = [];
  private episodeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SipWorkerPoolOptions) {
    if (options.count < 1) throw new RangeError('SipWorkerPool: at least one worker');
    this.log = options.log ?? silentLogger;
    if (options.ownUdp === true) this.handOff = new HandOffBound(HandOffBound.allocate(options.count), options.queue ?? DEFAULT_QUEUE_LIMITS);
    const silentMs = options.watchdogMs ?? 0;
    this.watchdog = silentMs > 0 ? new WorkerWatchdog(silentMs, (index, ms) => this.onSilent(index, ms)) : undefined;
  }

  /** The counters of the worker queues. */
  queueStats(): QueueStats {
    let paused = 0;
    for (const slot of this.workers()) paused += slot.inFlight.pausedConnections;
    let shed = this.shedDatagrams;
    let lost = this.lostMessages;
    if (this.handOff !== undefined)
      for (let k = 0; k < this.options.count; k++) {
        shed += this.handOff.shed(k);
        lost += this.handOff.lostCount(k);
      }
    return { shedDatagrams: shed, lostMessages: lost, silentWorkers: this.silentWorkers, pausedConnections: paused };
  }

  get size(): number {
    return this.options.count;
  }

  /**
   * Start every worker over these sockets; resolves with what each restored once all are ready,
   * rejects (with every worker stopped) if one fails.
   */
  async start(transports: TransportLayer): Promise<WorkerReady[]> {
    this.transports = transports;
    // every worker keeps a view of the open connections (flow tokens name them, RFC 5626)
    transports.connections.on('open', (connection) => this.broadcast({ k: 'opened', id: connection.id, f: connection.flow() }));
    transports.connections.on('close', (connection) => this.broadcast({ k: 'closed', id: connection.id }));
    let ready: WorkerReady[];
    try {
      if (this.options.writer) await this.spawnWriter(this.options.writer.entry, this.options.writer.workerData);
      const started: Array<Promise<WorkerReady>> = [];
      for (let i = 0; i < this.options.count; i++) started.push(this.spawn(i));
      ready = await Promise.all(started);
    } catch (e) {
      await this.stop();
      throw e;
    }
    for (let i = 0; i < this.options.count; i++) for (let j = i + 1; j < this.options.count; j++) this.connectPeers(i, j);
    if (this.handOff !== undefined) {
      this.episodeTimer = setInterval(() => this.watchHandOffs(), HAND_OFF_CHECK_MS);
      this.episodeTimer.unref();
    }
    return ready;
  }

  /**
   * The workers shed datagrams they would hand to a worker that does not keep up: that is this
   * worker's episode too (one warning when it starts, one line when it ends), read from the
   * shared counters every HAND_OFF_CHECK_MS.
   */
  private watchHandOffs(): void {
    const handOff = this.handOff!;
    for (const slot of this.workers()) {
      if (slot.gone) continue;
      const shed = handOff.shed(slot.index);
      const seen = this.shedSeen[slot.index] ?? 0;
      if (shed !== seen) {
        this.shedSeen[slot.index] = shed;
        slot.inFlight.shedElsewhere((shed - seen) >>> 0);
        if (slot.inFlight.announce()) this.episodeStarts(slot);
      }
      const end = slot.inFlight.check();
      if (end !== undefined) this.episodeEnds(slot, end);
    }
  }

  /** Ask every worker to finish (write pending registrations), then end them. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.watchdog?.close();
    clearInterval(this.episodeTimer);
    await Promise.all(
      this.workers().map(
        (slot) =>
          new Promise<void>((resolve) => {
            const done = (): void => {
              clearTimeout(timer);
              resolve();
            };
            const timer = setTimeout(() => void slot.worker.terminate().then(done, done), 3000);
            slot.worker.once('exit', done);
            slot.worker.postMessage({ k: 'stop' });
          }),
      ),
    );
    // the workers have handed over their last writes: the writer applies them and ends
    const writer = this.writer;
    this.writer = undefined;
    if (writer !== undefined)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => void writer.terminate().then(() => resolve(), () => resolve()), 5000);
        writer.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        writer.postMessage({ k: 'stop' } satisfies WriterControl);
      });
  }

  /** Start the binding writer; resolves once it has opened the store. */
  private spawnWriter(entry: URL, workerData: unknown): Promise<void> {
    const writer = startWorker(entry, { workerData, name: 'binding-writer' });
    this.writer = writer;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      writer.on('message', (m: { k: 'ready' } | WorkerFailed) => {
        if (m.k === 'ready') {
          ready = true;
          resolve();
        } else reject(new Error(`binding writer: ${m.error}`));
      });
      writer.on('error', (e) => {
        this.log.error({ err: e.stack ?? e.message }, 'binding writer failed');
        if (!ready) reject(e);
      });
      writer.on('exit', (code) => {
        if (!ready) reject(new Error(`binding writer exited with ${code} before it was ready`));
        else if (!this.stopping && this.writer === writer) this.restartWriter(entry, workerData, code);
      });
    });
  }

  /**
   * The writer died: start another and give every worker a new channel to it. The workers send
   * the writes the old one left unanswered again (their REGISTERs still wait for the commit).
   * When it cannot be restarted, the workers are told: their waiting and later writes fail, and
   * REGISTERs are answered 500 rather than 200 for bindings that are not stored.
   */
  private restartWriter(entry: URL, workerData: unknown, code: number): void {
    const giveUp = (): void => {
      this.writer = undefined;
      for (const slot of this.workers()) slot.worker.postMessage({ k: 'writer' });
    };
    if (!this.mayRestart()) {
      this.log.error({ code }, 'binding writer keeps failing; registrations are no longer stored (REGISTERs are answered 500)');
      giveUp();
      return;
    }
    this.log.error({ code }, 'binding writer exited; starting a new one');
    this.spawnWriter(entry, workerData).then(
      () => {
        for (const slot of this.workers()) {
          const port = this.writerChannel();
          if (port !== undefined) slot.worker.postMessage({ k: 'writer', port }, [port]);
        }
      },
      (e: unknown) => {
        this.log.error({ err: (e as Error).message }, 'binding writer could not be restarted; registrations are no longer stored (REGISTERs are answered 500)');
        giveUp();
      },
    );
  }

  /** A new channel to the writer: one end given to it, the other returned (for a worker). */
  private writerChannel(): MessagePort | undefined {
    if (this.writer === undefined) return undefined;
    const { port1, port2 } = new MessageChannel();
    this.writer.postMessage({ k: 'port', port: port1 } satisfies WriterControl, [port1]);
    return port2;
  }


  // ---- the routing script ---------------------------------------------------------------------

  /**
   * Have every worker load a script version and keep it aside (the first step of a switch).
   * Rejects with the first worker's error, or when one does not answer within `timeoutMs`.
   */
  async prepareScript(v: ScriptVersionRef, timeoutMs = 15_000): Promise<void> {
    this.preparedScripts.set(v.version, v);
    const acks = await this.toEveryWorker({ k: 'script-prepare', v: v.version, source: v.source, ...(v.url === undefined ? {} : { url: v.url }) }, 'script-prepared', timeoutMs);
    for (const [index, ack] of acks) {
      if (ack instanceof Error) throw new Error(`SIP worker ${index}: ${ack.message}`);
      if (ack.k === 'script-prepared' && ack.error !== undefined) throw new Error(`SIP worker ${index} could not load it: ${ack.error}`);
    }
  }

  /** Have every worker switch to a prepared version; resolves once all have (or `timeoutMs` passed, rejecting). */
  async commitScript(version: number, timeoutMs = 15_000): Promise<void> {
    this.activeScript = this.preparedScripts.get(version) ?? this.activeScript;
    this.preparedScripts.clear();
    const acks = await this.toEveryWorker({ k: 'script-commit', v: version }, 'script-committed', timeoutMs);
    for (const [index, ack] of acks) {
      if (ack instanceof Error) throw new Error(`SIP worker ${index}: ${ack.message}`);
      if (ack.k === 'script-committed' && !ack.ok) throw new Error(`SIP worker ${index} had not prepared version ${version}`);
    }
  }

  /** Tell every worker to forget a prepared version. */
  abortScript(version: number): void {
    this.preparedScripts.delete(version);
    for (const slot of this.workers()) slot.worker.postMessage({ k: 'script-abort', v: version } satisfies ScriptControl);
  }

  /**
   * A control message to every worker, in the same channel as (so, in order with) its SIP
   * batches; each worker's answer, or an Error when it gave none in time.
   */
  private toEveryWorker(m: ScriptControl, answer: ScriptAck['k'], timeoutMs: number): Promise<Map<number, ScriptAck | Error>> {
    const out = new Map<number, ScriptAck | Error>();
    const waits = this.workers().map(
      (slot) =>
        new Promise<void>((resolve) => {
          const key = `${answer}:${m.v}:${slot.index}`;
          const timer = setTimeout(() => {
            this.scriptWaits.delete(key);
            out.set(slot.index, new Error(`no answer to ${m.k} ${m.v} within ${timeoutMs} ms`));
            resolve();
          }, timeoutMs);
          this.scriptWaits.set(key, (ack) => {
            clearTimeout(timer);
            out.set(slot.index, ack);
            resolve();
          });
          // pending SIP messages first: the switch takes effect between two of this worker's batches
          slot.inbox.flush();
          slot.worker.postMessage(m);
        }),
    );
    return Promise.all(waits).then(() => out);
  }

  /**
   * Ask every worker `q` (app/sip-core.ts answers it); each worker's answer in core order, or an
   * Error when it failed there or gave none within `timeoutMs`. Outside the SIP batches: a query
   * does not wait behind the messages queued for a worker.
   */
  async ask(q: CoreQuery, timeoutMs = 5000): Promise<Array<{ readonly core: number; readonly answer: unknown } | { readonly core: number; readonly error: Error }>> {
    const asks = this.workers().map(
      (slot) =>
        new Promise<{ readonly core: number; readonly answer: unknown } | { readonly core: number; readonly error: Error }>((resolve) => {
          const id = this.nextQuery++;
          const timer = setTimeout(() => {
            this.queryWaits.delete(id);
            resolve({ core: slot.index, error: new Error(`SIP worker ${slot.index} gave no answer to ${q.q} within ${timeoutMs} ms`) });
          }, timeoutMs);
          this.queryWaits.set(id, (a) => {
            clearTimeout(timer);
            resolve(a.error === undefined ? { core: slot.index, answer: a.a } : { core: slot.index, error: new Error(`SIP worker ${slot.index}: ${a.error}`) });
          });
          slot.worker.postMessage({ k: 'ask', id, q } satisfies QueryAsk);
        }),
    );
    return Promise.all(asks);
  }

  // ---- RawReceiver: bytes from the sockets ------------------------------------------------

  onBytes(bytes: Uint8Array, flow: Flow, datagram: boolean): void {
    const slot = this.slots[workerOf(bytes, this.options.count)];
    if (slot === undefined) return;
    if (slot.gone) {
      // its worker is being replaced (or could not be): as lost as what was queued for it
      this.lostMessages++;
      return;
    }
    const connectionId = flow.connectionId;
    const admit = slot.inFlight.admit(bytes.byteLength, connectionId);
    if (admit !== 'take') {
      if (slot.inFlight.announce()) this.episodeStarts(slot);
      if (admit === 'shed') {
        this.shedDatagrams++;
        return;
      }
      // a stream's bytes are not dropped: this message goes on, and its connection stops reading
      if (connectionId !== undefined) this.transports?.connections.get(connectionId)?.pauseReading?.();
    }
    slot.inbox.push({ k: 'in', b: exactBytes(bytes), f: flow, d: datagram, t: Date.now() });
  }

  /**
   * Count a failed authentication reported by a worker; when it blocks the source, every worker
   * is told. True when this failure blocks the source.
   */
  recordFailure(address: string): boolean {
    const limiter = this.options.limiter;
    if (limiter === undefined || !limiter.recordFailure(address)) return false;
    this.broadcast({ k: 'block', a: address, ms: limiter.blockDurationMs });
    return true;
  }

  /** A subscriber (or any, without arguments) changed in the store: every worker forgets its cached copy. */
  subscriberChanged(username?: string, domain?: string): void {
    this.broadcast(username === undefined || domain === undefined ? { k: 'subscriber' } : { k: 'subscriber', u: username, d: domain });
  }

  onFramingError(error: SipParseError, flow: Flow): void {
    this.log.debug({ ...flowLog(flow), place: error.place, err: error.detail }, 'stream cannot be framed');
  }

  // ---- workers -----------------------------------------------------------------------------

  private spawn(index: number): Promise<WorkerReady> {
    const writer = this.writerChannel();
    const handOff = this.handOff;
    const workerData = this.options.workerData(index, writer, handOff === undefined ? undefined : { counters: handOff.buffer, queue: this.options.queue ?? DEFAULT_QUEUE_LIMITS });
    const transferList = [...(writer === undefined ? [] : [writer]), ...(this.options.transfer?.(workerData) ?? [])];
    const worker = startWorker(this.options.entry, {
      workerData,
      ...(transferList.length === 0 ? {} : { transferList }),
      ...(this.options.resourceLimits === undefined ? {} : { resourceLimits: this.options.resourceLimits }),
      name: `sip-worker-${index}`,
    });
    const slot: Slot = {
      index,
      worker,
      inbox: new Batcher<ToWorker>((items) => {
        slot.handled = undefined;
        slot.worker.postMessage(items);
      }),
      ready: false,
      handled: undefined,
      inFlight: new InFlight(
        this.options.queue ?? DEFAULT_QUEUE_LIMITS,
        Date.now,
        handOff === undefined ? undefined : { messages: () => handOff.waitingMessages(index), bytes: () => handOff.waitingBytes(index) },
      ),
      gone: false,
      pausedWhenGone: [],
      silent: false,
    };
    this.slots[index] = slot;
    // the worker beats from its event loop once it listens (right before it says it is ready)
    if (this.watchdog !== undefined) worker.postMessage(this.watchdog.heartbeat(index));
    return new Promise<WorkerReady>((resolve, reject) => {
      worker.on('message', (m: FromWorker[] | WorkerReady | WorkerFailed | ScriptAck | QueryAnswer | EventsOut) => {
        if (Array.isArray(m)) {
          this.fromWorker(index, m, slot);
          return;
        }
        if (m.k === 'answer') {
          const wait = this.queryWaits.get(m.id);
          this.queryWaits.delete(m.id);
          wait?.(m);
          return;
        }
        if (m.k === 'events') {
          this.options.onEvents?.(m.e, index);
          return;
        }
        if (m.k === 'script-prepared' || m.k === 'script-committed') {
          const key = `${m.k}:${m.v}:${index}`;
          const wait = this.scriptWaits.get(key);
          this.scriptWaits.delete(key);
          wait?.(m);
          return;
        }
        if (m.k === 'ready') {
          slot.ready = true;
          if (!slot.gone) this.watchdog?.start(index);
          // a worker started late (a restart) learns of the connections open now
          for (const c of this.transports?.connections.values() ?? []) slot.inbox.push({ k: 'opened', id: c.id, f: c.flow() });
          resolve(m);
        } else if (m.k === 'failed') {
          reject(new Error(`SIP worker ${index}: ${m.error}`));
        }
      });
      worker.on('error', (e) => {
        this.log.error({ worker: index, err: e.stack ?? e.message }, 'SIP worker failed');
        if (!slot.ready) reject(e);
      });
      worker.on('exit', (code) => {
        this.retire(slot);
        if (!slot.ready) reject(new Error(`SIP worker ${index} exited with ${code} before it was ready`));
        else if (!this.stopping) this.restart(index, code, slot.silent);
        // after the restart (its successor takes their messages), or without one (they are lost)
        this.resume(slot.pausedWhenGone);
      });
    });
  }

  /**
   * Worker `index` has not turned its event loop for `ms`: it is stuck (an endless loop in a
   * routing script, a regular expression backtracking). Terminate it; its exit starts another
   * in its place, as when a worker crashes. Its transactions are lost; the registrations it held
   * are in the other replicas and in the store, and the new worker loads them as it starts.
   */
  private onSilent(index: number, ms: number): void {
    const slot = this.slots[index];
    if (slot === undefined || slot.gone || this.stopping) return;
    this.silentWorkers++;
    slot.silent = true;
    this.log.error({ worker: index, silentMs: ms, inFlight: slot.inFlight.messages }, `SIP worker ${index} silent for ${(ms / 1000).toFixed(1)} s; terminating it and starting a new one`);
    this.retire(slot);
    void slot.worker.terminate();
  }

  /**
   * A worker exited or is being terminated: nothing more goes to it; what was in flight to it is
   * lost (counted). The connections paused for it stay paused until its successor is started
   * (its exit), so that what they carry is not read in between and lost.
   */
  private retire(slot: Slot): void {
    if (slot.gone) return;
    slot.gone = true;
    this.watchdog?.forget(slot.index);
    // what the other workers handed it first (InFlight counts it as waiting until then)
    const handedLost = this.handOff?.retire(slot.index) ?? 0;
    const retired = slot.inFlight.retire();
    const lost = retired.lost + handedLost;
    const episode = retired.episode;
    this.lostMessages += lost;
    // (on stop, the workers were told to finish: what they had not taken is not news)
    if (lost > 0 && !this.stopping) this.log.warn({ worker: slot.index, lost }, `${lost} messages queued for SIP worker ${slot.index} are lost`);
    if (episode !== undefined) {
      slot.pausedWhenGone = episode.paused;
      this.logEpisodeEnd(slot, episode);
    }
  }

  /** The first message beyond a worker's bound in an episode: one line (not one per message). */
  private episodeStarts(slot: Slot): void {
    const q = this.options.queue ?? DEFAULT_QUEUE_LIMITS;
    this.log.warn(
      { worker: slot.index, inFlight: slot.inFlight.messages, inFlightBytes: slot.inFlight.bytes, maxMessages: q.maxMessages, maxBytes: q.maxBytes },
      `SIP worker ${slot.index} is not keeping up: shedding its datagrams and pausing its connections`,
    );
  }

  /** A worker worked its queue down: the paused connections read again; one line. */
  private episodeEnds(slot: Slot, end: EpisodeEnd): void {
    this.resume(end.paused);
    this.logEpisodeEnd(slot, end);
  }

  private resume(connections: readonly number[]): void {
    for (const id of connections) this.transports?.connections.get(id)?.resumeReading?.();
  }

  private logEpisodeEnd(slot: Slot, end: EpisodeEnd): void {
    this.log.info(
      { worker: slot.index, shedDatagrams: end.shed, pausedConnections: end.paused.length, ms: end.ms },
      `SIP worker ${slot.index} queue drained: ${end.shed} datagrams shed, ${end.paused.length} connections paused`,
    );
  }

  /** A worker died: start another in its place (its calls in progress are lost, registrations are not). */
  private restart(index: number, code: number, silent: boolean): void {
    // A worker the watchdog ended had been ready and then silent for seconds: such restarts cannot
    // spin, and giving up would leave its Call-IDs unanswered for good (a routing script that
    // hangs on some request would take its slot down after five). The budget is for crash loops.
    if (!silent && !this.mayRestart()) {
      this.log.error({ worker: index, code }, 'SIP worker keeps failing; not restarting it again');
      return;
    }
    this.log.error({ worker: index, code }, 'SIP worker exited; starting a new one');
    this.spawn(index).then(
      (ready) => {
        for (let j = 0; j < this.options.count; j++) if (j !== index) this.connectPeers(index, j);
        // a switch that happened while it was starting: it catches up with the others
        const active = this.activeScript;
        const slot = this.slots[index];
        if (active !== undefined && ready.script !== active.version && slot !== undefined) {
          this.log.info({ worker: index, script: active.version, started: ready.script }, 'restarted SIP worker switches to the active routing script');
          slot.worker.postMessage({ k: 'script-prepare', v: active.version, source: active.source, ...(active.url === undefined ? {} : { url: active.url }) } satisfies ScriptControl);
          slot.worker.postMessage({ k: 'script-commit', v: active.version } satisfies ScriptControl);
        }
      },
      (e: unknown) => this.log.error({ worker: index, err: (e as Error).message }, 'SIP worker could not be restarted'),
    );
  }

  /** Within the budget of restarts (workers and writer together) per minute; counts this one. */
  private mayRestart(): boolean {
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => t > now - 60_000);
    if (this.restarts.length >= (this.options.maxRestartsPerMinute ?? 5)) return false;
    this.restarts.push(now);
    return true;
  }

  /** A channel between workers i and j for their registration changes. */
  private connectPeers(i: number, j: number): void {
    const { port1, port2 } = new MessageChannel();
    this.givePeer(i, j, port1);
    this.givePeer(j, i, port2);
  }

  private givePeer(core: number, other: number, port: MessagePort): void {
    this.slots[core]!.worker.postMessage({ k: 'peer', i: other, port }, [port]);
  }

  private workers(): Slot[] {
    return this.slots.filter((s): s is Slot => s !== undefined);
  }

  private broadcast(m: ToWorker): void {
    for (const slot of this.workers()) slot.inbox.push(m);
  }

  private fromWorker(index: number, items: FromWorker[], slot: Slot): void {
    const transports = this.transports;
    if (transports === undefined) return;
    let last = 0;
    for (const m of items) {
      switch (m.k) {
        case 'send':
          transports.sendBytes(m.b, m.f, this.onSendError(index, m.s));
          last = m.s;
          break;
        case 'reply':
          transports.sendToTarget(m.b, m.t, this.onSendError(index, m.s));
          last = m.s;
          break;
        case 'auth-failure':
          this.recordFailure(m.a);
          break;
        case 'auth-success':
          transports.connections.authenticatedSources.mark(m.a);
          break;
        case 'took': {
          // `slot`, not slots[index]: a report of a worker already replaced is not its successor's
          const end = slot.gone ? undefined : slot.inFlight.took(m.n, m.b);
          if (end !== undefined) this.episodeEnds(slot, end);
          break;
        }
      }
    }
    if (last !== 0) this.sendsHandled(index, last);
  }

  /** Tell worker `index` that its sends up to `seq` are handled (one item per inbox batch when it can). */
  private sendsHandled(index: number, seq: number): void {
    const slot = this.slots[index];
    if (slot === undefined) return;
    if (slot.handled !== undefined) {
      slot.handled.s = seq;
      return;
    }
    slot.handled = { k: 'sent', s: seq };
    slot.inbox.push(slot.handled);
  }

  private onSendError(index: number, seq: number): (e: Error) => void {
    return (e) => {
      this.log.debug({ worker: index, err: e.message }, 'send failed');
      const slot = this.slots[index];
      if (seq === 0 || slot === undefined) return;
      slot.inbox.push({ k: 'send-error', s: seq, m: e.message });
      // a later "handled" must come after this failure, not move the one before it
      slot.handled = undefined;
    };
  }
}
