/**
 * STUN and TURN server URLs as WebRTC's iceServers and operators write them:
 *
 *   stun:host[:port]  stuns:host[:port]                          (RFC 7064 §3.1)
 *   turn:host[:port][?transport=udp|tcp]  turns:host[:port][?transport=udp|tcp]   (RFC 7065 §3.1)
 *
 * host is a name, an IPv4 address or an IPv6 address in brackets. The default port is 3478, 5349
 * for the secure schemes (RFC 7064 §3.2, RFC 7065 §3.2). `turn:` without a transport is UDP;
 * `turns:` runs over TLS (over TCP; `transport=udp` would be DTLS, which Parley's check does not
 * speak and says so). No regular expression: this reads what a person typed, but it is also fed
 * from configuration files.
 */
import { isIP } from 'node:net';
import { err, ok, type Result } from '../lib/result.js';

export type IceScheme = 'stun' | 'stuns' | 'turn' | 'turns';
/** The transport the client speaks to the server. */
export type ServerTransport = 'udp' | 'tcp' | 'tls';

export interface IceServerUrl {
  readonly scheme: IceScheme;
  /** Without brackets for IPv6. */
  readonly host: string;
  readonly port: number;
  readonly transport: ServerTransport;
  /** The URL as written back (normalised). */
  readonly text: string;
}

const DEFAULT_PORT = 3478;
const DEFAULT_SECURE_PORT = 5349;

/** Parse one URL; the error is a sentence naming what is wrong. */
export function parseIceServerUrl(input: string): Result<IceServerUrl, string> {
  const text = input.trim();
  const colon = text.indexOf(':');
  if (colon <= 0) return err(`"${input}" is not a STUN or TURN URL (expected stun:, stuns:, turn: or turns:)`);
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme !== 'stun' && scheme !== 'stuns' && scheme !== 'turn' && scheme !== 'turns') {
    return err(`"${input}": unknown scheme "${scheme}" (expected stun, stuns, turn or turns)`);
  }
  let rest = text.slice(colon + 1);
  if (rest.startsWith('//')) return err(`"${input}": STUN and TURN URLs have no "//" (write ${scheme}:host:port)`);
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  if (query !== '' && (scheme === 'stun' || scheme === 'stuns')) return err(`"${input}": a ${scheme}: URL takes no query (only turn: and turns: take ?transport=)`);

  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return err(`"${input}": an IPv6 address in brackets lacks its "]"`);
    host = rest.slice(1, close);
    if (isIP(host) !== 6) return err(`"${input}": "${host}" in brackets is not an IPv6 address`);
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return err(`"${input}": unexpected "${after}" after the address`);
      portText = after.slice(1);
    }
  } else {
    const c = rest.indexOf(':');
    if (c >= 0) {
      if (rest.indexOf(':', c + 1) >= 0) return err(`"${input}": an IPv6 address must be written in brackets, e.g. ${scheme}:[2001:db8::1]:3478`);
      host = rest.slice(0, c);
      portText = rest.slice(c + 1);
    } else host = rest;
  }
  if (host === '') return err(`"${input}": no host`);
  if (isIP(host) === 0 && !isHostName(host)) return err(`"${input}": "${host}" is not a host name or an IP address`);

  const secure = scheme === 'stuns' || scheme === 'turns';
  let port = secure ? DEFAULT_SECURE_PORT : DEFAULT_PORT;
  if (portText !== undefined) {
    if (portText === '' || portText.length > 5 || !isDigits(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      return err(`"${input}": port "${portText}" is not a number from 1 to 65535`);
    }
    port = Number(portText);
  }

  let transport: ServerTransport = secure ? 'tls' : 'udp';
  if (query !== '') {
    if (!query.toLowerCase().startsWith('transport=')) return err(`"${input}": unknown query "${query}" (only ?transport=udp or ?transport=tcp)`);
    const t = query.slice('transport='.length).toLowerCase();
    if (t === 'tcp') transport = secure ? 'tls' : 'tcp';
    else if (t === 'udp') {
      if (secure) return err(`"${input}": turns: over UDP is DTLS, which this check does not speak; use turns:${formatHost(host)}:${port}?transport=tcp or turn:...?transport=udp`);
      transport = 'udp';
    } else return err(`"${input}": transport "${t}" is neither udp nor tcp`);
  }
  const written = `${scheme}:${formatHost(host)}:${port}${scheme.startsWith('turn') ? `?transport=${transport === 'udp' ? 'udp' : 'tcp'}` : ''}`;
  return ok({ scheme, host, port, transport, text: written });
}

function formatHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Letters, digits, hyphens and dots, labels of 1-63 characters (RFC 1123). */
function isHostName(s: string): boolean {
  if (s.length > 253) return false;
  let label = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (label === 0) return false;
      label = 0;
      continue;
    }
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 95;
    if (!ok || ++label > 63) return false;
  }
  return label > 0 || s.endsWith('.');
}
