import type { EventSink, ParleyEvent } from '../lib/events.js';

/** How often a worker thread hands its events to the main thread, at most (issue 18). */
export const EVENT_POST_INTERVAL_MS = 100;

/** Events a worker holds between two posts, at most; beyond, the newest are dropped and counted. */
export const EVENT_BATCH_MAX = 5000;

/**
 * The EventSink of a thread that is not the main thread (a SIP worker, the TURN thread): events
 * are collected and posted together, at most once per `intervalMs` (one postMessage per 100 ms
 * however busy the thread is), the first of a quiet time after at most `intervalMs` too. A burst
 * beyond `max` events before the post loses the rest (`dropped` counts them): events are for
 * people and dashboards, never worth a thread's memory.
 */
export class BatchedEventSink {
  private items: ParleyEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Events lost to a full batch since the start. */
  dropped = 0;

  constructor(
    private readonly post: (events: ParleyEvent[]) => void,
    private readonly intervalMs = EVENT_POST_INTERVAL_MS,
    private readonly max = EVENT_BATCH_MAX,
  ) {}

  readonly sink: EventSink = (event) => {
    if (this.closed) return;
    if (this.items.length >= this.max) {
      this.dropped++;
      return;
    }
    this.items.push(event);
    if (this.timer === undefined) {
      this.timer = setTimeout(this.flush, this.intervalMs);
      this.timer.unref();
    }
  };

  /** Post what is collected now (also at stop, so that the last events are not lost). */
  readonly flush = (): void => {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.post(items);
  };

  /** Post what is left; nothing more is taken. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
