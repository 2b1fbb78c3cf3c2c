/**
 * G.711 (ITU-T G.711, 1988): µ-law (PCMU, RTP payload type 0) and A-law (PCMA, type 8), one byte
 * per sample at 8 kHz (RFC 3551 §4.5.14). Samples are 16-bit linear PCM; the law works on the top
 * 14 (µ-law) or 13 (A-law) bits of them.
 *
 * Every conversion is a table lookup: the tables are built once at load (2 × 256 decode entries,
 * 2 × 65,536 encode entries indexed by the sample's 16 bits, and the two 256-entry direct
 * conversions between the laws), so that a 20 ms frame costs 160 lookups.
 */

/** µ-law's bias: 33 in 14-bit units, written here at 16 bits (G.711 Table 2a's segment origin). */
const MU_BIAS = 0x84;
/** Largest magnitude µ-law encodes before the bias would overflow its 8 segments. */
const MU_CLIP = 32635;

/** G.711 µ-law of one 16-bit sample (computed; the tables below are built from it). */
function muLawOf(sample: number): number {
  let magnitude = sample < 0 ? -sample : sample;
  const sign = sample < 0 ? 0x80 : 0x00;
  if (magnitude > MU_CLIP) magnitude = MU_CLIP;
  magnitude += MU_BIAS;
  // The segment is the position of the highest set bit above bit 7 (segments 0..7).
  let segment = 0;
  for (let v = magnitude >> 8; v > 0; v >>= 1) segment++;
  const step = (magnitude >> (segment + 3)) & 0x0f;
  // The code word's bits are sent inverted (G.711 §3, µ-law: "all bits inverted").
  return ~(sign | (segment << 4) | step) & 0xff;
}

function linearOfMuLaw(code: number): number {
  const c = ~code & 0xff;
  const segment = (c >> 4) & 0x07;
  const magnitude = ((((c & 0x0f) << 3) + MU_BIAS) << segment) - MU_BIAS;
  return c & 0x80 ? -magnitude : magnitude;
}

/** G.711 A-law of one 16-bit sample. */
function aLawOf(sample: number): number {
  // A-law's sign bit is 1 for positive values, and the even bits are inverted (XOR 0x55).
  const sign = sample >= 0 ? 0x80 : 0x00;
  let magnitude = sample >= 0 ? sample : -sample - 1;
  if (magnitude > 0x7fff) magnitude = 0x7fff;
  let code: number;
  if (magnitude < 256) {
    code = magnitude >> 4;
  } else {
    let segment = 1;
    for (let v = magnitude >> 9; v > 0; v >>= 1) segment++;
    code = (segment << 4) | ((magnitude >> (segment + 3)) & 0x0f);
  }
  return (sign | code) ^ 0x55;
}

function linearOfALaw(code: number): number {
  const c = code ^ 0x55;
  const segment = (c >> 4) & 0x07;
  let magnitude = ((c & 0x0f) << 4) + 8;
  if (segment > 0) magnitude = (magnitude + 0x100) << (segment - 1);
  return c & 0x80 ? magnitude : -magnitude;
}

const MU_DECODE = new Int16Array(256);
const A_DECODE = new Int16Array(256);
const MU_ENCODE = new Uint8Array(65536);
const A_ENCODE = new Uint8Array(65536);
const MU_TO_A = new Uint8Array(256);
const A_TO_MU = new Uint8Array(256);

for (let i = 0; i < 256; i++) {
  MU_DECODE[i] = linearOfMuLaw(i);
  A_DECODE[i] = linearOfALaw(i);
}
for (let i = 0; i < 65536; i++) {
  const sample = i < 32768 ? i : i - 65536;
  MU_ENCODE[i] = muLawOf(sample);
  A_ENCODE[i] = aLawOf(sample);
}
for (let i = 0; i < 256; i++) {
  MU_TO_A[i] = A_ENCODE[MU_DECODE[i]! & 0xffff]!;
  A_TO_MU[i] = MU_ENCODE[A_DECODE[i]! & 0xffff]!;
}

export type G711Law = 'PCMU' | 'PCMA';

/** Decode G.711 bytes into `out` (at least `codes.length` samples); returns the sample count. */
export function g711Decode(law: G711Law, codes: Uint8Array, out: Int16Array): number {
  const table = law === 'PCMU' ? MU_DECODE : A_DECODE;
  const n = codes.length;
  for (let i = 0; i < n; i++) out[i] = table[codes[i]!]!;
  return n;
}

/** Encode `count` samples of `pcm` (from `offset`) into `out`. */
export function g711Encode(law: G711Law, pcm: Int16Array, out: Uint8Array, count = pcm.length, offset = 0): void {
  const table = law === 'PCMU' ? MU_ENCODE : A_ENCODE;
  for (let i = 0; i < count; i++) out[i] = table[pcm[offset + i]! & 0xffff]!;
}

/** One law's bytes rewritten in the other, in place or into `out`. */
export function g711Convert(from: G711Law, to: G711Law, codes: Uint8Array, out: Uint8Array = codes): void {
  if (from === to) {
    if (out !== codes) out.set(codes);
    return;
  }
  const table = from === 'PCMU' ? MU_TO_A : A_TO_MU;
  for (let i = 0; i < codes.length; i++) out[i] = table[codes[i]!]!;
}

/** The code of digital silence in each law (µ-law 0xFF, A-law 0xD5): what a frame of zeros encodes to. */
export const G711_SILENCE: Readonly<Record<G711Law, number>> = { PCMU: MU_ENCODE[0]!, PCMA: A_ENCODE[0]! };

/** Single-sample forms, for tests and the odd caller. */
export function muLawEncode(sample: number): number {
  return MU_ENCODE[sample & 0xffff]!;
}
export function muLawDecode(code: number): number {
  return MU_DECODE[code & 0xff]!;
}
export function aLawEncode(sample: number): number {
  return A_ENCODE[sample & 0xffff]!;
}
export function aLawDecode(code: number): number {
  return A_DECODE[code & 0xff]!;
}
