/**
 * encodeHep: a HepPacket to the bytes of one HEPv3 packet, in one allocation.
 *
 * Chunk order: the typed generic chunks by type (0x0001, 0x0002, ...), then the other generic
 * chunks and the vendor chunks as given, and the payload (0x000f, 0x0010) last, as Kamailio's
 * siptrace sends it: Wireshark's HEP dissector (sipcapture/hep-wireshark, hep.lua) hands
 * everything from the payload on to the payload's dissector, so a chunk after it would read as
 * trailing bytes of the SIP message.
 *
 * The packet is the caller's own data: a bad value (a port of 70000, an address that is not one,
 * more than 65535 bytes in all) is a programmer error and throws ParleyError ERR_INVALID_ARGUMENT.
 * A sender that captures messages of any size checks `hepEncodedSize(p) <= HEP_MAX_SIZE` first.
 */
import { ParleyError } from '../lib/errors.js';
import { ipv4Bytes, ipv6Bytes } from '../lib/ip-address.js';
import { chunkTypeName, HEP_GENERIC_VENDOR, HepChunkType as T } from './chunk-types.js';
import { HEP3_MAGIC, HEP_CHUNK_HEADER_SIZE, HEP_HEADER_SIZE, HEP_MAX_SIZE, type HepPacket, type HepRawChunk } from './packet.js';

const utf8 = new TextEncoder();
const TYPED = new Set<number>(Object.values(T));

type Value = { readonly kind: 'u8' | 'u16' | 'u32'; readonly n: number } | { readonly kind: 'bytes'; readonly b: Uint8Array };
interface Planned {
  readonly vendorId: number;
  readonly type: number;
  readonly value: Value;
}

function bad(message: string): never {
  throw new ParleyError('ERR_INVALID_ARGUMENT', `encodeHep: ${message}`);
}

function uint(type: number, kind: 'u8' | 'u16' | 'u32', n: number | undefined, out: Planned[]): void {
  if (n === undefined) return;
  const max = kind === 'u8' ? 0xff : kind === 'u16' ? 0xffff : 0xffffffff;
  if (!Number.isInteger(n) || n < 0 || n > max) bad(`${chunkTypeName(type)} ${n} is not an integer from 0 to ${max}`);
  out.push({ vendorId: HEP_GENERIC_VENDOR, type, value: { kind, n } });
}

function address(type: number, text: string | undefined, v6: boolean, out: Planned[]): void {
  if (text === undefined) return;
  const b = v6 ? ipv6Bytes(text) : ipv4Bytes(text);
  if (b === undefined) bad(`${chunkTypeName(type)} ${JSON.stringify(text)} is not an IPv${v6 ? 6 : 4} address`);
  out.push({ vendorId: HEP_GENERIC_VENDOR, type, value: { kind: 'bytes', b } });
}

function bytes(type: number, b: Uint8Array | string | undefined, out: Planned[]): void {
  if (b === undefined) return;
  out.push({ vendorId: HEP_GENERIC_VENDOR, type, value: { kind: 'bytes', b: typeof b === 'string' ? utf8.encode(b) : b } });
}

function raw(c: HepRawChunk, vendor: boolean, out: Planned[]): void {
  if (vendor && c.vendorId === HEP_GENERIC_VENDOR) bad(`a vendor chunk (type ${c.type}) has vendor ID 0: put it in otherChunks`);
  if (!vendor && c.vendorId !== HEP_GENERIC_VENDOR) bad(`otherChunks holds a chunk of vendor ${c.vendorId}: put it in vendorChunks`);
  if (!vendor && TYPED.has(c.type)) bad(`otherChunks holds chunk ${chunkTypeName(c.type)}: use its field`);
  if (!Number.isInteger(c.vendorId) || c.vendorId < 0 || c.vendorId > 0xffff || !Number.isInteger(c.type) || c.type < 0 || c.type > 0xffff) {
    bad(`chunk vendor ${c.vendorId} type ${c.type} is out of range`);
  }
  out.push({ vendorId: c.vendorId, type: c.type, value: { kind: 'bytes', b: c.value } });
}

function plan(p: HepPacket): Planned[] {
  const out: Planned[] = [];
  uint(T.IP_FAMILY, 'u8', p.ipFamily, out);
  uint(T.IP_PROTOCOL, 'u8', p.ipProtocol, out);
  address(T.IPV4_SOURCE, p.sourceIpv4, false, out);
  address(T.IPV4_DESTINATION, p.destinationIpv4, false, out);
  address(T.IPV6_SOURCE, p.sourceIpv6, true, out);
  address(T.IPV6_DESTINATION, p.destinationIpv6, true, out);
  uint(T.SOURCE_PORT, 'u16', p.sourcePort, out);
  uint(T.DESTINATION_PORT, 'u16', p.destinationPort, out);
  uint(T.TIME_SECONDS, 'u32', p.timeSeconds, out);
  uint(T.TIME_MICROSECONDS, 'u32', p.timeMicroseconds, out);
  uint(T.PROTOCOL_TYPE, 'u8', p.protocolType, out);
  uint(T.CAPTURE_AGENT_ID, 'u32', p.captureAgentId, out);
  uint(T.KEEP_ALIVE_TIMER, 'u16', p.keepAliveTimer, out);
  bytes(T.AUTH_KEY, p.authKey, out);
  bytes(T.CORRELATION_ID, p.correlationId, out);
  uint(T.VLAN_ID, 'u16', p.vlanId, out);
  bytes(T.NODE_NAME, p.nodeName, out);
  for (const c of p.otherChunks ?? []) raw(c, false, out);
  for (const c of p.vendorChunks ?? []) raw(c, true, out);
  bytes(T.PAYLOAD, p.payload, out);
  bytes(T.COMPRESSED_PAYLOAD, p.compressedPayload, out);
  return out;
}

function valueSize(v: Value): number {
  return 'b' in v ? v.b.length : v.kind === 'u8' ? 1 : v.kind === 'u16' ? 2 : 4;
}

/** The size encodeHep would produce (it may exceed HEP_MAX_SIZE: then encodeHep throws). */
export function hepEncodedSize(p: HepPacket): number {
  let size = HEP_HEADER_SIZE;
  for (const c of plan(p)) size += HEP_CHUNK_HEADER_SIZE + valueSize(c.value);
  return size;
}

export function encodeHep(p: HepPacket): Uint8Array {
  const chunks = plan(p);
  let size = HEP_HEADER_SIZE;
  for (const c of chunks) size += HEP_CHUNK_HEADER_SIZE + valueSize(c.value);
  if (size > HEP_MAX_SIZE) bad(`the packet would be ${size} bytes, more than the ${HEP_MAX_SIZE} a HEP length can say`);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(HEP3_MAGIC, 0);
  view.setUint16(4, size);
  let at = HEP_HEADER_SIZE;
  for (const c of chunks) {
    const n = valueSize(c.value);
    view.setUint16(at, c.vendorId);
    view.setUint16(at + 2, c.type);
    view.setUint16(at + 4, HEP_CHUNK_HEADER_SIZE + n);
    at += HEP_CHUNK_HEADER_SIZE;
    const v = c.value;
    if ('b' in v) out.set(v.b, at);
    else if (v.kind === 'u8') out[at] = v.n;
    else if (v.kind === 'u16') view.setUint16(at, v.n);
    else view.setUint32(at, v.n);
    at += n;
  }
  return out;
}
