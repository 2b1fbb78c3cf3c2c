import type { NumberedEvent } from './operations.js';

/** Events a stream's queue holds, at most (as many as the hub's ring). */
export const EVENT_QUEUE_LIMIT = 1000;

/**
 * The queue of one event stream whose socket cannot take more for now (a slow client): bounded,
 * so that a client that reads nothing costs a fixed amount of memory. When full, the oldest event
 * goes, and the stream is told how many went before its next event (`dropped`).
 */
export class EventQueue {
  private readonly items: NumberedEvent[] = [];
  private droppedSince = 0;

  constructor(private readonly limit = EVENT_QUEUE_LIMIT) {}

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
