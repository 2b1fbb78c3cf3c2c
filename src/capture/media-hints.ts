/**
 * What a call's SDP says about its media, for the commands that read RTP next to SIP (`parley pcap
 * streams`, `crypto`, `decrypt`, `wav`, `split`): per SDP body of the call, offer or answer
 * (RFC 3264 §2), who sent it, and per m= line the media endpoint (address, RTP port, RTCP port,
 * rtcp-mux), the payload types with codec and clock rate, the SDES `a=crypto` lines (RFC 4568)
 * and the DTLS `a=fingerprint` and `a=setup` (RFC 8122, RFC 4145).
 *
 * `callMedia(call)` reads one call; `MediaIndex` finds the call an RTP datagram belongs to by
 * either of its addresses.
 */
import { getAttribute, getAttributes, hasAttribute, parseSdp, STATIC_PAYLOAD_TYPES, type MediaDescription, type SessionDescription } from '../sdp/index.js';
import type { AnySipMessage } from '../sip/index.js';
import type { CapturedSipMessage } from './sip-capture.js';
import type { SipCall } from './sip-calls.js';

export interface PayloadTypeHint {
  readonly payloadType: number;
  /** The encoding name as the SDP (or RFC 3551 for a static type) writes it: PCMU, opus, telephone-event … */
  readonly name: string;
  /** Hz; 0 when unknown (a dynamic type without rtpmap). */
  readonly clockRate: number;
  readonly channels: number;
}

/** One a=crypto line (RFC 4568 §9.1: "a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]"). */
export interface CryptoHint {
  readonly tag: number;
  readonly suite: string;
  /** The key-params as written, e.g. "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4". */
  readonly keyParams: string;
  readonly sessionParams: readonly string[];
}

export interface MediaHint {
  /** audio, video, … (m= media). */
  readonly media: string;
  /** The m= line's place in its description, from 0. */
  readonly mid: number;
  /** The connection address (media-level c=, else session-level), without /ttl. */
  readonly address: string;
  /** RTP port; 0 for a rejected or disabled stream (RFC 3264 §6). */
  readonly port: number;
  /** The RTCP port: a=rtcp (RFC 3605), else port + 1 (RFC 3550 §11); the RTP port with rtcp-mux. */
  readonly rtcpPort: number;
  readonly rtcpAddress: string;
  /** a=rtcp-mux (RFC 5761). */
  readonly rtcpMux: boolean;
  /** RTP/AVP, RTP/SAVP, UDP/TLS/RTP/SAVPF … */
  readonly proto: string;
  /** sendrecv, sendonly, recvonly, inactive (media level, else session level, else sendrecv). */
  readonly direction: string;
  readonly payloadTypes: readonly PayloadTypeHint[];
  readonly crypto: readonly CryptoHint[];
  /** a=fingerprint (media level, else session level): "<hash-func> <fingerprint>". */
  readonly fingerprint: string | undefined;
  /** a=setup: actpass, active, passive, holdconn. */
  readonly setup: string | undefined;
}

export interface SdpHint {
  /** Offer or answer (RFC 3264): the first SDP of a transaction is the offer, the next the answer. */
  readonly role: 'offer' | 'answer';
  /** The message that carried it. */
  readonly time: bigint;
  readonly messageIndex: number;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  /** "INVITE", "200 INVITE", "ACK", "183 INVITE", … */
  readonly carriedBy: string;
  readonly media: readonly MediaHint[];
}

export interface CallMedia {
  readonly callId: string;
  /** Every SDP body of the call, in capture order (bodies that did not parse are left out). */
  readonly sdps: readonly SdpHint[];
}

/** Does the message carry an SDP body (Content-Type application/sdp)? */
function sdpBody(m: AnySipMessage): string | undefined {
  if (m.bodyLength === 0) return undefined;
  let type: string | undefined;
  try {
    const t = m.contentType;
    type = t === undefined ? undefined : `${t.type}/${t.subtype}`.toLowerCase();
  } catch {
    return undefined;
  }
  if (type !== 'application/sdp') return undefined;
  return new TextDecoder().decode(m.body);
}

/** The media of every SDP in `call` (its messages must have been kept). */
export function callMedia(call: SipCall): CallMedia {
  const sdps: SdpHint[] = [];
  // RFC 3264 §4 pairs an offer with the answer that follows it: per transaction (CSeq number and
  // method, an ACK counting with its INVITE), who offered
  const exchanges = new Map<string, 'request' | 'response'>();
  for (const c of call.messages) {
    const text = sdpBody(c.message);
    if (text === undefined) continue;
    const parsed = parseSdp(text);
    if (!parsed.ok) continue;
    const m = c.message;
    const key = `${m.cseq.seq} ${m.cseq.method === 'ACK' ? 'INVITE' : m.cseq.method}`;
    const offeredBy = exchanges.get(key);
    const side = m.isRequest ? 'request' : 'response';
    let role: 'offer' | 'answer';
    if (offeredBy === undefined) {
      role = 'offer';
      exchanges.set(key, side);
    } else {
      // a retransmitted offer is still the offer
      role = offeredBy === side && !(m.isRequest && m.method === 'ACK') ? 'offer' : 'answer';
    }
    sdps.push({
      role,
      time: c.time,
      messageIndex: c.index,
      src: c.src,
      srcPort: c.srcPort,
      dst: c.dst,
      dstPort: c.dstPort,
      carriedBy: m.isRequest ? m.method : `${m.status} ${m.cseq.method}`,
      media: mediaOf(parsed.value),
    });
  }
  return { callId: call.callId, sdps };
}

function connectionAddress(text: string): string {
  const slash = text.indexOf('/');
  return slash < 0 ? text : text.slice(0, slash);
}

/** The media hints of one session description. */
export function mediaOf(sdp: SessionDescription): MediaHint[] {
  return sdp.media.map((m, mid) => mediaHint(sdp, m, mid));
}

function mediaHint(sdp: SessionDescription, m: MediaDescription, mid: number): MediaHint {
  const address = connectionAddress((m.connection ?? sdp.connection)?.address ?? '');
  const rtcpMux = hasAttribute(m, 'rtcp-mux');
  let rtcpPort = rtcpMux ? m.port : m.port + 1;
  let rtcpAddress = address;
  const rtcp = getAttribute(m, 'rtcp');
  if (rtcp !== undefined && !rtcpMux) {
    // RFC 3605 §2.1: "rtcp-attribute = "a=rtcp:" port [nettype space addrtype space connection-address] CRLF"
    const parts = rtcp.trim().split(' ').filter((p) => p !== '');
    const port = Number(parts[0]);
    if (Number.isInteger(port) && port >= 0 && port <= 65535) rtcpPort = port;
    if (parts.length >= 4) rtcpAddress = connectionAddress(parts[3]!);
  }
  const rtpmaps = new Map<number, { name: string; clockRate: number; channels: number }>();
  for (const v of getAttributes(m, 'rtpmap')) {
    // RFC 8866 §6.6: "a=rtpmap:<payload type> <encoding name>/<clock rate> [/<encoding parameters>]"
    const space = v.indexOf(' ');
    if (space < 0) continue;
    const pt = Number(v.slice(0, space));
    const [name, rate, channels] = v.slice(space + 1).trim().split('/');
    if (!Number.isInteger(pt) || name === undefined) continue;
    rtpmaps.set(pt, { name, clockRate: Number(rate) || 0, channels: Number(channels) || 1 });
  }
  const payloadTypes: PayloadTypeHint[] = [];
  for (const f of m.formats) {
    const pt = Number(f);
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) continue;
    const known = rtpmaps.get(pt) ?? STATIC_PAYLOAD_TYPES.get(pt);
    payloadTypes.push({ payloadType: pt, name: known?.name ?? '', clockRate: known?.clockRate ?? 0, channels: known?.channels ?? 1 });
  }
  const crypto: CryptoHint[] = [];
  for (const v of getAttributes(m, 'crypto')) {
    const parts = v.trim().split(' ').filter((p) => p !== '');
    const tag = Number(parts[0]);
    if (parts.length < 3 || !Number.isInteger(tag)) continue;
    crypto.push({ tag, suite: parts[1]!, keyParams: parts[2]!, sessionParams: parts.slice(3) });
  }
  const direction = ['sendrecv', 'sendonly', 'recvonly', 'inactive'].find((d) => hasAttribute(m, d)) ?? ['sendrecv', 'sendonly', 'recvonly', 'inactive'].find((d) => hasAttribute(sdp, d)) ?? 'sendrecv';
  return {
    media: m.media,
    mid,
    address,
    port: m.port,
    rtcpPort,
    rtcpAddress,
    rtcpMux,
    proto: m.proto,
    direction,
    payloadTypes,
    crypto,
    fingerprint: getAttribute(m, 'fingerprint') ?? getAttribute(sdp, 'fingerprint'),
    setup: getAttribute(m, 'setup') ?? getAttribute(sdp, 'setup'),
  };
}

/** Where a media endpoint was announced: the call, the SDP and the m= line. */
export interface MediaEndpointMatch {
  readonly callId: string;
  readonly sdp: SdpHint;
  readonly media: MediaHint;
  /** The port matched is the RTCP one. */
  readonly rtcp: boolean;
}

/**
 * The media endpoints of many calls, to tie a datagram to its call: `lookup(address, port, time)`
 * gives the latest SDP announcing that endpoint at or before `time` (any SDP when `time` is
 * undefined, the latest), since ports are reused by later calls.
 */
export class MediaIndex {
  private readonly byEndpoint = new Map<string, MediaEndpointMatch[]>();

  constructor(calls: Iterable<CallMedia> = []) {
    for (const c of calls) this.add(c);
  }

  add(call: CallMedia): void {
    for (const sdp of call.sdps) {
      for (const media of sdp.media) {
        if (media.port === 0 || media.address === '') continue;
        this.put(`${media.address} ${media.port}`, { callId: call.callId, sdp, media, rtcp: false });
        if (!media.rtcpMux) this.put(`${media.rtcpAddress} ${media.rtcpPort}`, { callId: call.callId, sdp, media, rtcp: true });
      }
    }
  }

  private put(key: string, match: MediaEndpointMatch): void {
    const list = this.byEndpoint.get(key);
    if (list === undefined) this.byEndpoint.set(key, [match]);
    else {
      list.push(match);
      list.sort((a, b) => (a.sdp.time < b.sdp.time ? -1 : a.sdp.time > b.sdp.time ? 1 : 0));
    }
  }

  lookup(address: string, port: number, time?: bigint): MediaEndpointMatch | undefined {
    const list = this.byEndpoint.get(`${address} ${port}`);
    if (list === undefined) return undefined;
    if (time === undefined) return list[list.length - 1];
    let found: MediaEndpointMatch | undefined;
    for (const m of list) {
      if (m.sdp.time > time) break;
      found = m;
    }
    // media may start a moment before the SDP that announced it is captured (early media)
    return found ?? list[0];
  }

  /** The call of a datagram: its destination, else its source, is an announced endpoint. */
  callOf(src: string, srcPort: number, dst: string, dstPort: number, time?: bigint): MediaEndpointMatch | undefined {
    return this.lookup(dst, dstPort, time) ?? this.lookup(src, srcPort, time);
  }
}
