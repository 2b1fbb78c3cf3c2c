/**
 * HEPv3 chunk types and the values some of them carry.
 *
 * Sources (read, not copied): the HEP3 Network Protocol Specification (sipcapture/HEP, docs/,
 * rev. 12 to 37: "Chunk types with chunk vendor ID 0x0000 are called generic chunk types"), the
 * draft draft-dubovikov-eep-hep-00 (the same table as EEP), and the chunk table of Homer's collector
 * (sipcapture/heplify-server, decoder/decoder.go: 0x0013 "NodeName"); protocol type numbers as
 * heplify-server names them (1 sip, 5 rtcp, 34 rtpagent, 35 rtcpxr, 53 dns, 100 log).
 */

/** Chunk vendor ID 0x0000: the generic chunks; any other vendor's chunks are kept as bytes. */
export const HEP_GENERIC_VENDOR = 0x0000;

/** Generic chunk types (vendor 0x0000). */
export const HepChunkType = {
  /** uint8: 0x02 IPv4, 0x0a IPv6 (the socket address families). */
  IP_FAMILY: 0x0001,
  /** uint8: the IP protocol number (6 TCP, 17 UDP, 132 SCTP). */
  IP_PROTOCOL: 0x0002,
  /** 4 bytes. */
  IPV4_SOURCE: 0x0003,
  /** 4 bytes. */
  IPV4_DESTINATION: 0x0004,
  /** 16 bytes. */
  IPV6_SOURCE: 0x0005,
  /** 16 bytes. */
  IPV6_DESTINATION: 0x0006,
  /** uint16. */
  SOURCE_PORT: 0x0007,
  /** uint16. */
  DESTINATION_PORT: 0x0008,
  /** uint32: seconds since the Unix epoch. */
  TIME_SECONDS: 0x0009,
  /** uint32: the microseconds within that second. */
  TIME_MICROSECONDS: 0x000a,
  /** uint8: what the payload is (HepProtocolType). */
  PROTOCOL_TYPE: 0x000b,
  /** uint32: the capture agent's ID. */
  CAPTURE_AGENT_ID: 0x000c,
  /** uint16: keep-alive timer, seconds. */
  KEEP_ALIVE_TIMER: 0x000d,
  /** octet string: the authentication key (plain text). */
  AUTH_KEY: 0x000e,
  /** octet string: the captured packet's payload. */
  PAYLOAD: 0x000f,
  /** octet string: the captured payload, compressed (gzip / deflate). */
  COMPRESSED_PAYLOAD: 0x0010,
  /** octet string: the internal correlation ID (a SIP Call-ID for RTCP and logs). */
  CORRELATION_ID: 0x0011,
  /** uint16: the VLAN ID. */
  VLAN_ID: 0x0012,
  /** octet string: the capture node's name (Homer's collector reads it). */
  NODE_NAME: 0x0013,
} as const;
export type HepChunkTypeName = keyof typeof HepChunkType;

/** IP family chunk values (0x0001). */
export const HepIpFamily = { IPV4: 0x02, IPV6: 0x0a } as const;

/** IP protocol chunk values (0x0002) Parley sends. */
export const HepIpProtocol = { TCP: 6, UDP: 17, SCTP: 132 } as const;

/** Protocol type chunk values (0x000b): what the payload is. */
export const HepProtocolType = {
  SIP: 1,
  XMPP: 2,
  SDP: 3,
  RTP: 4,
  /** RTCP (the binary report; Homer turns it into JSON). */
  RTCP: 5,
  MGCP: 6,
  MEGACO: 7,
  M2UA: 8,
  M3UA: 9,
  IAX: 10,
  H322: 11,
  H321: 12,
  M2PA: 13,
  /** a JSON QoS report of an RTP agent. */
  RTP_AGENT_JSON: 34,
  RTCP_XR: 35,
  DNS: 53,
  /** a log line (text or JSON), correlated by the correlation ID. */
  LOG: 100,
} as const;

const CHUNK_NAMES = new Map<number, string>(Object.entries(HepChunkType).map(([k, v]) => [v, k]));

/** A generic chunk type's name ("PAYLOAD"), or its number in hex for one this library does not type. */
export function chunkTypeName(type: number): string {
  return CHUNK_NAMES.get(type) ?? `0x${type.toString(16).padStart(4, '0')}`;
}
