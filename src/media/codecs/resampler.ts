/**
 * Integer-ratio resampling between a telephone rate (8 kHz for G.711, 16 kHz for wideband) and
 * Opus's 48 kHz, one frame at a time with the filter's history kept across frames (so frame edges
 * make no clicks).
 *
 * Both directions use one low-pass FIR (a Kaiser-windowed sinc) cut off just below the low rate's
 * Nyquist frequency: upsampling inserts L-1 zeros between samples and filters out the images;
 * downsampling filters out what would alias and keeps every L-th sample. Both are computed in
 * polyphase form, so the zeros are never multiplied and the dropped samples never computed.
 */

/** Taps per polyphase branch: 32 × L taps in all (192 at 8 ↔ 48 kHz). */
const TAPS_PER_PHASE = 32;
/** Kaiser β ≈ 7: about 70 dB of stop-band attenuation. */
const KAISER_BETA = 7;
/** Cut-off as a fraction of the low rate's Nyquist frequency (3.6 kHz at 8 kHz). */
const CUTOFF = 0.9;

export type ResampleRatio = 2 | 3 | 6;

/** Zeroth-order modified Bessel function of the first kind, by its power series (for the Kaiser window). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const half = x / 2;
  for (let k = 1; k < 50; k++) {
    term *= (half / k) * (half / k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

const FILTERS = new Map<number, Float64Array>();

/** The prototype low-pass at the high rate, normalised to a DC gain of 1. */
function lowPass(ratio: number): Float64Array {
  const cached = FILTERS.get(ratio);
  if (cached) return cached;
  const n = TAPS_PER_PHASE * ratio;
  const h = new Float64Array(n);
  const fc = CUTOFF / (2 * ratio); // cycles per high-rate sample
  const centre = (n - 1) / 2;
  const i0Beta = besselI0(KAISER_BETA);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const t = i - centre;
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
    const r = (2 * i) / (n - 1) - 1;
    const window = besselI0(KAISER_BETA * Math.sqrt(Math.max(0, 1 - r * r))) / i0Beta;
    h[i] = sinc * window;
    sum += h[i]!;
  }
  for (let i = 0; i < n; i++) h[i] = h[i]! / sum;
  FILTERS.set(ratio, h);
  return h;
}

function clamp16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/** Low rate → high rate (×ratio). */
export class Upsampler {
  readonly ratio: ResampleRatio;
  /** phases[p][k]: the tap h[k·ratio + p] times ratio (the gain lost to the inserted zeros). */
  private readonly phases: Float64Array[];
  /** The last TAPS_PER_PHASE - 1 input samples, then the frame: history ‖ input. */
  private buffer: Float64Array;
  private readonly history = TAPS_PER_PHASE - 1;

  constructor(ratio: ResampleRatio) {
    this.ratio = ratio;
    const h = lowPass(ratio);
    this.phases = [];
    for (let p = 0; p < ratio; p++) {
      const phase = new Float64Array(TAPS_PER_PHASE);
      for (let k = 0; k < TAPS_PER_PHASE; k++) phase[k] = h[k * ratio + p]! * ratio;
      this.phases.push(phase);
    }
    this.buffer = new Float64Array(this.history + 960);
  }

  /** Resample `input` into `out` (at least input.length × ratio samples); returns the count written. */
  process(input: Int16Array, out: Int16Array, count = input.length): number {
    const hist = this.history;
    if (this.buffer.length < hist + count) {
      const bigger = new Float64Array(hist + count);
      bigger.set(this.buffer.subarray(0, hist));
      this.buffer = bigger;
    }
    const buf = this.buffer;
    for (let i = 0; i < count; i++) buf[hist + i] = input[i]!;
    const ratio = this.ratio;
    const phases = this.phases;
    // Output sample j·ratio + p = Σ_k h[k·ratio + p] · x[j - k] (x at the low rate).
    for (let j = 0; j < count; j++) {
      const newest = hist + j;
      for (let p = 0; p < ratio; p++) {
        const c = phases[p]!;
        let acc = 0;
        for (let k = 0; k < TAPS_PER_PHASE; k++) acc += c[k]! * buf[newest - k]!;
        out[j * ratio + p] = clamp16(acc);
      }
    }
    buf.copyWithin(0, count, count + hist);
    return count * ratio;
  }

  reset(): void {
    this.buffer.fill(0);
  }
}

/** High rate → low rate (÷ratio). Input frames must hold a multiple of `ratio` samples. */
export class Downsampler {
  readonly ratio: ResampleRatio;
  private readonly taps: Float64Array;
  private buffer: Float64Array;
  private readonly history: number;

  constructor(ratio: ResampleRatio) {
    this.ratio = ratio;
    this.taps = lowPass(ratio);
    this.history = this.taps.length - 1;
    this.buffer = new Float64Array(this.history + 960 * 2);
  }

  /** Resample `input` (count a multiple of ratio) into `out`; returns the count written. */
  process(input: Int16Array, out: Int16Array, count = input.length): number {
    const hist = this.history;
    if (this.buffer.length < hist + count) {
      const bigger = new Float64Array(hist + count);
      bigger.set(this.buffer.subarray(0, hist));
      this.buffer = bigger;
    }
    const buf = this.buffer;
    for (let i = 0; i < count; i++) buf[hist + i] = input[i]!;
    const ratio = this.ratio;
    const taps = this.taps;
    const n = taps.length;
    const outputs = Math.floor(count / ratio);
    for (let j = 0; j < outputs; j++) {
      // y[j] = Σ_i h[i] · x[j·ratio + ratio - 1 - i]
      const newest = hist + j * ratio + ratio - 1;
      let acc = 0;
      for (let i = 0; i < n; i++) acc += taps[i]! * buf[newest - i]!;
      out[j] = clamp16(acc);
    }
    buf.copyWithin(0, count, count + hist);
    return outputs;
  }

  reset(): void {
    this.buffer.fill(0);
  }
}
