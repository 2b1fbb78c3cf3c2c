/**
 * What the /ice page says when no relayed (or server-reflexive) candidate comes: the browser's
 * `icecandidateerror` events (their errorCode: a STUN error code 300-699 from the server, or 701
 * when the server could not be reached) and the timeout, in words a person can act on. The same
 * causes as `parley turn-check` names (src/turn-check/explain.ts), seen from the browser.
 */
import type { Candidate } from './candidates.js';

/** One icecandidateerror, as the page keeps it. */
export interface IceError {
  readonly errorCode: number;
  readonly errorText: string;
  readonly url: string;
}

/** One error in words. */
export function explainIceError(e: IceError): string {
  const at = e.url === '' ? 'the server' : e.url;
  switch (e.errorCode) {
    case 401:
      return `${at} refused the credentials (401): wrong username or password, or time-limited credentials that have expired or were made with another secret.`;
    case 403:
      return `${at} forbids this (403 ${e.errorText}).`;
    case 437:
      return `${at} answered "allocation mismatch" (437): it still holds an allocation for this address and port.`;
    case 438:
      return `${at} kept calling the nonce stale (438): its clock may jump, or its nonces expire too fast.`;
    case 440:
      return `${at} does not relay the address family asked for (440).`;
    case 442:
      return `${at} does not relay UDP (442).`;
    case 486:
      return `${at} refused another allocation for this user (486 Allocation Quota Reached): close other calls or tabs, or raise the quota.`;
    case 508:
      return `${at} has no relay port free (508 Insufficient Capacity).`;
    case 701:
      return `${at} could not be reached (701): nothing answers at that address and port over ${transportOf(e.url)}, a firewall drops it, or the name does not resolve.`;
    default:
      return `${at} answered ${e.errorCode}${e.errorText === '' ? '' : ` ${e.errorText}`}.`;
  }
}

function transportOf(url: string): string {
  if (url.startsWith('turns:')) return 'TLS';
  if (url.includes('transport=tcp')) return 'TCP';
  return 'UDP';
}

export interface GatheringOutcome {
  readonly policy: 'relay' | 'all';
  /** The servers asked: `turn:`/`turns:` ones can give relayed candidates, every one server-reflexive. */
  readonly urls: readonly string[];
  readonly candidates: readonly Candidate[];
  readonly errors: readonly IceError[];
  /** Gathering did not complete within the page's wait. */
  readonly timedOut: boolean;
  readonly waitedMs: number;
}

/** The verdict: one sentence or two, `ok` when the check found what the servers should give. */
export function verdict(o: GatheringOutcome): { readonly ok: boolean; readonly text: string } {
  const turn = o.urls.some((u) => u.startsWith('turn:') || u.startsWith('turns:'));
  const relays = o.candidates.filter((c) => c.type === 'relay');
  const srflx = o.candidates.filter((c) => c.type === 'srflx');
  if (relays.length > 0) {
    const where = relays.map((c) => `${c.address}:${c.port} (${c.relayProtocol || c.protocol})`).join(', ');
    return { ok: true, text: `The TURN server relays: it gave ${relays.length === 1 ? 'the relayed address' : 'the relayed addresses'} ${where}. Calls can go through it when nothing else works.` };
  }
  const why = o.errors.length > 0 ? ` ${uniq(o.errors.map(explainIceError)).join(' ')}` : '';
  if (turn) {
    const wait = o.timedOut ? ` Gathering had not finished after ${Math.round(o.waitedMs / 1000)} s.` : '';
    const none = o.errors.length === 0 ? (o.timedOut ? ' The server did not answer in time (timeout): is the address right, and does a firewall let the port through?' : ' The browser reported no error: check the URL.') : '';
    return { ok: false, text: `No relayed candidate.${why}${none}${wait}` };
  }
  if (o.policy === 'relay') return { ok: false, text: 'A STUN server gives no relayed candidates: with "Relayed only" the check needs a turn: or turns: URL.' };
  if (srflx.length > 0) return { ok: true, text: `The STUN server answered: your public address is ${srflx.map((c) => `${c.address}:${c.port}`).join(', ')}.` };
  const none = o.errors.length === 0 ? ' No error was reported: the STUN server may see the same address as this device has (no NAT between them), which the browser does not list twice.' : '';
  return { ok: false, text: `No server-reflexive candidate.${why}${none}` };
}

function uniq(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/** Is `url` a STUN or TURN URL the browser takes (RFC 7064, RFC 7065)? A sentence when not. */
export function checkIceUrl(url: string): string | undefined {
  const u = url.trim();
  const colon = u.indexOf(':');
  const scheme = colon < 0 ? '' : u.slice(0, colon).toLowerCase();
  if (!['stun', 'stuns', 'turn', 'turns'].includes(scheme)) return `"${u}" is not a STUN or TURN URL: write stun:host:port, turn:host:port?transport=udp or turns:host:5349.`;
  const rest = u.slice(colon + 1);
  if (rest.startsWith('//')) return `"${u}": STUN and TURN URLs have no "//" (write ${scheme}:host:port).`;
  if (rest === '' || rest.startsWith('?') || rest.startsWith(':')) return `"${u}" names no host.`;
  return undefined;
}
