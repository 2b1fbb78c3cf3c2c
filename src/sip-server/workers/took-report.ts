import type { Batcher } from './batcher.js';
import type { FromWorker, Took } from './worker-messages.js';

/**
 * The worker's half of the bound on its queue (in-flight.ts): it tells the socket thread how many
 * received messages, and how many bytes of them, it has taken since it started.
 *
 * This is the hot path (5,000+ messages a second per worker, and a postMessage is a system call
 * and may wake the other thread), so the report costs no postMessage of its own when it can ride
 * with the sends: after a batch,
 * - a report still waiting in `out` is raised in place;
 * - if a send waits in `out` for its pair, the report joins it (they leave together);
 * - otherwise (the batch's sends have all left, or it made none) the report waits up to `lateMs`
 *   for a send to ride with, and then goes alone.
 * So the socket thread over-counts what is in flight by at most `lateMs` worth of messages, far
 * below the bound, and learns that a queue has drained within `lateMs`.
 */
export class TookReport {
  private messages = 0;
  private bytes = 0;
  /** Messages in the last report handed to `out`. */
  private reported = 0;
  /** The report in `out`, not yet posted. */
  private item: Took | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Batcher<FromWorker>,
    private readonly lateMs = 10,
  ) {}

  /** One received message taken (whatever becomes of it: handled, dropped as stale, unparsable). */
  take(bytes: number): void {
    this.messages++;
    this.bytes += bytes;
  }

  /** `out` has posted what it held (call from its post function). */
  posted(): void {
    this.item = undefined;
  }

  /** A batch is done: report what it took, as cheaply as possible. */
  batchDone(): void {
    if (this.messages === this.reported) return;
    if (this.item !== undefined) this.raise(this.item);
    else if (this.out.pending > 0) this.push();
    else if (this.timer === undefined) {
      this.timer = setTimeout(this.late, this.lateMs);
      this.timer.unref();
    }
  }

  /** Stop the timer (the worker stops). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly late = (): void => {
    this.timer = undefined;
    if (this.messages === this.reported) return;
    if (this.item !== undefined) this.raise(this.item);
    else this.push();
  };

  private raise(item: Took): void {
    item.n = this.messages;
    item.b = this.bytes;
    this.reported = this.messages;
  }

  private push(): void {
    const item: Took = { k: 'took', n: this.messages, b: this.bytes };
    this.reported = this.messages;
    this.item = item;
    // may post at once (out full), which calls posted()
    this.out.push(item);
  }
}
