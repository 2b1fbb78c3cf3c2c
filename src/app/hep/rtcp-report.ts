/**
 * An RTCP compound packet as the JSON report Homer stores for HEP protocol type 5: the capture
 * agents of the Homer project (heplify, captagent) and rtpengine send RTCP so, not as the binary
 * packet, and Homer's collector keeps a payload as text. The fields and their names are those
 * reports' (`ssrc`, `type`, `report_count`, `sender_information`, `report_blocks` with
 * `source_ssrc`, `fraction_lost`, `packets_lost`, `highest_seq_no`, `ia_jitter`, `lsr`, `dlsr`,
 * `sdes_ssrc`), read here from the packet as RFC 3550 §6.4 lays it out. Never throws; undefined
 * for bytes that are not RTCP.
 */

/** RFC 3550 §12.1 packet types. */
const SR = 200;
const RR = 201;
const SDES = 202;

export interface RtcpReportBlock {
  readonly source_ssrc: number;
  readonly fraction_lost: number;
  readonly packets_lost: number;
  readonly highest_seq_no: number;
  readonly ia_jitter: number;
  readonly lsr: number;
  readonly dlsr: number;
}

export interface RtcpReport {
  ssrc: number;
  type: number;
  report_count: number;
  sender_information: { ntp_timestamp_sec: number; ntp_timestamp_usec: number; rtp_timestamp: number; packets: number; octets: number };
  report_blocks: RtcpReportBlock[];
  sdes_ssrc: number;
}

/** The report of an RTCP compound packet (its SR or RR, and the SDES SSRC), or undefined. */
export function rtcpReport(bytes: Uint8Array): RtcpReport | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const report: RtcpReport = {
    ssrc: 0, type: 0, report_count: 0,
    sender_information: { ntp_timestamp_sec: 0, ntp_timestamp_usec: 0, rtp_timestamp: 0, packets: 0, octets: 0 },
    report_blocks: [], sdes_ssrc: 0,
  };
  let offset = 0;
  let found = false;
  while (offset + 4 <= bytes.length) {
    // RFC 3550 §6.4.1: "version (V): 2 bits ... The version defined by this specification is two (2)."
    // "length: 16 bits The length of this RTCP packet in 32-bit words minus one, including the header"
    const first = bytes[offset]!;
    const type = bytes[offset + 1]!;
    const end = offset + (view.getUint16(offset + 2) + 1) * 4;
    if (first >> 6 !== 2 || end > bytes.length) break;
    const count = first & 0x1f;
    let p = offset + 4;
    if ((type === SR || type === RR) && p + 4 <= end) {
      found = true;
      report.type = type;
      report.report_count = count;
      report.ssrc = view.getUint32(p);
      p += 4;
      if (type === SR && p + 20 <= end) {
        report.sender_information = {
          ntp_timestamp_sec: view.getUint32(p), ntp_timestamp_usec: view.getUint32(p + 4), rtp_timestamp: view.getUint32(p + 8),
          packets: view.getUint32(p + 12), octets: view.getUint32(p + 16),
        };
        p += 20;
      }
      for (let i = 0; i < count && p + 24 <= end; i++, p += 24) {
        // "cumulative number of packets lost: 24 bits ... Note that this number may be negative"
        const lost = (view.getUint32(p + 4) & 0xffffff) << 8 >> 8;
        report.report_blocks.push({
          source_ssrc: view.getUint32(p), fraction_lost: bytes[p + 4]!, packets_lost: lost, highest_seq_no: view.getUint32(p + 8),
          ia_jitter: view.getUint32(p + 12), lsr: view.getUint32(p + 16), dlsr: view.getUint32(p + 20),
        });
      }
    } else if (type === SDES && p + 4 <= end) {
      found = true;
      report.sdes_ssrc = view.getUint32(p);
    }
    offset = end;
  }
  return found ? report : undefined;
}
