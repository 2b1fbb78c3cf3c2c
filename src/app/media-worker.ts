/**
 * The entry of the media thread (src/media): the session manager of anchored calls, with every
 * media socket, so that relayed packets never wait behind SIP work (and SIP never behind them).
 * The SIP cores reach it over MessagePorts (one per SIP worker thread, one for the main thread),
 * each carrying MediaControl's commands with request ids (media-thread.ts is the other end).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { MediaAnswerRequest, MediaDeleteRequest, MediaOfferRequest, MediaResult } from '../lib/media-control.js';
import { loadOrCreateCertificate } from '../media/certificate.js';
import { createDtmfMapper, createTranscoder } from '../media/codecs/index.js';
import { legFactory } from '../media/leg-factory.js';
import { MediaSessions } from '../media/media-sessions.js';
import { NgControlStartError, startNgControl } from '../media/ng/start-ng-control.js';
import type { NgControlServer } from '../media/ng/ng-server.js';
import { PortPool } from '../media/port-pool.js';
import { sdpFunctions } from '../media/sdp-wiring.js';
import type { SdpFunctions } from '../media/sdp-functions.js';
import type { ParleyConfig } from './config.js';
import { setLogLevel, stdoutLogger } from './logger.js';
import { mediaRegistry } from './metrics/media-metrics.js';
import { startHepCapture, stopHepCapture } from './hep/hep-capture.js';
import { hepMediaTap } from './hep/hep-media.js';
import { setMediaTap } from '../media/media-tap.js';
import type { MediaSessionInfo } from '../media/media-sessions.js';
import { mediaPlaneInfo, type MediaPlaneInfo } from '../media/first-offer.js';

/** What the main thread gives the media thread. */
export interface MediaWorkerData {
  readonly config: ParleyConfig;
  /** The bind address of the media ports, and the one written in SDP. */
  readonly address: string;
  readonly advertise: string;
}

/** A command over a client's port, and its answer. */
export type MediaRequest =
  | { readonly id: number; readonly op: 'offer'; readonly r: MediaOfferRequest }
  | { readonly id: number; readonly op: 'answer'; readonly r: MediaAnswerRequest }
  | { readonly id: number; readonly op: 'delete'; readonly r: MediaDeleteRequest };
export interface MediaReply {
  readonly id: number;
  readonly result: MediaResult | null;
}

/** Main thread → media thread. */
export type ToMediaWorker =
  | { readonly k: 'client'; readonly port: MessagePort }
  | { readonly k: 'stats'; readonly id: number }
  /** log.level changed (a configuration reload). */
  | { readonly k: 'log-level'; readonly level: string }
  /** This thread's Prometheus metrics (registry.getMetricsAsJSON()), answered by `metrics`. */
  | { readonly k: 'metrics'; readonly id: number }
  /** The open sessions (MediaSessions.list), answered by `sessions`. */
  | { readonly k: 'sessions'; readonly id: number }
  | { readonly k: 'stop' };

/** Media thread → main thread. */
export type FromMediaWorker =
  /** `plane`: what the SIP cores need to decide the offers the thread would not anchor (media/first-offer.ts). */
  | { readonly k: 'ready'; readonly address: string; readonly advertise: string; readonly plane: MediaPlaneInfo }
  | { readonly k: 'failed'; readonly error: string; readonly code?: string }
  | { readonly k: 'stats'; readonly id: number; readonly sessions: number; readonly sockets: number; readonly timedOut: number }
  | { readonly k: 'metrics'; readonly id: number; readonly metrics: unknown[] }
  | { readonly k: 'sessions'; readonly id: number; readonly sessions: MediaSessionInfo[] };

/** Serve MediaControl's commands arriving on `port`. */
export function serveClient(sessions: MediaSessions, port: MessagePort): void {
  port.on('message', (m: MediaRequest) => {
    const done = (result: MediaResult | null): void => port.postMessage({ id: m.id, result } satisfies MediaReply);
    if (m.op === 'offer') void sessions.offer(m.r).then(done);
    else if (m.op === 'answer') void sessions.answer(m.r).then(done);
    else void sessions.delete(m.r).then(() => done(null));
  });
}

async function main(port: MessagePort, data: MediaWorkerData): Promise<void> {
  const { config } = data;
  const log = stdoutLogger(config.log.level, 1, config.log.format).child({ module: 'media' });
  // RTCP (and RTP headers) of anchored calls to the HEP collectors, when configured (app/hep)
  const hep = config.hep.rtcp || config.hep.rtpHeaders ? startHepCapture(config.hep, log.child({ component: 'hep' }), { sip: false }) : undefined;
  if (hep !== undefined) setMediaTap(hepMediaTap(hep, config.hep));
  // a promise of the DTLS library's rejected with nobody waiting (a handshake timer firing after
  // its leg closed, say) is logged, not fatal: the thread carries every call's media
  process.on('unhandledRejection', (reason) => log.warn({ err: reason instanceof Error ? reason.message : String(reason) }, 'media: unhandled rejection'));
  const pool = new PortPool({ address: data.address, minPort: config.media.ports.min, maxPort: config.media.ports.max });
  // the address must be one of this host's: a port of the range bound and let go at once
  const probe = await pool.allocate(false);
  if (probe === undefined) {
    port.postMessage({ k: 'failed', error: `no port of ${config.media.ports.min}-${config.media.ports.max} can be bound on ${data.address}` } satisfies FromMediaWorker);
    return;
  }
  probe.close();
  const certificate = await loadOrCreateCertificate();
  const legs = legFactory({ certificate, onFailure: (reason) => log.info({ reason }, 'a WebRTC leg failed') });
  const sessions = new MediaSessions({
    pool,
    advertise: data.advertise,
    timeoutS: config.media.timeout,
    maxSessions: config.media.maxSessions,
    sdp: sdpFunctions as SdpFunctions,
    legs,
    codecs: { createTranscoder: (from, to) => createTranscoder(from, to), createDtmfMapper },
    log,
  });
  // rtpengine's ng protocol on a UDP socket, when configured (Kamailio's rtpengine module, bench/media)
  let ng: NgControlServer | undefined;
  const { listen, allowRemote } = config.media.control;
  if (listen !== undefined) {
    try {
      ng = await startNgControl(sessions, { listen, allowRemote, log: log.child({ component: 'ng' }) });
    } catch (e) {
      sessions.close();
      const error = e instanceof NgControlStartError ? e.detail : e instanceof Error ? e.message : String(e);
      port.postMessage({ k: 'failed', error, ...(e instanceof NgControlStartError ? { code: 'ng' } : {}) } satisfies FromMediaWorker);
      return;
    }
    log.info({ listen }, 'ng control protocol listening');
  }
  sessions.startTimer();
  const metrics = mediaRegistry({ sessions: () => sessions.size, sockets: () => sessions.sockets, timedOut: () => sessions.timedOut, packets: () => sessions.packets() });
  const clients: MessagePort[] = [];
  const statsTimer = setInterval(() => {
    log.info({ sessions: sessions.size, sockets: sessions.sockets, timedOut: sessions.timedOut, heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1048576) }, 'stats');
  }, config.log.statsInterval * 1000);
  statsTimer.unref();
  port.on('message', (m: ToMediaWorker) => {
    if (m.k === 'client') {
      clients.push(m.port);
      serveClient(sessions, m.port);
    } else if (m.k === 'stats') {
      port.postMessage({ k: 'stats', id: m.id, sessions: sessions.size, sockets: sessions.sockets, timedOut: sessions.timedOut } satisfies FromMediaWorker);
    } else if (m.k === 'log-level') {
      setLogLevel(log, m.level);
    } else if (m.k === 'metrics') {
      void metrics.getMetricsAsJSON().then((json) => port.postMessage({ k: 'metrics', id: m.id, metrics: json } satisfies FromMediaWorker));
    } else if (m.k === 'sessions') {
      port.postMessage({ k: 'sessions', id: m.id, sessions: sessions.list() } satisfies FromMediaWorker);
    } else if (m.k === 'stop') {
      clearInterval(statsTimer);
      setMediaTap(undefined);
      stopHepCapture(hep);
      ng?.close();
      sessions.close();
      for (const c of clients) c.close();
      port.close();
    }
  });
  port.postMessage({ k: 'ready', address: data.address, advertise: data.advertise, plane: mediaPlaneInfo(pool.family, legs) } satisfies FromMediaWorker);
}

if (parentPort !== null) {
  const port = parentPort;
  main(port, workerData as MediaWorkerData).catch((e: unknown) => {
    port.postMessage({ k: 'failed', error: e instanceof Error ? e.message : String(e) } satisfies FromMediaWorker);
  });
}
