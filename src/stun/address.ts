/**
 * Address attributes: MAPPED-ADDRESS (RFC 8489 §14.1) and the XOR forms (§14.2) used by
 * XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS (RFC 8656 §18.3, §18.5).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0 0 0 0 0 0 0|    Family     |         (X-)Port              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 (X-)Address (32 bits or 128 bits)             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */
import { err, ok, type Result } from '../lib/result.js';
import { formatIpv4, formatIpv6 } from '../lib/ip-address.js';
import type { StunAttribute, StunParseError } from './message.js';

/** An IP address and port. `address` is text as Node's sockets use it ("192.0.2.1", "2001:db8::1"). */
export interface TransportAddress {
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
}

/** RFC 8489 §14.1: "0x01:IPv4, 0x02:IPv6". */
export const FAMILY_IPV4 = 0x01;
export const FAMILY_IPV6 = 0x02;

// the magic cookie's bytes, 0x2112A442
const COOKIE = [0x21, 0x12, 0xa4, 0x42] as const;

function fail(reason: string, offset: number): { readonly ok: false; readonly error: StunParseError } {
  return err({ reason, offset });
}

function readFamily(a: StunAttribute): Result<4 | 6, StunParseError> {
  const v = a.value;
  if (v.length < 4) return fail(`address attribute of ${v.length} bytes is shorter than 4`, a.offset + 2);
  // "The first 8 bits of the MAPPED-ADDRESS MUST be set to 0 and MUST be ignored by receivers."
  const family = v[1];
  if (family === FAMILY_IPV4) {
    if (v.length !== 8) return fail(`IPv4 address attribute of ${v.length} bytes, not 8`, a.offset + 2);
    return ok(4);
  }
  if (family === FAMILY_IPV6) {
    if (v.length !== 20) return fail(`IPv6 address attribute of ${v.length} bytes, not 20`, a.offset + 2);
    return ok(6);
  }
  return fail(`address family 0x${family!.toString(16).padStart(2, '0')} is neither IPv4 nor IPv6`, a.offset + 5);
}

/** MAPPED-ADDRESS (and ALTERNATE-SERVER, which has its format, RFC 8489 §14.15). */
export function readAddress(a: StunAttribute): Result<TransportAddress, StunParseError> {
  const family = readFamily(a);
  if (!family.ok) return family;
  const v = a.value;
  const port = (v[2]! << 8) | v[3]!;
  const address = family.value === 4 ? formatIpv4(v, 4) : formatIpv6(v, 4);
  return ok({ family: family.value, address, port });
}

/**
 * XOR-MAPPED-ADDRESS and its kin (RFC 8489 §14.2): "X-Port is computed by XOR'ing the mapped port
 * with the most significant 16 bits of the magic cookie. If the IP address family is IPv4,
 * X-Address is computed by XOR'ing the mapped IP address with the magic cookie. If the IP address
 * family is IPv6, X-Address is computed by XOR'ing the mapped IP address with the concatenation of
 * the magic cookie and the 96-bit transaction ID."
 */
export function readXorAddress(a: StunAttribute, transactionId: Uint8Array): Result<TransportAddress, StunParseError> {
  const family = readFamily(a);
  if (!family.ok) return family;
  const v = a.value;
  const port = ((v[2]! ^ 0x21) << 8) | (v[3]! ^ 0x12);
  if (family.value === 4) {
    const address = `${v[4]! ^ 0x21}.${v[5]! ^ 0x12}.${v[6]! ^ 0xa4}.${v[7]! ^ 0x42}`;
    return ok({ family: 4, address, port });
  }
  const ip = new Uint8Array(16);
  for (let i = 0; i < 4; i++) ip[i] = v[4 + i]! ^ COOKIE[i as 0 | 1 | 2 | 3];
  for (let i = 4; i < 16; i++) ip[i] = v[4 + i]! ^ transactionId[i - 4]!;
  return ok({ family: 6, address: formatIpv6(ip), port });
}
