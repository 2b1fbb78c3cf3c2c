import { TOKEN } from './chars.js';
import { formatParams, readParams, type Params } from './params.js';
import { Scanner } from './scanner.js';
import { parseUri, type Uri } from './uri.js';

/**
 * A name-addr or addr-spec with header parameters, as in From, To, Contact, Route,
 * Record-Route, Path and Reply-To (RFC 3261 §20, §25.1):
 *   ( name-addr / addr-spec ) *( SEMI generic-param )
 *   name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
 * `raw` is the text parsed from, so an untouched value serializes byte-exact.
 */
export class NameAddr {
  constructor(
    readonly uri: Uri,
    readonly displayName: string | undefined,
    readonly params: Params,
    readonly raw?: string,
  ) {}

  /** The `tag` parameter (From/To, RFC 3261 §19.3). */
  get tag(): string | undefined {
    const t = this.params.get('tag');
    return t === null ? undefined : t;
  }

  param(name: string): string | null | undefined {
    return this.params.get(name.toLowerCase());
  }

  withParam(name: string, value: string | null): NameAddr {
    const p = new Map(this.params);
    p.set(name.toLowerCase(), value);
    return new NameAddr(this.uri, this.displayName, p);
  }

  withUri(uri: Uri): NameAddr {
    return new NameAddr(uri, this.displayName, this.params);
  }

  toString(): string {
    if (this.raw !== undefined) return this.raw;
    let s = '';
    if (this.displayName !== undefined) s += `"${this.displayName.replace(/(["\\])/g, '\\$1')}" `;
    s += `<${this.uri.toString()}>`;
    return s + formatParams(this.params);
  }
}

/**
 * Read a name-addr or addr-spec (without the parameters after it). `displayName` is unquoted.
 * In the addr-spec form the URI ends at the first ";" or whitespace: RFC 3261 §20.10 requires
 * the angle brackets when the URI has a comma, semicolon or question mark.
 */
export function readAddress(s: Scanner): { uri: Uri; displayName: string | undefined } {
  s.skipWs();
  const t = s.text;
  let displayName: string | undefined;
  if (s.peek() === 0x22) {
    displayName = s.quotedString();
    s.skipWs();
    if (s.peek() !== 0x3c) s.fail('expected < after display name');
  } else if (s.peek() !== 0x3c) {
    // display-name = *(token LWS): try tokens up to "<"; otherwise this is an addr-spec.
    const save = s.pos;
    let p = s.pos;
    let lastTokenEnd = -1;
    for (;;) {
      const start = p;
      while (p < t.length) {
        const c = t.charCodeAt(p);
        if (c > 127 || TOKEN[c] !== 1) break;
        p++;
      }
      if (p === start) break;
      lastTokenEnd = p;
      while (p < t.length && (t.charCodeAt(p) === 0x20 || t.charCodeAt(p) === 0x09)) p++;
    }
    if (lastTokenEnd > 0 && t.charCodeAt(p) === 0x3c) {
      displayName = t.slice(save, lastTokenEnd);
      s.pos = p;
    } else {
      s.pos = save;
    }
  }
  if (s.peek() === 0x3c) {
    // LAQUOT = SWS "<" and RAQUOT = ">" SWS: no whitespace inside the brackets.
    const close = t.indexOf('>', s.pos);
    if (close < 0) s.fail('unterminated <');
    const text = t.slice(s.pos + 1, close);
    s.pos = close + 1;
    return { uri: uriAt(s, text, close - text.length), displayName };
  }
  // addr-spec
  const start = s.pos;
  let p = start;
  while (p < t.length) {
    const c = t.charCodeAt(p);
    if (c === 0x3b || c === 0x20 || c === 0x09 || c === 0x2c) break;
    p++;
  }
  const text = t.slice(start, p);
  s.pos = p;
  if (text.includes('?')) s.fail('an addr-spec with headers must be enclosed in <>');
  return { uri: uriAt(s, text, start), displayName };
}

function uriAt(s: Scanner, text: string, offset: number): Uri {
  try {
    return parseUri(text);
  } catch (e) {
    s.pos = offset;
    s.fail(`bad URI: ${(e as Error).message}`);
  }
}

/** Parse one element: `( name-addr / addr-spec ) *( SEMI generic-param )`, the whole string. */
export function parseNameAddr(text: string): NameAddr {
  const s = new Scanner(text);
  const { uri, displayName } = readAddress(s);
  const params = readParams(s);
  s.skipWs();
  if (!s.done) s.fail('unexpected text after address');
  return new NameAddr(uri, displayName, params, text);
}
