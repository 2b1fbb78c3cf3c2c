/**
 * Request counts per key for a routing script's `rateLimited` (Kamailio's pike, per key rather
 * than per address tree). A sliding window estimated from two fixed ones: the count of the
 * current window plus the previous window's, weighted by how much of it the sliding window still
 * covers. One per SIP core: with several cores a source whose Call-IDs spread over them is
 * counted in each (see docs/routing.md).
 */
export class RateCounter {
  private readonly windows = new Map<string, Slot>();
  private hits = 0;

  constructor(
    private readonly now: () => number = Date.now,
    /** Keys kept at most; beyond, stale ones are swept and, if need be, the oldest dropped. */
    private readonly maxKeys = 100_000,
  ) {}

  /** Count one request for `key`; true when it makes more than `max` in the last `perSeconds`. */
  hit(key: string, max: number, perSeconds: number): boolean {
    if (!(max >= 0) || !(perSeconds > 0)) throw new RangeError(`rateLimited: max >= 0 and perSeconds > 0 (got ${max}, ${perSeconds})`);
    const len = perSeconds * 1000;
    const now = this.now();
    const id = `${perSeconds}\0${key}`;
    let slot = this.windows.get(id);
    if (slot === undefined) {
      if (++this.hits % 4096 === 0 || this.windows.size >= this.maxKeys) this.sweep(now);
      slot = { start: now, count: 0, previous: 0, len };
      this.windows.set(id, slot);
    }
    const elapsed = now - slot.start;
    if (elapsed >= len) {
      // one window on: the current count becomes the previous one; two or more: both are stale
      slot.previous = elapsed < 2 * len ? slot.count : 0;
      slot.start += Math.floor(elapsed / len) * len;
      slot.count = 0;
    }
    slot.count++;
    const weight = 1 - (now - slot.start) / len;
    return slot.count + slot.previous * weight > max;
  }

  get size(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    for (const [id, s] of this.windows) if (now - s.start >= 2 * s.len) this.windows.delete(id);
    // still full: the oldest keys go (a Map iterates in insertion order)
    for (const id of this.windows.keys()) {
      if (this.windows.size < this.maxKeys) break;
      this.windows.delete(id);
    }
  }
}

interface Slot {
  start: number;
  count: number;
  previous: number;
  readonly len: number;
}
