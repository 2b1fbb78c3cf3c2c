/**
 * Which peers a TURN allocation may relay to, checked on CreatePermission, ChannelBind, Send and
 * RFC 6062 Connect alike. RFC 8656 §12.2 (Receiving a ChannelBind Request; CreatePermission,
 * §10.2, says the same of its XOR-PEER-ADDRESS attributes):
 *
 *   The server MAY impose restrictions on the IP address and port values allowed in the
 *   XOR-PEER-ADDRESS attribute; if a value is not allowed, the server rejects the request with a
 *   403 (Forbidden) error.
 *
 * and §11.2 (Receiving a Send Indication): "if a value is not allowed, the server silently
 * discards the Send indication."
 *
 * Every peer address is canonicalised before it is checked: the spellings that name the same host
 * (IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible ::a.b.c.d) become the IPv4 address, and an IPv6
 * address that carries an IPv4 address inside (NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4
 * 2002::/16, Teredo 2001::/32, IPv4-translated ::ffff:0:0:0/96) is checked for the embedded
 * address too. coturn's CVE-2020-26262
 * (0.0.0.0 and [::1]) and CVE-2026-27624 (::ffff:127.0.0.1 on an IPv6 allocation) were spellings
 * that slipped past a deny list; here every spelling reaches the same ranges.
 *
 * Spellings accepted (anything else is not an IP address, and is denied):
 * - IPv4: exactly what Node's net.isIPv4 accepts: four dotted decimal parts, each 0-255 without
 *   leading zeros. The inet_aton shorthands (127.1, 2130706433, 0x7f.0.0.1, 0177.0.0.1) are refused:
 *   they never come from the wire (XOR-PEER-ADDRESS is binary), and refusing them leaves no
 *   second reading of an octal or hexadecimal part.
 * - IPv6: RFC 4291 §2.2 text in any case, groups of 1-4 hex digits, one `::`, a dotted quad in the
 *   last 32 bits, a zone id (`%eth0`, dropped: it only scopes link-local addresses, all denied),
 *   optionally in brackets ([::1]).
 *
 * Order (decided here; coturn lets allowed-peer-ip win over denied-peer-ip but checks loopback,
 * multicast and 0.0.0.0 before either): the operator's rules first, longest prefix wins, and on a
 * tie between allow and deny, deny. So `allow 10.0.0.0/8` with `deny 10.1.0.0/16` denies 10.1.2.3
 * and allows 10.2.3.4, and `allow 127.0.0.0/8` lets tests relay on loopback. Parley's own
 * addresses are denied unless an allow names them at least as narrowly (`allow 127.0.0.1` for
 * own address 127.0.0.1): allowing the LAN (10.0.0.0/8) does not open Parley's own ports on it to
 * relayed traffic. Then the default-denied ranges deny; anything else is allowed.
 * An address with an embedded IPv4 address is allowed only if both the address and the embedded one
 * are allowed.
 *
 * For the server: the verdict's address of ::ffff:a.b.c.d is a.b.c.d, so whether the peer's family
 * matches the allocation's (443 Peer Address Family Mismatch) is decided from the attribute's
 * family, not from the canonical text; and the own addresses must be the real ones (a wildcard
 * listener 0.0.0.0 or :: names every local address: pass the interfaces' addresses).
 */

import { ParleyError } from '../lib/errors.js';
import { formatIpv4, formatIpv6, ipv4Bytes, ipv6Bytes } from '../lib/ip-address.js';
import { ownString } from '../lib/own-string.js';

/** An address: IPv4 as 4 bytes, IPv6 as 16. */
type Bytes = Uint8Array;

interface Cidr {
  readonly bytes: Bytes;
  readonly prefix: number;
}

interface Rule extends Cidr {
  readonly why: string;
}

export interface PeerPolicyOptions {
  /** CIDRs (or addresses) the operator allows even if denied by default (e.g. '127.0.0.0/8'). */
  readonly allow?: readonly string[];
  /** Extra CIDRs (or addresses) denied. A deny beats an allow of the same length, a longer allow beats it. */
  readonly deny?: readonly string[];
  /**
   * Parley's own listening addresses (denied unless an allow names them as narrowly: a /32 or
   * /128 for a single address). Wildcards (0.0.0.0, ::) are denied anyway: pass the interfaces' addresses.
   */
  readonly ownAddresses?: readonly string[];
}

export type PeerVerdict =
  | { readonly ok: true; readonly address: string /* canonical */ }
  | { readonly ok: false; readonly address: string; readonly reason: string };

/**
 * The ranges denied by default, from the IANA special-purpose registries (RFC 6890 and updates):
 * everything that is not a unicast address of someone else's host on the Internet.
 */
const DEFAULT_DENIED: readonly (readonly [string, string])[] = [
  ['0.0.0.0/8', 'unspecified ("this network", RFC 791; 0.0.0.0 reaches the local host)'],
  ['10.0.0.0/8', 'private (RFC 1918)'],
  ['100.64.0.0/10', 'shared address space (CGNAT, RFC 6598)'],
  ['127.0.0.0/8', 'loopback (RFC 1122)'],
  ['169.254.0.0/16', 'link-local (RFC 3927; 169.254.169.254 is the cloud metadata service)'],
  ['172.16.0.0/12', 'private (RFC 1918)'],
  ['192.0.0.0/24', 'IETF protocol assignments (RFC 6890)'],
  ['192.0.2.0/24', 'documentation (TEST-NET-1, RFC 5737)'],
  ['192.88.99.0/24', '6to4 relay anycast (deprecated, RFC 7526)'],
  ['192.168.0.0/16', 'private (RFC 1918)'],
  ['198.18.0.0/15', 'benchmarking (RFC 2544)'],
  ['198.51.100.0/24', 'documentation (TEST-NET-2, RFC 5737)'],
  ['203.0.113.0/24', 'documentation (TEST-NET-3, RFC 5737)'],
  ['224.0.0.0/4', 'multicast (RFC 5771)'],
  ['240.0.0.0/4', 'reserved (RFC 1112)'],
  ['255.255.255.255/32', 'broadcast (RFC 919)'],
  ['::/128', 'unspecified (RFC 4291)'],
  ['::1/128', 'loopback (RFC 4291)'],
  ['::/96', 'IPv4-compatible (deprecated, RFC 4291)'],
  ['64:ff9b:1::/48', 'local-use NAT64 (RFC 8215): translates into the operator\'s own network'],
  ['100::/64', 'discard-only (RFC 6666)'],
  ['2001:2::/48', 'benchmarking (RFC 5180)'],
  ['2001:10::/28', 'ORCHID (deprecated, RFC 4843)'],
  ['2001:20::/28', 'ORCHIDv2 (RFC 7343)'],
  ['2001:db8::/32', 'documentation (RFC 3849)'],
  ['3fff::/20', 'documentation (RFC 9637)'],
  ['5f00::/16', 'segment routing SIDs (RFC 9602)'],
  ['fc00::/7', 'unique local (private, RFC 4193)'],
  ['fe80::/10', 'link-local (RFC 4291)'],
  ['fec0::/10', 'site-local (deprecated, RFC 3879)'],
  ['ff00::/8', 'multicast (RFC 4291)'],
];

const DEFAULT_RULES: readonly Rule[] = DEFAULT_DENIED.map(([cidr, why]) => {
  const parsed = parseCidr(cidr);
  if (parsed === undefined) throw new ParleyError('ERR_INVALID_ARGUMENT', `peer-policy: bad default range ${cidr}`);
  return { ...parsed, why: `${why}: ${cidr}` };
});

/** Verdicts kept per PeerPolicy (then the cache starts again): a relay checks the same few peers over and over. */
const CACHE_SIZE = 4096;

export class PeerPolicy {
  readonly #allow: readonly Rule[];
  readonly #deny: readonly Rule[];
  readonly #own: readonly Rule[];
  /** address as given → verdict: parsing and matching cost 0.4-1.5 µs, a hit ~0.05 µs. */
  readonly #cache = new Map<string, PeerVerdict>();

  /** Throws on a CIDR that does not parse (configuration, not network input). */
  constructor(o: PeerPolicyOptions = {}) {
    this.#allow = rules(o.allow ?? [], 'allowed by configuration');
    this.#deny = rules(o.deny ?? [], 'denied by configuration');
    this.#own = rules(o.ownAddresses ?? [], "Parley's own listening address");
  }

  /** Whether a peer may be relayed to; `address` is the canonical spelling (see canonicalPeerAddress). */
  check(address: string): PeerVerdict {
    const hit = this.#cache.get(address);
    if (hit !== undefined) return hit;
    const own = ownString(address); // kept: no view into a larger string
    const verdict = this.#decide(own);
    if (this.#cache.size >= CACHE_SIZE) this.#cache.clear();
    this.#cache.set(own, verdict);
    return verdict;
  }

  #decide(address: string): PeerVerdict {
    const bytes = parseAddress(address);
    if (bytes === undefined) return { ok: false, address, reason: 'not an IP address' };
    const canonical = canonicalBytes(bytes);
    const text = formatAddress(canonical);
    for (const a of [canonical, ...embeddedIPv4(canonical)]) {
      const reason = this.#denial(a);
      if (reason !== undefined) {
        const inside = a === canonical ? '' : ` (embedded ${formatAddress(a)})`;
        return { ok: false, address: text, reason: `${reason}${inside}` };
      }
    }
    return { ok: true, address: text };
  }

  /** Why `a` is denied, or undefined if it is allowed. */
  #denial(a: Bytes): string | undefined {
    const allow = longestMatch(this.#allow, a);
    const deny = longestMatch(this.#deny, a);
    if (deny !== undefined && (allow === undefined || deny.prefix >= allow.prefix)) return deny.why;
    const own = longestMatch(this.#own, a);
    if (own !== undefined && (allow === undefined || own.prefix > allow.prefix)) return own.why;
    if (allow !== undefined) return undefined;
    return longestMatch(DEFAULT_RULES, a)?.why;
  }
}

/**
 * The canonical spelling of an IP address: IPv4 dotted decimal, IPv4-mapped and IPv4-compatible
 * IPv6 as their IPv4 address, any other IPv6 in RFC 5952 text (lowercase, no leading zeros, the
 * longest run of zero groups as `::`, no zone). Undefined if `address` is not an IP address.
 */
export function canonicalPeerAddress(address: string): string | undefined {
  const bytes = parseAddress(address);
  return bytes === undefined ? undefined : formatAddress(canonicalBytes(bytes));
}

function rules(cidrs: readonly string[], why: string): Rule[] {
  return cidrs.map((c) => {
    const parsed = parseCidr(c);
    if (parsed === undefined) throw new ParleyError('ERR_INVALID_ARGUMENT', `peer policy: "${c}" is not an address or CIDR`);
    return { ...parsed, why: `${why}: ${c}` };
  });
}

function longestMatch(list: readonly Rule[], a: Bytes): Rule | undefined {
  let best: Rule | undefined;
  for (const r of list) {
    if (r.bytes.length === a.length && inPrefix(a, r.bytes, r.prefix) && (best === undefined || r.prefix > best.prefix)) best = r;
  }
  return best;
}

function inPrefix(a: Bytes, net: Bytes, prefix: number): boolean {
  const whole = prefix >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== net[i]) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (net[whole]! & mask);
}

/** A prefix length: decimal, at most 3 digits, no sign, no leading zero, at most `max`. */
function parsePrefixLength(s: string, max: number): number | undefined {
  if (s.length === 0 || s.length > 3 || (s.length > 1 && s[0] === '0')) return undefined;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return v <= max ? v : undefined;
}

/** `a.b.c.d/n`, `x::/n` or a bare address (a host route). IPv4-mapped CIDRs of /96 or longer become IPv4 ones. */
function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const bytes = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (bytes === undefined) return undefined;
  let prefix = bytes.length * 8;
  if (slash >= 0) {
    const p = parsePrefixLength(text.slice(slash + 1), prefix);
    if (p === undefined) return undefined;
    prefix = p;
  }
  if (bytes.length === 16 && prefix >= 96 && isMapped(bytes)) return { bytes: bytes.subarray(12), prefix: prefix - 96 };
  return { bytes, prefix };
}

/** IPv4-mapped (::ffff:0:0/96) and IPv4-compatible (::/96 but :: and ::1) become IPv4; the rest is kept. */
function canonicalBytes(a: Bytes): Bytes {
  if (a.length === 4) return a;
  if (isMapped(a)) return a.slice(12);
  if (isZero(a, 0, 12) && !(isZero(a, 12, 15) && a[15]! <= 1)) return a.slice(12);
  return a;
}

/**
 * IPv4 addresses carried inside an IPv6 address that is routed towards them: NAT64 (RFC 6052,
 * 64:ff9b::/96, and 64:ff9b:1::/48 in its /96 form), 6to4 (RFC 3056, 2002:AABB:CCDD::/48),
 * Teredo (RFC 4380, 2001:0::/32: the client's address, inverted, in the last 32 bits) and SIIT's
 * IPv4-translated form (::ffff:0:a.b.c.d). Not looked into: ISATAP interface identifiers
 * (…:0:5efe:a.b.c.d under any prefix), which name a host on the prefix's own network.
 */
function embeddedIPv4(a: Bytes): Bytes[] {
  if (a.length !== 16) return [];
  const w0 = (a[0]! << 8) | a[1]!;
  const w1 = (a[2]! << 8) | a[3]!;
  if (w0 === 0x64 && w1 === 0xff9b && isZero(a, 4, 12)) return [a.slice(12)];
  if (w0 === 0x64 && w1 === 0xff9b && a[4] === 0 && a[5] === 1) return [a.slice(12)];
  if (w0 === 0x2002) return [a.slice(2, 6)];
  // IPv4-translated (SIIT, RFC 2765 §2.1: ::ffff:0:a.b.c.d), which a translator maps to IPv4
  if (isZero(a, 0, 8) && a[8] === 0xff && a[9] === 0xff && a[10] === 0 && a[11] === 0) return [a.slice(12)];
  if (w0 === 0x2001 && w1 === 0) return [Uint8Array.from(a.subarray(12), (b) => b ^ 0xff)];
  return [];
}

function isMapped(a: Bytes): boolean {
  return isZero(a, 0, 10) && a[10] === 0xff && a[11] === 0xff;
}

function isZero(a: Bytes, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (a[i] !== 0) return false;
  return true;
}

/** An IPv4 (4 bytes) or IPv6 (16 bytes) address from its text, or undefined. Never throws. */
function parseAddress(text: string): Bytes | undefined {
  let s = text;
  if (s.length >= 2 && s[0] === '[' && s[s.length - 1] === ']') s = s.slice(1, -1);
  if (s.indexOf(':') < 0) return ipv4Bytes(s);
  const zone = s.indexOf('%');
  if (zone >= 0) {
    if (zone === s.length - 1) return undefined;
    s = s.slice(0, zone);
  }
  return ipv6Bytes(s);
}

/** Dotted decimal, or RFC 5952 §4 text for IPv6. */
function formatAddress(a: Bytes): string {
  return a.length === 4 ? formatIpv4(a) : formatIpv6(a);
}
