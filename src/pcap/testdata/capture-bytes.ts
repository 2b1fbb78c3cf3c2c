/**
 * Capture files built byte by byte for the unit tests (the interop suite, test/interop/pcap-reader.test.ts,
 * reads what Wireshark's tools write). Layouts: draft-ietf-opsawg-pcap §4–5, draft-ietf-opsawg-pcapng §4.
 */
export class Bytes {
  private readonly parts: number[] = [];
  constructor(private readonly le: boolean) {}
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.le ? this.u8(v).u8(v >> 8) : this.u8(v >> 8).u8(v);
  }
  u32(v: number): this {
    const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    for (const x of this.le ? b.reverse() : b) this.u8(x);
    return this;
  }
  u64(v: bigint): this {
    const hi = Number(v >> 32n);
    const lo = Number(v & 0xffffffffn);
    return this.le ? this.u32(lo).u32(hi) : this.u32(hi).u32(lo);
  }
  /** A pcapng packet time: "Timestamp (High)" then "Timestamp (Low)", each 32 bits in the section's byte order. */
  timestamp(units: bigint): this {
    return this.u32(Number(units >> 32n)).u32(Number(units & 0xffffffffn));
  }
  raw(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.parts.push(b[i]!);
    return this;
  }
  pad4(): this {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function pcapHeader(le: boolean, linkType: number, nanoseconds = false): Uint8Array {
  return new Bytes(le).u32(nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(262144).u32(linkType).bytes();
}

export function pcapRecord(le: boolean, seconds: number, fraction: number, data: Uint8Array, originalLength = data.length): Uint8Array {
  return new Bytes(le).u32(seconds).u32(fraction).u32(data.length).u32(originalLength).raw(data).bytes();
}

/** A pcapng block: type, total length, body padded to 4, total length. */
export function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const padded = new Bytes(le).raw(body).pad4().bytes();
  const length = 12 + padded.length;
  return new Bytes(le).u32(type).u32(length).raw(padded).u32(length).bytes();
}

export function sectionHeader(le: boolean): Uint8Array {
  return block(le, 0x0a0d0d0a, new Bytes(le).u32(0x1a2b3c4d).u16(1).u16(0).u64(0xffffffffffffffffn).bytes());
}

export interface Option {
  readonly code: number;
  readonly value: Uint8Array;
}

export function interfaceDescription(le: boolean, linkType: number, snapLength: number, options: Option[] = []): Uint8Array {
  const b = new Bytes(le).u16(linkType).u16(0).u32(snapLength);
  if (options.length > 0) {
    for (const o of options) b.u16(o.code).u16(o.value.length).raw(o.value).pad4();
    b.u16(0).u16(0);
  }
  return block(le, 1, b.bytes());
}

export function enhancedPacket(le: boolean, interfaceId: number, units: bigint, data: Uint8Array, originalLength = data.length): Uint8Array {
  return block(le, 6, new Bytes(le).u32(interfaceId).timestamp(units).u32(data.length).u32(originalLength).raw(data).bytes());
}

export function obsoletePacket(le: boolean, interfaceId: number, units: bigint, data: Uint8Array): Uint8Array {
  return block(le, 2, new Bytes(le).u16(interfaceId).u16(0).timestamp(units).u32(data.length).u32(data.length).raw(data).bytes());
}

export function simplePacket(le: boolean, data: Uint8Array, originalLength = data.length): Uint8Array {
  return block(le, 3, new Bytes(le).u32(originalLength).raw(data).bytes());
}
