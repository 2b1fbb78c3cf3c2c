import type { HepCounts } from './hep-counts.js';

/** Runs `fn` once, soon (setImmediate: after this event-loop turn's I/O). */
export type Schedule = (fn: () => void) => void;

/**
 * The encoded HEP packets of one thread between capture and the collectors: pushed one at a time
 * on the SIP path, handed to `flush` together once per event-loop turn (a burst of a hundred
 * messages is one batch). At most `bound` wait; one more is dropped and counted for every
 * collector it was meant for, so a thread that captures faster than it can send loses capture,
 * never SIP.
 */
export class HepQueue {
  private items: Uint8Array[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(
    private readonly bound: number,
    /** How many collectors each packet is for (the drop count). */
    private readonly fanOut: number,
    private readonly counts: HepCounts,
    private readonly flush: (batch: readonly Uint8Array[], bytes: number) => void,
    private readonly schedule: Schedule = setImmediate,
  ) {}

  /** Packets waiting. */
  get size(): number {
    return this.items.length;
  }

  push(packet: Uint8Array): void {
    if (this.items.length >= this.bound) {
      this.counts.dropped += this.fanOut;
      return;
    }
    this.items.push(packet);
    this.bytes += packet.length;
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.run);
    }
  }

  /** Hand what waits to `flush` now (also at stop). */
  readonly run = (): void => {
    this.scheduled = false;
    if (this.items.length === 0) return;
    const batch = this.items;
    const bytes = this.bytes;
    this.items = [];
    this.bytes = 0;
    this.flush(batch, bytes);
  };
}
