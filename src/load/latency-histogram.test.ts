import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParleyError } from '../lib/errors.js';
import { LatencyHistogram } from './latency-histogram.js';
import { prng } from '../../test/support/prng.js';

/** Nearest-rank percentile of the exact samples: the value at rank ceil(p/100 n), sorted. */
function exactPercentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}


/** `got` is the exact value or above it by at most the resolution, 1/128. */
function assertNear(got: number | undefined, exact: number): void {
  assert.ok(got !== undefined && got >= exact && got <= exact * (1 + 1 / 128), `${got} is not within [${exact}, ${exact} + 1/128]`);
}

describe('LatencyHistogram', () => {
  it('is empty at first: no percentiles, no min, max or mean', () => {
    const h = new LatencyHistogram();
    assert.equal(h.count, 0);
    assert.equal(h.percentileMicros(50), undefined);
    assert.equal(h.minMicros, undefined);
    assert.equal(h.maxMicros, undefined);
    assert.equal(h.meanMicros, undefined);
  });

  it('is exact below 128 µs: 1..100 gives p50 = 50, p90 = 90, p99 = 99, max 100', () => {
    const h = new LatencyHistogram();
    for (let v = 100; v >= 1; v--) h.recordMicros(v);
    assert.equal(h.percentileMicros(50), 50);
    assert.equal(h.percentileMicros(90), 90);
    assert.equal(h.percentileMicros(99), 99);
    assert.equal(h.percentileMicros(100), 100);
    assert.equal(h.minMicros, 1);
    assert.equal(h.maxMicros, 100);
    assert.equal(h.meanMicros, 50.5);
  });

  it('nearest rank: one sample is every percentile; two samples split at p50', () => {
    const h = new LatencyHistogram();
    h.recordMs(12.5);
    // clamped to the largest sample: exact
    assert.equal(h.percentileMs(1), 12.5);
    assert.equal(h.percentileMs(100), 12.5);
    h.recordMs(40);
    // rank ceil(0.5 * 2) = 1: the smaller one (to the bucket's resolution); p50.1 needs rank 2
    assertNear(h.percentileMs(50), 12.5);
    assert.equal(h.percentileMs(50.1), 40);
  });

  it('every bucket holds the values that map to it and no other (index and bound agree)', () => {
    for (let i = 0; i < 3328; i++) {
      const hi = LatencyHistogram.highestOf(i);
      assert.equal(LatencyHistogram.indexOf(hi), i, `highest of ${i}`);
      if (hi + 1 <= LatencyHistogram.MAX_MICROS) assert.equal(LatencyHistogram.indexOf(hi + 1), i + 1, `after ${i}`);
    }
    assert.equal(LatencyHistogram.highestOf(3327), 2 ** 32 - 1);
  });

  it('stays within 1/128 above the exact percentile on random log-spread samples (3 seeds)', () => {
    for (const seed of [1, 42, 20261122]) {
      const rnd = prng(seed);
      const h = new LatencyHistogram();
      const samples: number[] = [];
      for (let i = 0; i < 20_000; i++) {
        // 10 µs .. ~10 s, log-uniform: every bucket scale gets samples
        const v = Math.round(10 * 10 ** (6 * rnd()));
        samples.push(v);
        h.recordMicros(v);
      }
      samples.sort((a, b) => a - b);
      for (const p of [1, 10, 25, 50, 75, 90, 99, 99.9, 100]) {
        const exact = exactPercentile(samples, p);
        const got = h.percentileMicros(p)!;
        assert.ok(got >= exact, `seed ${seed} p${p}: ${got} < exact ${exact}`);
        assert.ok(got <= exact * (1 + 1 / 128), `seed ${seed} p${p}: ${got} > exact ${exact} + 1/128`);
      }
      assert.equal(h.minMicros, samples[0]);
      assert.equal(h.maxMicros, samples.at(-1));
      assert.equal(h.count, samples.length);
    }
  });

  it('a bimodal distribution: p50 in the fast mode, p99 in the slow one', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 950; i++) h.recordMs(2);
    for (let i = 0; i < 50; i++) h.recordMs(900);
    assertNear(h.percentileMs(50), 2);
    assertNear(h.percentileMs(95), 2);
    assertNear(h.percentileMs(99), 900);
    assert.equal(h.percentileMs(100), 900);
  });

  it('merge gives the histogram of all samples', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    for (let v = 1; v <= 5000; v += 7) {
      (v % 2 ? a : b).recordMicros(v * 13);
      all.recordMicros(v * 13);
    }
    a.merge(b);
    for (const p of [50, 90, 99, 100]) assert.equal(a.percentileMicros(p), all.percentileMicros(p));
    assert.equal(a.count, all.count);
    assert.equal(a.minMicros, all.minMicros);
    assert.equal(a.meanMicros, all.meanMicros);
  });

  it('keeps values above 71 minutes in the last bucket and refuses negative or NaN values', () => {
    const h = new LatencyHistogram();
    h.recordMicros(2 ** 40);
    assert.equal(h.maxMicros, LatencyHistogram.MAX_MICROS);
    for (const bad of [-1, Number.NaN, Infinity]) {
      assert.throws(() => h.recordMicros(bad), (e: unknown) => e instanceof ParleyError && e.code === 'ERR_INVALID_ARGUMENT');
    }
    assert.throws(() => h.percentileMicros(0), ParleyError);
    assert.throws(() => h.percentileMicros(101), ParleyError);
  });
});
