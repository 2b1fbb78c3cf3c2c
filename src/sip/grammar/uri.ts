import { GrammarError } from '../errors.js';
import { HNVCHAR, HOSTCHAR, PARAMCHAR, PASSWORD, URIC, USER } from './chars.js';
import { formatParams, NO_PARAMS, paramName, Params, paramsOf } from './params.js';
import { unescape } from './scanner.js';

/** How the host part of a URI or Via is written. */
export type HostKind = 'name' | 'ipv4' | 'ipv6';

const IPV6 = /^[0-9a-fA-F:.]+$/;

/** Classify and check a host (RFC 3261 §25.1: hostname / IPv4address / IPv6reference). */
export function hostKind(host: string): HostKind | undefined {
  if (host.length === 0) return undefined;
  const c0 = host.charCodeAt(0);
  if (c0 > 0x39 && c0 !== 0x5b) {
    // starts with a letter: a host name (IPv4 starts with a digit, IPv6 with "[")
    for (let i = 0; i < host.length; i++) {
      const c = host.charCodeAt(i);
      if (c > 127 || (HOSTCHAR[c] !== 1 && c !== 0x5f)) return undefined;
    }
    return 'name';
  }
  if (host.charCodeAt(0) === 0x5b) {
    if (host.charCodeAt(host.length - 1) !== 0x5d) return undefined;
    const inner = host.slice(1, -1);
    return IPV6.test(inner) && inner.includes(':') ? 'ipv6' : undefined;
  }
  if (isIPv4(host)) return 'ipv4';
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    // DEVIATION(RFC 3261 §25.1): "_" is accepted in host names; it appears in real deployments.
    if (c > 127 || (HOSTCHAR[c] !== 1 && c !== 0x5f)) return undefined;
  }
  return 'name';
}

/**
 * SIP or SIPS URI (RFC 3261 §19.1). Immutable: `with…` methods return a new URI. `raw` is the text
 * it was parsed from (or built as), so an untouched URI serializes byte-exact. The user part is
 * kept as written (escaped); `userUnescaped` resolves %HH.
 */
export class SipUri {
  readonly kind = 'sip' as const;
  private _raw: string | undefined;

  constructor(
    readonly scheme: 'sip' | 'sips',
    readonly user: string | undefined,
    readonly password: string | undefined,
    readonly host: string,
    readonly port: number | undefined,
    readonly params: Params = NO_PARAMS,
    readonly headers: ReadonlyMap<string, string> = NO_HEADERS,
    raw?: string,
  ) {
    this._raw = raw;
  }

  get hostKind(): HostKind {
    return hostKind(this.host) ?? 'name';
  }

  get userUnescaped(): string | undefined {
    return this.user === undefined ? undefined : unescape(this.user);
  }

  /** `transport` parameter, lower-case, if any. */
  get transport(): string | undefined {
    const t = this.params.get('transport');
    return t ? t.toLowerCase() : undefined;
  }

  /** True when the `lr` parameter is present (a loose router, RFC 3261 §16.4). */
  get lr(): boolean {
    return this.params.has('lr');
  }

  param(name: string): string | null | undefined {
    return this.params.get(name.toLowerCase());
  }

  withUser(user: string | undefined): SipUri {
    return new SipUri(this.scheme, user, this.password, this.host, this.port, this.params, this.headers);
  }

  withHostPort(host: string, port: number | undefined): SipUri {
    return new SipUri(this.scheme, this.user, this.password, host, port, this.params, this.headers);
  }

  withParam(name: string, value: string | null): SipUri {
    return new SipUri(this.scheme, this.user, this.password, this.host, this.port, this.params.with(name, value), this.headers);
  }

  withoutParam(name: string): SipUri {
    return new SipUri(this.scheme, this.user, this.password, this.host, this.port, this.params.without(name), this.headers);
  }

  withoutHeaders(): SipUri {
    return new SipUri(this.scheme, this.user, this.password, this.host, this.port, this.params);
  }

  toString(): string {
    if (this._raw !== undefined) return this._raw;
    let s = this.scheme + ':';
    if (this.user !== undefined) {
      s += this.user;
      if (this.password !== undefined) s += ':' + this.password;
      s += '@';
    }
    s += this.host;
    if (this.port !== undefined) s += ':' + this.port;
    s += formatParams(this.params);
    let first = true;
    for (const [k, v] of this.headers) {
      s += (first ? '?' : '&') + k + '=' + v;
      first = false;
    }
    this._raw = s;
    return s;
  }
}

/** tel URI (RFC 3966): the number and its parameters. */
export class TelUri {
  readonly kind = 'tel' as const;
  readonly scheme = 'tel' as const;
  constructor(
    readonly number: string,
    readonly params: Params,
    readonly raw: string,
  ) {}
  toString(): string {
    return this.raw;
  }
}

/** Any other absoluteURI (RFC 3261 §25.1, RFC 3986): kept opaque. */
export class AbsoluteUri {
  readonly kind = 'absolute' as const;
  constructor(
    readonly scheme: string,
    readonly opaque: string,
    readonly raw: string,
  ) {}
  toString(): string {
    return this.raw;
  }
}

export type Uri = SipUri | TelUri | AbsoluteUri;

/** Shared empty headers for URIs without any (never mutated: the field is readonly). */
const NO_HEADERS: ReadonlyMap<string, string> = new Map();

function fail(what: string, offset: number): never {
  throw new GrammarError(what, offset);
}

function checkRun(s: string, from: number, to: number, table: Uint8Array, what: string): void {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || table[c] !== 1) fail(`bad character in ${what}`, i);
    if (c === 0x25 /* % */) {
      if (!isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2)) || i + 2 >= to) fail(`bad escape in ${what}`, i);
    }
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}


/** IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each at most 255. */
function isIPv4(s: string): boolean {
  return isIPv4In(s, 0, s.length);
}

/** isIPv4 of s[start, end), read in place. */
function isIPv4In(s: string, start: number, end: number): boolean {
  let parts = 0;
  let v = -1;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (v < 0 || v > 255) return false;
      parts++;
      v = -1;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (++digits > 3) return false;
      v = v < 0 ? c - 0x30 : v * 10 + (c - 0x30);
    } else return false;
  }
  return parts === 4;
}

function hasUpper(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return true;
  }
  return false;
}

/** Parse `sip:`/`sips:` URI text (the whole string). Throws GrammarError. */
export function parseSipUri(text: string): SipUri {
  return sipUriIn(text, 0, text.length, text);
}

/** What sipUriIn with `check` returns: the URI is well-formed, without or with headers (never read further). */
const CHECKED = new SipUri('sip', undefined, undefined, '', undefined);
const CHECKED_WITH_HEADERS = new SipUri('sip', undefined, undefined, '', undefined, NO_PARAMS, new Map([['', '']]));

/**
 * Check the SIP or SIPS URI `text` as parseSipUri reads it, without building it (no strings, no
 * parameters): throws GrammarError as parseSipUri does, else returns whether it has headers. The
 * parser checks the Request-URI with it; the request parses it when it is first read.
 */
export function checkSipUri(text: string): boolean {
  return sipUriIn(text, 0, text.length, text, false, true) === CHECKED_WITH_HEADERS;
}

/** Where the last URI read by sipUriIn with `angle` ended: the index of its ">". */
export const uriEnd = { pos: 0 };

/**
 * Parse the SIP or SIPS URI at `src[start, end)` in place (inside a header value or the header
 * section: no copy is scanned). `raw` is its text when the caller has it already. With `angle`,
 * the URI is the one inside `<…>` of a name-addr and ends at the first ">" (left in
 * `uriEnd.pos`): found while reading it, not by a search before (">" is in none of the URI's
 * character classes, so the URI read is the same).
 */
export function sipUriIn(src: string, start: number, end: number, raw?: string, angle = false, check = false): SipUri {
  const text = src;
  let p: number;
  let scheme: 'sip' | 'sips';
  // "sip" / "sips" in any case (schemes are case-insensitive, RFC 3261 §19.1.4)
  const n = end;
  const isSip = n - start >= 4 && (text.charCodeAt(start) | 0x20) === 0x73 && (text.charCodeAt(start + 1) | 0x20) === 0x69 && (text.charCodeAt(start + 2) | 0x20) === 0x70;
  if (isSip && text.charCodeAt(start + 3) === 0x3a /* : */) {
    scheme = 'sip';
    p = start + 4;
  } else if (isSip && n - start >= 5 && (text.charCodeAt(start + 3) | 0x20) === 0x73 && text.charCodeAt(start + 4) === 0x3a) {
    scheme = 'sips';
    p = start + 5;
  } else return fail('not a sip or sips URI', 0);

  let user: string | undefined;
  let password: string | undefined;
  let at = -1;
  // the "@" of userinfo: "@" is in no character class of hostport, parameters or headers but the
  // headers' (a "?" before it: headers, not userinfo)
  for (let i = p; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x40) {
      at = i;
      break;
    }
    // inside <…> the URI ends at the first ">": an "@" after it is not this URI's
    if (c === 0x3e && angle) break;
  }
  if (at >= 0) {
    // userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
    let colon = -1;
    let table = USER;
    for (let i = p; i < at; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x3a && colon < 0) {
        colon = i;
        table = PASSWORD;
        continue;
      }
      if (c > 127 || table[c] !== 1) fail(colon < 0 ? 'bad character in user' : 'bad character in password', i - start);
      if (c === 0x25 && (i + 2 >= at || !isHex(text.charCodeAt(i + 1)) || !isHex(text.charCodeAt(i + 2)))) fail('bad escape in userinfo', i - start);
    }
    if ((colon >= 0 ? colon : at) === p) fail('empty user', p - start);
    if (check) {
      // nothing is kept
    } else if (colon >= 0) {
      user = text.slice(p, colon);
      password = text.slice(colon + 1, at);
    } else user = text.slice(p, at);
    p = at + 1;
  }

  // hostport
  let host: string;
  if (text.charCodeAt(p) === 0x5b && p < n) {
    let close = -1;
    for (let i = p; i < n; i++) {
      if (text.charCodeAt(i) === 0x5d) {
        close = i;
        break;
      }
    }
    if (close < 0) fail('unterminated IPv6 reference', p - start);
    host = text.slice(p, close + 1);
    p = close + 1;
    if (hostKind(host) !== 'ipv6') fail('bad IPv6 reference', p - start);
  } else {
    const hostStart = p;
    let numeric = true;
    while (p < n) {
      const c = text.charCodeAt(p);
      if (c > 127 || (HOSTCHAR[c] !== 1 && c !== 0x5f)) break;
      if (c !== 0x2e && (c < 0x30 || c > 0x39)) numeric = false;
      p++;
    }
    if (p === hostStart) fail('missing host', p - start);
    // a host of digits and dots must be an IPv4address; a name must not start with "-" or "."
    const h0 = text.charCodeAt(hostStart);
    if (numeric ? !isIPv4In(text, hostStart, p) : h0 === 0x2d || h0 === 0x2e) fail('bad host', hostStart - start);
    host = check ? '' : text.slice(hostStart, p);
  }
  let port: number | undefined;
  if (p < n && text.charCodeAt(p) === 0x3a) {
    const portStart = ++p;
    let v = 0;
    while (p < n) {
      const c = text.charCodeAt(p);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      p++;
    }
    if (p === portStart || p - portStart > 5 || v > 65535) fail('bad port', portStart - start);
    port = v;
  }

  // uri-parameters = *( ";" uri-parameter ); uri-parameter = pname [ "=" pvalue ]
  if (check && p === n) return CHECKED;
  if (angle && p < n && text.charCodeAt(p) === 0x3e) {
    uriEnd.pos = p;
    return new SipUri(scheme, user, password, host, port, NO_PARAMS, NO_HEADERS, raw ?? text.slice(start, p));
  }
  if (p === n) {
    if (angle) fail('unterminated <', p - start);
    return new SipUri(scheme, user, password, host, port, NO_PARAMS, NO_HEADERS, raw ?? text.slice(start, end));
  }
  // a two-element literal first, not `[]` (see readSimpleParams in params.ts)
  let list: Array<string | null> | undefined;
  while (p < n && text.charCodeAt(p) === 0x3b) {
    const nameStart = ++p;
    let upper = false;
    while (p < n) {
      const c = text.charCodeAt(p);
      if (c > 127 || PARAMCHAR[c] !== 1) break;
      if (c >= 0x41 && c <= 0x5a) upper = true;
      else if (c === 0x25 && (p + 2 >= n || !isHex(text.charCodeAt(p + 1)) || !isHex(text.charCodeAt(p + 2)))) fail('bad escape in URI parameter', p - start);
      p++;
    }
    if (p === nameStart) fail('empty URI parameter', nameStart - start);
    const name = check ? '' : upper ? text.slice(nameStart, p).toLowerCase() : paramName(text, nameStart, p);
    let value: string | null = null;
    if (p < n && text.charCodeAt(p) === 0x3d) {
      const valueStart = ++p;
      while (p < n) {
        const c = text.charCodeAt(p);
        if (c > 127 || PARAMCHAR[c] !== 1) break;
        if (c === 0x25 && (p + 2 >= n || !isHex(text.charCodeAt(p + 1)) || !isHex(text.charCodeAt(p + 2)))) fail('bad escape in URI parameter', p - start);
        p++;
      }
      if (!check) value = text.slice(valueStart, p);
    }
    if (p < n && text.charCodeAt(p) !== 0x3b && text.charCodeAt(p) !== 0x3f && !(angle && text.charCodeAt(p) === 0x3e)) fail('bad character in URI parameter', p - start);
    if (check) continue;
    if (list === undefined) list = [name, value];
    else list.push(name, value);
  }
  if (check && p === n) return CHECKED;
  const params = list === undefined ? NO_PARAMS : paramsOf(list);

  if (angle) {
    if (p < n && text.charCodeAt(p) === 0x3e) {
      uriEnd.pos = p;
      return new SipUri(scheme, user, password, host, port, params, NO_HEADERS, raw ?? text.slice(start, p));
    }
    // headers (rare): up to the ">"
    let close = p;
    while (close < n && text.charCodeAt(close) !== 0x3e) close++;
    if (close >= n) fail('unterminated <', p - start);
    uriEnd.pos = close;
    return new SipUri(scheme, user, password, host, port, params, readUriHeaders(text.slice(p, close), p - start), raw ?? text.slice(start, close));
  }
  if (p === n) return new SipUri(scheme, user, password, host, port, params, NO_HEADERS, raw ?? text.slice(start, end));
  // headers: rare, read from their own copy
  const rest = text.slice(p, n);
  const uriText = raw ?? text.slice(start, end);
  const headers = readUriHeaders(rest, p - start);
  if (check) return CHECKED_WITH_HEADERS;
  return new SipUri(scheme, user, password, host, port, params, headers, uriText);
}

/** `[ "?" header *( "&" header ) ]` to the end of `text`; `offset` places errors in the URI. */
function readUriHeaders(text: string, offset: number): ReadonlyMap<string, string> {
  const n = text.length;
  let p = 0;
  if (text.charCodeAt(0) !== 0x3f) fail('unexpected character in URI', offset);
  const headers = new Map<string, string>();
  p++;
  while (p <= n) {
    let end = text.indexOf('&', p);
    if (end < 0) end = n;
    const eq = text.indexOf('=', p);
    if (eq <= p || eq >= end) fail('bad URI header', offset + p);
    checkRun(text, p, eq, HNVCHAR, 'URI header name');
    checkRun(text, eq + 1, end, HNVCHAR, 'URI header value');
    headers.set(text.slice(p, eq), text.slice(eq + 1, end));
    p = end + 1;
  }
  return headers;
}

/** "sip:" or "sips:" (any case) at src[start], within `end`. */
export function isSipSchemeAt(src: string, start: number, end: number): boolean {
  if (end - start >= 4 && (src.charCodeAt(start) | 0x20) === 0x73 && (src.charCodeAt(start + 1) | 0x20) === 0x69 && (src.charCodeAt(start + 2) | 0x20) === 0x70) {
    const c3 = src.charCodeAt(start + 3);
    return c3 === 0x3a || ((c3 | 0x20) === 0x73 && end - start >= 5 && src.charCodeAt(start + 4) === 0x3a);
  }
  return false;
}

/** Parse the URI at `src[start, end)` in place (see sipUriIn); other schemes from their own copy. */
export function parseUriIn(src: string, start: number, end: number): Uri {
  if (isSipSchemeAt(src, start, end)) return sipUriIn(src, start, end);
  return parseUri(src.slice(start, end));
}

/** Parse any URI the SIP grammar allows where a URI stands (SIP, SIPS, tel, absoluteURI). */
export function parseUri(text: string): Uri {
  if ((text.charCodeAt(0) | 0x20) === 0x73 && (text.charCodeAt(3) === 0x3a || text.charCodeAt(4) === 0x3a)) {
    const c3 = text.charCodeAt(3);
    if ((text.charCodeAt(1) | 0x20) === 0x69 && (text.charCodeAt(2) | 0x20) === 0x70 && (c3 === 0x3a || (c3 | 0x20) === 0x73)) {
      return parseSipUri(text);
    }
  }
  const colon = text.indexOf(':');
  if (colon <= 0) fail('URI without scheme', 0);
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(text);
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) fail('bad URI scheme', 0);
  const rest = text.slice(colon + 1);
  if (rest.length === 0) fail('empty URI', colon + 1);
  checkRun(text, colon + 1, text.length, URIC, 'URI');
  if (scheme === 'tel') {
    const parts = rest.split(';');
    const list: Array<string | null> = [];
    for (const part of parts.slice(1)) {
      const eq = part.indexOf('=');
      list.push((eq < 0 ? part : part.slice(0, eq)).toLowerCase(), eq < 0 ? null : part.slice(eq + 1));
    }
    return new TelUri(parts[0]!, paramsOf(list), text);
  }
  return new AbsoluteUri(scheme, rest, text);
}

/** Default port of a SIP URI for comparison and targeting (RFC 3261 §19.1.2). */
function paramsEqual(a: string | null | undefined, b: string | null | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  return unescape(a).toLowerCase() === unescape(b).toLowerCase();
}

/**
 * URI comparison (RFC 3261 §19.1.4): userinfo case-sensitive after unescaping, host
 * case-insensitive, port and transport/user/ttl/method/maddr compared when either side has them,
 * other parameters only when both do; headers must all match.
 */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a.kind !== 'sip' || b.kind !== 'sip') {
    if (a.kind === 'tel' && b.kind === 'tel') return telDigits(a) === telDigits(b);
    return a.toString().toLowerCase() === b.toString().toLowerCase();
  }
  if (a.scheme !== b.scheme) return false;
  // "Comparison of the userinfo of SIP and SIPS URIs is case-sensitive." (§19.1.4)
  if (a.userUnescaped !== b.userUnescaped) return false;
  if ((a.password === undefined ? undefined : unescape(a.password)) !== (b.password === undefined ? undefined : unescape(b.password))) return false;
  if (a.host.toLowerCase() !== b.host.toLowerCase()) return false;
  // "A URI omitting any component with a default value will not match a URI explicitly
  //  containing that component with its default value." (§19.1.4)
  if (a.port !== b.port) return false;
  for (const name of ['user', 'ttl', 'method', 'maddr', 'transport']) {
    if (!paramsEqual(a.params.get(name), b.params.get(name))) return false;
  }
  for (const [k, v] of a.params) {
    if (b.params.has(k) && !paramsEqual(v, b.params.get(k))) return false;
  }
  if (a.headers.size !== b.headers.size) return false;
  for (const [k, v] of a.headers) {
    let found = false;
    for (const [k2, v2] of b.headers) {
      if (k2.toLowerCase() === k.toLowerCase() && unescape(v2) === unescape(v)) found = true;
    }
    if (!found) return false;
  }
  return true;
}

/**
 * A string that is the same for any two URIs `uriEquals` finds equal (a necessary condition, not
 * a sufficient one: parameters and headers are left out): two URIs whose keys differ are not
 * equal. Cheap to compare, and small to keep beside a URI held as text.
 */
export function uriMatchKey(u: Uri): string {
  if (u.kind === 'tel') return `tel:${telDigits(u)}`;
  if (u.kind !== 'sip') return u.toString().toLowerCase();
  const user = u.user === undefined ? '' : `u${u.userUnescaped!}`;
  const password = u.password === undefined ? '' : `p${unescape(u.password)}`;
  return `${u.scheme}\0${user}\0${password}\0${u.host.toLowerCase()}\0${u.port ?? ''}`;
}

/** A tel number without its visual separators (RFC 3966 `visual-separator`). */
function telDigits(u: TelUri): string {
  return u.number.replace(/[-.()]/g, '');
}
