import { HEP3_MAGIC, HEP_MAX_SIZE, HepChunkType as T, HepIpFamily } from '../../hep/index.js';
import { ipv4Bytes, ipv6Bytes } from '../../lib/ip-address.js';

const utf8 = new TextEncoder();
/** Address texts remembered (a busy server sees many sources: the cache starts over past this). */
const MAX_CACHED = 4096;

/** An address as HEP carries it: IPv4 (also for an IPv4-mapped IPv6 address: the wire was IPv4) and IPv6. */
interface Address {
  readonly v4: Uint8Array | undefined;
  readonly v6: Uint8Array;
}

/**
 * The capture's own HEPv3 writer: the bytes `encodeHep` (src/hep) writes for a captured message's
 * fields (the same chunks in the same order: by type, the payload last; hep-writer.test.ts
 * compares them), written in one pass without building a HepPacket, the addresses' bytes
 * remembered by their text. The capture writes a packet for every SIP message on the hot path;
 * `encodeHep` plans every chunk of any packet and parses the address text each time.
 */
export class HepWriter {
  private readonly addresses = new Map<string, Address | undefined>();
  private readonly authKey: Uint8Array | undefined;
  private readonly nodeName: Uint8Array | undefined;
  /** The chunks from the protocol type to the node name, but the correlation ID: the same in every packet. */
  private readonly fixedSize: number;

  constructor(private readonly common: { readonly captureAgentId: number; readonly authKey?: string | undefined; readonly nodeName?: string | undefined }) {
    this.authKey = common.authKey === undefined ? undefined : utf8.encode(common.authKey);
    this.nodeName = common.nodeName === undefined ? undefined : utf8.encode(common.nodeName);
    this.fixedSize = (6 + 1) + (6 + 4) + (this.authKey === undefined ? 0 : 6 + this.authKey.length) + (this.nodeName === undefined ? 0 : 6 + this.nodeName.length);
  }

  /** The packet, or undefined when an address is not one or it would pass 65535 bytes. */
  write(
    payload: Uint8Array, ipProtocol: number, protocolType: number, sourceAddress: string, sourcePort: number, destinationAddress: string, destinationPort: number,
    seconds: number, microseconds: number, correlationId?: string,
  ): Uint8Array | undefined {
    const s = this.address(sourceAddress);
    const d = this.address(destinationAddress);
    if (s === undefined || d === undefined) return undefined;
    const v4 = s.v4 !== undefined && d.v4 !== undefined;
    const a = v4 ? s.v4! : s.v6;
    const b = v4 ? d.v4! : d.v6;
    const cid = correlationId === undefined ? undefined : utf8.encode(correlationId);
    const size = 6 + (6 + 1) + (6 + 1) + 2 * (6 + a.length) + 2 * (6 + 2) + 2 * (6 + 4) + this.fixedSize + (cid === undefined ? 0 : 6 + cid.length) + 6 + payload.length;
    if (size > HEP_MAX_SIZE) return undefined;
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    out.set(HEP3_MAGIC, 0);
    view.setUint16(4, size);
    let at = 6;
    const head = (type: number, length: number): void => {
      // vendor 0 (generic), the type, the length with the 6-byte chunk header
      view.setUint16(at, 0);
      view.setUint16(at + 2, type);
      view.setUint16(at + 4, 6 + length);
      at += 6;
    };
    head(T.IP_FAMILY, 1);
    out[at++] = v4 ? HepIpFamily.IPV4 : HepIpFamily.IPV6;
    head(T.IP_PROTOCOL, 1);
    out[at++] = ipProtocol;
    head(v4 ? T.IPV4_SOURCE : T.IPV6_SOURCE, a.length);
    out.set(a, at);
    at += a.length;
    head(v4 ? T.IPV4_DESTINATION : T.IPV6_DESTINATION, b.length);
    out.set(b, at);
    at += b.length;
    head(T.SOURCE_PORT, 2);
    view.setUint16(at, sourcePort);
    at += 2;
    head(T.DESTINATION_PORT, 2);
    view.setUint16(at, destinationPort);
    at += 2;
    head(T.TIME_SECONDS, 4);
    view.setUint32(at, seconds);
    at += 4;
    head(T.TIME_MICROSECONDS, 4);
    view.setUint32(at, microseconds);
    at += 4;
    head(T.PROTOCOL_TYPE, 1);
    out[at++] = protocolType;
    head(T.CAPTURE_AGENT_ID, 4);
    view.setUint32(at, this.common.captureAgentId);
    at += 4;
    if (this.authKey !== undefined) {
      head(T.AUTH_KEY, this.authKey.length);
      out.set(this.authKey, at);
      at += this.authKey.length;
    }
    if (cid !== undefined) {
      head(T.CORRELATION_ID, cid.length);
      out.set(cid, at);
      at += cid.length;
    }
    if (this.nodeName !== undefined) {
      head(T.NODE_NAME, this.nodeName.length);
      out.set(this.nodeName, at);
      at += this.nodeName.length;
    }
    head(T.PAYLOAD, payload.length);
    out.set(payload, at);
    return out;
  }

  private address(text: string): Address | undefined {
    const known = this.addresses.get(text);
    if (known !== undefined || this.addresses.has(text)) return known;
    if (this.addresses.size >= MAX_CACHED) this.addresses.clear();
    const a = parseAddress(text);
    this.addresses.set(text, a);
    return a;
  }
}

/** Both forms of an address text (Node's: dotted IPv4, IPv6, IPv4-mapped IPv6), or undefined. */
function parseAddress(text: string): Address | undefined {
  const four = ipv4Bytes(text);
  if (four !== undefined) {
    const v6 = new Uint8Array(16);
    v6[10] = 0xff;
    v6[11] = 0xff;
    v6.set(four, 12);
    return { v4: four, v6 };
  }
  const v6 = ipv6Bytes(text);
  if (v6 === undefined) return undefined;
  let mapped = v6[10] === 0xff && v6[11] === 0xff;
  for (let k = 0; k < 10 && mapped; k++) if (v6[k] !== 0) mapped = false;
  return { v4: mapped ? v6.slice(12) : undefined, v6 };
}
