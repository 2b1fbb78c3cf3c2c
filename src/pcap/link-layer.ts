/**
 * From a record's link layer to its network layer: which link types are read and how each says
 * "IPv4" or "IPv6" (tcpdump.org/linktypes.html; the EtherType values of IEEE 802).
 */
export const LinkType = {
  /** BSD loopback: a 4-byte address family in the byte order of the capturing host. */
  NULL: 0,
  ETHERNET: 1,
  /** DLT_RAW as some systems number it in old files (12; 14 on OpenBSD): raw IP. */
  RAW_12: 12,
  RAW_14: 14,
  /** LINKTYPE_RAW: raw IPv4 or IPv6, the version nibble says which. */
  RAW: 101,
  /** OpenBSD loopback: like NULL, the family in network byte order. */
  LOOP: 108,
  /** Linux cooked capture v1 (`tcpdump -i any`), 16-byte header. */
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  /** Linux cooked capture v2, 20-byte header. */
  LINUX_SLL2: 276,
} as const;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
/** IEEE 802.1Q customer VLAN tag, 802.1ad service tag, and the older pre-standard QinQ value. */
const VLAN_TAGS: ReadonlySet<number> = new Set([0x8100, 0x88a8, 0x9100]);

/** BSD AF_INET6 values: 10 Linux, 24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin. */
const AF_INET = 2;
const AF_INET6: ReadonlySet<number> = new Set([10, 24, 28, 30]);

export type NetworkLayer =
  | { readonly kind: 'ip'; readonly version: 4 | 6; readonly bytes: Uint8Array; readonly vlanIds: readonly number[] }
  /** Not IP (ARP, LLDP …) or a link type this reader does not know: nothing to decode, no error. */
  | { readonly kind: 'other'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly reason: string };

const NO_VLANS: readonly number[] = [];

/** The IP packet inside a record's bytes, for the record's link type. */
export function networkLayer(linkType: number, data: Uint8Array): NetworkLayer {
  switch (linkType) {
    case LinkType.ETHERNET:
      return ethernet(data);
    case LinkType.LINUX_SLL:
      if (data.length < 16) return { kind: 'malformed', reason: `Linux cooked header: 16 bytes expected, ${data.length} captured` };
      return byEtherType(u16(data, 14), data.subarray(16), NO_VLANS);
    case LinkType.LINUX_SLL2:
      if (data.length < 20) return { kind: 'malformed', reason: `Linux cooked v2 header: 20 bytes expected, ${data.length} captured` };
      return byEtherType(u16(data, 0), data.subarray(20), NO_VLANS);
    case LinkType.RAW:
    case LinkType.RAW_12:
    case LinkType.RAW_14:
      return rawIp(data);
    case LinkType.IPV4:
      return { kind: 'ip', version: 4, bytes: data, vlanIds: NO_VLANS };
    case LinkType.IPV6:
      return { kind: 'ip', version: 6, bytes: data, vlanIds: NO_VLANS };
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (data.length < 4) return { kind: 'malformed', reason: `loopback header: 4 bytes expected, ${data.length} captured` };
      const be = ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0;
      // NULL's family is in the capturing host's byte order: a value past 16 bits was written
      // little-endian (families are small numbers).
      const family = linkType === LinkType.LOOP || be <= 0xffff ? be : data[0]! | (data[1]! << 8);
      if (family === AF_INET) return { kind: 'ip', version: 4, bytes: data.subarray(4), vlanIds: NO_VLANS };
      if (AF_INET6.has(family)) return { kind: 'ip', version: 6, bytes: data.subarray(4), vlanIds: NO_VLANS };
      return { kind: 'other', reason: `loopback address family ${family}` };
    }
    default:
      return { kind: 'other', reason: `link type ${linkType}` };
  }
}

function ethernet(data: Uint8Array): NetworkLayer {
  if (data.length < 14) return { kind: 'malformed', reason: `Ethernet header: 14 bytes expected, ${data.length} captured` };
  let type = u16(data, 12);
  let at = 14;
  let vlans: number[] | undefined;
  // IEEE 802.1Q: a tag is the TPID (already read as the type), a 16-bit TCI whose low 12 bits are
  // the VLAN identifier, then the next type; 802.1ad stacks them.
  while (VLAN_TAGS.has(type)) {
    if (data.length < at + 4) return { kind: 'malformed', reason: `VLAN tag at byte ${at}: 4 bytes expected, ${data.length - at} captured` };
    (vlans ??= []).push(u16(data, at) & 0x0fff);
    type = u16(data, at + 2);
    at += 4;
  }
  return byEtherType(type, data.subarray(at), vlans ?? NO_VLANS);
}

function byEtherType(type: number, bytes: Uint8Array, vlanIds: readonly number[]): NetworkLayer {
  if (type === ETHERTYPE_IPV4) return { kind: 'ip', version: 4, bytes, vlanIds };
  if (type === ETHERTYPE_IPV6) return { kind: 'ip', version: 6, bytes, vlanIds };
  return { kind: 'other', reason: `EtherType 0x${type.toString(16).padStart(4, '0')}` };
}

function rawIp(data: Uint8Array): NetworkLayer {
  if (data.length < 1) return { kind: 'malformed', reason: 'raw IP: no bytes captured' };
  const version = data[0]! >> 4;
  if (version === 4 || version === 6) return { kind: 'ip', version, bytes: data, vlanIds: NO_VLANS };
  return { kind: 'malformed', reason: `raw IP: version ${version}, expected 4 or 6` };
}

function u16(data: Uint8Array, at: number): number {
  return (data[at]! << 8) | data[at + 1]!;
}
