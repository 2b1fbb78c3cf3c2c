import { ParleyError } from '../lib/errors.js';

/**
 * Latencies in a log-linear histogram, as HdrHistogram lays it out: values (in microseconds,
 * non-negative integers) below 2^SUB_BITS have a bucket each and are exact; above, every power of
 * two is cut into 2^SUB_BITS equal buckets, so a bucket is never wider than 1/2^SUB_BITS of the
 * values in it (0.8 % with SUB_BITS = 7). Memory is fixed (one Uint32Array of BUCKETS counts,
 * 13 KiB) however many samples are recorded, which is what a load tool holding thousands of
 * users for an hour needs.
 *
 * Percentiles are nearest-rank: p is the smallest recorded value v such that at least p % of the
 * samples are <= v. The histogram reports the upper end of v's bucket, clamped to the largest
 * value seen, so a reported percentile is never below the exact one and at most 1/128 above it.
 * min, max, count and mean are exact.
 */
export class LatencyHistogram {
  static readonly SUB_BITS = 7;
  /** Largest value kept apart: anything above counts in the last bucket (about 71 minutes). */
  static readonly MAX_MICROS = 2 ** 32 - 1;
  private static readonly SUB = 1 << LatencyHistogram.SUB_BITS;
  /** 2^7 exact buckets, then 128 per power of two from 2^7 to 2^31. */
  private static readonly BUCKETS = (32 - LatencyHistogram.SUB_BITS + 1) * LatencyHistogram.SUB;

  private readonly counts = new Uint32Array(LatencyHistogram.BUCKETS);
  private _count = 0;
  private _sum = 0;
  private _min = Infinity;
  private _max = 0;

  /** Record one latency in milliseconds (fractions kept to the microsecond). */
  recordMs(ms: number): void {
    this.recordMicros(Math.round(ms * 1000));
  }

  /** Record one latency in microseconds. A negative or non-finite value is a programmer error. */
  recordMicros(micros: number): void {
    if (!Number.isFinite(micros) || micros < 0) throw new ParleyError('ERR_INVALID_ARGUMENT', `LatencyHistogram: bad value ${micros}`);
    const v = Math.min(Math.round(micros), LatencyHistogram.MAX_MICROS);
    this.counts[LatencyHistogram.indexOf(v)]!++;
    this._count++;
    this._sum += v;
    if (v < this._min) this._min = v;
    if (v > this._max) this._max = v;
  }

  /** Add every sample of `other` (histograms of several workers, or of phases, merged). */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this._count += other._count;
    this._sum += other._sum;
    if (other._min < this._min) this._min = other._min;
    if (other._max > this._max) this._max = other._max;
  }

  get count(): number {
    return this._count;
  }

  /** Smallest sample in microseconds (undefined when empty). */
  get minMicros(): number | undefined {
    return this._count === 0 ? undefined : this._min;
  }

  /** Largest sample in microseconds (undefined when empty). */
  get maxMicros(): number | undefined {
    return this._count === 0 ? undefined : this._max;
  }

  /** Mean in microseconds (undefined when empty). */
  get meanMicros(): number | undefined {
    return this._count === 0 ? undefined : this._sum / this._count;
  }

  /**
   * The p-th percentile (0 < p <= 100) in microseconds, nearest-rank: the value at rank
   * ceil(p/100 * count) in sorted order, to the bucket's resolution. undefined when empty.
   */
  percentileMicros(p: number): number | undefined {
    if (!(p > 0 && p <= 100)) throw new ParleyError('ERR_INVALID_ARGUMENT', `LatencyHistogram: percentile ${p} is not in (0, 100]`);
    if (this._count === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this._count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.max(this._min, Math.min(this._max, LatencyHistogram.highestOf(i)));
    }
    return this._max;
  }

  /** The p-th percentile in milliseconds (see percentileMicros). */
  percentileMs(p: number): number | undefined {
    const v = this.percentileMicros(p);
    return v === undefined ? undefined : v / 1000;
  }

  /** The bucket of a value: exact below 2^SUB_BITS, else by its top SUB_BITS + 1 bits. */
  static indexOf(v: number): number {
    const SUB = LatencyHistogram.SUB;
    if (v < SUB) return v;
    const msb = 31 - Math.clz32(v); // >= SUB_BITS
    const shift = msb - LatencyHistogram.SUB_BITS;
    // top is in [SUB, 2 SUB): the leading 1 and the SUB_BITS bits after it
    const top = v >>> shift;
    return (shift + 1) * SUB + (top - SUB);
  }

  /** The largest value that falls in bucket `i`. */
  static highestOf(i: number): number {
    const SUB = LatencyHistogram.SUB;
    if (i < SUB) return i;
    const shift = Math.floor(i / SUB) - 1;
    const top = (i % SUB) + SUB;
    return (top + 1) * 2 ** shift - 1;
  }
}
