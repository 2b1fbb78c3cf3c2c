/**
 * A HEPv3 packet as typed fields: one optional field per generic chunk the library knows, the
 * other generic chunks and every vendor chunk as bytes.
 *
 * HEP3 specification (sipcapture/HEP): a packet is the four octets "HEP3", a 16-bit total length
 * ("the total length of the packet including the HEP header and all chunks", network byte order),
 * then chunks, each a 16-bit vendor ID, a 16-bit type ID, a 16-bit length that counts the chunk's
 * own 6-byte header, and the value.
 */

/** "HEP3": the first four octets of every HEPv3 packet. */
export const HEP3_MAGIC = Uint8Array.of(0x48, 0x45, 0x50, 0x33);
/** The magic and the total length. */
export const HEP_HEADER_SIZE = 6;
/** Vendor ID, type ID, length. */
export const HEP_CHUNK_HEADER_SIZE = 6;
/** The total length is 16 bits. */
export const HEP_MAX_SIZE = 0xffff;

/** A chunk kept as bytes: a vendor's (vendorId != 0), or a generic one this library does not type. */
export interface HepRawChunk {
  readonly vendorId: number;
  readonly type: number;
  readonly value: Uint8Array;
}

export interface HepPacket {
  /** 0x0001: 2 IPv4, 10 IPv6 (HepIpFamily). */
  readonly ipFamily?: number;
  /** 0x0002: the IP protocol (HepIpProtocol: 17 UDP, 6 TCP). */
  readonly ipProtocol?: number;
  /** 0x0003, dotted decimal. */
  readonly sourceIpv4?: string;
  /** 0x0004. */
  readonly destinationIpv4?: string;
  /** 0x0005, RFC 5952 text. */
  readonly sourceIpv6?: string;
  /** 0x0006. */
  readonly destinationIpv6?: string;
  /** 0x0007. */
  readonly sourcePort?: number;
  /** 0x0008. */
  readonly destinationPort?: number;
  /** 0x0009: seconds since the Unix epoch. */
  readonly timeSeconds?: number;
  /** 0x000a: microseconds within that second. */
  readonly timeMicroseconds?: number;
  /** 0x000b: what the payload is (HepProtocolType: 1 SIP, 5 RTCP, 100 LOG ...). */
  readonly protocolType?: number;
  /** 0x000c. */
  readonly captureAgentId?: number;
  /** 0x000d: seconds. */
  readonly keepAliveTimer?: number;
  /** 0x000e, as text. */
  readonly authKey?: string;
  /** 0x000f: the captured payload (a SIP message, an RTCP packet, a log line). */
  readonly payload?: Uint8Array;
  /** 0x0010: the captured payload, compressed: kept as the bytes that came (not inflated). */
  readonly compressedPayload?: Uint8Array;
  /** 0x0011, as text (a Call-ID for RTCP reports and logs). */
  readonly correlationId?: string;
  /** 0x0012. */
  readonly vlanId?: number;
  /** 0x0013, as text. */
  readonly nodeName?: string;
  /** Generic chunks (vendor 0) of other types, in the order they came. */
  readonly otherChunks?: readonly HepRawChunk[];
  /** Chunks of other vendors (vendor ID != 0), in the order they came, re-encoded unchanged. */
  readonly vendorChunks?: readonly HepRawChunk[];
}

/** Why bytes are not a HEPv3 packet, and the byte offset of the fault. */
export interface HepDecodeError {
  readonly reason: string;
  readonly offset: number;
}
