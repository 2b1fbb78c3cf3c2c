import { HOSTCHAR, TOKEN } from './chars.js';
import type { Scanner } from './scanner.js';

/**
 * Parameters of a header value or URI (RFC 3261 §7.3.1, §19.1.1, §25.1), in the order received.
 * Names are stored lower-case (parameter names are case-insensitive); values exactly as written,
 * quotes included, so that serialization gives back what was received. `null` is a parameter
 * without a value. When a name appears twice the first one counts.
 *
 * Held as one flat array `[name, value, name, value, …]`: a value has a handful of parameters,
 * and a linear search of a short array costs less to build and to read than a Map (the parsers
 * build one per URI and per header value). Read it as a `ReadonlyMap`; it never changes once
 * built (`with` / `without` return a copy).
 */
export class Params<V extends string | null = string | null> implements ReadonlyMap<string, V> {
  /** `[name0, value0, name1, value1, …]`: names lower-case and distinct. Do not modify. */
  readonly list: ReadonlyArray<string | V>;

  constructor(list: ReadonlyArray<string | V> = []) {
    this.list = list;
  }

  /** From `[name, value]` pairs (names lower-cased; the first of a name counts). */
  static of<V extends string | null = string | null>(entries: Iterable<readonly [string, V]>): Params<V> {
    const list: Array<string | V> = [];
    for (const [k, v] of entries) list.push(k.toLowerCase(), v);
    return paramsOf(list);
  }

  get size(): number {
    return this.list.length >> 1;
  }

  /** The value of `name` (lower-case), `null` for a parameter without a value, undefined when absent. */
  get(name: string): V | undefined {
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) if (l[i] === name) return l[i + 1] as V;
    return undefined;
  }

  has(name: string): boolean {
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) if (l[i] === name) return true;
    return false;
  }

  /** A copy with `name` set to `value` (in its place when present, else last). */
  with(name: string, value: V): Params<V> {
    const key = name.toLowerCase();
    const l = this.list.slice();
    for (let i = 0; i < l.length; i += 2) {
      if (l[i] === key) {
        l[i + 1] = value;
        return new Params<V>(l);
      }
    }
    l.push(key, value);
    return new Params<V>(l);
  }

  /** A copy without `name`. */
  without(name: string): Params<V> {
    const key = name.toLowerCase();
    const l: Array<string | V> = [];
    const src = this.list;
    for (let i = 0; i < src.length; i += 2) if (src[i] !== key) l.push(src[i]!, src[i + 1] as V);
    return new Params<V>(l);
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) fn.call(thisArg, l[i + 1] as V, l[i] as string, this);
  }

  *entries(): MapIterator<[string, V]> {
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) yield [l[i] as string, l[i + 1] as V];
  }

  *keys(): MapIterator<string> {
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) yield l[i] as string;
  }

  *values(): MapIterator<V> {
    const l = this.list;
    for (let i = 0; i < l.length; i += 2) yield l[i + 1] as V;
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  /** `;a=b;c`, the serialized form. */
  toString(): string {
    return formatParams(this);
  }
}

/** The parameters of a value that has none (shared: a Params never changes). */
export const NO_PARAMS: Params = new Params([]);

/**
 * The Params of a list the parsers built by pushing `name, value` pairs as they read them: when a
 * name appears twice the first one is kept. Duplicates are looked for once, at the end: pairwise
 * for a few parameters, with a Set beyond (a line of thousands of parameters stays linear).
 */
export function paramsOf<V extends string | null>(list: Array<string | V>): Params<V> {
  const n = list.length;
  if (n === 0) return NO_PARAMS as Params<V>;
  let duplicate = false;
  if (n <= 32) {
    for (let i = 2; i < n && !duplicate; i += 2) for (let j = 0; j < i; j += 2) if (list[i] === list[j]) duplicate = true;
  } else {
    const seen = new Set<string | V>();
    for (let i = 0; i < n && !duplicate; i += 2) {
      if (seen.has(list[i]!)) duplicate = true;
      seen.add(list[i]!);
    }
  }
  if (!duplicate) return new Params<V>(list);
  const seen = new Set<string | V>();
  const kept: Array<string | V> = [];
  for (let i = 0; i < n; i += 2) {
    if (seen.has(list[i]!)) continue;
    seen.add(list[i]!);
    kept.push(list[i]!, list[i + 1] as V);
  }
  return new Params<V>(kept);
}

/** Read `;name[=value]…` from the scanner until something that is not a parameter. */
export function readParams(s: Scanner): Params {
  let list = readSimpleParams(s);
  while (s.eat(0x3b /* ; */)) {
    const name = lowerCase(s.token('parameter name'));
    let value: string | null = null;
    if (s.eat(0x3d /* = */)) value = readGenValue(s);
    if (list === undefined) list = [name, value];
    else list.push(name, value);
  }
  return list === undefined ? NO_PARAMS : paramsOf(list);
}

/**
 * Fast path for the usual `;name=value;flag` with no whitespace and no quotes: consumes what it
 * can and leaves the scanner at the first parameter it cannot read this way (the general loop
 * goes on from there, so both paths give the same result). Returns the pairs read, or undefined
 * when none: the list starts as a two-element literal, not as `[]` (whose first push reserves
 * room for 19 elements, kept as long as the message: most values have one or two parameters).
 */
function readSimpleParams(s: Scanner): Array<string | null> | undefined {
  let into: Array<string | null> | undefined;
  const t = s.text;
  const n = s.end;
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
    if (q === nameStart) return into;
    const nameEnd = q;
    let value: string | null = null;
    const c = q < n ? t.charCodeAt(q) : -1;
    if (c === 0x3d /* = */ && q + 1 < n && t.charCodeAt(q + 1) === 0x22) {
      // a quoted value without a quoted-pair (+sip.instance="<urn:…>"): its closing quote by the
      // native search, bounded to the value; kept with its quotes, as readGenValue keeps it
      const vStart = q + 1;
      const close = t.indexOf('"', vStart + 1);
      if (close < 0 || close >= n) return into;
      const v = t.slice(vStart, close + 1);
      if (v.indexOf('\\') >= 0) return into;
      q = close + 1;
      const e = q < n ? t.charCodeAt(q) : -1;
      if (e !== -1 && e !== 0x3b && e !== 0x2c && e !== 0x3e) return into;
      value = v;
    } else if (c === 0x3d /* = */) {
      const vStart = ++q;
      while (q < n) {
        const d = t.charCodeAt(q);
        if (d > 127 || (TOKEN[d] !== 1 && HOSTCHAR[d] !== 1 && d !== 0x3a)) break;
        q++;
      }
      if (q === vStart) return into;
      const e = q < n ? t.charCodeAt(q) : -1;
      if (e !== -1 && e !== 0x3b && e !== 0x2c && e !== 0x3e) return into;
      value = t.slice(vStart, q);
    } else if (c !== -1 && c !== 0x3b && c !== 0x2c && c !== 0x3e) return into;
    const name = upper ? t.slice(nameStart, nameEnd).toLowerCase() : paramName(t, nameStart, nameEnd);
    if (into === undefined) into = [name, value];
    else into.push(name, value);
    p = q;
    s.pos = p;
  }
  return into;
}

/** gen-value = token / host / quoted-string; the quoted form is returned with its quotes. */
export function readGenValue(s: Scanner): string {
  const c = s.peek();
  if (c === 0x22) {
    const start = s.pos;
    s.skipQuotedString();
    return s.text.slice(start, s.pos);
  }
  if (c === 0x5b /* [ */) {
    const end = indexIn(s.text, 0x5d /* ] */, s.pos, s.end);
    if (end < 0) s.fail('unterminated IPv6 reference');
    const v = s.text.slice(s.pos, end + 1);
    s.pos = end + 1;
    return v;
  }
  const start = s.pos;
  const t = s.text;
  let p = start;
  while (p < s.end) {
    const ch = t.charCodeAt(p);
    // ":" admits the unbracketed IPv6address of Via received (RFC 3261 §20.42)
    if (ch > 127 || (TOKEN[ch] !== 1 && HOSTCHAR[ch] !== 1 && ch !== 0x3a)) break;
    p++;
  }
  if (p === start) s.fail('expected parameter value');
  s.pos = p;
  return t.slice(start, p);
}

/**
 * Index of the character `c` in `t[from, end)`, or -1. A loop rather than indexOf: a value read in
 * place ends before the text does, and a search past its end could cross the whole message.
 */
export function indexIn(t: string, c: number, from: number, end: number): number {
  for (let p = from; p < end; p++) if (t.charCodeAt(p) === c) return p;
  return -1;
}

/**
 * Parameter names common enough to be worth sharing, by length and first character (one
 * candidate, sometimes two, instead of every name of that length).
 */
const COMMON_NAMES: string[][] = [];
for (const n of ['tag', 'lr', 'branch', 'rport', 'received', 'transport', 'expires', 'q', 'maddr', 'reg-id', 'user', 'ttl',
  'username', 'realm', 'nonce', 'uri', 'response', 'algorithm', 'qop', 'nc', 'cnonce', 'opaque', 'ob', '+sip.instance']) {
  (COMMON_NAMES[(n.length << 7) | n.charCodeAt(0)] ??= []).push(n);
}

/**
 * The lower-case parameter name at t[start, end): a common one is the shared literal (no string
 * made per parameter, and a lookup by that literal compares by identity), any other a slice.
 */
export function paramName(t: string, start: number, end: number): string {
  const len = end - start;
  const c0 = t.charCodeAt(start);
  if (len < 16 && c0 < 128) {
    const candidates = COMMON_NAMES[(len << 7) | c0];
    if (candidates !== undefined) {
      for (let i = 0; i < candidates.length; i++) {
        const n = candidates[i]!;
        let j = 1;
        while (j < len && t.charCodeAt(start + j) === n.charCodeAt(j)) j++;
        if (j === len) return n;
      }
    }
  }
  return t.slice(start, end);
}

/** `s` in lower case, the same string when it has no upper-case letter (no copy). */
export function lowerCase(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return s.toLowerCase();
  }
  return s;
}

/** A parameter value without its surrounding quotes (and with quoted-pairs resolved). */
export function unquote(v: string | null | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (v.length >= 2 && v.charCodeAt(0) === 0x22 && v.charCodeAt(v.length - 1) === 0x22) {
    return v.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return v;
}

/** `;a=b;c` — the serialized form of parameters. */
export function formatParams(params: ReadonlyMap<string, string | null>): string {
  let out = '';
  if (params instanceof Params) {
    const l = params.list;
    for (let i = 0; i < l.length; i += 2) out += l[i + 1] === null ? `;${l[i]}` : `;${l[i]}=${l[i + 1]}`;
    return out;
  }
  for (const [k, v] of params) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}
