import { formatIpv4, formatIpv6, ipv6Bytes } from './ip-address.js';

/**
 * The source an address counts as, for limits kept per source (connections per source, failed
 * authentications, sources that have authenticated): an IPv4 address is itself (an IPv4-mapped
 * IPv6 address is its IPv4 address), an IPv6 address counts as its prefix of `ipv6PrefixLength`
 * bits, written `2001:db8:1:2::/64`. A host usually owns a whole /64 (RFC 6177, SLAAC) and can
 * pick a new address inside it for every connection, so counting IPv6 addresses one by one would
 * let one host take 2^64 shares. 128 counts each address. Names and unparsable text are returned
 * normalized.
 */
export function sourcePrefix(address: string, ipv6PrefixLength = 64): string {
  const a = normalizeAddress(address);
  if (!a.includes(':') || ipv6PrefixLength >= 128) return a;
  const bytes = ipv6Bytes(a);
  if (bytes === undefined) return a;
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, ipv6PrefixLength - i * 8));
    bytes[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return `${formatIpv6(bytes)}/${ipv6PrefixLength}`;
}

/**
 * An address as Parley compares and stores it: brackets removed, IPv4-mapped IPv6 turned into
 * IPv4, IPv6 in the canonical (RFC 5952) form, names lower-cased. `[::FFFF:192.0.2.1]` → `192.0.2.1`.
 */
export function normalizeAddress(address: string): string {
  let a = address;
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  if (!a.includes(':')) return a.toLowerCase();
  const bytes = ipv6Bytes(a);
  if (bytes === undefined) return a.toLowerCase();
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let k = 0; k < 10 && mapped; k++) if (bytes[k] !== 0) mapped = false;
  return mapped ? formatIpv4(bytes, 12) : formatIpv6(bytes);
}
