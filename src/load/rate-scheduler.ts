import { ParleyError } from '../lib/errors.js';
import type { Clock, TimerHandle } from '../lib/clock.js';

export interface RateSchedulerOptions {
  /** Starts per second (> 0). */
  readonly rate: number;
  /** How many starts in all: the scheduler stops after the last one. */
  readonly total: number;
  /**
   * Most starts the bucket may save up while the caller is behind (the event loop was busy, or
   * `maxInFlight` held starts back): after a stall they catch up in bursts of at most this many.
   * Default max(1, rate / 10): a tenth of a second's worth.
   */
  readonly burst?: number;
  /** Most tasks started and not yet reported `done`; further starts wait. Default unbounded. */
  readonly maxInFlight?: number;
  readonly clock: Clock;
}

/**
 * Starts `total` tasks at `rate` per second: a token bucket that fills at `rate` and holds at
 * most `burst` tokens, started full with one token so the first task starts at once. Each start
 * takes a token. With a steady caller this is a fixed interval (task i starts at i / rate); a
 * caller that falls behind catches up by at most `burst`, so the offered rate never exceeds
 * rate over any long window. Bounded in count (`total`), and in concurrency when `maxInFlight`
 * is set (the caller reports each task's end with `done()`).
 *
 * Time comes from the injected clock; the scheduler keeps one timer at a time.
 */
export class RateScheduler {
  readonly rate: number;
  readonly total: number;
  readonly burst: number;
  readonly maxInFlight: number;
  private readonly clock: Clock;
  private tokens = 1;
  private lastRefill = 0;
  private _started = 0;
  private _inFlight = 0;
  private timer: TimerHandle | undefined;
  private running = false;
  private finishedResolve: (() => void) | undefined;
  /** Resolves when every task has been started (or after stop()). */
  readonly finished: Promise<void>;

  constructor(
    options: RateSchedulerOptions,
    /** Starts task `index` (0-based). Exceptions propagate to the timer (a bug in the caller). */
    private readonly start: (index: number) => void,
  ) {
    if (!(options.rate > 0) || !Number.isFinite(options.rate)) throw new ParleyError('ERR_INVALID_ARGUMENT', `RateScheduler: rate must be > 0 (got ${options.rate})`);
    if (!Number.isInteger(options.total) || options.total < 0) throw new ParleyError('ERR_INVALID_ARGUMENT', `RateScheduler: total must be an integer >= 0 (got ${options.total})`);
    this.rate = options.rate;
    this.total = options.total;
    this.burst = Math.max(1, options.burst ?? Math.floor(options.rate / 10));
    this.maxInFlight = options.maxInFlight ?? Infinity;
    if (!(this.maxInFlight >= 1)) throw new ParleyError('ERR_INVALID_ARGUMENT', `RateScheduler: maxInFlight must be >= 1 (got ${options.maxInFlight})`);
    this.clock = options.clock;
    this.finished = new Promise((resolve) => (this.finishedResolve = resolve));
  }

  /** Tasks started so far. */
  get started(): number {
    return this._started;
  }

  /** Tasks started and not yet done. */
  get inFlight(): number {
    return this._inFlight;
  }

  /** Begin starting tasks (the first one synchronously). */
  run(): void {
    if (this.running || this._started >= this.total) {
      if (this._started >= this.total) this.finish();
      return;
    }
    this.running = true;
    this.lastRefill = this.clock.now();
    this.pump();
  }

  /** A started task has ended: frees its place under maxInFlight. */
  done(): void {
    if (this._inFlight > 0) this._inFlight--;
    // a start held back by maxInFlight may go now (its token is already there)
    if (this.running && this.timer === undefined) this.pump();
  }

  /** Start nothing more. `finished` resolves. */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.finish();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefill) * this.rate) / 1000);
    this.lastRefill = now;
  }

  private pump(): void {
    this.timer = undefined;
    if (!this.running) return;
    this.refill();
    while (this._started < this.total && this.tokens >= 1 && this._inFlight < this.maxInFlight) {
      this.tokens -= 1;
      const index = this._started++;
      this._inFlight++;
      this.start(index);
      if (!this.running) return;
    }
    if (this._started >= this.total) {
      this.running = false;
      this.finish();
      return;
    }
    // held back by maxInFlight: done() pumps again; no timer needed (the bucket keeps filling)
    if (this._inFlight >= this.maxInFlight) return;
    const wait = ((1 - this.tokens) * 1000) / this.rate;
    this.timer = this.clock.setTimeout(() => this.pump(), Math.max(0, wait));
  }

  private finish(): void {
    this.finishedResolve?.();
    this.finishedResolve = undefined;
  }
}
