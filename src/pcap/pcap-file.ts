/**
 * The classic pcap format (libpcap; draft-ietf-opsawg-pcap): a 24-byte file header, then records
 * of a 16-byte header and the captured bytes. The magic number says the byte order of every
 * field (the writer's own) and the time resolution: 0xA1B2C3D4 microseconds, 0xA1B23C4D
 * nanoseconds (draft-ietf-opsawg-pcap §4: "If the Magic Number has the value 0xA1B23C4D ... the
 * time stamps in Packet Records are in seconds and nanoseconds").
 */
import { captureError } from './capture-error.js';
import type { CaptureFormat, CaptureRecord, FormatStep } from './capture-record.js';
import { DataViewCache } from './data-view-cache.js';

export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
export const PCAP_FILE_HEADER_SIZE = 24;
export const PCAP_RECORD_HEADER_SIZE = 16;

/** True when the 4 bytes (read big-endian) are a pcap magic in either byte order. */
export function isPcapMagic(bigEndianValue: number): boolean {
  const swapped = swap32(bigEndianValue);
  return [bigEndianValue, swapped].some((v) => v === PCAP_MAGIC_MICROSECONDS || v === PCAP_MAGIC_NANOSECONDS);
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

export class PcapFile implements CaptureFormat {
  readonly name = 'pcap';
  private headerRead = false;
  private littleEndian = false;
  private nanosecondScale = 1000;
  /** draft-ietf-opsawg-pcap §4: the LinkType field's low bits; the upper ones carry FCS information. */
  linkType = -1;
  snapLength = 0;
  versionMajor = 0;
  versionMinor = 0;

  constructor(
    private readonly onRecord: (record: CaptureRecord) => void,
    private readonly maxCaptured: number,
  ) {}

  private readonly views = new DataViewCache();

  step(buf: Uint8Array, pos: number, end: number, offset: number): FormatStep {
    const view = this.views.of(buf);
    if (!this.headerRead) {
      if (end - pos < PCAP_FILE_HEADER_SIZE) return { kind: 'need', need: PCAP_FILE_HEADER_SIZE, what: 'pcap file header', said: false };
      const magicLe = view.getUint32(pos, true);
      this.littleEndian = magicLe === PCAP_MAGIC_MICROSECONDS || magicLe === PCAP_MAGIC_NANOSECONDS;
      const magic = view.getUint32(pos, this.littleEndian);
      this.nanosecondScale = magic === PCAP_MAGIC_NANOSECONDS ? 1 : 1000;
      this.versionMajor = view.getUint16(pos + 4, this.littleEndian);
      this.versionMinor = view.getUint16(pos + 6, this.littleEndian);
      this.snapLength = view.getUint32(pos + 16, this.littleEndian);
      this.linkType = view.getUint32(pos + 20, this.littleEndian) & 0x03ffffff;
      if (this.versionMajor !== 2) {
        return { kind: 'error', error: captureError('malformed', offset, `pcap file header at offset ${offset}: version ${this.versionMajor}.${this.versionMinor}, expected 2.x`) };
      }
      this.headerRead = true;
      return { kind: 'used', used: PCAP_FILE_HEADER_SIZE };
    }
    if (end - pos < PCAP_RECORD_HEADER_SIZE) return { kind: 'need', need: PCAP_RECORD_HEADER_SIZE, what: 'record header', said: false };
    const le = this.littleEndian;
    const captured = view.getUint32(pos + 8, le);
    if (captured > this.maxCaptured) {
      return { kind: 'error', error: captureError('too-large', offset, `record at offset ${offset}: captured length ${captured} is more than the limit ${this.maxCaptured} (a damaged file?)`) };
    }
    const size = PCAP_RECORD_HEADER_SIZE + captured;
    if (end - pos < size) return { kind: 'need', need: size, what: 'record', said: true };
    // A fraction of a second past one second (a writer's bug) is carried into the seconds.
    const fraction = view.getUint32(pos + 4, le) * this.nanosecondScale;
    const carry = Math.floor(fraction / 1e9);
    this.onRecord({
      offset,
      seconds: view.getUint32(pos, le) + carry,
      nanoseconds: fraction - carry * 1e9,
      linkType: this.linkType,
      interfaceId: 0,
      data: buf.subarray(pos + PCAP_RECORD_HEADER_SIZE, pos + size),
      originalLength: view.getUint32(pos + 12, le),
    });
    return { kind: 'used', used: size };
  }
}
