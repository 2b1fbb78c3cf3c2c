import { GrammarError } from '../errors.js';
import { TOKEN } from './chars.js';
import { paramName, Params, paramsOf } from './params.js';

/**
 * Credentials or a challenge from an authentication header (RFC 3261 §20.7, §20.27, §20.28,
 * §20.44; RFC 7616 digest; RFC 8760 SHA-256): the scheme and its auth-params. `params` holds the
 * values unquoted, with lower-case names. A scheme Parley does not know keeps its text in `raw`.
 */
export class AuthValue {
  constructor(
    readonly scheme: string,
    readonly params: Params<string>,
    readonly raw: string,
  ) {}

  get isDigest(): boolean {
    return this.scheme.toLowerCase() === 'digest';
  }
  get username(): string | undefined {
    return this.params.get('username');
  }
  get realm(): string | undefined {
    return this.params.get('realm');
  }
  get nonce(): string | undefined {
    return this.params.get('nonce');
  }
  get uri(): string | undefined {
    return this.params.get('uri');
  }
  get response(): string | undefined {
    return this.params.get('response');
  }
  /** Algorithm as written (MD5 when absent, RFC 7616 §3.3). */
  get algorithm(): string {
    return this.params.get('algorithm') ?? 'MD5';
  }
  get qop(): string | undefined {
    return this.params.get('qop');
  }
  get nc(): string | undefined {
    return this.params.get('nc');
  }
  get cnonce(): string | undefined {
    return this.params.get('cnonce');
  }
  get opaque(): string | undefined {
    return this.params.get('opaque');
  }
  get stale(): boolean {
    return (this.params.get('stale') ?? '').toLowerCase() === 'true';
  }

  toString(): string {
    return this.raw;
  }
}

/**
 * Parse `scheme LWS auth-param *(COMMA auth-param)`. For Digest a bad parameter list is an error;
 * for other schemes the text is kept as it is (RFC 4475 §3.3.8: an unknown scheme is not malformed).
 */
export function parseAuthValue(text: string): AuthValue {
  return authIn(text, 0, text.length, text);
}

/** Parse the credentials or challenge at `src[start, end)` in place; `raw` is its text when the caller has it. */
export function authIn(src: string, start: number, end: number, raw?: string): AuthValue {
  const t = src;
  const n = end;
  let p = start;
  while (p < n && (t.charCodeAt(p) === 0x20 || t.charCodeAt(p) === 0x09)) p++;
  const schemeStart = p;
  while (p < n) {
    const c = t.charCodeAt(p);
    if (c > 127 || TOKEN[c] !== 1) break;
    p++;
  }
  if (p === schemeStart) throw new GrammarError('expected auth scheme', p);
  const scheme = t.slice(schemeStart, p);
  const digest = p - schemeStart === 6 && isDigestAt(t, schemeStart);
  const list: string[] = [];
  const at = readAuthParams(t, p, n, list);
  const text = raw ?? src.slice(start, end);
  if (at >= 0) {
    if (digest) throw new GrammarError(AUTH_ERRORS[authError]!, at - start);
    return new AuthValue(scheme, new Params<string>([]), text);
  }
  return new AuthValue(scheme, paramsOf(list), text);
}

/** "Digest" in any case at t[p] (compared in place: no lower-case copy per credentials). */
function isDigestAt(t: string, p: number): boolean {
  const d = 'digest';
  for (let i = 0; i < 6; i++) if ((t.charCodeAt(p + i) | 0x20) !== d.charCodeAt(i)) return false;
  return true;
}

const AUTH_ERRORS = ['expected whitespace after scheme', 'expected ,', 'expected auth-param name', 'expected =', 'unterminated quoted-string', 'expected auth-param value'];
/** Which of AUTH_ERRORS the last readAuthParams that failed met. */
let authError = 0;

function fault(kind: number, at: number): number {
  authError = kind;
  return at;
}

/**
 * `LWS auth-param *(COMMA auth-param)` from `p` to `n` in `t`, into `list` (names lower-case,
 * values unquoted, the first of a name kept). Returns -1, or the offset of the first fault (its
 * kind in `authError`).
 */
function readAuthParams(t: string, p: number, n: number, list: string[]): number {
  const afterScheme = p;
  while (p < n && (t.charCodeAt(p) === 0x20 || t.charCodeAt(p) === 0x09)) p++;
  if (p === afterScheme && p < n) return fault(0, p);
  let first = true;
  while (p < n) {
    if (!first) {
      // COMMA = SWS "," SWS
      if (t.charCodeAt(p) !== 0x2c) return fault(1, p);
      p++;
      while (p < n && (t.charCodeAt(p) === 0x20 || t.charCodeAt(p) === 0x09)) p++;
    }
    first = false;
    const nameStart = p;
    let upper = false;
    while (p < n) {
      const c = t.charCodeAt(p);
      if (c > 127 || TOKEN[c] !== 1) break;
      if (c >= 0x41 && c <= 0x5a) upper = true;
      p++;
    }
    if (p === nameStart) return fault(2, p);
    const name = upper ? t.slice(nameStart, p).toLowerCase() : paramName(t, nameStart, p);
    while (p < n && (t.charCodeAt(p) === 0x20 || t.charCodeAt(p) === 0x09)) p++;
    if (p >= n || t.charCodeAt(p) !== 0x3d) return fault(3, p);
    p++;
    while (p < n && (t.charCodeAt(p) === 0x20 || t.charCodeAt(p) === 0x09)) p++;
    let value: string;
    if (p < n && t.charCodeAt(p) === 0x22) {
      const vStart = p + 1;
      // the usual quoted-string, without a quoted-pair: found by the native search for its closing
      // quote (bounded: the search stops at the next quote, and a value that holds a backslash
      // is walked again below from its start)
      const close = t.indexOf('"', vStart);
      if (close >= 0 && close < n) {
        value = t.slice(vStart, close);
        if (value.indexOf('\\') < 0) {
          list.push(name, value);
          p = close + 1;
          while (p < n && (t.charCodeAt(p) === 0x20 || t.charCodeAt(p) === 0x09)) p++;
          continue;
        }
      }
      // quoted-string: one walk to the closing quote; a quoted-pair's second character does not end it
      let q = vStart;
      let escaped = false;
      while (q < n) {
        const c = t.charCodeAt(q);
        if (c === 0x22) break;
        if (c === 0x5c) {
          escaped = true;
          q++;
        }
        q++;
      }
      if (q >= n) return fault(4, p);
      value = t.slice(vStart, q);
      if (escaped) value = value.replace(/\\(.)/g, '$1');
      p = q + 1;
    } else {
      const vStart = p;
      // token, plus "/" ":" "@" which some clients leave unquoted in uri
      while (p < n) {
        const c = t.charCodeAt(p);
        if (c > 127 || (TOKEN[c] !== 1 && c !== 0x2f && c !== 0x3a && c !== 0x40)) break;
        p++;
      }
      if (p === vStart) return fault(5, p);
      value = t.slice(vStart, p);
    }
    list.push(name, value);
    while (p < n && (t.charCodeAt(p) === 0x20 || t.charCodeAt(p) === 0x09)) p++;
  }
  return -1;
}
