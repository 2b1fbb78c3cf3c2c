import type { Clock } from '../../lib/clock.js';

/**
 * Says yes to the first sight of each key in a fixed window of time, no to the others: a worker
 * tells the socket thread of a source that authenticated once a minute at most, not at every
 * REGISTER (app/sip-worker.ts). One Set, emptied when a window ends; bounded by `maxKeys` (past it,
 * the set is emptied early, and a key may be reported twice in a window, which is harmless).
 */
export class OncePerWindow {
  private readonly seen = new Set<string>();
  private windowEnd = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly windowMs: number,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly maxKeys = 100_000,
  ) {}

  /** True the first time `key` is seen in the current window. */
  first(key: string): boolean {
    const now = this.clock.now();
    if (now >= this.windowEnd) {
      this.seen.clear();
      this.windowEnd = now + this.windowMs;
    }
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.maxKeys) this.seen.clear();
    this.seen.add(key);
    return true;
  }
}
