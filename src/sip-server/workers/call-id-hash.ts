/**
 * Which worker a message belongs to, read from its raw bytes before any parsing: a hash of its
 * Call-ID. Every message of a call (requests, responses, retransmissions, ACK, CANCEL, in-dialog
 * requests) and every REGISTER refresh of a user agent carries the same Call-ID (RFC 3261 §8.1.1.4,
 * §10.2), so they all reach the worker that holds their transactions and proxy contexts.
 *
 * The scan reads header lines until the empty line, looking for `Call-ID` or its compact form `i`
 * (§7.3.3, case-insensitive, optional whitespace before the colon), and hashes the value with
 * surrounding whitespace removed (FNV-1a, 32 bits). Input without a Call-ID (malformed, or not
 * SIP) hashes to 0; whichever worker gets it answers 400 or drops it.
 */
export function callIdHash(bytes: Uint8Array): number {
  const n = bytes.length;
  // skip the start line
  let i = indexOfLf(bytes, 0);
  while (i !== -1 && i + 1 < n) {
    const line = i + 1;
    const first = bytes[line]!;
    if (first === 0x0d || first === 0x0a) return 0; // the empty line: no Call-ID
    const end = indexOfLf(bytes, line);
    const stop = end === -1 ? n : end;
    const value = callIdValueStart(bytes, line, stop);
    if (value !== -1) return fnv1a(bytes, value, stop);
    i = end;
  }
  return 0;
}

/** The worker index of a message among `count` workers. */
export function workerOf(bytes: Uint8Array, count: number): number {
  return count <= 1 ? 0 : callIdHash(bytes) % count;
}

function indexOfLf(bytes: Uint8Array, from: number): number {
  return bytes.indexOf(0x0a, from);
}

/** Where the value starts when the line is a Call-ID header field, else -1. */
function callIdValueStart(bytes: Uint8Array, line: number, stop: number): number {
  let p = line;
  const c0 = bytes[p]! | 0x20;
  if (c0 === 0x69 /* i */) {
    p++; // the compact form: `i` then optional whitespace and the colon
  } else if (c0 === 0x63 /* c */) {
    // "call-id", case-insensitive
    const name = 'call-id';
    for (let k = 0; k < name.length; k++, p++) {
      if (p >= stop) return -1;
      const b = bytes[p]!;
      const want = name.charCodeAt(k);
      if ((want === 0x2d ? b : b | 0x20) !== want) return -1;
    }
  } else {
    return -1;
  }
  while (p < stop && (bytes[p] === 0x20 || bytes[p] === 0x09)) p++;
  if (p >= stop || bytes[p] !== 0x3a /* : */) return -1;
  return p + 1;
}

/** FNV-1a over bytes[from, to) with leading and trailing whitespace (SP, HTAB, CR) left out. */
function fnv1a(bytes: Uint8Array, from: number, to: number): number {
  let a = from;
  let b = to;
  while (a < b && isSpace(bytes[a]!)) a++;
  while (b > a && isSpace(bytes[b - 1]!)) b--;
  let h = 0x811c9dc5;
  for (let k = a; k < b; k++) {
    h ^= bytes[k]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d;
}
