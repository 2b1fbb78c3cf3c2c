import { HOSTCHAR, TOKEN } from './chars.js';
import type { Scanner } from './scanner.js';

/**
 * Header parameters: `*( SEMI generic-param )`, generic-param = token [ EQUAL gen-value ],
 * gen-value = token / host / quoted-string (RFC 3261 §25.1). Names are stored lower-case
 * (parameter names are case-insensitive, §7.3.1); values exactly as written, quotes included,
 * so that serialization gives back what was received. `null` is a parameter without a value.
 */
export type Params = Map<string, string | null>;

/** Read `;name[=value]…` from the scanner until something that is not a parameter. */
export function readParams(s: Scanner, into: Params = new Map()): Params {
  readSimpleParams(s, into);
  while (s.eat(0x3b /* ; */)) {
    const name = s.token('parameter name').toLowerCase();
    let value: string | null = null;
    if (s.eat(0x3d /* = */)) value = readGenValue(s);
    if (!into.has(name)) into.set(name, value);
  }
  return into;
}

/**
 * Fast path for the usual `;name=value;flag` with no whitespace and no quotes: consumes what it
 * can and leaves the scanner at the first parameter it cannot read this way (the general loop
 * goes on from there, so both paths give the same result).
 */
function readSimpleParams(s: Scanner, into: Params): void {
  const t = s.text;
  const n = t.length;
  let p = s.pos;
  while (p < n && t.charCodeAt(p) === 0x3b) {
    const nameStart = p + 1;
    let q = nameStart;
    let upper = false;
    while (q < n) {
      const c = t.charCodeAt(q);
      if (c > 127 || TOKEN[c] !== 1) break;
      if (c >= 0x41 && c <= 0x5a) upper = true;
      q++;
    }
    if (q === nameStart) return;
    const nameEnd = q;
    let value: string | null = null;
    const c = q < n ? t.charCodeAt(q) : -1;
    if (c === 0x3d /* = */) {
      const vStart = ++q;
      while (q < n) {
        const d = t.charCodeAt(q);
        if (d > 127 || (TOKEN[d] !== 1 && HOSTCHAR[d] !== 1 && d !== 0x3a)) break;
        q++;
      }
      if (q === vStart) return;
      const e = q < n ? t.charCodeAt(q) : -1;
      if (e !== -1 && e !== 0x3b && e !== 0x2c && e !== 0x3e) return;
      value = t.slice(vStart, q);
    } else if (c !== -1 && c !== 0x3b && c !== 0x2c && c !== 0x3e) return;
    let name = t.slice(nameStart, nameEnd);
    if (upper) name = name.toLowerCase();
    if (!into.has(name)) into.set(name, value);
    p = q;
    s.pos = p;
  }
}

/** gen-value = token / host / quoted-string; the quoted form is returned with its quotes. */
export function readGenValue(s: Scanner): string {
  const c = s.peek();
  if (c === 0x22) {
    const start = s.pos;
    s.quotedString();
    return s.text.slice(start, s.pos);
  }
  if (c === 0x5b /* [ */) {
    const end = s.text.indexOf(']', s.pos);
    if (end < 0) s.fail('unterminated IPv6 reference');
    const v = s.text.slice(s.pos, end + 1);
    s.pos = end + 1;
    return v;
  }
  const start = s.pos;
  const t = s.text;
  let p = start;
  while (p < t.length) {
    const ch = t.charCodeAt(p);
    // ":" admits the unbracketed IPv6address of Via received (RFC 3261 §20.42)
    if (ch > 127 || (TOKEN[ch] !== 1 && HOSTCHAR[ch] !== 1 && ch !== 0x3a)) break;
    p++;
  }
  if (p === start) s.fail('expected parameter value');
  s.pos = p;
  return t.slice(start, p);
}

/** A parameter value without its surrounding quotes (and with quoted-pairs resolved). */
export function unquote(v: string | null | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (v.length >= 2 && v.charCodeAt(0) === 0x22 && v.charCodeAt(v.length - 1) === 0x22) {
    return v.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return v;
}

/** `;a=b;c` — the serialized form of a parameter map. */
export function formatParams(params: ReadonlyMap<string, string | null>): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}
