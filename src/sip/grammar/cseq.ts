import { GrammarError } from '../errors.js';
import { isToken, TOKEN } from './chars.js';
import { Scanner } from './scanner.js';

/**
 * CSeq (RFC 3261 §20.16): `1*DIGIT LWS Method`; "The sequence number MUST be expressible as a
 * 32-bit unsigned integer". (§8.1.1.5's "less than 2**31" binds the value a client starts with;
 * a receiver accepts any 32-bit number.)
 */
export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

export function parseCSeq(text: string): CSeq {
  return cseqIn(text, 0, text.length);
}

/** Methods common enough to be shared as literals, by length (no string made per CSeq). */
const COMMON_METHODS: string[][] = [];
for (const m of ['INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE']) {
  (COMMON_METHODS[m.length] ??= []).push(m);
}

/** The method at t[start, end): a common one as its shared literal, any other a slice. */
export function methodAt(t: string, start: number, end: number): string {
  const candidates = COMMON_METHODS[end - start];
  if (candidates !== undefined) {
    for (let i = 0; i < candidates.length; i++) {
      const m = candidates[i]!;
      let j = 0;
      while (j < m.length && t.charCodeAt(start + j) === m.charCodeAt(j)) j++;
      if (j === m.length) return m;
    }
  }
  return t.slice(start, end);
}

/** Parse the CSeq value at `t[start, end)` in place (whitespace around it allowed). */
export function cseqIn(t: string, start: number, end: number): CSeq {
  const n = end;
  let p = skipWsAt(t, start, n);
  const digitsStart = p;
  let seq = 0;
  while (p < n) {
    const c = t.charCodeAt(p);
    if (c < 0x30 || c > 0x39) break;
    seq = seq * 10 + (c - 0x30);
    p++;
  }
  if (p === digitsStart) throw new GrammarError('expected sequence number', p);
  if (p - digitsStart > 10 || seq > 2 ** 32 - 1) throw new GrammarError('sequence number must be a 32-bit unsigned integer', p);
  const before = p;
  p = skipWsAt(t, p, n);
  if (p === before) throw new GrammarError('expected whitespace after sequence number', p);
  const methodStart = p;
  while (p < n) {
    const c = t.charCodeAt(p);
    if (c > 127 || TOKEN[c] !== 1) break;
    p++;
  }
  if (p === methodStart) throw new GrammarError('expected method', p);
  const method = methodAt(t, methodStart, p);
  if (skipWsAt(t, p, n) !== n) throw new GrammarError('unexpected text after method', p);
  return { seq, method };
}

function skipWsAt(t: string, p: number, n = t.length): number {
  while (p < n) {
    const c = t.charCodeAt(p);
    if (c !== 0x20 && c !== 0x09) break;
    p++;
  }
  return p;
}

/** 1*DIGIT, returned as text (callers check the range). */
export function readDigits(s: Scanner, what: string): string {
  const t = s.text;
  const start = s.pos;
  let p = start;
  while (p < t.length && t.charCodeAt(p) >= 0x30 && t.charCodeAt(p) <= 0x39) p++;
  if (p === start) s.fail(`expected ${what}`);
  s.pos = p;
  return t.slice(start, p);
}

/**
 * A whole header value that is one unsigned integer with optional whitespace around it,
 * no larger than `max` (Max-Forwards ≤ 255, Content-Length, delta-seconds ≤ 2**32-1).
 */
export function parseUnsigned(text: string, max: number, what: string): number {
  return unsignedIn(text, 0, text.length, max, what);
}

/** parseUnsigned of the value at `t[start, end)`, read in place. */
export function unsignedIn(t: string, start: number, end: number, max: number, what: string): number {
  const n = end;
  let p = skipWsAt(t, start, n);
  const digitsStart = p;
  // leading zeros do not count towards the length: "0068" is 68 (RFC 4475 §3.1.1.1)
  while (p < n - 1 && t.charCodeAt(p) === 0x30) {
    const d = t.charCodeAt(p + 1);
    if (d < 0x30 || d > 0x39) break;
    p++;
  }
  const significant = p;
  let v = 0;
  while (p < n) {
    const c = t.charCodeAt(p);
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
    p++;
  }
  if (p === digitsStart) throw new GrammarError(`expected ${what}`, p);
  const digitsEnd = p;
  if (skipWsAt(t, p, n) !== n) throw new GrammarError(`unexpected text after ${what}`, p);
  if (digitsEnd - significant > 16 || v > max) throw new GrammarError(`${what} out of range (at most ${max})`, n);
  return v;
}

/** A Method token check for the start line and CSeq. */
export function isMethod(s: string): boolean {
  return isToken(s);
}
