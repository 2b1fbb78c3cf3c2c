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
  const groups = expandIpv6(a);
  if (groups === undefined) return a;
  const out: number[] = [];
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, ipv6PrefixLength - i * 16));
    out.push(keep === 0 ? 0 : groups[i]! & ((0xffff << (16 - keep)) & 0xffff));
  }
  return `${compressIpv6(out)}/${ipv6PrefixLength}`;
}

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail included), or undefined. */
function expandIpv6(a: string): number[] | undefined {
  let s = a;
  // the last group may be an IPv4 address; matched anchored on the text after the last colon (an
  // unanchored /(\d+)\.…$/ retried every start in a run of digits: quadratic)
  const tailStart = s.lastIndexOf(':') + 1;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s.slice(tailStart));
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number];
    s = s.slice(0, tailStart) + `${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const parts = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const groups = parts.map((p) => (/^[0-9a-f]{1,4}$/i.test(p) ? parseInt(p, 16) : NaN));
  return groups.some(Number.isNaN) ? undefined : groups;
}

/** RFC 5952 text of eight groups (the longest run of two or more zero groups as `::`). */
function compressIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * An address as Parley compares and stores it: brackets removed, IPv4-mapped IPv6 turned into
 * IPv4, IPv6 in the canonical (RFC 5952) form, names lower-cased. `[::FFFF:192.0.2.1]` → `192.0.2.1`.
 */
export function normalizeAddress(address: string): string {
  let a = address;
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  if (a.includes(':')) {
    try {
      // WHATWG URL serializes IPv6 hosts in RFC 5952 form
      a = new URL(`http://[${a}]/`).hostname.slice(1, -1);
    } catch {
      return a.toLowerCase();
    }
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
    if (mapped) {
      const hi = parseInt(mapped[1]!, 16);
      const lo = parseInt(mapped[2]!, 16);
      return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
    }
    return a;
  }
  return a.toLowerCase();
}
