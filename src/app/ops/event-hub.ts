import type { EventOps } from '../../api/operations.js';
import { EVENT_TYPES, type ParleyEvent, type ParleyEventType } from '../../lib/events.js';

/** Events kept for `recent` and for a reconnecting stream's `Last-Event-ID` (issue 18: the last 1000). */
export const EVENT_RING_SIZE = 1000;

/** An event as the hub numbered it: `id` grows by one per event from 1 (SSE `id:`, `Last-Event-ID`). */
export interface NumberedEvent {
  readonly id: number;
  readonly event: ParleyEvent;
}

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

  constructor(private readonly ringSize = EVENT_RING_SIZE) {
    this.ring = new Array<NumberedEvent | undefined>(ringSize);
  }

  /** The id the next event will get (the id of the newest is one less). */
  get nextId(): number {
    return this.next;
  }

  /** How many streams are subscribed now. */
  get subscribers(): number {
    return this.listeners.size;
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

  subscribe(types: ReadonlySet<ParleyEventType> | undefined, listener: Listener): () => void {
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

/**
 * The queue of one event stream whose socket cannot take more for now (a slow client): bounded,
 * so that a client that reads nothing costs a fixed amount of memory. When full, the oldest event
 * goes, and the stream is told how many went before its next event (`dropped`).
 */
export class EventQueue {
  private readonly items: NumberedEvent[] = [];
  private droppedSince = 0;

  constructor(private readonly limit = EVENT_RING_SIZE) {}

  push(item: NumberedEvent): void {
    if (this.items.length >= this.limit) {
      this.items.shift();
      this.droppedSince++;
    }
    this.items.push(item);
  }

  get length(): number {
    return this.items.length;
  }

  /** Everything queued, and how many events were dropped before them since the last take. */
  take(): { readonly events: readonly NumberedEvent[]; readonly dropped: number } {
    const events = this.items.splice(0);
    const dropped = this.droppedSince;
    this.droppedSince = 0;
    return { events, dropped };
  }
}

/** A filter is unknown: the part that is no event type nor prefix of one. */
export class EventFilterError extends Error {
  constructor(readonly part: string) {
    super(`unknown event type "${part}" (types: ${EVENT_TYPES.join(', ')}; or a prefix such as call.*)`);
    this.name = 'EventFilterError';
  }
}

/**
 * The types a filter names: `registration.added,call.ended`, and prefixes `call.*` (every type
 * that starts with `call.`) or `*`. Undefined (every type) for an empty or absent filter. Throws
 * EventFilterError for a part that names none. Read by splitting on commas: no regular expression.
 */
export function parseEventFilter(filter: string | undefined): ReadonlySet<ParleyEventType> | undefined {
  if (filter === undefined) return undefined;
  const parts = filter
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) return undefined;
  const types = new Set<ParleyEventType>();
  for (const part of parts) {
    if (part === '*') return undefined;
    if (part.endsWith('.*')) {
      const prefix = part.slice(0, -1);
      const matched = EVENT_TYPES.filter((t) => t.startsWith(prefix));
      if (matched.length === 0) throw new EventFilterError(part);
      for (const t of matched) types.add(t);
    } else if ((EVENT_TYPES as readonly string[]).includes(part)) {
      types.add(part as ParleyEventType);
    } else {
      throw new EventFilterError(part);
    }
  }
  return types;
}
