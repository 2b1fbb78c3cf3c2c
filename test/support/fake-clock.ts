import type { Clock, TimerHandle } from '../../src/lib/clock.js';

interface Pending {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** A Clock whose time moves only when a test calls `advance`; timers fire in time order. */
export class FakeClock implements Clock {
  private time = 0;
  private seq = 0;
  private pending: Pending[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const p = { id: ++this.seq, at: this.time + Math.max(0, ms), fn };
    this.pending.push(p);
    return p;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending = this.pending.filter((p) => p !== handle);
  }

  /** Number of timers waiting. */
  get size(): number {
    return this.pending.length;
  }

  /** Move time forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.pending) if (p.at <= end && (!next || p.at < next.at || (p.at === next.at && p.id < next.id))) next = p;
      if (!next) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.time = next.at;
      next.fn();
    }
    this.time = end;
  }
}
