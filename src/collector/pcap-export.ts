/**
 * Captured messages to a classic pcap file (src/pcap/pcap-writer.ts: raw IP frames, LINKTYPE_RAW)
 * that tshark and Wireshark dissect: a message captured over UDP is one UDP datagram; over TCP,
 * TLS or WebSocket one TCP segment of its flow, with running sequence numbers per direction (and
 * the acknowledgement of what the other direction sent), so that Wireshark's TCP analysis sees an
 * unbroken stream. The payload is what the agent captured: for TLS and WebSocket the SIP message
 * itself (the agent saw it decrypted, unframed), not the bytes on the wire.
 *
 * What cannot be a frame is skipped and counted: a transport other than UDP or TCP (SCTP), an
 * address missing or not an IP address, two addresses of different families, a payload too large
 * for one IP packet, and payloads that are neither SIP nor RTCP (log lines, JSON reports).
 */
import { HepProtocolType } from '../hep/index.js';
import { pcapFileHeader, pcapRecord, tcpFrame, udpFrame } from '../pcap/pcap-writer.js';
import type { CapturedMessage } from './captured-message.js';

export interface PcapExportCounts {
  readonly written: number;
  readonly skipped: number;
}

/** The first sequence number of every direction of a flow (Wireshark shows them relative anyway). */
const FIRST_SEQ = 1;

/**
 * Writes a pcap of `messages` (in the order given: capture order) through `write`: the file
 * header first, then a record per message. Streams: holds only one counter pair per TCP direction.
 */
export function writeCapturePcap(messages: Iterable<CapturedMessage>, write: (bytes: Uint8Array) => void): PcapExportCounts {
  write(pcapFileHeader());
  const nextSeq = new Map<string, number>();
  let written = 0;
  let skipped = 0;
  for (const m of messages) {
    const frame = frameOf(m, nextSeq);
    if (frame === undefined) {
      skipped++;
      continue;
    }
    write(pcapRecord(BigInt(m.timeUs) * 1000n, frame));
    written++;
  }
  return { written, skipped };
}

function frameOf(m: CapturedMessage, nextSeq: Map<string, number>): Uint8Array | undefined {
  if (m.protocolType !== HepProtocolType.SIP && m.protocolType !== HepProtocolType.RTCP && m.protocolType !== 0) return undefined;
  const ends = { src: unmapped(m.srcAddr), srcPort: m.srcPort, dst: unmapped(m.dstAddr), dstPort: m.dstPort };
  if (m.transport === 'udp') return udpFrame(ends, m.payload);
  if (m.transport !== 'tcp' && m.transport !== 'tls' && m.transport !== 'ws' && m.transport !== 'wss') return undefined;
  const forward = `${ends.src} ${ends.srcPort} ${ends.dst} ${ends.dstPort}`;
  const backward = `${ends.dst} ${ends.dstPort} ${ends.src} ${ends.srcPort}`;
  const seq = nextSeq.get(forward) ?? FIRST_SEQ;
  const ack = nextSeq.get(backward) ?? FIRST_SEQ;
  const frame = tcpFrame(ends, { seq, ack }, m.payload);
  if (frame !== undefined) nextSeq.set(forward, (seq + m.payload.length) >>> 0);
  return frame;
}

/** An IPv4-mapped IPv6 address as IPv4 (what went on the wire), so that both ends are of one family. */
function unmapped(address: string): string {
  const prefix = '::ffff:';
  if (address.length > prefix.length && address.toLowerCase().startsWith(prefix) && address.includes('.')) return address.slice(prefix.length);
  return address;
}
