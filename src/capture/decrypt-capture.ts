/**
 * A capture with its SRTP and SRTCP decrypted (`parley pcap decrypt`): read a pcap or pcapng
 * stream, write a pcap (LINKTYPE_RAW, nanosecond times) in which each datagram the decryptor
 * opens is replaced by a UDP frame carrying the plaintext RTP or RTCP, and every other IP packet
 * is copied as captured. Constant memory: what one input chunk gives is written (and drained)
 * before the next is read.
 *
 * Choices: the output is raw IP whatever the input's link layer (one file, one link type, and a
 * pcapng's interfaces may differ), so records that carry no IP (ARP, …) are left out and
 * counted. An SRTP datagram that came in IP fragments is written whole, after its fragments
 * (which are copied as captured).
 */
import { CaptureReader, networkLayer, PacketDecoder, type CaptureError, type CaptureRecord, type TransportSegment } from '../pcap/index.js';
import { pcapFileHeader, pcapRecord, udpFrame } from '../pcap/pcap-writer.js';
import { sdesKeysOfMessage } from './sdes-keys.js';
import { readSipMessages } from './sip-capture.js';
import type { SrtpDecryptor } from './srtp-decrypt.js';

/**
 * The first pass over a file: every SDES key its SIP carries (UDP, TCP reassembled, WebSocket:
 * sip-capture.ts), given to the decryptor before any packet is tried. Media often comes before
 * the SDP that keys it reaches the capture (the answerer sends as soon as it has answered; the
 * 200 is captured after), so one pass would miss the first packets. Stdin has one pass only, the
 * keys learned as they go by (`SipCapture` fed through `onSegment`).
 */
export async function learnSdesKeys(source: AsyncIterable<Uint8Array>, decryptor: SrtpDecryptor): Promise<void> {
  await readSipMessages(source, (m) => {
    for (const k of sdesKeysOfMessage(m)) decryptor.addKey(k);
  });
}

export interface DecryptCaptureCounts {
  readonly records: number;
  /** Records written as captured (their IP packet). */
  readonly copied: number;
  /** Records written with their SRTP or SRTCP replaced by the plaintext. */
  readonly decrypted: number;
  /** Records left out: no IP in them. */
  readonly notIp: number;
}

export interface DecryptCaptureOptions {
  readonly decryptor: SrtpDecryptor;
  /** Each UDP or TCP segment before it is decrypted (to learn keys from the capture's SIP: SipCapture.add). */
  readonly onSegment?: (segment: TransportSegment, timeNs: bigint, offset: number) => void;
  /** Bytes read so far, for a progress bar. */
  readonly onProgress?: (bytesRead: number) => void;
}

/** Reads `source`, writes the decrypted pcap through `write` (awaited: the stream's backpressure). */
export async function decryptCapture(
  source: AsyncIterable<Uint8Array>,
  write: (bytes: Uint8Array) => Promise<void> | void,
  options: DecryptCaptureOptions,
): Promise<{ ok: true; counts: DecryptCaptureCounts } | { ok: false; error: CaptureError; counts: DecryptCaptureCounts }> {
  const decoder = new PacketDecoder();
  let out: Uint8Array[] = [];
  let records = 0;
  let copied = 0;
  let decrypted = 0;
  let notIp = 0;
  const onRecord = (record: CaptureRecord): void => {
    records++;
    const timeNs = BigInt(record.seconds) * 1_000_000_000n + BigInt(record.nanoseconds);
    const link = networkLayer(record.linkType, record.data);
    if (link.kind !== 'ip') {
      notIp++;
      return;
    }
    const d = decoder.decode(record);
    if (d.kind === 'segment') {
      const s = d.segment;
      options.onSegment?.(s, timeNs, record.offset);
      if (s.protocol === 'udp' && !s.truncated) {
        const plain = options.decryptor.decrypt(s);
        const frame = plain === undefined ? undefined : udpFrame({ src: s.src, srcPort: s.srcPort, dst: s.dst, dstPort: s.dstPort }, plain);
        if (frame !== undefined) {
          decrypted++;
          out.push(pcapRecord(timeNs, frame));
          return;
        }
      }
    }
    // as captured: the IP packet, and its length on the wire less the link header
    const linkHeader = record.data.length - link.bytes.length;
    copied++;
    out.push(pcapRecord(timeNs, link.bytes, Math.max(link.bytes.length, record.originalLength - linkHeader)));
  };
  const reader = new CaptureReader(onRecord);
  await write(pcapFileHeader());
  let read = 0;
  const counts = (): DecryptCaptureCounts => ({ records, copied, decrypted, notIp });
  const flush = async (): Promise<void> => {
    if (out.length === 0) return;
    const chunk = Buffer.concat(out);
    out = [];
    await write(chunk);
  };
  for await (const chunk of source) {
    const r = reader.push(chunk);
    await flush();
    read += chunk.length;
    options.onProgress?.(read);
    if (!r.ok) return { ok: false, error: r.error, counts: counts() };
  }
  const end = reader.end();
  await flush();
  if (!end.ok) return { ok: false, error: end.error, counts: counts() };
  return { ok: true, counts: counts() };
}
