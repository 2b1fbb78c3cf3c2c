/**
 * The phone page's URL parameters, and how a dialled string becomes a SIP URI. Pure functions:
 * no DOM, no JsSIP, so the Node tests run them as they are.
 *
 *   /phone?username=alice&displayname=Alice&target=bob&autoregister=1#password=secret
 *   /phone?ice=relay            media through a TURN relay only (iceTransportPolicy "relay": tests, and
 *                               people who want their address kept from the other side)
 *   /phone?dtmf=info            the keypad sends SIP INFO (application/dtmf-relay) instead of RFC 4733
 *                               events in the audio
 *
 * The password is read only from the fragment (`#password=`): a fragment never leaves the
 * browser (not in the request line, not in server logs, not in a Referer), and the page removes
 * it from the address bar and from the history entry as soon as it has read it. A `password` in
 * the query string is ignored and reported: it would reach the server's and proxies' logs. A
 * password in a link is meant for tests and demos on one's own machine; otherwise type it.
 */

export interface PhoneParams {
  readonly username: string;
  readonly displayName: string;
  readonly target: string;
  /** Register as soon as the page is loaded (needs a username and a password). */
  readonly autoRegister: boolean;
  /** From the fragment only. */
  readonly password: string;
  /** A `password` was given in the query string (ignored: see above). */
  readonly passwordInQuery: boolean;
  /** RTCPeerConnection's iceTransportPolicy: `relay` from `?ice=relay`, else `all`. */
  readonly iceTransportPolicy: 'all' | 'relay';
  /** How the keypad sends tones: RFC 4733 events in the audio (default), or SIP INFO from `?dtmf=info`. */
  readonly dtmf: DtmfMode;
}

export type DtmfMode = 'rfc4733' | 'info';

const TRUE = new Set(['', '1', 'true', 'yes', 'on']);

/** Read the parameters of `search` (`?a=b…`) and `hash` (`#password=…`). */
export function parsePhoneParams(search: string, hash: string): PhoneParams {
  const q = new URLSearchParams(search);
  const h = new URLSearchParams(hash.replace(/^#/, ''));
  const auto = q.get('autoregister') ?? q.get('autoRegister');
  return {
    username: (q.get('username') ?? q.get('user') ?? '').trim(),
    displayName: (q.get('displayname') ?? q.get('displayName') ?? '').trim(),
    target: (q.get('target') ?? '').trim(),
    autoRegister: auto !== null && TRUE.has(auto.trim().toLowerCase()),
    password: h.get('password') ?? '',
    passwordInQuery: q.has('password'),
    iceTransportPolicy: (q.get('ice') ?? '').trim().toLowerCase() === 'relay' ? 'relay' : 'all',
    dtmf: (q.get('dtmf') ?? '').trim().toLowerCase() === 'info' ? 'info' : 'rfc4733',
  };
}

/** The fragment without its password (what the address bar keeps). */
export function hashWithoutPassword(hash: string): string {
  const h = new URLSearchParams(hash.replace(/^#/, ''));
  if (!h.has('password')) return hash;
  h.delete('password');
  const rest = h.toString();
  return rest === '' ? '' : `#${rest}`;
}

/**
 * RFC 3261 §25.1 `user` characters (unreserved, escaped and user-unreserved): what a user name
 * may contain without escaping. A user name outside them is refused with a sentence, not sent.
 */
const USER = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;

export function isValidUser(user: string): boolean {
  return USER.test(user);
}

/** A domain or address as the host part of a SIP URI (a name, IPv4, or [IPv6]). */
export function isValidHost(host: string): boolean {
  return /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?)+$|^\d{1,3}(?:\.\d{1,3}){3}$|^\[[0-9A-Fa-f:.]+\]$/.test(host);
}

/** IPv6 literals go in brackets in a URI (RFC 3261 §25.1 IPv6reference). */
export function uriHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export type TargetResult = { readonly ok: true; readonly uri: string; readonly label: string } | { readonly ok: false; readonly reason: string };

/**
 * What the person typed in "Call" as a SIP URI: `bob` → `sip:bob@<domain>`, `bob@example.com` →
 * `sip:bob@example.com`, `sip:…`/`sips:…` as they are; a telephone number keeps its digits and
 * a leading `+` (`+1 (555) 010-9999` → `sip:+15550109999@<domain>`). `label` is how the page
 * names the callee in sentences ("bob is busy").
 */
export function targetToUri(input: string, domain: string): TargetResult {
  const t = input.trim();
  if (t === '') return { ok: false, reason: 'Type who to call: a user name such as bob, or a SIP address such as sip:bob@example.com.' };
  if (/^sips?:/i.test(t)) {
    const m = /^sips?:(?:([^@;?]+)@)?([^;?>]+)/i.exec(t);
    if (!m || !isValidHost(m[2]!.replace(/:\d+$/, ''))) return { ok: false, reason: `"${t}" is not a SIP address I can call.` };
    return { ok: true, uri: t, label: m[1] !== undefined ? decodeURIComponent(m[1]) : m[2]! };
  }
  let user = t;
  let host = domain;
  const at = t.lastIndexOf('@');
  if (at >= 0) {
    user = t.slice(0, at);
    host = t.slice(at + 1);
    if (!isValidHost(host)) return { ok: false, reason: `"${host}" is not a domain name or address.` };
  }
  if (/^\+?[\d\s().-]+$/.test(user) && /\d/.test(user)) user = user.replace(/[\s().-]/g, '');
  if (!isValidUser(user)) return { ok: false, reason: `"${user}" cannot be a user name (letters, digits and - _ . ! ~ * ' ( ) & = + $ , ; ? / only).` };
  return { ok: true, uri: `sip:${user}@${uriHost(host)}`, label: user };
}
