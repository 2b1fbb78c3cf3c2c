/**
 * The pcapng format (draft-ietf-opsawg-pcapng): a file is a sequence of blocks, each "Block Type",
 * "Block Total Length", a body, and the total length again. A Section Header Block starts each
 * section and gives its byte order; Interface Description Blocks describe the section's
 * interfaces (link type, snapshot length, time resolution), numbered from 0 in their order; packets
 * come in Enhanced Packet Blocks (an interface, a time, captured bytes), Simple Packet Blocks
 * (interface 0, no time) and the obsolete Packet Blocks. Every other block is skipped: §3.1, "a
 * reader ... can skip over blocks it does not know".
 */
import { captureError, hex32, type CaptureError } from './capture-error.js';
import type { CaptureFormat, CaptureRecord, FormatStep } from './capture-record.js';
import { DataViewCache } from './data-view-cache.js';

/** §4.1: "Block Type: The block type of the Section Header Block is the integer corresponding to the 4-char string "\n\r\r\n" (0x0A0D0D0A)". */
export const PCAPNG_SECTION_HEADER = 0x0a0d0d0a;
/** §4.1: "Byte-Order Magic ... 0x1A2B3C4D". */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const PCAPNG_INTERFACE_DESCRIPTION = 0x00000001;
export const PCAPNG_OBSOLETE_PACKET = 0x00000002;
export const PCAPNG_SIMPLE_PACKET = 0x00000003;
export const PCAPNG_ENHANCED_PACKET = 0x00000006;

const OPT_END = 0;
/** §4.2: if_tsresol (9), 1 byte; if_tsoffset (14), 8 bytes. */
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

interface PcapngInterface {
  readonly linkType: number;
  readonly snapLength: number;
  /** Time units per second: 10^n or 2^n (if_tsresol), 10^6 by default. */
  readonly unitsPerSecond: bigint;
  /** The same as a number when it divides 10^9 (the fast path), else 0. */
  readonly nanosecondsPerUnit: number;
  /** if_tsoffset: seconds to add to every time. */
  readonly offsetSeconds: number;
}

const BLOCK_NAMES: Readonly<Record<number, string>> = {
  [PCAPNG_SECTION_HEADER]: 'section header block',
  [PCAPNG_INTERFACE_DESCRIPTION]: 'interface description block',
  [PCAPNG_OBSOLETE_PACKET]: 'packet block',
  [PCAPNG_SIMPLE_PACKET]: 'simple packet block',
  [PCAPNG_ENHANCED_PACKET]: 'enhanced packet block',
};

function blockName(type: number): string {
  return BLOCK_NAMES[type] ?? `block of type ${hex32(type)}`;
}

export class PcapngFile implements CaptureFormat {
  readonly name = 'pcapng';
  private littleEndian = false;
  private interfaces: PcapngInterface[] = [];
  private readonly views = new DataViewCache();
  /** Sections seen (each Section Header Block starts one). */
  sections = 0;

  constructor(
    private readonly onRecord: (record: CaptureRecord) => void,
    private readonly maxCaptured: number,
    private readonly maxBlock: number,
  ) {}

  /** The link type of each interface of the current section. */
  get linkTypes(): number[] {
    return this.interfaces.map((i) => i.linkType);
  }

  step(buf: Uint8Array, pos: number, end: number, offset: number): FormatStep {
    const view = this.views.of(buf);
    const have = end - pos;
    if (have < 8) return { kind: 'need', need: 8, what: 'block header', said: false };
    let type = view.getUint32(pos, this.littleEndian);
    if (type === PCAPNG_SECTION_HEADER) {
      // The type reads the same in both byte orders; the byte-order magic after the length says which.
      if (have < 12) return { kind: 'need', need: 12, what: 'section header block', said: false };
      const bom = view.getUint32(pos + 8, true);
      if (bom === PCAPNG_BYTE_ORDER_MAGIC) this.littleEndian = true;
      else if (view.getUint32(pos + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) this.littleEndian = false;
      else return fail('malformed', offset, `section header block at offset ${offset}: byte-order magic ${hex32(view.getUint32(pos + 8, false))}, expected 0x1a2b3c4d in either byte order`);
    } else if (this.sections === 0) {
      return fail('malformed', offset, `block at offset ${offset}: type ${hex32(type)} before any section header block`);
    }
    type = view.getUint32(pos, this.littleEndian);
    const le = this.littleEndian;
    const length = view.getUint32(pos + 4, le);
    const name = blockName(type);
    // §3.1: "Block Total Length: total size of this block ... the value MUST be a multiple of 4."
    const least = type === PCAPNG_SECTION_HEADER ? 28 : 12;
    if (length < least || length % 4 !== 0) {
      return fail('malformed', offset, `${name} at offset ${offset}: total length ${length}, expected a multiple of 4 of at least ${least}`);
    }
    if (length > this.maxBlock) return fail('too-large', offset, `${name} at offset ${offset}: total length ${length} is more than the limit ${this.maxBlock} (a damaged file?)`);
    if (have < length) return { kind: 'need', need: length, what: name, said: true };
    const trailer = view.getUint32(pos + length - 4, le);
    if (trailer !== length) {
      return fail('malformed', offset, `${name} at offset ${offset}: total length ${length} at its start but ${trailer} at its end`);
    }
    const bad = this.block(type, name, view, buf, pos, length, offset);
    return bad === undefined ? { kind: 'used', used: length } : { kind: 'error', error: bad };
  }

  private block(type: number, name: string, view: DataView, buf: Uint8Array, pos: number, length: number, offset: number): CaptureError | undefined {
    const le = this.littleEndian;
    switch (type) {
      case PCAPNG_SECTION_HEADER: {
        const major = view.getUint16(pos + 12, le);
        if (major !== 1) return captureError('malformed', offset, `${name} at offset ${offset}: version ${major}.${view.getUint16(pos + 14, le)}, expected 1.x`);
        // §4.2: interfaces are numbered within their section.
        this.interfaces = [];
        this.sections++;
        return undefined;
      }
      case PCAPNG_INTERFACE_DESCRIPTION: {
        if (length < 20) return captureError('malformed', offset, `${name} at offset ${offset}: total length ${length}, expected at least 20`);
        return this.interfaceDescription(view, pos, length, offset);
      }
      case PCAPNG_ENHANCED_PACKET:
      case PCAPNG_OBSOLETE_PACKET: {
        if (length < 32) return captureError('malformed', offset, `${name} at offset ${offset}: total length ${length}, expected at least 32`);
        const id = type === PCAPNG_ENHANCED_PACKET ? view.getUint32(pos + 8, le) : view.getUint16(pos + 8, le);
        const iface = this.interfaces[id];
        if (iface === undefined) return captureError('malformed', offset, `${name} at offset ${offset}: interface ${id}, but the section describes ${this.interfaces.length}`);
        const captured = view.getUint32(pos + 20, le);
        if (captured > this.maxCaptured) return captureError('too-large', offset, `${name} at offset ${offset}: captured length ${captured} is more than the limit ${this.maxCaptured} (a damaged file?)`);
        if (28 + captured > length - 4) {
          return captureError('malformed', offset, `${name} at offset ${offset}: captured length ${captured} does not fit its total length ${length}`);
        }
        const [seconds, nanoseconds] = timeOf(iface, view.getUint32(pos + 12, le), view.getUint32(pos + 16, le));
        this.onRecord({
          offset,
          seconds,
          nanoseconds,
          linkType: iface.linkType,
          interfaceId: id,
          data: buf.subarray(pos + 28, pos + 28 + captured),
          originalLength: view.getUint32(pos + 24, le),
        });
        return undefined;
      }
      case PCAPNG_SIMPLE_PACKET: {
        if (length < 16) return captureError('malformed', offset, `${name} at offset ${offset}: total length ${length}, expected at least 16`);
        const iface = this.interfaces[0];
        if (iface === undefined) return captureError('malformed', offset, `${name} at offset ${offset}: no interface described before it`);
        // §4.4: "the Captured Len is the minimum of the packet's Original Packet Length and the
        // interface's SnapLen"; the block's length bounds it too.
        const original = view.getUint32(pos + 8, le);
        let captured = Math.min(original, length - 16);
        if (iface.snapLength > 0) captured = Math.min(captured, iface.snapLength);
        if (captured > this.maxCaptured) return captureError('too-large', offset, `${name} at offset ${offset}: captured length ${captured} is more than the limit ${this.maxCaptured} (a damaged file?)`);
        this.onRecord({ offset, seconds: 0, nanoseconds: 0, linkType: iface.linkType, interfaceId: 0, data: buf.subarray(pos + 12, pos + 12 + captured), originalLength: original });
        return undefined;
      }
      default:
        return undefined;
    }
  }

  private interfaceDescription(view: DataView, pos: number, length: number, offset: number): CaptureError | undefined {
    const le = this.littleEndian;
    let unitsPerSecond = 1_000_000n;
    let offsetSeconds = 0;
    const end = pos + length - 4;
    let at = pos + 16;
    // §3.5 options: a code, a length, the value padded to 32 bits; opt_endofopt ends them.
    while (at + 4 <= end) {
      const code = view.getUint16(at, le);
      const size = view.getUint16(at + 2, le);
      if (code === OPT_END) break;
      if (at + 4 + size > end) return captureError('malformed', offset, `interface description block at offset ${offset}: option ${code} at offset ${offset + at - pos} runs past the block`);
      if (code === OPT_IF_TSRESOL && size >= 1) {
        // §4.2: "If the Most Significant Bit is equal to zero, the remaining bits indicates the
        // resolution of the timestamp as a negative power of 10 ... If the Most Significant Bit
        // is equal to one, the remaining bits indicates the resolution as negative power of 2".
        const v = view.getUint8(at + 4);
        const exponent = BigInt(v & 0x7f);
        if ((v & 0x80) === 0 && exponent > 18n) return captureError('malformed', offset, `interface description block at offset ${offset}: if_tsresol 10^-${exponent}, expected at most 10^-18`);
        if ((v & 0x80) !== 0 && exponent > 63n) return captureError('malformed', offset, `interface description block at offset ${offset}: if_tsresol 2^-${exponent}, expected at most 2^-63`);
        unitsPerSecond = (v & 0x80) === 0 ? 10n ** exponent : 1n << exponent;
      } else if (code === OPT_IF_TSOFFSET && size >= 8) {
        offsetSeconds = Number(view.getBigInt64(at + 4, le));
      }
      at += 4 + size + ((4 - (size % 4)) % 4);
    }
    const perUnit = unitsPerSecond <= 1_000_000_000n && 1_000_000_000n % unitsPerSecond === 0n ? Number(1_000_000_000n / unitsPerSecond) : 0;
    this.interfaces.push({
      linkType: view.getUint16(pos + 8, le),
      snapLength: view.getUint32(pos + 12, le),
      unitsPerSecond,
      nanosecondsPerUnit: perUnit,
      offsetSeconds,
    });
    return undefined;
  }
}

/** The 64-bit time of a packet block, in its interface's units, as seconds and nanoseconds. */
function timeOf(iface: PcapngInterface, high: number, low: number): [number, number] {
  const units = high * 4294967296 + low;
  if (iface.nanosecondsPerUnit > 0 && units <= Number.MAX_SAFE_INTEGER) {
    const perSecond = 1e9 / iface.nanosecondsPerUnit;
    const fraction = units % perSecond;
    return [(units - fraction) / perSecond + iface.offsetSeconds, fraction * iface.nanosecondsPerUnit];
  }
  const big = (BigInt(high) << 32n) | BigInt(low);
  const fraction = big % iface.unitsPerSecond;
  return [Number(big / iface.unitsPerSecond) + iface.offsetSeconds, Number((fraction * 1_000_000_000n) / iface.unitsPerSecond)];
}

function fail(kind: CaptureError['kind'], offset: number, message: string): FormatStep {
  return { kind: 'error', error: captureError(kind, offset, message) };
}
