/**
 * The media endpoints a captured SIP message's SDP announces, for `CaptureStreams` (as tshark
 * learns them from SIP and SDP to read RTP): each m= line with an RTP profile (RTP/AVP, RTP/SAVP,
 * UDP/TLS/RTP/SAVPF …) and a port other than 0 (RFC 3264 §6: a rejected stream), at its
 * connection address (RFC 4566 §5.7: media-level c=, else session-level), with the payload types
 * its rtpmap lines name (those RFC 3551 does not fix: the receiver's numbering, RFC 3264 §5.1).
 *
 * Offers and answers alike, from the message on: Wireshark's SIP dissector (4.0, its default
 * "delay SDP changes" off) sets up the RTP conversations of an offer as soon as it sees it, and
 * those of an answer with it. A failure response's SDP (3xx and up) announces nothing.
 */
import { parseSdp } from '../sdp/index.js';
import type { CaptureStreams } from './capture-streams.js';
import { mediaOf } from './media-hints.js';
import { type PayloadFormat, STATIC_PAYLOAD_FORMATS } from './payload-formats.js';
import type { CapturedSipMessage } from './sip-capture.js';

/** Registers in `streams` the media endpoints `captured`'s SDP announces; how many. */
export function addSdpMediaEndpoints(streams: CaptureStreams, captured: CapturedSipMessage): number {
  const m = captured.message;
  if (m.bodyLength === 0) return 0;
  if (!m.isRequest && m.status >= 300) return 0;
  let type: string | undefined;
  try {
    const t = m.contentType;
    type = t === undefined ? undefined : `${t.type}/${t.subtype}`.toLowerCase();
  } catch {
    return 0;
  }
  if (type !== 'application/sdp') return 0;
  const parsed = parseSdp(new TextDecoder().decode(m.body));
  if (!parsed.ok) return 0;
  let added = 0;
  for (const media of mediaOf(parsed.value)) {
    if (media.port === 0 || !media.proto.toUpperCase().includes('RTP')) continue;
    let formats: Map<number, PayloadFormat> | undefined;
    for (const pt of media.payloadTypes) {
      if (STATIC_PAYLOAD_FORMATS.has(pt.payloadType) || pt.name === '') continue;
      formats ??= new Map();
      formats.set(pt.payloadType, { name: pt.name, clockRate: pt.clockRate });
    }
    streams.addMediaEndpoint(media.address, media.port, { callId: m.callId, ...(formats === undefined ? {} : { formats }) });
    added++;
  }
  return added;
}
