/**
 * Notices a SIP worker whose event loop has stopped turning (sip-server/workers/sip-worker-pool.ts):
 * a routing script in an endless loop, a regular expression backtracking for hours. Such a worker
 * takes nothing more; its Call-IDs go unanswered and, without the queue bound, its queue grows
 * until the process runs out of memory.
 *
 * Each worker advances a counter in shared memory from a timer of its event loop (`beat`), every
 * `period` ms; the socket thread looks at every counter as often. A counter that has not moved
 * for `silentMs` means the worker's event loop has not run a timer for that long: the worker is
 * reported (`onSilent`), and the pool terminates it and starts another.
 *
 * - The heartbeat costs no message and no wake-up of the socket thread: a store to shared memory.
 * - A long but legitimate burst (a major GC, a large batch, a routing script loaded synchronously)
 *   delays the worker's timers by the burst; `silentMs` is seconds, far above any such burst.
 * - If the socket thread's own checks came late (its event loop was held up), the silence it
 *   would measure is its own: every worker is given a fresh start instead.
 */

/** Socket thread → worker: advance the first Int32 of `b` every `ms` from the event loop. */
export interface Heartbeat {
  readonly k: 'heartbeat';
  readonly b: SharedArrayBuffer;
  readonly ms: number;
}

/** In a worker: start the heartbeat the socket thread asked for (the timer does not keep the thread alive). */
export function beat(m: Heartbeat): NodeJS.Timeout {
  const counter = new Int32Array(m.b);
  const timer = setInterval(() => Atomics.add(counter, 0, 1), m.ms);
  timer.unref();
  return timer;
}

interface Watched {
  readonly counter: Int32Array;
  last: number;
  /** When the counter last moved (or the watch began). */
  seen: number;
}

export class WorkerWatchdog {
  /** How often a worker beats and the socket thread looks, ms. */
  readonly period: number;
  private readonly watched = new Map<number, Watched>();
  /** Heartbeats given to workers not ready yet. */
  private readonly pending = new Map<number, Int32Array>();
  private timer: NodeJS.Timeout | undefined;
  private lastCheck = 0;

  constructor(
    /** A worker silent this long is reported, ms. */
    readonly silentMs: number,
    /** Called once per silence (the worker is no longer watched then). */
    private readonly onSilent: (index: number, silentMs: number) => void,
    private readonly now: () => number = Date.now,
  ) {
    if (silentMs <= 0) throw new RangeError('WorkerWatchdog: silentMs must be positive');
    this.period = Math.min(1000, Math.max(20, Math.floor(silentMs / 5)));
  }

  /** A new heartbeat for worker `index` (post it to the worker); it is watched from `start(index)`. */
  heartbeat(index: number): Heartbeat {
    const b = new SharedArrayBuffer(4);
    this.watched.delete(index);
    this.pending.set(index, new Int32Array(b));
    return { k: 'heartbeat', b, ms: this.period };
  }

  /** Start watching worker `index` (it is ready: its event loop runs and beats). */
  start(index: number): void {
    const counter = this.pending.get(index);
    if (counter === undefined) return;
    this.pending.delete(index);
    this.watched.set(index, { counter, last: Atomics.load(counter, 0), seen: this.now() });
    if (this.timer === undefined) {
      this.lastCheck = this.now();
      this.timer = setInterval(() => this.check(), this.period);
      this.timer.unref();
    }
  }

  /** Stop watching worker `index` (it exited, or is stopping). */
  forget(index: number): void {
    this.watched.delete(index);
    this.pending.delete(index);
  }

  /** Stop every watch. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.watched.clear();
    this.pending.clear();
  }

  /** Look at every counter (public for tests: the timer calls it). */
  check(): void {
    const now = this.now();
    // this thread was held up itself (a long GC, a slow synchronous step): what it would measure
    // is its own silence, not the workers'
    const late = now - this.lastCheck > this.silentMs / 2;
    this.lastCheck = now;
    for (const [index, w] of this.watched) {
      const v = Atomics.load(w.counter, 0);
      if (v !== w.last || late) {
        w.last = v;
        w.seen = now;
      } else if (now - w.seen > this.silentMs) {
        this.watched.delete(index);
        this.onSilent(index, now - w.seen);
      }
    }
  }
}
