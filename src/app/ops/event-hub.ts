import { OpsError, type EventOps, type NumberedEvent } from '../../api/operations.js';
import type { ParleyEvent, ParleyEventType } from '../../lib/events.js';

/** Events kept for `recent` and for a reconnecting stream's `Last-Event-ID` (issue 18: the last 1000). */
export const EVENT_RING_SIZE = 1000;

export type { NumberedEvent };

type Listener = (e: ParleyEvent, id: number) => void;

/**
 * The event hub of a running server (main thread): every event made anywhere (the SIP cores, the
 * TURN thread, the script host, the failed-auth limiter) is published here once, numbered, kept in
 * a ring of the last 1000, and handed to each subscriber whose filter takes its type. Publishing
 * never blocks and never throws: a listener runs synchronously and must not wait (a stream that
 * cannot keep up queues in an EventQueue of its own, bounded); one that throws is dropped.
 */
export class EventHub implements EventOps {
  private readonly ring: Array<NumberedEvent | undefined>;
  private next = 1;
  private readonly listeners = new Set<{ readonly types: ReadonlySet<ParleyEventType> | undefined; readonly listener: Listener }>();

  private streams = 0;
  private readonly ringSize: number;
  private readonly maxStreams: number;

  /** `maxStreams`: subscriptions through `subscribe` (the API's streams) open at once (api.maxEventStreams). */
  constructor(options: { readonly ringSize?: number; readonly maxStreams?: number } = {}) {
    this.ringSize = options.ringSize ?? EVENT_RING_SIZE;
    this.maxStreams = options.maxStreams ?? 100;
    this.ring = new Array<NumberedEvent | undefined>(this.ringSize);
  }

  /** The id the next event will get (the id of the newest is one less). */
  get nextId(): number {
    return this.next;
  }

  /** How many listeners are subscribed now (streams and the server's own). */
  get subscribers(): number {
    return this.listeners.size;
  }

  /** How many streams are open now (`subscribe`). */
  get openStreams(): number {
    return this.streams;
  }

  /** Publish one event: numbered, kept, handed to every subscriber that takes its type. */
  readonly publish = (event: ParleyEvent): void => {
    const id = this.next++;
    this.ring[id % this.ringSize] = { id, event };
    for (const l of this.listeners) {
      if (l.types !== undefined && !l.types.has(event.type)) continue;
      try {
        l.listener(event, id);
      } catch {
        // a listener that throws would throw again: it goes, the others still get their events
        this.listeners.delete(l);
      }
    }
  };

  /**
   * A stream's subscription (the API's WebSocket and SSE streams): at most `maxStreams` at once,
   * beyond which it throws OpsError 503 (a client retries later).
   */
  subscribe(types: ReadonlySet<ParleyEventType> | undefined, listener: Listener): () => void {
    if (this.streams >= this.maxStreams) throw new OpsError(503, `too many event streams (at most ${this.maxStreams}: api.maxEventStreams)`);
    this.streams++;
    const off = this.listen(types, listener);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.streams--;
      off();
    };
  }

  /** A subscription of the server itself (the log): not counted against `maxStreams`. */
  listen(types: ReadonlySet<ParleyEventType> | undefined, listener: Listener): () => void {
    const entry = { types, listener };
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  recent(types?: ReadonlySet<ParleyEventType>): readonly ParleyEvent[] {
    return this.since(0, types).map((n) => n.event);
  }

  /** The kept events with an id above `afterId`, oldest first (what a stream missed). */
  since(afterId: number, types?: ReadonlySet<ParleyEventType>): readonly NumberedEvent[] {
    const out: NumberedEvent[] = [];
    const first = Math.max(afterId + 1, this.next - this.ringSize, 1);
    for (let id = first; id < this.next; id++) {
      const n = this.ring[id % this.ringSize];
      if (n === undefined || n.id !== id) continue;
      if (types === undefined || types.has(n.event.type)) out.push(n);
    }
    return out;
  }
}
