/**
 * Between a captured message's two transport addresses (as Node's sockets give them: text, an
 * IPv4 datagram on a dual-stack socket as `::ffff:a.b.c.d`) and the HEP chunks that carry them:
 * the IP family chunk (0x0001), the IPv4 chunks (0x0003, 0x0004) or the IPv6 ones (0x0005,
 * 0x0006), the ports (0x0007, 0x0008).
 *
 * A HEP packet has one family: both addresses IPv4 (or IPv4-mapped: what went on the wire was
 * IPv4) give IPv4 chunks; otherwise both go as IPv6, an IPv4 address then written IPv4-mapped.
 */
import { ParleyError } from '../lib/errors.js';
import { ipv4Bytes, ipv6Bytes, formatIpv4 } from '../lib/ip-address.js';
import { HepIpFamily } from './chunk-types.js';
import type { HepPacket } from './packet.js';

export interface HepEndpoint {
  readonly address: string;
  readonly port: number;
}

type AddressFields = Pick<HepPacket, 'ipFamily' | 'sourceIpv4' | 'destinationIpv4' | 'sourceIpv6' | 'destinationIpv6' | 'sourcePort' | 'destinationPort'>;

/** The dotted quad of an IPv4 or IPv4-mapped IPv6 address, or undefined. */
function asIpv4(text: string): string | undefined {
  if (ipv4Bytes(text) !== undefined) return text;
  const b = ipv6Bytes(text);
  if (b === undefined) return undefined;
  for (let k = 0; k < 10; k++) if (b[k] !== 0) return undefined;
  return b[10] === 0xff && b[11] === 0xff ? formatIpv4(b, 12) : undefined;
}

/** The address chunks of a message that went from `source` to `destination`. Throws ERR_INVALID_ARGUMENT on text that is not an address. */
export function hepAddressFields(source: HepEndpoint, destination: HepEndpoint): AddressFields {
  const s4 = asIpv4(source.address);
  const d4 = asIpv4(destination.address);
  if (s4 !== undefined && d4 !== undefined) {
    return { ipFamily: HepIpFamily.IPV4, sourceIpv4: s4, destinationIpv4: d4, sourcePort: source.port, destinationPort: destination.port };
  }
  const v6 = (text: string, v4: string | undefined): string => {
    if (v4 !== undefined) return `::ffff:${v4}`;
    if (ipv6Bytes(text) === undefined) throw new ParleyError('ERR_INVALID_ARGUMENT', `hepAddressFields: ${JSON.stringify(text)} is not an IP address`);
    return text;
  };
  return {
    ipFamily: HepIpFamily.IPV6, sourceIpv6: v6(source.address, s4), destinationIpv6: v6(destination.address, d4),
    sourcePort: source.port, destinationPort: destination.port,
  };
}

/** Where a captured message came from, whichever chunks carry it (IPv4 first), or undefined when the packet has no address. */
export function hepSource(p: HepPacket): HepEndpoint | undefined {
  const address = p.sourceIpv4 ?? p.sourceIpv6;
  return address === undefined ? undefined : { address, port: p.sourcePort ?? 0 };
}

/** Where a captured message went. */
export function hepDestination(p: HepPacket): HepEndpoint | undefined {
  const address = p.destinationIpv4 ?? p.destinationIpv6;
  return address === undefined ? undefined : { address, port: p.destinationPort ?? 0 };
}
