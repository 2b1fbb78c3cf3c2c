/**
 * xorshift32 (Marsaglia, "Xorshift RNGs", 2003: shifts 13, 17, 5): a small seeded generator for
 * the fuzz tests, so that a failure replays from its seed.
 */

/** The next 32-bit unsigned value at each call (seed 0 is taken as 1: xorshift never leaves 0). */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** The same sequence scaled to [0, 1), as Math.random gives it. */
export function seededRandom(seed: number): () => number {
  const next = xorshift32(seed);
  return () => next() / 4294967296;
}
