/**
 * IP addresses between their text form (as Node's sockets give and take them) and their bytes:
 * the one parser and printer of addresses for STUN's address attributes, the TURN peer policy and
 * the per-source counts. No regular expressions: these run on every relayed address. The text
 * accepted is what Node's `net.isIP` accepts: dotted quads without leading zeros (`010.0.0.1`
 * would be octal to some parsers, decimal to others), RFC 4291 §2.2 IPv6 with an optional zone.
 */

/** The 4 bytes of a dotted-quad IPv4 address, or undefined when `text` is not one. */
export function ipv4Bytes(text: string, out: Uint8Array = new Uint8Array(4), at = 0): Uint8Array | undefined {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e; // a final '.' closes the last part
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && value === 0) return undefined; // a leading zero
      value = value * 10 + (c - 0x30);
      digits++;
      if (digits > 3 || value > 255) return undefined;
    } else if (c === 0x2e) {
      if (digits === 0 || part > 3) return undefined;
      out[at + part++] = value;
      value = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  return part === 4 ? out : undefined;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * The 16 bytes of an IPv6 address in the text forms of RFC 4291 §2.2 (groups, `::`, a trailing
 * dotted quad), with an optional zone (`%eth0`, ignored); undefined when `text` is not one.
 */
export function ipv6Bytes(text: string, out: Uint8Array = new Uint8Array(16), at = 0): Uint8Array | undefined {
  let end = text.indexOf('%');
  if (end < 0) end = text.length;
  const groups: number[] = [];
  let gap = -1; // index in groups where '::' stands
  let i = 0;
  if (end >= 2 && text.charCodeAt(0) === 0x3a && text.charCodeAt(1) === 0x3a) {
    gap = 0;
    i = 2;
    if (i === end) return fillIpv6(groups, gap, out, at);
  } else if (end > 0 && text.charCodeAt(0) === 0x3a) {
    return undefined;
  }
  while (i < end) {
    // one group, or a dotted quad that ends the address
    let j = i;
    let value = 0;
    while (j < end && j - i < 5) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      j++;
    }
    if (j < end && text.charCodeAt(j) === 0x2e) {
      const quad = ipv4Bytes(text.slice(i, end));
      if (quad === undefined || groups.length > 6) return undefined;
      groups.push((quad[0]! << 8) | quad[1]!, (quad[2]! << 8) | quad[3]!);
      i = end;
      break;
    }
    if (j === i || j - i > 4) return undefined;
    groups.push(value);
    if (groups.length > 8) return undefined;
    if (j === end) {
      i = j;
      break;
    }
    if (text.charCodeAt(j) !== 0x3a) return undefined;
    if (j + 1 < end && text.charCodeAt(j + 1) === 0x3a) {
      if (gap >= 0) return undefined;
      gap = groups.length;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === end) return undefined; // a trailing single ':'
    }
  }
  return fillIpv6(groups, gap, out, at);
}

function fillIpv6(groups: number[], gap: number, out: Uint8Array, at: number): Uint8Array | undefined {
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return undefined;
  const zeros = 8 - groups.length;
  let g = 0;
  for (let k = 0; k < 8; k++) {
    let value = 0;
    if (gap >= 0 && k >= gap && k < gap + zeros) value = 0;
    else value = groups[g++]!;
    out[at + 2 * k] = value >> 8;
    out[at + 2 * k + 1] = value & 0xff;
  }
  return out;
}

/** Dotted-quad text of the 4 bytes at `at`. */
export function formatIpv4(bytes: Uint8Array, at = 0): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

/**
 * RFC 5952 text of the 16 bytes at `at`: lower case, no leading zeros, the longest run of two or
 * more zero groups (the first of equals) as `::`, and an IPv4-mapped address (::ffff:0:0/96) with
 * its dotted quad (§5), as Node writes the source of an IPv4 datagram on a dual-stack socket.
 */
export function formatIpv6(bytes: Uint8Array, at = 0): string {
  let mapped = bytes[at + 10] === 0xff && bytes[at + 11] === 0xff;
  for (let k = 0; k < 10 && mapped; k++) if (bytes[at + k] !== 0) mapped = false;
  if (mapped) return `::ffff:${formatIpv4(bytes, at + 12)}`;
  let bestStart = -1;
  let bestLength = 1;
  let runStart = -1;
  for (let k = 0; k <= 8; k++) {
    const zero = k < 8 && bytes[at + 2 * k] === 0 && bytes[at + 2 * k + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = k;
    } else if (runStart >= 0) {
      if (k - runStart > bestLength) {
        bestStart = runStart;
        bestLength = k - runStart;
      }
      runStart = -1;
    }
  }
  let text = '';
  for (let k = 0; k < 8; k++) {
    if (k === bestStart) {
      text += '::';
      k += bestLength - 1;
      continue;
    }
    if (text.length > 0 && !text.endsWith(':')) text += ':';
    text += ((bytes[at + 2 * k]! << 8) | bytes[at + 2 * k + 1]!).toString(16);
  }
  return text;
}
