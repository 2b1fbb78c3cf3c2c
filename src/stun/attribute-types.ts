/**
 * STUN attribute types (IANA "STUN Attributes" registry) of RFC 8489 §18.3, RFC 8656 §18,
 * RFC 6062 §6.2 and RFC 6156 (REQUESTED-ADDRESS-FAMILY, now in RFC 8656), plus the ICE attributes
 * of RFC 8445 §16.1 that browsers put in Binding requests.
 */
import type { StunMessage } from './message.js';

export const StunAttr = {
  // RFC 8489 §18.3.1, comprehension-required (0x0000-0x7FFF)
  MAPPED_ADDRESS: 0x0001,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  REALM: 0x0014,
  NONCE: 0x0015,
  MESSAGE_INTEGRITY_SHA256: 0x001c,
  PASSWORD_ALGORITHM: 0x001d,
  USERHASH: 0x001e,
  XOR_MAPPED_ADDRESS: 0x0020,
  // RFC 8656 §18, comprehension-required
  CHANNEL_NUMBER: 0x000c,
  LIFETIME: 0x000d,
  XOR_PEER_ADDRESS: 0x0012,
  DATA: 0x0013,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_ADDRESS_FAMILY: 0x0017, // RFC 6156 §4.1.1, RFC 8656 §18.8
  EVEN_PORT: 0x0018,
  REQUESTED_TRANSPORT: 0x0019,
  DONT_FRAGMENT: 0x001a,
  RESERVATION_TOKEN: 0x0022,
  // RFC 6062 §6.2, comprehension-required
  CONNECTION_ID: 0x002a,
  // RFC 8445 §16.1 (ICE), comprehension-required
  PRIORITY: 0x0024,
  USE_CANDIDATE: 0x0025,
  // RFC 8489 §18.3.2, comprehension-optional (0x8000-0xFFFF)
  PASSWORD_ALGORITHMS: 0x8002,
  ALTERNATE_DOMAIN: 0x8003,
  SOFTWARE: 0x8022,
  ALTERNATE_SERVER: 0x8023,
  FINGERPRINT: 0x8028,
  // RFC 8656 §18, comprehension-optional
  ADDITIONAL_ADDRESS_FAMILY: 0x8000,
  ADDRESS_ERROR_CODE: 0x8001,
  ICMP: 0x8004,
  // RFC 8445 §16.1 (ICE), comprehension-optional
  ICE_CONTROLLED: 0x8029,
  ICE_CONTROLLING: 0x802a,
} as const;

export type StunAttrName = keyof typeof StunAttr;

const NAMES = new Map<number, string>();
for (const [name, type] of Object.entries(StunAttr)) NAMES.set(type, name.replaceAll('_', '-'));

/** The RFC name of an attribute type ("XOR-PEER-ADDRESS"), or its number in hex ("0x7f01"), for logs and errors. */
export function attributeName(type: number): string {
  return NAMES.get(type) ?? `0x${type.toString(16).padStart(4, '0')}`;
}

/**
 * RFC 8489 §14: "Attributes with type values between 0x0000 and 0x7FFF are
 * comprehension-required attributes, which means that the STUN agent cannot successfully process
 * the message unless it understands the attribute."
 */
export function isComprehensionRequired(type: number): boolean {
  return type < 0x8000;
}

/**
 * The comprehension-required attributes of `m` that are not in `known`, each once, in the order they
 * came: the list for an UNKNOWN-ATTRIBUTES attribute. RFC 8489 §6.3.1: "If the request contains
 * one or more unknown comprehension-required attributes, the server replies with an error response
 * with an error code of 420 (Unknown Attribute) and includes an UNKNOWN-ATTRIBUTES attribute in
 * the response that lists the unknown comprehension-required attributes." Empty when there are none.
 */
export function unknownComprehensionRequired(m: StunMessage, known: ReadonlySet<number>): number[] {
  let unknown: Set<number> | undefined; // a Set: a message may repeat one type thousands of times
  const attributes = m.attributes;
  for (let i = 0; i < attributes.length; i++) {
    const type = attributes[i]!.type;
    if (type < 0x8000 && !known.has(type)) (unknown ??= new Set()).add(type);
  }
  return unknown === undefined ? [] : [...unknown];
}
