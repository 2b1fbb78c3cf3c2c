import { GrammarError } from '../errors.js';
import { HOSTCHAR, TOKEN } from './chars.js';
import { formatParams, indexIn, Params, readParams } from './params.js';
import { listEnd, Scanner } from './scanner.js';
import { hostKind } from './uri.js';

/** The magic cookie that marks an RFC 3261 branch (§8.1.1.7). */
export const MAGIC_COOKIE = 'z9hG4bK';

/**
 * One Via value (RFC 3261 §20.42, §18.2.1; RFC 3581 rport):
 *   sent-protocol LWS sent-by *( SEMI via-params )
 */
export class Via {
  constructor(
    /** Upper-case transport: UDP, TCP, TLS, SCTP, WS, WSS or an extension. */
    readonly transport: string,
    readonly host: string,
    readonly port: number | undefined,
    readonly params: Params,
    readonly protocol = 'SIP/2.0',
    readonly raw?: string,
  ) {}

  get branch(): string | undefined {
    return this.params.get('branch') ?? undefined;
  }

  get received(): string | undefined {
    return this.params.get('received') ?? undefined;
  }

  /** RFC 3581: `null` when the client asked for rport (no value yet), a number once filled in. */
  get rport(): number | null | undefined {
    if (!this.params.has('rport')) return undefined;
    const v = this.params.get('rport');
    return v === null || v === undefined ? null : Number(v);
  }

  get maddr(): string | undefined {
    return this.params.get('maddr') ?? undefined;
  }

  /** True when the branch starts with the RFC 3261 magic cookie. */
  get rfc3261Branch(): boolean {
    const b = this.branch;
    return b !== undefined && b.startsWith(MAGIC_COOKIE);
  }

  withParam(name: string, value: string | null): Via {
    return new Via(this.transport, this.host, this.port, this.params.with(name, value), this.protocol);
  }

  toString(): string {
    if (this.raw !== undefined) return this.raw;
    return `${this.protocol}/${this.transport} ${this.host}${this.port === undefined ? '' : ':' + this.port}${formatParams(this.params)}`;
  }
}

/** 1 to `max` decimal digits and nothing else. */
function isDigits(s: string, max: number): boolean {
  if (s.length === 0 || s.length > max) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function hasLower(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) return true;
  }
  return false;
}

const IPV4_OR_6 = (h: string): boolean => {
  const k = hostKind(h.startsWith('[') ? h : h.includes(':') ? `[${h}]` : h);
  return k === 'ipv4' || k === 'ipv6';
};

const TRANSPORTS = ['UDP', 'TCP', 'TLS', 'WS', 'WSS', 'SCTP'];

/** The transport token at the scanner, upper-case; a usual one as its shared literal (no string per Via). */
function transportAt(s: Scanner): string {
  const t = s.text;
  const start = s.pos;
  let p = start;
  while (p < s.end) {
    const c = t.charCodeAt(p);
    if (c > 127 || TOKEN[c] !== 1) break;
    p++;
  }
  if (p === start) s.fail('expected transport');
  s.pos = p;
  for (let i = 0; i < TRANSPORTS.length; i++) {
    const name = TRANSPORTS[i]!;
    if (name.length !== p - start) continue;
    let j = 0;
    while (j < name.length && t.charCodeAt(start + j) === name.charCodeAt(j)) j++;
    if (j === name.length) return name;
  }
  const v = t.slice(start, p);
  return hasLower(v) ? v.toUpperCase() : v;
}

/** Parse one Via value (one element of the comma-separated list). Throws GrammarError. */
export function parseVia(text: string): Via {
  return viaIn(text, 0, text.length, text);
}

/** "SIP/2.0/" at src[p]. */
function sip20At(src: string, p: number, end: number): boolean {
  return (
    end - p > 8 && src.charCodeAt(p) === 0x53 && src.charCodeAt(p + 1) === 0x49 && src.charCodeAt(p + 2) === 0x50 &&
    src.charCodeAt(p + 3) === 0x2f && src.charCodeAt(p + 4) === 0x32 && src.charCodeAt(p + 5) === 0x2e &&
    src.charCodeAt(p + 6) === 0x30 && src.charCodeAt(p + 7) === 0x2f
  );
}

/**
 * Parse the Via value at `src[start, end)` in place; `raw` is its text when the caller has it.
 * With `list`, up to the comma after it, left in `listEnd.pos` (see addressIn).
 */
export function viaIn(src: string, start: number, end: number, raw?: string, list = false): Via {
  const s = new Scanner(src, start, end);
  let name = 'SIP';
  let version = '2.0';
  let transport: string;
  if (sip20At(src, start, end)) {
    // the usual spelling, without whitespace around the slashes
    s.pos = start + 8;
    transport = transportAt(s);
  } else {
    s.skipWs();
    name = s.token('protocol name');
    s.expect(0x2f, '/');
    version = s.token('protocol version');
    s.expect(0x2f, '/');
    transport = s.token('transport').toUpperCase();
  }
  const before = s.pos;
  s.skipWs();
  if (s.pos === before) s.fail('expected whitespace before sent-by');
  // sent-by = host [ COLON port ]
  let host: string;
  const t = s.text;
  if (s.peek() === 0x5b) {
    const close = indexIn(t, 0x5d /* ] */, s.pos, end);
    if (close < 0) s.fail('unterminated IPv6 reference');
    host = t.slice(s.pos, close + 1);
    s.pos = close + 1;
  } else {
    const hostStart = s.pos;
    let p = hostStart;
    while (p < end) {
      const c = t.charCodeAt(p);
      if (c > 127 || (HOSTCHAR[c] !== 1 && c !== 0x5f)) break;
      p++;
    }
    host = t.slice(hostStart, p);
    s.pos = p;
  }
  // a host read by the loop above that starts with a letter is a host name: no second check
  if (host.length === 0 || (host.charCodeAt(0) <= 0x39 && hostKind(host) === undefined)) s.fail('bad sent-by host');
  let port: number | undefined;
  if (s.eat(0x3a)) {
    const portStart = s.pos;
    let p = portStart;
    let v = 0;
    while (p < end) {
      const c = t.charCodeAt(p);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      p++;
    }
    if (p === portStart || p - portStart > 5) s.fail('bad sent-by port');
    if (v > 65535) s.fail('sent-by port out of range');
    port = v;
    s.pos = p;
  }
  const params = readParams(s);
  const stop = s.pos;
  s.skipWs();
  if (list) {
    if (s.peek() === 0x2c /* , */) listEnd.pos = s.pos;
    else if (s.done) listEnd.pos = -1;
    else s.fail('unexpected text in Via');
  } else if (!s.done) s.fail('unexpected text in Via');
  // via-received = "received" EQUAL (IPv4address / IPv6address); via-ttl = 0-255; rport digits
  const text = raw ?? src.slice(start, list ? stop : end);
  if (params.size === 0) return new Via(transport, host, port, params, name === 'SIP' && version === '2.0' ? 'SIP/2.0' : `${name}/${version}`, text);
  const received = params.get('received');
  if (received !== undefined && (received === null || !IPV4_OR_6(received))) throw new GrammarError('bad received', 0);
  const ttl = params.get('ttl');
  if (ttl !== undefined && (ttl === null || !isDigits(ttl, 3) || Number(ttl) > 255)) throw new GrammarError('bad ttl', 0);
  const rport = params.get('rport');
  if (rport !== undefined && rport !== null && (!isDigits(rport, 5) || Number(rport) > 65535)) throw new GrammarError('bad rport', 0);
  if (params.get('branch') === null) throw new GrammarError('branch without value', 0);
  const protocol = name === 'SIP' && version === '2.0' ? 'SIP/2.0' : `${name}/${version}`;
  return new Via(transport, host, port, params, protocol, text);
}
