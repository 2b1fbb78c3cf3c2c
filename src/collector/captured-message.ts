/**
 * A message a HEP agent captured, as the collector keeps it: where and when it went, over what,
 * and for SIP the fields a VoIP engineer looks for first (method or status, Call-ID, CSeq, From,
 * To). `summariseHep` turns a decoded HEPv3 packet into one; it never throws on what came.
 */
import { inflateSync, gunzipSync } from 'node:zlib';
import { hepDestination, hepSource, HepIpProtocol, HepProtocolType, type HepPacket } from '../hep/index.js';
import { parseMessage } from '../sip/index.js';

/** The transport a captured message went over: udp and tcp from the HEP IP protocol chunk; tls, ws, wss from the SIP top Via over TCP. */
export type CaptureTransport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss' | 'sctp' | 'other';

export interface CapturedMessage {
  /** Capture time (the HEP time chunks; the arrival time when the agent sent none), microseconds since 1970 UTC. */
  readonly timeUs: number;
  /** Arrival at the collector, microseconds since 1970 UTC. */
  readonly receivedUs: number;
  /**
   * What the message belongs to: the SIP Call-ID when the payload is SIP with a readable one,
   * else the HEP correlation ID (0x0011: an RTCP report's or a log line's call), else ''.
   */
  readonly callId: string;
  readonly srcAddr: string;
  readonly srcPort: number;
  readonly dstAddr: string;
  readonly dstPort: number;
  readonly transport: CaptureTransport;
  /** HEP protocol type (1 SIP, 5 RTCP, 100 log ...); 0 when the agent sent none. */
  readonly protocolType: number;
  /** A SIP request's method. */
  readonly method?: string;
  /** A SIP response's status code and reason phrase. */
  readonly status?: number;
  readonly reason?: string;
  /** The CSeq as "number METHOD". */
  readonly cseq?: string;
  /** The From and To URIs (without display name and tag). */
  readonly fromUri?: string;
  readonly toUri?: string;
  readonly fromTag?: string;
  readonly toTag?: string;
  readonly captureAgentId?: number;
  readonly nodeName?: string;
  /** The captured bytes (inflated when the agent compressed them). */
  readonly payload: Uint8Array;
}

/** Why a decoded packet cannot be kept. */
export type SummaryFault = 'no-payload' | 'bad-compressed-payload';

/** The most an inflated payload may grow to (a HEP packet is at most 65,535 bytes; SIP messages stay under it too). */
export const MAX_INFLATED_PAYLOAD = 65_535;

/** Transports named by a SIP top Via that ride on TCP: the pcap export writes them as TCP. */
const OVER_TCP: ReadonlySet<string> = new Set(['tls', 'ws', 'wss']);

/** A decoded HEP packet as a captured message, or why not. `nowUs` is the arrival time. */
export function summariseHep(p: HepPacket, nowUs: number): CapturedMessage | SummaryFault {
  let payload = p.payload;
  if (payload === undefined && p.compressedPayload !== undefined) {
    payload = inflate(p.compressedPayload);
    if (payload === undefined) return 'bad-compressed-payload';
  }
  if (payload === undefined) return 'no-payload';
  const src = hepSource(p);
  const dst = hepDestination(p);
  const timeUs = p.timeSeconds !== undefined ? p.timeSeconds * 1_000_000 + Math.min(p.timeMicroseconds ?? 0, 999_999) : nowUs;
  let transport: CaptureTransport =
    p.ipProtocol === HepIpProtocol.UDP ? 'udp' : p.ipProtocol === HepIpProtocol.TCP ? 'tcp' : p.ipProtocol === HepIpProtocol.SCTP ? 'sctp' : 'other';
  const base = {
    timeUs,
    receivedUs: nowUs,
    srcAddr: src?.address ?? '',
    srcPort: src?.port ?? 0,
    dstAddr: dst?.address ?? '',
    dstPort: dst?.port ?? 0,
    protocolType: p.protocolType ?? 0,
    ...(p.captureAgentId !== undefined ? { captureAgentId: p.captureAgentId } : {}),
    ...(p.nodeName !== undefined ? { nodeName: p.nodeName } : {}),
    payload,
  };
  const correlation = p.correlationId ?? '';
  // the protocol type chunk is optional: a payload without one is tried as SIP
  if (p.protocolType !== undefined && p.protocolType !== HepProtocolType.SIP) return { ...base, transport, callId: correlation };
  const parsed = parseMessage(payload, { datagram: true });
  const m = parsed.ok ? parsed.message : parsed.message;
  if (m === undefined) return { ...base, transport, callId: correlation };
  const sip: { -readonly [K in keyof CapturedMessage]?: CapturedMessage[K] } = {};
  // each header read on its own: one malformed header leaves the others
  const read = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch {
      return undefined;
    }
  };
  if (m.isRequest) sip.method = m.method;
  else {
    sip.status = m.status;
    sip.reason = m.reason;
  }
  const callId = read(() => m.callId);
  const cseq = read(() => m.cseq);
  if (cseq !== undefined) sip.cseq = `${cseq.seq} ${cseq.method}`;
  const from = read(() => m.from);
  const to = read(() => m.to);
  if (from !== undefined) {
    sip.fromUri = from.uri.toString();
    if (from.tag !== undefined) sip.fromTag = from.tag;
  }
  if (to !== undefined) {
    sip.toUri = to.uri.toString();
    if (to.tag !== undefined) sip.toTag = to.tag;
  }
  // HEP's IP protocol chunk says TCP for TLS and WebSocket too; the top Via names the hop's transport
  const via = transport === 'tcp' ? read(() => m.topVia) : undefined;
  const viaTransport = via?.transport.toLowerCase();
  if (viaTransport !== undefined && OVER_TCP.has(viaTransport)) transport = viaTransport as CaptureTransport;
  return { ...base, ...sip, transport, callId: callId !== undefined && callId !== '' ? callId : correlation };
}

function inflate(bytes: Uint8Array): Uint8Array | undefined {
  const options = { maxOutputLength: MAX_INFLATED_PAYLOAD };
  for (const f of [gunzipSync, inflateSync]) {
    try {
      return new Uint8Array(f(bytes, options));
    } catch {
      // not this format, or larger than the limit
    }
  }
  return undefined;
}

/** "INVITE", "200 OK", or the HEP protocol type for what is not SIP ("proto 5"). */
export function messageLabel(m: CapturedMessage): string {
  if (m.method !== undefined) return m.method;
  if (m.status !== undefined) return `${m.status} ${m.reason ?? ''}`.trimEnd();
  return m.protocolType === HepProtocolType.SIP ? 'SIP?' : `proto ${m.protocolType}`;
}
