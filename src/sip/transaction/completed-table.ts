import type { Clock, TimerHandle } from '../../lib/clock.js';
import { ownString } from '../../lib/own-string.js';
import { hashAscii, PackedRecords } from './packed-records.js';
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
 *
 * When the transport can put a response in bytes (`packResponse`), the entry is a record in
 * PackedRecords instead: no object at all on the JavaScript heap (see packed-records.ts for why
 * and for its memory bound, `maxBytes`). Responses it cannot pack (an observer keeps the message
 * object, a key that is not ASCII) stay entries here.
 */
export class CompletedTable {
  private readonly entries = new Map<string, Entry>();
  private readonly packed: PackedRecords | undefined;
  private queue: Entry[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly transport: TransactionTransport,
    /** Timer J for unreliable transports, in milliseconds. */
    private readonly lifetime: number,
    /** The bound of the packed records' ring, in bytes. */
    maxBytes: number = DEFAULT_MAX_BYTES,
  ) {
    this.packed = transport.packResponse !== undefined && transport.resendPacked !== undefined && maxBytes > 0 ? new PackedRecords(maxBytes) : undefined;
  }

  /** Keep a completed transaction until Timer J: `sent` is its final response. */
  add(key: string, sent: SentResponse): void {
    const packed = this.packed;
    if (packed !== undefined) {
      const hash = hashAscii(key);
      const transport = this.transport;
      if (hash >= 0 && packed.add(key, hash, this.clock.now() + this.lifetime, (into, at, room) => transport.packResponse!(sent, into, at, room))) {
        if (this.timer === undefined) this.arm();
        return;
      }
    }
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
    const packed = this.packed;
    if (packed !== undefined && packed.size > 0) {
      const hash = hashAscii(key);
      const record = hash < 0 ? undefined : packed.find(key, hash);
      if (record !== undefined) {
        this.transport.resendPacked!(record, ignore);
        return true;
      }
    }
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    // a failed resend over UDP ends nothing the TU still follows (§17.2.4 would terminate the
    // transaction, which Timer J does anyway)
    this.transport.resendResponse(entry.sent, ignore);
    return true;
  }

  get size(): number {
    return this.entries.size + (this.packed?.size ?? 0);
  }

  /** Packed records dropped before Timer J because their ring was at its bound. */
  get evicted(): number {
    return this.packed?.evicted ?? 0;
  }

  /** Forget every entry and stop the timer (shutdown). */
  close(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.entries.clear();
    this.packed?.clear();
    this.queue = [];
    this.head = 0;
  }

  private arm(): void {
    const first = this.queue[this.head]?.expires;
    const oldest = this.packed?.oldestExpiry;
    if (first === undefined && oldest === undefined) return;
    const expires = Math.min(first ?? Infinity, oldest ?? Infinity);
    const delay = Math.max(0, expires - this.clock.now()) + SWEEP_SLACK_MS;
    this.timer = this.clock.setTimeout(() => this.sweep(), delay);
  }

  private sweep(): void {
    this.timer = undefined;
    const now = this.clock.now();
    this.packed?.expire(now);
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

/**
 * The packed records' bound per transaction layer (per SIP core). 64 MiB hold 32 s of 200s of
 * about 1 KB at 2,000 REGISTERs a second; at higher rates the oldest go before Timer J.
 */
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
