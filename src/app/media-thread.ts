/**
 * The main thread's side of the media thread (media-worker.ts): which address its ports are
 * bound on and written in SDP, starting it, a MediaControl client over a MessagePort for each
 * SIP core (one per SIP worker thread, one for the main thread), and stopping it. A client whose
 * media thread is gone answers every command `503` (MediaControl never rejects).
 */
import { networkInterfaces } from 'node:os';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { Logger as PinoLogger } from 'pino';
import type { MediaAnswerRequest, MediaControl, MediaDeleteRequest, MediaOfferRequest, MediaResult } from '../lib/media-control.js';
import { startWorker } from '../sip-server/workers/start-worker.js';
import type { ConfigLocator, ParleyConfig } from './config.js';
import { StartError } from './start-error.js';
import type { FromMediaWorker, MediaReply, MediaRequest, MediaWorkerData, ToMediaWorker } from './media-worker.js';
import type { MediaSessionInfo } from '../media/media-sessions.js';
import { FirstOffers, firstAutoOfferAnchors, type MediaPlaneInfo } from '../media/first-offer.js';
import { sdpFunctions } from '../media/sdp-wiring.js';
import type { SdpFunctions } from '../media/sdp-functions.js';

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** What a client answers once the media thread is gone. */
const GONE: MediaResult = { ok: false, status: 503, warnCode: 399, warning: 'media plane unavailable' };
const NOT_ANCHORED: MediaResult = { ok: true, anchored: false };

/**
 * MediaControl over a MessagePort to the media thread: each command gets an id, its promise
 * resolves with the answer of that id, or with 503 when the port closes (the thread ended).
 * Given the media plane's family and profiles (`plane`), it answers the first `auto` offers of a
 * call that the thread would not anchor itself, without asking (media/first-offer.ts); those
 * calls then never reach the thread, also when it is gone.
 */
export class MediaControlClient implements MediaControl {
  private nextId = 1;
  private readonly waiting = new Map<number, (result: MediaResult | null) => void>();
  private gone = false;
  private readonly firstOffers = new FirstOffers();
  /** Offers decided here and offers sent to the thread (tests, stats). */
  readonly offers = { decidedHere: 0, asked: 0 };

  constructor(
    private readonly port: MessagePort,
    private readonly plane?: MediaPlaneInfo,
  ) {
    port.on('message', (m: MediaReply) => {
      const resolve = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      resolve?.(m.result);
    });
    port.on('close', () => this.closed());
    // a client waiting for no answer must not keep its thread alive
    port.unref();
  }

  /** The media thread is gone: every command waiting, and every later one, gets 503. */
  closed(): void {
    this.gone = true;
    for (const resolve of this.waiting.values()) resolve(GONE);
    this.waiting.clear();
  }

  offer(r: MediaOfferRequest): Promise<MediaResult> {
    if (this.plane !== undefined && r.mode === 'auto' && !this.firstOffers.asked(r.callId) && firstAutoOfferAnchors(sdpFunctions as SdpFunctions, this.plane, r) === false) {
      this.offers.decidedHere++;
      return Promise.resolve(NOT_ANCHORED);
    }
    this.offers.asked++;
    this.firstOffers.ask(r.callId);
    return this.ask('offer', r).then((x) => x ?? GONE);
  }

  answer(r: MediaAnswerRequest): Promise<MediaResult> {
    return this.ask('answer', r).then((x) => x ?? GONE);
  }

  delete(r: MediaDeleteRequest): Promise<void> {
    // the thread deletes the call's session: its next first offer may be decided here again
    if (r.branch === undefined) this.firstOffers.forget(r.callId);
    return this.ask('delete', r).then(() => undefined);
  }

  /** Close this end (the SIP core stops). */
  close(): void {
    this.port.close();
    this.closed();
  }

  private ask(op: MediaRequest['op'], r: MediaOfferRequest | MediaAnswerRequest | MediaDeleteRequest): Promise<MediaResult | null> {
    if (this.gone) return Promise.resolve(GONE);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      // the port holds the thread open only while an answer is awaited
      this.port.ref();
      try {
        this.port.postMessage({ id, op, r } as MediaRequest);
      } catch {
        this.waiting.delete(id);
        resolve(GONE);
      }
    }).finally(() => {
      if (this.waiting.size === 0) this.port.unref();
    }) as Promise<MediaResult | null>;
  }
}

/** The running media thread. */
export interface MediaThread {
  readonly address: string;
  readonly advertise: string;
  /** Its family and profiles: a SIP worker's client decides with them (MediaControlClient's `plane`). */
  readonly plane: MediaPlaneInfo;
  readonly worker: Worker;
  /** A client for a SIP core of the main thread. */
  client(): MediaControlClient;
  /** A new channel for a SIP worker thread (transfer it with the worker's data; make a MediaControlClient of it there). */
  channel(): MessagePort;
  /** Sessions and sockets open now, from the media thread. */
  stats(): Promise<{ sessions: number; sockets: number; timedOut: number }>;
  /** log.level changed (a configuration reload). */
  setLogLevel(level: string): void;
  /** The media thread's Prometheus metrics (getMetricsAsJSON); empty when it is gone. */
  metrics(): Promise<unknown[]>;
  /** The open media sessions; empty when the thread is gone. */
  sessions(): Promise<MediaSessionInfo[]>;
  stop(): Promise<void>;
}

/**
 * Where the media ports are bound (`media.address`, else the first SIP listener's) and the
 * address written in SDP (`media.advertise`, else the bound one; for a wildcard, the host's first
 * external address of its family).
 */
export function mediaAddresses(config: ParleyConfig, sipAddresses: readonly string[], interfaces = networkInterfaces()): { address: string; advertise: string } {
  const address = config.media.address ?? sipAddresses[0] ?? '0.0.0.0';
  if (config.media.advertise !== undefined) return { address, advertise: config.media.advertise };
  if (!WILDCARDS.has(address)) return { address, advertise: address };
  const family = address === '::' ? 'IPv6' : 'IPv4';
  const external = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .find((i) => !i.internal && i.family === family && !i.address.toLowerCase().startsWith('fe80'));
  return { address, advertise: external?.address ?? (family === 'IPv6' ? '::1' : '127.0.0.1') };
}

export interface StartMediaOptions {
  readonly config: ParleyConfig;
  readonly entry: URL;
  /** Addresses the SIP listeners bound, in order. */
  readonly sipAddresses: readonly string[];
  readonly locate: ConfigLocator;
  readonly log: Pick<PinoLogger, 'debug' | 'info' | 'warn' | 'error'>;
}

/** Start the media thread; undefined when `media.enabled` is false. */
export async function startMediaThread(o: StartMediaOptions): Promise<MediaThread | undefined> {
  const { config, log } = o;
  if (!config.media.enabled) return undefined;
  if (config.media.ports.min > config.media.ports.max) throw new StartError(o.locate(['media', 'ports', 'min']), `is above media.ports.max (${config.media.ports.min} > ${config.media.ports.max})`);
  const { address, advertise } = mediaAddresses(config, o.sipAddresses);
  const data: MediaWorkerData = { config, address, advertise };
  const worker = startWorker(o.entry, { workerData: data, name: 'media' });
  const outcome = await new Promise<FromMediaWorker | { k: 'exit'; code: number } | { k: 'error'; error: Error }>((resolve) => {
    worker.once('message', resolve);
    worker.once('error', (error) => resolve({ k: 'error', error }));
    worker.once('exit', (code) => resolve({ k: 'exit', code }));
  });
  if (outcome.k !== 'ready') {
    await worker.terminate();
    if (outcome.k === 'failed' && outcome.code === 'ng') throw new StartError(o.locate(['media', 'control', 'listen']), outcome.error);
    const why = outcome.k === 'failed' ? outcome.error : outcome.k === 'error' ? outcome.error.message : outcome.k === 'exit' ? `exited with code ${outcome.code}` : 'it answered out of turn';
    throw new StartError(o.locate(config.media.address === undefined ? ['media'] : ['media', 'address']), `the media thread did not start: ${why}`);
  }
  const plane = outcome.plane;
  // said once, in the ready line (run-server.ts); here at debug
  log.debug({ module: 'media', address, advertise, ports: `${config.media.ports.min}-${config.media.ports.max}` }, 'media plane ready');
  const clients: MediaControlClient[] = [];
  let nextStats = 1;
  const statsWaiting = new Map<number, (s: { sessions: number; sockets: number; timedOut: number }) => void>();
  // questions answered by id (metrics, sessions): an array each, empty once the thread is gone
  const listsWaiting = new Map<number, (a: unknown[]) => void>();
  let exitedNow = false;
  const askList = <T>(k: 'metrics' | 'sessions'): Promise<T[]> =>
    new Promise((resolve) => {
      if (exitedNow) {
        resolve([]);
        return;
      }
      const id = nextStats++;
      listsWaiting.set(id, resolve as (a: unknown[]) => void);
      post({ k, id });
    });
  worker.on('message', (m: FromMediaWorker) => {
    if (m.k === 'stats') {
      statsWaiting.get(m.id)?.({ sessions: m.sessions, sockets: m.sockets, timedOut: m.timedOut });
      statsWaiting.delete(m.id);
    } else if (m.k === 'metrics' || m.k === 'sessions') {
      listsWaiting.get(m.id)?.(m.k === 'metrics' ? m.metrics : m.sessions);
      listsWaiting.delete(m.id);
    }
  });
  worker.on('error', (e) => log.error({ module: 'media', err: e }, 'the media thread failed'));
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  void exited.then(() => {
    for (const c of clients) c.closed();
    for (const resolve of statsWaiting.values()) resolve({ sessions: 0, sockets: 0, timedOut: 0 });
    statsWaiting.clear();
    exitedNow = true;
    for (const resolve of listsWaiting.values()) resolve([]);
    listsWaiting.clear();
    // unlike the TURN thread, not restarted: its calls' ports and keys are gone with it, and
    // the proxy answers new anchored calls 503 until Parley restarts
    if (!stopping) log.error({ module: 'media' }, 'the media thread exited: anchored calls are refused (503) until Parley restarts');
  });
  const post = (m: ToMediaWorker, transfer?: MessagePort[]): void => worker.postMessage(m, transfer);
  const channel = (): MessagePort => {
    const { port1, port2 } = new MessageChannel();
    post({ k: 'client', port: port1 }, [port1]);
    return port2;
  };
  return {
    address,
    advertise,
    worker,
    plane,
    client: () => {
      const c = new MediaControlClient(channel(), plane);
      clients.push(c);
      return c;
    },
    channel,
    stats: () =>
      new Promise((resolve) => {
        const id = nextStats++;
        statsWaiting.set(id, resolve);
        post({ k: 'stats', id });
      }),
    setLogLevel: (level) => post({ k: 'log-level', level }),
    metrics: () => askList<unknown>('metrics'),
    sessions: () => askList<MediaSessionInfo>('sessions'),
    stop: async () => {
      stopping = true;
      for (const c of clients) c.close();
      post({ k: 'stop' });
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 2000)))]);
      clearTimeout(timer);
      if (!inTime) await worker.terminate();
    },
  };
}
