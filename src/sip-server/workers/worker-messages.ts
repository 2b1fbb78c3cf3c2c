import type { MessagePort } from 'node:worker_threads';
import type { Flow } from '../transport/flow.js';
import type { ResponseTarget } from '../transport/response-target.js';
import type { BindingDelta } from '../registrar/location-service.js';
import type { BindingTouch, ContactBinding } from '../../store/binding-store.js';
import type { ParleyEvent } from '../../lib/events.js';

/**
 * What the socket thread and the SIP workers tell each other (sip-server/workers). Messages travel in
 * arrays: towards a worker one postMessage per event-loop turn, so that a busy second costs a few
 * thousand postMessage calls, not one per SIP message; from a worker one array per two items, sent as
 * they are made, so that what a worker sends leaves at the pace it is made (app/sip-worker.ts).
 */

/** Socket thread → worker. */
export type ToWorker =
  /**
   * Bytes received: a UDP datagram (`d`) or one framed stream message; `t`: when, ms since the
   * epoch (Date.now: the same clock in every thread).
   */
  | { readonly k: 'in'; readonly b: Uint8Array; readonly f: Flow; readonly d: boolean; readonly t: number }
  /** A stream connection opened (accepted, or opened by a core). */
  | { readonly k: 'opened'; readonly id: number; readonly f: Flow }
  /** A stream connection closed: its bindings go (RFC 5626 flows). */
  | { readonly k: 'closed'; readonly id: number }
  /** A send the worker asked for failed. */
  | { readonly k: 'send-error'; readonly s: number; readonly m: string }
  | SendsHandled
  /** A source is blocked by the failure limiter for `ms`. */
  | { readonly k: 'block'; readonly a: string; readonly ms: number }
  /** A subscriber changed in the store (`u`@`d`; neither: any): drop cached copies. */
  | { readonly k: 'subscriber'; readonly u?: string; readonly d?: string };

/**
 * Socket thread → worker: every send of the worker numbered up to `s` has been handled (sent,
 * or its failure reported before this item). Sends whose outcome is known then (UDP to an IP
 * address) drop their error callbacks (WorkerWire). The socket thread raises `s` of an item not
 * yet posted rather than adding another, as long as no failure was queued after it.
 */
export interface SendsHandled {
  readonly k: 'sent';
  s: number;
}

/**
 * A UDP datagram that waited longer than this for its worker (the worker is overloaded) is
 * dropped unread, as the kernel drops datagrams from a full socket buffer: its sender has
 * retransmitted it by then (T1 = 500 ms), and working through a stale backlog only makes the
 * next one longer. Messages of streams are never dropped.
 */
export const MAX_DATAGRAM_QUEUE_MS = 500;

/** Worker → socket thread. */
export type FromWorker =
  /** Bytes to a flow (Wire.sendBytes); `s` names the error callback, 0 for none. */
  | { readonly k: 'send'; readonly b: Uint8Array; readonly f: Flow; readonly s: number }
  /** Bytes to a response target (Wire.sendToTarget). */
  | { readonly k: 'reply'; readonly b: Uint8Array; readonly t: ResponseTarget; readonly s: number }
  /** A failed authentication from this address (the socket thread's limiter counts them all). */
  | { readonly k: 'auth-failure'; readonly a: string }
  /**
   * A request from this address passed digest authentication (the first per source and minute of
   * this worker): the connection table keeps a reserve of connections for such sources.
   */
  | { readonly k: 'auth-success'; readonly a: string }
  | Took;

/**
 * Worker → socket thread, after a batch: the received messages (`in` items) the worker has taken
 * since it started, `n`, and their bytes, `b` (cumulative; sip-server/workers/in-flight.ts bounds what
 * is handed over and not yet taken). The worker raises `n` and `b` of an item not yet posted
 * rather than adding another, so it rides with the sends of the batch.
 */
export interface Took {
  readonly k: 'took';
  n: number;
  b: number;
}

/** Worker → worker (over their own channels): binding changes for the other replicas. */
export type ToPeer = { readonly k: 'bindings'; readonly d: BindingDelta };

/**
 * Worker → the binding writer thread (app/binding-writer.ts), over a channel of each worker's
 * own: the writes of its location service, in order, numbered (`n`, growing) for the answer.
 */
export type ToWriter =
  | { readonly k: 'apply'; readonly n: number; readonly save: readonly ContactBinding[]; readonly touch?: readonly BindingTouch[]; readonly remove: ReadonlyArray<readonly [string, string]> }
  | { readonly k: 'remove-aor'; readonly n: number; readonly aor: string }
  | { readonly k: 'purge'; readonly n: number; readonly now: number };

/**
 * The binding writer → a worker, over the same channel: every write numbered up to `n` has been
 * committed, but write `n` itself when `error` says why it could not be (it was rolled back).
 * Writes are answered in the order they were sent.
 */
export interface FromWriter {
  readonly k: 'done';
  readonly n: number;
  readonly error?: string;
}

/** Socket thread → the binding writer: a worker's channel, or stop (after the workers did). */
export type WriterControl = { readonly k: 'port'; readonly port: MessagePort } | { readonly k: 'stop' };

/** The first message of a worker, once it is ready to take traffic. */
export interface WorkerReady {
  readonly k: 'ready';
  readonly restoredBindings: number;
  /** The routing script version it started with. */
  readonly script: number;
}

/** A worker that could not start. */
export interface WorkerFailed {
  readonly k: 'failed';
  readonly error: string;
}

/**
 * Socket thread → worker, outside the batches: the routing script's two-step switch
 * (src/routing/script-host.ts). `url` undefined: the built-in default script.
 */
export type ScriptControl =
  | { readonly k: 'script-prepare'; readonly v: number; readonly source: string; readonly url?: string }
  | { readonly k: 'script-commit'; readonly v: number }
  | { readonly k: 'script-abort'; readonly v: number };

/** Worker → socket thread: how a script step went (`error`: the version could not be loaded there). */
export type ScriptAck =
  | { readonly k: 'script-prepared'; readonly v: number; readonly error?: string }
  | { readonly k: 'script-committed'; readonly v: number; readonly ok: boolean };

/**
 * A question the main thread asks every SIP core (issue 18: the operator's API and CLI), answered
 * by app/sip-core.ts `query`. Each member names what it returns there. Add members here.
 */
export type CoreQuery =
  /** `{ ok: true }`: the core's event loop turns (readyz). */
  | { readonly q: 'ping' }
  /**
   * `{ ok: true }`: a configuration reload's live values for this core: every logger of its thread
   * at `logLevel`, the registrar's expiry bounds, the outbound routes (each only when given).
   */
  | {
      readonly q: 'reconfigure';
      readonly logLevel?: string;
      readonly expiry?: { readonly minExpires: number; readonly maxExpires: number; readonly defaultExpires: number };
      readonly outbound?: ReadonlyArray<{ readonly domain: string; readonly uri: string }>;
    }
  /**
   * Remove bindings of `aor` (`user@domain`): the one of `contact`, or all. Each core removes them
   * from its replica, which writes the store and tells the others; answers how many it removed.
   */
  | { readonly q: 'unregister'; readonly aor: string; readonly contact?: string }
  /**
   * `{ total, items: CallSnapshot[] }` (proxy/calls/call-tracker.ts `query`): this core's calls
   * matching `callId` (exact) or `search` (Call-ID, From or To URI), oldest first, at most `limit`.
   */
  | { readonly q: 'calls'; readonly callId?: string; readonly search?: string; readonly limit?: number }
  /** `{ found: boolean }`: this core had the call and is hanging it up (ProxyCore.hangup). */
  | { readonly q: 'hangup'; readonly callId: string }
  /** The core's Prometheus metrics, `registry.getMetricsAsJSON()` (app/metrics/core-metrics.ts). */
  | { readonly q: 'metrics' };

/** Socket thread → worker, outside the batches: a CoreQuery, answered with the same `id`. */
export interface QueryAsk {
  readonly k: 'ask';
  readonly id: number;
  readonly q: CoreQuery;
}

/** Worker → socket thread: the answer to QueryAsk `id` (`error`: the query failed there). */
export interface QueryAnswer {
  readonly k: 'answer';
  readonly id: number;
  readonly a?: unknown;
  readonly error?: string;
}

/** Worker → socket thread, outside the batches: events the core made (batched, at most one post per 100 ms). */
export interface EventsOut {
  readonly k: 'events';
  readonly e: readonly ParleyEvent[];
}
