/**
 * Time as the state machines see it. Production uses `systemClock`; tests inject a fake clock
 * (test/support/fake-clock.ts) and advance it, so timers run without waiting.
 */
export interface Clock {
  /** Milliseconds since an arbitrary origin, monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Opaque handle of a scheduled timer. */
export type TimerHandle = { readonly __timer: true } | object;

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // a pending SIP timer must not keep the process alive on shutdown
    if (typeof t === 'object' && t !== null && 'unref' in t) (t as { unref(): void }).unref();
    return t as unknown as TimerHandle;
  },
  clearTimeout: (h) => clearTimeout(h as unknown as ReturnType<typeof setTimeout>),
};
