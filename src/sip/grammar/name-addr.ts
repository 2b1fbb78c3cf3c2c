import { GrammarError } from '../errors.js';
import { TOKEN } from './chars.js';
import { formatParams, indexIn, Params, readParams } from './params.js';
import { listEnd, Scanner } from './scanner.js';
import { isSipSchemeAt, parseUriIn, sipUriIn, uriEnd, type Uri } from './uri.js';

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
    return new NameAddr(this.uri, this.displayName, this.params.with(name, value));
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

/** The constructor shape of NameAddr and its subclasses (Contact), so that one parser builds either. */
type AddressClass<T extends NameAddr> = new (uri: Uri, displayName: string | undefined, params: Params, raw?: string) => T;

/** Parse one element: `( name-addr / addr-spec ) *( SEMI generic-param )`, the whole string. */
export function parseNameAddr(text: string): NameAddr {
  return parseAddressAs(text, NameAddr);
}

/**
 * Parse one element as `parseNameAddr` does, building a `T` (a Contact is built directly, not
 * copied from a NameAddr). The display name is unquoted. In the addr-spec form the URI ends at
 * the first ";" or whitespace: RFC 3261 §20.10 requires the angle brackets when the URI has a
 * comma, semicolon or question mark.
 */
export function parseAddressAs<T extends NameAddr>(text: string, make: AddressClass<T>): T {
  return addressIn(text, 0, text.length, make, text);
}

/**
 * Parse the element at `src[start, end)` in place, as parseAddressAs; `raw` is its text when the
 * caller has it. With `list`, `src[start, end)` is the rest of a list: the element ends at the
 * comma after it (whitespace around it allowed, RFC 3261 §7.3.1), which is left in
 * `listEnd.pos` (-1 when the element ran to `end`).
 */
export function addressIn<T extends NameAddr>(src: string, start: number, end: number, make: AddressClass<T>, raw?: string, list = false): T {
  const s = new Scanner(src, start, end);
  const t = src;
  let displayName: string | undefined;
  let c = s.peek();
  if (c === 0x20 || c === 0x09) {
    s.skipWs();
    c = s.peek();
  }
  if (c === 0x22) {
    displayName = s.quotedString();
    s.skipWs();
    if (s.peek() !== 0x3c) s.fail('expected < after display name');
  } else if (c !== 0x3c) {
    // display-name = *(token LWS): try tokens up to "<"; otherwise this is an addr-spec.
    const save = s.pos;
    let p = s.pos;
    let lastTokenEnd = -1;
    for (;;) {
      const tokenStart = p;
      while (p < end) {
        const d = t.charCodeAt(p);
        if (d > 127 || TOKEN[d] !== 1) break;
        p++;
      }
      if (p === tokenStart) break;
      lastTokenEnd = p;
      while (p < end && (t.charCodeAt(p) === 0x20 || t.charCodeAt(p) === 0x09)) p++;
    }
    if (lastTokenEnd > start && p < end && t.charCodeAt(p) === 0x3c) {
      displayName = t.slice(save, lastTokenEnd);
      s.pos = p;
    }
  }
  let uri: Uri;
  if (s.peek() === 0x3c) {
    // LAQUOT = SWS "<" and RAQUOT = ">" SWS: no whitespace inside the brackets.
    const open = s.pos + 1;
    if (isSipSchemeAt(t, open, end)) {
      // the usual SIP URI: read up to its ">" in one pass (sipUriIn with angle)
      try {
        uri = sipUriIn(t, open, end, undefined, true);
      } catch (e) {
        // the errors of the search-then-parse reading: no ">" at all first
        throw indexIn(t, 0x3e /* > */, open, end) < 0 ? new GrammarError('unterminated <', open - 1) : new GrammarError(`bad URI: ${(e as Error).message}`, open);
      }
      s.pos = uriEnd.pos + 1;
    } else {
      const close = indexIn(t, 0x3e /* > */, open, end);
      if (close < 0) s.fail('unterminated <');
      uri = uriAt(s, open, close);
      s.pos = close + 1;
    }
  } else {
    // addr-spec
    const specStart = s.pos;
    let p = specStart;
    while (p < end) {
      const d = t.charCodeAt(p);
      if (d === 0x3b || d === 0x20 || d === 0x09 || d === 0x2c) break;
      if (d === 0x3f) s.fail('an addr-spec with headers must be enclosed in <>');
      p++;
    }
    s.pos = p;
    uri = uriAt(s, specStart, p);
  }
  const params = readParams(s);
  const stop = s.pos;
  if (stop < end) {
    s.skipWs();
    if (list && s.peek() === 0x2c /* , */) {
      listEnd.pos = s.pos;
      return new make(uri, displayName, params, raw ?? src.slice(start, stop));
    }
    if (!s.done) s.fail('unexpected text after address');
  }
  if (list) {
    listEnd.pos = -1;
    return new make(uri, displayName, params, raw ?? src.slice(start, stop));
  }
  return new make(uri, displayName, params, raw ?? src.slice(start, end));
}

function uriAt(s: Scanner, start: number, end: number): Uri {
  try {
    return parseUriIn(s.text, start, end);
  } catch (e) {
    s.pos = start;
    s.fail(`bad URI: ${(e as Error).message}`);
  }
}
