import { HepProtocolType } from '../../hep/index.js';
import type { MediaTap } from '../../media/media-tap.js';
import type { HepConfig } from '../config.js';
import type { HepCapture } from './hep-capture.js';
import { rtcpReport } from './rtcp-report.js';

const te = new TextEncoder();

/**
 * RFC 3550 §5.1: the fixed header, then "CSRC count (CC): 4 bits" CSRC identifiers of 32 bits;
 * with the extension bit, a header extension of a 16-bit profile field and a 16-bit length in
 * 32-bit words (§5.3.1). What `rtpHeaders` sends of each packet: the header, never the media.
 */
export function rtpHeaderLength(packet: Uint8Array): number {
  if (packet.length < 12) return packet.length;
  let n = 12 + (packet[0]! & 0x0f) * 4;
  if ((packet[0]! & 0x10) !== 0 && n + 4 <= packet.length) n += 4 + ((packet[n + 2]! << 8) | packet[n + 3]!) * 4;
  return Math.min(n, packet.length);
}

/**
 * The media thread's tap into its HEP capture: RTCP as Homer's JSON report (HEP protocol type 5,
 * rtcp-report.ts), RTP headers as type 4, each correlated with its call by the Call-ID.
 */
export function hepMediaTap(capture: HepCapture, config: Pick<HepConfig, 'rtcp' | 'rtpHeaders'>): MediaTap {
  return {
    rtp: config.rtpHeaders,
    packet(bytes, rtcp, callId, sourceAddress, sourcePort, destinationAddress, destinationPort) {
      if (rtcp) {
        if (!config.rtcp) return;
        const report = rtcpReport(bytes);
        if (report === undefined) return;
        capture.media(te.encode(JSON.stringify(report)), HepProtocolType.RTCP, callId, sourceAddress, sourcePort, destinationAddress, destinationPort);
      } else {
        capture.media(bytes.subarray(0, rtpHeaderLength(bytes)), HepProtocolType.RTP, callId, sourceAddress, sourcePort, destinationAddress, destinationPort);
      }
    },
  };
}
