/**
 * Bencoding (BitTorrent's BEP 3), the body of rtpengine's "ng" control messages:
 *
 *   integer   i<decimal>e          `i42e`, `i-3e` (no leading zeros, no `-0`)
 *   string    <length>:<bytes>     `4:spam` (length in bytes, decimal)
 *   list      l<values>e           `l4:spami42ee`
 *   dict      d<string><value>...e `d3:cow3:mooe` (keys are strings, sorted by their bytes when written)
 *
 * Strings are read as UTF-8 text (the ng commands carry names and SDP), so a string that is not
 * UTF-8 comes out with U+FFFD in place of its bad bytes. Decoding reads network input: it returns a
 * result and never throws, stops at a nesting depth and refuses lengths beyond the input, so its
 * work is linear in the input's size and its recursion bounded.
 */
import { err, ok, type Result } from '../../lib/result.js';

export type BencodeValue = number | string | readonly BencodeValue[] | BencodeDict;
/** A dictionary; decoded ones have no prototype, so that a key such as `__proto__` is only a key. */
export interface BencodeDict {
  readonly [key: string]: BencodeValue;
}

export interface BencodeError {
  readonly reason: string;
  /** Byte offset in the input where decoding stopped. */
  readonly offset: number;
}

export interface BencodeLimits {
  /** Deepest nesting of lists and dicts (the top value is depth 1); default 16. */
  readonly maxDepth?: number;
}

const I = 0x69; // 'i'
const L = 0x6c; // 'l'
const D = 0x64; // 'd'
const E = 0x65; // 'e'
const COLON = 0x3a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
/** Longest decimal accepted for an integer or a string length: beyond 15 digits a number is not exact in a double. */
const MAX_DIGITS = 15;

/** Decodes one bencoded value that fills `bytes` exactly (trailing bytes are an error). */
export function decodeBencode(bytes: Uint8Array, limits: BencodeLimits = {}): Result<BencodeValue, BencodeError> {
  const reader = new Reader(bytes, limits.maxDepth ?? 16);
  const value = reader.value(1);
  if (value === undefined) return err(reader.error!);
  if (reader.pos !== bytes.length) return err({ reason: `${bytes.length - reader.pos} bytes after the value`, offset: reader.pos });
  return ok(value);
}

class Reader {
  pos = 0;
  error: BencodeError | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly maxDepth: number,
  ) {}

  private fail(reason: string, offset = this.pos): undefined {
    this.error = { reason, offset };
    return undefined;
  }

  value(depth: number): BencodeValue | undefined {
    const b = this.bytes[this.pos];
    if (b === undefined) return this.fail('the input ends where a value should start');
    if (b === I) return this.integer();
    if (b >= ZERO && b <= NINE) return this.string();
    if (b === L || b === D) {
      if (depth > this.maxDepth) return this.fail(`nested deeper than ${this.maxDepth}`);
      return b === L ? this.list(depth) : this.dict(depth);
    }
    return this.fail(`0x${b.toString(16).padStart(2, '0')} does not start a value`);
  }

  /** Digits up to `end`; a number, or undefined (error set) for none, too many, a leading zero or a stray byte. */
  private decimal(end: number, what: string): number | undefined {
    const start = this.pos;
    let n = 0;
    while (this.pos < this.bytes.length && this.bytes[this.pos] !== end) {
      const c = this.bytes[this.pos]!;
      if (c < ZERO || c > NINE) return this.fail(`${what}: 0x${c.toString(16).padStart(2, '0')} is not a digit`);
      if (this.pos - start >= MAX_DIGITS) return this.fail(`${what}: more than ${MAX_DIGITS} digits`, start);
      n = n * 10 + (c - ZERO);
      this.pos++;
    }
    if (this.pos >= this.bytes.length) return this.fail(`${what}: the input ends before its terminator`);
    if (this.pos === start) return this.fail(`${what}: no digits`);
    // BEP 3: "All encodings with a leading zero, such as i03e, are invalid, other than i0e"
    if (this.bytes[start] === ZERO && this.pos - start > 1) return this.fail(`${what}: leading zero`, start);
    this.pos++; // the terminator
    return n;
  }

  private integer(): number | undefined {
    this.pos++; // 'i'
    const negative = this.bytes[this.pos] === MINUS;
    if (negative) this.pos++;
    const start = this.pos;
    const n = this.decimal(E, 'integer');
    if (n === undefined) return undefined;
    // BEP 3: "i-0e is invalid"
    if (negative && n === 0) return this.fail('integer: -0', start);
    return negative ? -n : n;
  }

  private string(): string | undefined {
    const start = this.pos;
    const length = this.decimal(COLON, 'string length');
    if (length === undefined) return undefined;
    if (length > this.bytes.length - this.pos) return this.fail(`string of ${length} bytes, ${this.bytes.length - this.pos} left`, start);
    const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.pos, length).toString('utf8');
    this.pos += length;
    return text;
  }

  private list(depth: number): BencodeValue[] | undefined {
    this.pos++; // 'l'
    const items: BencodeValue[] = [];
    while (this.bytes[this.pos] !== E) {
      const item = this.value(depth + 1);
      if (item === undefined) return undefined;
      items.push(item);
    }
    this.pos++;
    return items;
  }

  private dict(depth: number): BencodeDict | undefined {
    this.pos++; // 'd'
    const dict: Record<string, BencodeValue> = Object.create(null) as Record<string, BencodeValue>;
    while (this.bytes[this.pos] !== E) {
      const at = this.pos;
      const b = this.bytes[at];
      if (b === undefined) return this.fail('the input ends inside a dictionary');
      if (b < ZERO || b > NINE) return this.fail('a dictionary key is not a string');
      const key = this.string();
      if (key === undefined) return undefined;
      // BEP 3 wants keys sorted; Kamailio's rtpengine module writes them in its own order, so order is not checked
      if (Object.hasOwn(dict, key)) return this.fail(`key "${key.slice(0, 40)}" appears twice`, at);
      const value = this.value(depth + 1);
      if (value === undefined) return undefined;
      dict[key] = value;
    }
    this.pos++;
    return dict;
  }
}

/**
 * Encodes a value. Numbers must be safe integers; dictionary keys are written sorted by their
 * bytes (BEP 3), entries whose value is undefined are left out. Throws on a value that has no
 * encoding (a programmer's error, never network input).
 */
export function encodeBencode(value: BencodeValue): Buffer {
  const parts: Buffer[] = [];
  write(value, parts);
  return Buffer.concat(parts);
}

function write(value: BencodeValue | undefined, parts: Buffer[]): void {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    parts.push(Buffer.from(`${bytes.length}:`, 'latin1'), bytes);
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`bencode: ${value} is not a safe integer`);
    parts.push(Buffer.from(`i${value}e`, 'latin1'));
  } else if (Array.isArray(value)) {
    parts.push(Buffer.from('l', 'latin1'));
    for (const item of value as readonly BencodeValue[]) write(item, parts);
    parts.push(Buffer.from('e', 'latin1'));
  } else if (typeof value === 'object' && value !== null) {
    const dict = value as BencodeDict;
    const keys = Object.keys(dict)
      .filter((k) => dict[k] !== undefined)
      .map((k) => ({ k, bytes: Buffer.from(k, 'utf8') }))
      .sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    parts.push(Buffer.from('d', 'latin1'));
    for (const { k, bytes } of keys) {
      parts.push(Buffer.from(`${bytes.length}:`, 'latin1'), bytes);
      write(dict[k], parts);
    }
    parts.push(Buffer.from('e', 'latin1'));
  } else {
    throw new TypeError(`bencode: a ${typeof value} has no encoding`);
  }
}
