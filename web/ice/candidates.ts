/**
 * ICE candidates as the /ice page lists them: read from the `candidate` attribute line (RFC 8839
 * §5.1) that every browser gives, with the RTCIceCandidate fields preferred where the browser
 * fills them. Pure functions: the Node tests run them as they are.
 *
 *   candidate:842163049 1 udp 1677729535 192.0.2.7 54321 typ srflx raddr 0.0.0.0 rport 0 generation 0
 */

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

export interface Candidate {
  readonly type: CandidateType | string;
  /** Transport between the browser and the address: udp or tcp. */
  readonly protocol: string;
  readonly address: string;
  readonly port: number;
  /** For a relay candidate: how the browser talks to the TURN server (udp, tcp, tls); '' otherwise or when unknown. */
  readonly relayProtocol: string;
  readonly priority: number;
}

/** Read an RFC 8839 candidate line (with or without `a=` and `candidate:`); undefined when it is not one. */
export function parseCandidateLine(line: string): Candidate | undefined {
  let s = line.trim();
  if (s.startsWith('a=')) s = s.slice(2);
  if (s.startsWith('candidate:')) s = s.slice('candidate:'.length);
  const f = s.split(' ').filter((t) => t !== '');
  // foundation component transport priority address port "typ" type
  if (f.length < 8 || f[6] !== 'typ') return undefined;
  const priority = Number(f[3]);
  const port = Number(f[5]);
  if (!Number.isInteger(priority) || !Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  const type = f[7]!;
  return { type, protocol: f[2]!.toLowerCase(), address: f[4]!, port, priority, relayProtocol: '' };
}

/**
 * How a relay candidate reaches its TURN server when the browser does not say
 * (RTCIceCandidate.relayProtocol, null in Chromium 156): from the URL of the server that gave
 * it (the icecandidate event's `url`): `turns:` is TLS, `?transport=tcp` TCP, else UDP (RFC 7065
 * §3.1: `turn:` without a transport is UDP). The candidate's priority is no help: its type
 * preference differs between browsers and versions (Chromium 156 gives UDP relays 3, not the 2 of
 * older libwebrtc).
 */
export function relayProtocolFromUrl(url: string | null | undefined): string {
  if (url === null || url === undefined || url === '') return '';
  const u = url.toLowerCase();
  if (u.startsWith('turns:')) return 'tls';
  if (!u.startsWith('turn:')) return '';
  return u.includes('transport=tcp') ? 'tcp' : 'udp';
}

/** What a browser's RTCIceCandidate holds (the fields the page reads). */
export interface BrowserCandidate {
  readonly candidate: string;
  readonly type?: string | null;
  readonly protocol?: string | null;
  readonly address?: string | null;
  readonly port?: number | null;
  readonly relayProtocol?: string | null;
}

/** The URL of the STUN/TURN server a candidate came from (RTCPeerConnectionIceEvent.url), when known. */
export type ServerUrl = string | null | undefined;

/** The browser's fields where it gives them, the line's otherwise. */
export function readCandidate(c: BrowserCandidate, url?: ServerUrl): Candidate | undefined {
  const parsed = parseCandidateLine(c.candidate);
  if (parsed === undefined) return undefined;
  return {
    ...parsed,
    type: c.type || parsed.type,
    protocol: c.protocol || parsed.protocol,
    address: c.address || parsed.address,
    port: c.port ?? parsed.port,
    relayProtocol: parsed.type === 'relay' ? c.relayProtocol || relayProtocolFromUrl(url) : '',
  };
}

/** Names for people. */
export const CANDIDATE_TYPE_NAMES: Readonly<Record<string, string>> = {
  host: 'host (this device)',
  srflx: 'server-reflexive (your public address, seen by STUN)',
  prflx: 'peer-reflexive',
  relay: 'relayed (an address on the TURN server)',
};
