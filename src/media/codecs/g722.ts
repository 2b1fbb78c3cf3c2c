/**
 * G.722 decoder (ITU-T G.722, 7 kHz audio-coding within 64 kbit/s), mode 1: 64 kbit/s, each octet
 * one 16 kHz sample pair: the higher sub-band's 2-bit code IH in the two most significant bits, the
 * lower sub-band's 6-bit code ILR in the six others (G.722 §1.4.4 "Multiplexer").
 *
 * Written from the Recommendation's block diagrams (§6, the decoder; §4, the receive QMF): two
 * sub-band ADPCM decoders, each with an adaptive quantiser scale (LOGSCL/SCALEL, LOGSCH/SCALEH)
 * and an adaptive predictor of two poles and six zeros (UPPOL1, UPPOL2, UPZERO, FILTEP, FILTEZ),
 * then the 24-tap receive quadrature mirror filter that makes the two 8 kHz bands one 16 kHz
 * signal. The arithmetic is the Recommendation's: 16-bit values, products shifted right by 15,
 * sums saturated, so that the output is bit-exact with other conformant decoders.
 *
 * RFC 3551 §4.5.2: "Even though the actual sampling rate for G.722 audio is 16,000 Hz, the RTP
 * clock rate for the G722 payload format is 8,000 Hz": one octet (two samples) per clock tick.
 */

/** The output rate, Hz. */
export const G722_SAMPLE_RATE = 16000;

// INVQBL: the 6-bit inverse quantiser's levels (Table 6/G.722 output values), × 8 as the
// Recommendation's fixed-point tables hold them, indexed by the code ILR. Codes 0..3 are never sent.
const QM6 = Int16Array.from([
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
  -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
  24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
  4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
]);
// INVQAL: the 4-bit inverse quantiser (the 6-bit code without its two least significant bits),
// the one the predictor and the scale adaptation use in every mode.
const QM4 = Int16Array.from([0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0]);
// INVQAH: the higher sub-band's 2-bit inverse quantiser.
const QM2 = Int16Array.from([-7408, -1616, 7408, 1616]);
// LOGSCL: the log scale factor multiplier W_L of each 4-bit code (by its magnitude).
const WL = Int16Array.from([-60, 3042, 1198, 538, 334, 172, 58, -30, 3042, 1198, 538, 334, 172, 58, -30, -60]);
// LOGSCH: W_H of each 2-bit code.
const WH = Int16Array.from([798, -214, 798, -214]);
// SCALEL/SCALEH: the inverse log table ILB, 2^(i/32) × 2048.
const ILB = Int16Array.from([
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
  2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
]);
// The receive QMF's coefficients h0, h2, …, h22 (Table 11/G.722); the odd ones h1, h3, …, h23
// are the same in reverse order (the filter is symmetric).
const QMF_EVEN = Int32Array.from([3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11]);

function sat16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/** The Recommendation's MULT: (a × b) >> 15 on 16-bit operands. */
function mult(a: number, b: number): number {
  return (a * b) >> 15;
}

/** One sub-band's adaptive predictor: 2 poles, 6 zeros (§6.2.1.x: UPPOL2, UPPOL1, UPZERO, FILTEP, FILTEZ, PREDIC). */
class BandPredictor {
  /** Pole coefficients A1, A2. */
  private a1 = 0;
  private a2 = 0;
  /** Zero coefficients B1..B6 and the quantised differences D1..D6 (index 0 unused). */
  private readonly b = new Int32Array(7);
  private readonly d = new Int32Array(7);
  /** Partially reconstructed signal P, delayed one and two samples. */
  private p1 = 0;
  private p2 = 0;
  /** Reconstructed signal R, delayed one and two samples. */
  private r1 = 0;
  private r2 = 0;
  /** The zero section's output SZ and the whole prediction S for the next sample. */
  private sz = 0;
  s = 0;

  /** Adapts to the quantised difference `dq` of the current sample and predicts the next. */
  update(dq: number): void {
    // PARREC and RECONS (predictor side): P = DQ + SZ, R = S + DQ.
    const p = sat16(dq + this.sz);
    const r = sat16(this.s + dq);
    // UPPOL2: A2 moves by the sign agreement of P with its two past values, with leakage.
    const sg0 = p >> 15;
    const sg1 = this.p1 >> 15;
    const sg2 = this.p2 >> 15;
    const wd1 = sat16(this.a1 * 4);
    let wd2 = sg0 === sg1 ? -wd1 : wd1;
    if (wd2 > 32767) wd2 = 32767;
    wd2 >>= 7;
    const wd3 = sg0 === sg2 ? 128 : -128;
    let a2 = wd2 + wd3 + ((this.a2 * 32512) >> 15);
    if (a2 > 12288) a2 = 12288;
    else if (a2 < -12288) a2 = -12288;
    // UPPOL1: A1 likewise, bounded by 15360 − |A2| so that the pole pair stays stable.
    let a1 = (sg0 === sg1 ? 192 : -192) + ((this.a1 * 32640) >> 15);
    const bound = 15360 - a2;
    if (a1 > bound) a1 = bound;
    else if (a1 < -bound) a1 = -bound;
    this.a1 = a1;
    this.a2 = a2;
    // UPZERO: each B_i moves by ±128 as DQ's sign agrees with D_i's (nothing when DQ is 0), with leakage.
    const step = dq === 0 ? 0 : 128;
    const sgd = dq >> 15;
    for (let i = 1; i <= 6; i++) {
      const agree = sgd === this.d[i]! >> 15;
      this.b[i] = (agree ? step : -step) + ((this.b[i]! * 32640) >> 15);
    }
    // DELAYA: shift the delay lines.
    for (let i = 6; i > 1; i--) this.d[i] = this.d[i - 1]!;
    this.d[1] = dq;
    this.p2 = this.p1;
    this.p1 = p;
    this.r2 = this.r1;
    this.r1 = r;
    // FILTEP, FILTEZ, PREDIC: the next sample's prediction.
    const sp = sat16(mult(sat16(this.r1 * 2), this.a1) + mult(sat16(this.r2 * 2), this.a2));
    let sz = 0;
    for (let i = 6; i >= 1; i--) sz = sat16(sz + mult(sat16(this.d[i]! * 2), this.b[i]!));
    this.sz = sz;
    this.s = sat16(sp + sz);
  }
}

/** A G.722 decoder for one stream: keep one per direction, feed its payloads in order. */
export class G722Decoder {
  private readonly low = new BandPredictor();
  private readonly high = new BandPredictor();
  /** Log scale factors NBL, NBH and the quantiser scales DETL, DETH (their reset values, §6.3). */
  private nbl = 0;
  private nbh = 0;
  private detl = 32;
  private deth = 8;
  /**
   * The receive QMF's delay lines: the last 12 XD = RL − RH and XS = RL + RH, each a ring written
   * twice (at `pos` and `pos` + 12) so that the 12 latest are always 12 consecutive entries.
   */
  private readonly xd = new Int32Array(24);
  private readonly xs = new Int32Array(24);
  private pos = 0;

  /** Decodes `codes` into `out` (at least 2 × codes.length samples); returns the sample count. */
  decode(codes: Uint8Array, out: Int16Array): number {
    let o = 0;
    for (let k = 0; k < codes.length; k++) {
      const code = codes[k]!;
      const ilr = code & 0x3f;
      const ih = code >> 6;
      // Lower sub-band. INVQBL: the output's difference DL from all 6 bits; INVQAL: the
      // predictor's DLT from the top 4.
      const il4 = ilr >> 2;
      const dl = mult(this.detl, QM6[ilr]!);
      const rl = clamp15(this.low.s + dl);
      const dlt = mult(this.detl, QM4[il4]!);
      // LOGSCL and SCALEL: the next sample's scale.
      let nbl = ((this.nbl * 32512) >> 15) + WL[il4]!;
      if (nbl < 0) nbl = 0;
      else if (nbl > 18432) nbl = 18432;
      this.nbl = nbl;
      this.detl = scale(nbl, 8);
      this.low.update(dlt);

      // Higher sub-band: INVQAH, RECONS, LOGSCH, SCALEH.
      const dh = mult(this.deth, QM2[ih]!);
      const rh = clamp15(this.high.s + dh);
      let nbh = ((this.nbh * 32512) >> 15) + WH[ih]!;
      if (nbh < 0) nbh = 0;
      else if (nbh > 22528) nbh = 22528;
      this.nbh = nbh;
      this.deth = scale(nbh, 10);
      this.high.update(dh);

      // Receive QMF (§4.4): two output samples per sample pair.
      const xd = this.xd;
      const xs = this.xs;
      const p = this.pos;
      xd[p] = xd[p + 12] = rl - rh;
      xs[p] = xs[p + 12] = rl + rh;
      this.pos = p === 11 ? 0 : p + 1;
      // the i-th latest (i = 0: this one) is at p + 12 − i
      let xout1 = 0;
      let xout2 = 0;
      for (let i = 0; i < 12; i++) {
        xout1 += xd[p + 12 - i]! * QMF_EVEN[i]!;
        xout2 += xs[p + 12 - i]! * QMF_EVEN[11 - i]!;
      }
      // DEVIATION(ITU-T G.722 §4.4): the Recommendation's output is 14-bit; we keep 16 bits (a
      // shift of 11, not 13), full scale for a WAV file, as other 16-bit decoders do.
      out[o++] = sat16(xout1 >> 11);
      out[o++] = sat16(xout2 >> 11);
    }
    return o;
  }
}

/** The lower and higher bands' RECONS limit (15-bit signals). */
function clamp15(v: number): number {
  return v > 16383 ? 16383 : v < -16384 ? -16384 : v;
}

/** SCALEL (shift 8) / SCALEH (shift 10): the quantiser scale from the log scale factor. */
function scale(nb: number, shift: number): number {
  const wd1 = (nb >> 6) & 31;
  const wd2 = shift - (nb >> 11);
  const wd3 = wd2 >= 0 ? ILB[wd1]! >> wd2 : ILB[wd1]! << -wd2;
  return wd3 << 2;
}
