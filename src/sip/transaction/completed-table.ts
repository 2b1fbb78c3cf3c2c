import type { Clock, TimerHandle } from '../../lib/clock.js';
import { ownString } from '../../lib/own-string.js';
import type { SentResponse, TransactionTransport } from './transaction-transport.js';

/** Entries expire this much after their time at most, so that one timer serves many of them. */
const SWEEP_SLACK_MS = 200;

interface Entry {
  readonly key: string;
  readonly sent: SentResponse;
  readonly expires: number;
}

/**
 * Non-INVITE server transactions over UDP in the Completed state (RFC 3261 §17.2.2), kept with
 * only what that state needs: the matching key and the final response as the transport sent it.
 *
 * "While in the 'Completed' state, the server transaction MUST pass the final response to the
 *  transport layer for retransmission whenever a retransmission of the request is received. Any
 *  other final responses passed by the TU to the server transaction MUST be discarded while in the
 *  'Completed' state. The server transaction remains in this state until Timer J fires, at which
 *  point it MUST transition to the 'Terminated' state." (§17.2.2)
 *
 * A transaction object would hold the parsed request and its TU's state for all of Timer J
 * (32 s): at thousands of REGISTERs a second, a heap of hundreds of megabytes that the garbage
 * collector walks again and again. Every entry lives for the same Timer J, so they expire first
 * in, first out, with one clock timer for the table (up to SWEEP_SLACK_MS late: Timer J is a
 * minimum wait for retransmissions).
 */
export class CompletedTable {
  private readonly entries = new Map<string, Entry>();
  private queue: Entry[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly transport: TransactionTransport,
    /** Timer J for unreliable transports, in milliseconds. */
    private readonly lifetime: number,
  ) {}

  /** Keep a completed transaction until Timer J: `sent` is its final response. */
  add(key: string, sent: SentResponse): void {
    // the key is made of the request's Via values: kept as is, it would keep the request's text
    // alive for all of Timer J
    const entry: Entry = { key: ownString(key), sent, expires: this.clock.now() + this.lifetime };
    this.entries.set(entry.key, entry);
    this.queue.push(entry);
    if (this.timer === undefined) this.arm();
  }

  /**
   * A request whose key may name a completed transaction: its final response goes out again.
   * True when it did (the request is absorbed), false when the key is unknown.
   */
  absorb(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    // a failed resend over UDP ends nothing the TU still follows (§17.2.4 would terminate the
    // transaction, which Timer J does anyway)
    this.transport.resendResponse(entry.sent, ignore);
    return true;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Forget every entry and stop the timer (shutdown). */
  close(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.entries.clear();
    this.queue = [];
    this.head = 0;
  }

  private arm(): void {
    const first = this.queue[this.head];
    if (first === undefined) return;
    const delay = Math.max(0, first.expires - this.clock.now()) + SWEEP_SLACK_MS;
    this.timer = this.clock.setTimeout(() => this.sweep(), delay);
  }

  private sweep(): void {
    this.timer = undefined;
    const now = this.clock.now();
    const queue = this.queue;
    let head = this.head;
    while (head < queue.length && queue[head]!.expires <= now) {
      const entry = queue[head]!;
      if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
      head++;
    }
    if (head === queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      this.queue = queue.slice(head);
      this.head = 0;
    } else {
      this.head = head;
    }
    this.arm();
  }
}

function ignore(): void {}
