import type { QueueLimits } from './in-flight.js';

/** Int32 counters per worker in the shared buffer. */
const FIELDS = 8;
const HANDED_MESSAGES = 0;
const HANDED_BYTES = 1;
const TAKEN_MESSAGES = 2;
const TAKEN_BYTES = 3;
/** Datagrams for this worker dropped because its hand-off queue was full. */
const SHED = 4;
/** Datagrams for this worker dropped because it had no channel (starting, or gone). */
const LOST = 5;
/** Datagrams handed to this worker by another, since the start (a stats figure). */
const HANDED_TOTAL = 6;

/**
 * The bound on the datagrams SIP workers hand each other (sip-server/workers, worker-udp.ts): each
 * worker reads its own UDP socket (SO_REUSEPORT, the kernel picks the socket by the sender's
 * address and port) and hands a datagram whose Call-ID belongs to another worker to that worker
 * directly. Nothing in between sees these hand-offs, so their count lives in shared memory, one
 * row of Int32 counters per worker, cumulative and wrapping (differences are taken modulo 2^32):
 * every worker that hands one adds it (Atomics), the worker that takes it adds what it took, the
 * difference is what waits in its channels. A worker that does not keep up (stuck in a routing
 * script) has its datagrams shed by the others beyond the bound (`sip.workerQueue`), as the socket
 * thread shed them before; the main thread reads the same counters for its stats line and its
 * one warning per episode (sip-worker-pool.ts), with no message of its own.
 */
export class HandOffBound {
  private readonly counters: Int32Array;

  constructor(
    /** From `HandOffBound.allocate`, shared by the main thread and every worker. */
    readonly buffer: SharedArrayBuffer,
    private readonly limits: QueueLimits,
  ) {
    this.counters = new Int32Array(buffer);
  }

  /** The shared memory for `workers` workers. */
  static allocate(workers: number): SharedArrayBuffer {
    return new SharedArrayBuffer(workers * FIELDS * Int32Array.BYTES_PER_ELEMENT);
  }

  /** Hand a datagram of `size` bytes to worker `k`? If so it is counted as handed; if not, as shed. */
  admit(k: number, size: number): boolean {
    const c = this.counters;
    const at = k * FIELDS;
    if (this.waitingMessages(k) >= this.limits.maxMessages || this.waitingBytes(k) >= this.limits.maxBytes) {
      Atomics.add(c, at + SHED, 1);
      return false;
    }
    Atomics.add(c, at + HANDED_MESSAGES, 1);
    Atomics.add(c, at + HANDED_BYTES, size);
    Atomics.add(c, at + HANDED_TOTAL, 1);
    return true;
  }

  /** A datagram for worker `k` could not be handed over (no channel to it): counted as lost. */
  lost(k: number): void {
    Atomics.add(this.counters, k * FIELDS + LOST, 1);
  }

  /** Worker `k` took `messages` handed datagrams of `bytes` bytes (whatever became of them). */
  took(k: number, messages: number, bytes: number): void {
    const at = k * FIELDS;
    Atomics.add(this.counters, at + TAKEN_MESSAGES, messages);
    Atomics.add(this.counters, at + TAKEN_BYTES, bytes);
  }

  /** Datagrams handed to worker `k` and not yet taken. */
  waitingMessages(k: number): number {
    const at = k * FIELDS;
    return (Atomics.load(this.counters, at + HANDED_MESSAGES) - Atomics.load(this.counters, at + TAKEN_MESSAGES)) | 0;
  }

  /** Bytes of them. */
  waitingBytes(k: number): number {
    const at = k * FIELDS;
    return (Atomics.load(this.counters, at + HANDED_BYTES) - Atomics.load(this.counters, at + TAKEN_BYTES)) | 0;
  }

  /**
   * Worker `k` is gone: what was handed to it is lost (returned, and no longer waiting, so that
   * its successor starts with an empty queue). Datagrams handed meanwhile by the others may be
   * counted in either; the counters stay consistent.
   */
  retire(k: number): number {
    const c = this.counters;
    const at = k * FIELDS;
    const messages = this.waitingMessages(k);
    const bytes = this.waitingBytes(k);
    Atomics.add(c, at + TAKEN_MESSAGES, messages);
    Atomics.add(c, at + TAKEN_BYTES, bytes);
    return messages;
  }

  /** Shed datagrams for worker `k` since the start. */
  shed(k: number): number {
    return Atomics.load(this.counters, k * FIELDS + SHED) >>> 0;
  }

  /** Lost datagrams for worker `k` since the start. */
  lostCount(k: number): number {
    return Atomics.load(this.counters, k * FIELDS + LOST) >>> 0;
  }

  /** Datagrams handed to worker `k` by the others since the start. */
  handedTotal(k: number): number {
    return Atomics.load(this.counters, k * FIELDS + HANDED_TOTAL) >>> 0;
  }
}
