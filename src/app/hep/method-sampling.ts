import { err, ok, type Result } from '../../lib/result.js';

const SP = 0x20;
const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SIP_VERSION = Buffer.from('SIP/2.0 ');

/**
 * Which captured SIP messages go to the collectors: a percentage per method (`hep.sampling`,
 * `OPTIONS:0`), for requests of that method and the responses to them (their CSeq method). With no
 * rule every message is kept without being read. Between 0 and 100 the Call-ID decides (a hash),
 * so a dialog or a registration's refreshes are kept or left out whole. Reads the bytes as they
 * are on the wire, never throws; a message it cannot read is kept.
 */
export class MethodSampling {
  /** Percent per method name (case-sensitive, as RFC 3261 §7.1 says methods are). */
  private readonly percent = new Map<string, number>();

  private constructor(rules: ReadonlyMap<string, number>) {
    for (const [m, p] of rules) if (p < 100) this.percent.set(m, p);
  }

  /** `METHOD:PERCENT` rules (config `hep.sampling`). */
  static parse(rules: readonly string[]): Result<MethodSampling, string> {
    const map = new Map<string, number>();
    for (const r of rules) {
      const colon = r.lastIndexOf(':');
      const method = r.slice(0, colon);
      const text = r.slice(colon + 1);
      const p = Number(text);
      if (colon <= 0 || text === '' || !Number.isInteger(p) || p < 0 || p > 100) return err(`"${r}": expected METHOD:PERCENT (0-100)`);
      if (!isToken(method)) return err(`"${r}": "${method}" is not a method name`);
      map.set(method, p);
    }
    return ok(new MethodSampling(map));
  }

  /** True when every message is kept (no rule below 100): the capture skips the call. */
  get keepsAll(): boolean {
    return this.percent.size === 0;
  }

  /** Send this message (its bytes as on the wire)? */
  keep(bytes: Uint8Array): boolean {
    if (this.percent.size === 0) return true;
    const method = methodOf(bytes);
    if (method === undefined) return true;
    const p = this.percent.get(method);
    if (p === undefined) return true;
    if (p === 0) return false;
    const callId = headerValue(bytes, 'call-id', 'i');
    if (callId === undefined) return true;
    return fnv1a(callId) % 100 < p;
  }
}

/** The request's method, or a response's CSeq method; undefined when neither can be read. */
export function methodOf(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, SIP_VERSION)) {
    const cseq = headerValue(bytes, 'cseq', undefined);
    if (cseq === undefined) return undefined;
    const sp = cseq.lastIndexOf(' ');
    return sp < 0 ? undefined : cseq.slice(sp + 1);
  }
  const end = bytes.indexOf(SP);
  if (end <= 0 || end > 32) return undefined;
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1');
}

/**
 * The trimmed value of the first header field named `name` (lower case) or its compact form, in
 * the header section; undefined when absent. Reads the raw header lines (no folding: a folded
 * Call-ID or CSeq is not found and the message is kept).
 */
export function headerValue(bytes: Uint8Array, name: string, compact: string | undefined): string | undefined {
  let line = bytes.indexOf(LF) + 1;
  while (line > 0 && line < bytes.length) {
    const next = bytes.indexOf(LF, line);
    const end = next < 0 ? bytes.length : next;
    if (end === line || (end === line + 1 && bytes[line] === CR)) return undefined; // the empty line: the body begins
    if (nameMatches(bytes, line, end, name) || (compact !== undefined && nameMatches(bytes, line, end, compact))) {
      const colon = bytes.indexOf(COLON, line);
      let a = colon + 1;
      let b = end;
      while (a < b && (bytes[a] === SP || bytes[a] === 0x09)) a++;
      while (b > a && (bytes[b - 1] === CR || bytes[b - 1] === SP || bytes[b - 1] === 0x09)) b--;
      return Buffer.from(bytes.buffer, bytes.byteOffset + a, b - a).toString('latin1');
    }
    line = next + 1;
  }
  return undefined;
}

/** The line at `start` begins with `name` (lower case), then optional blanks and a colon. */
function nameMatches(bytes: Uint8Array, start: number, end: number, name: string): boolean {
  if (end - start <= name.length) return false;
  for (let i = 0; i < name.length; i++) if ((bytes[start + i]! | 0x20) !== name.charCodeAt(i)) return false;
  let i = start + name.length;
  while (i < end && (bytes[i] === SP || bytes[i] === 0x09)) i++;
  return bytes[i] === COLON;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** RFC 3261 §25.1 token characters (method names). */
function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum && !'-.!%*_+`\'~'.includes(s[i]!)) return false;
  }
  return true;
}

/** FNV-1a over a string's UTF-16 code units (Call-IDs are ASCII): spreads similar Call-IDs. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
