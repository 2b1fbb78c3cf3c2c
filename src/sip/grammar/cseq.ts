import { isToken } from './chars.js';
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
  const s = new Scanner(text);
  s.skipWs();
  const digits = readDigits(s, 'sequence number');
  const seq = Number(digits);
  if (digits.length > 10 || seq > 2 ** 32 - 1) s.fail('sequence number must be a 32-bit unsigned integer');
  const before = s.pos;
  s.skipWs();
  if (s.pos === before) s.fail('expected whitespace after sequence number');
  const method = s.token('method');
  s.skipWs();
  if (!s.done) s.fail('unexpected text after method');
  return { seq, method };
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
  const s = new Scanner(text);
  s.skipWs();
  const digits = readDigits(s, what);
  s.skipWs();
  if (!s.done) s.fail(`unexpected text after ${what}`);
  // strip leading zeros before the length check: "0068" is 68 (RFC 4475 §3.1.1.1)
  const trimmed = digits.replace(/^0+(?=\d)/, '');
  const n = Number(trimmed);
  if (trimmed.length > 16 || n > max) s.fail(`${what} out of range (at most ${max})`);
  return n;
}

/** A Method token check for the start line and CSeq. */
export function isMethod(s: string): boolean {
  return isToken(s);
}
