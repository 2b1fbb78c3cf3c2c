import { SipParseError } from '../errors.js';
import { DEFAULT_LIMITS } from './limits.js';

/** What the framer found in a stream. */
export type FrameEvent =
  /** One complete SIP message's bytes (start line to the end of its body). */
  | { readonly type: 'message'; readonly bytes: Uint8Array }
  /** A double-CRLF keepalive "ping" between messages: answer with one CRLF (RFC 5626 §3.5.1). */
  | { readonly type: 'ping' }
  /**
   * The stream cannot be framed any more (no Content-Length, oversized): close the connection.
   * `head` is the message's header section when it was read (ending with its empty line), or
   * the complete header lines of a header section that outgrew the size limit (ending with a
   * CRLF): enough to answer (400, 513) before closing.
   */
  | { readonly type: 'error'; readonly error: SipParseError; readonly head?: Uint8Array };

export interface StreamFramerOptions {
  /** Largest message accepted; a larger one, or a header section that grows past it, is an error. */
  readonly maxMessageSize?: number;
}

/**
 * Splits the bytes of a stream transport (TCP, TLS) into SIP messages using Content-Length
 * (RFC 3261 §18.3: "In the case of stream-oriented transports such as TCP, the Content-Length
 * header field indicates the size of the body."), whatever the chunking. CRLFs between messages
 * are keepalives: a double CRLF is a ping, a single one a pong, and neither reaches the parser.
 * Memory is bounded by `maxMessageSize`: after an error the framer refuses further input.
 */
export class StreamFramer {
  private buf: Uint8Array = new Uint8Array(0);
  /**
   * Our own backing store for `buf` while a message arrives in pieces: grown by doubling, so that
   * bytes pushed one at a time are copied a bounded number of times, not the whole buffer again
   * at every push (quadratic, issue 14). Dropped whenever the buffer empties.
   */
  private store: Uint8Array | undefined;
  /** Where the search for the end of the header section resumes: no CRLFCRLF ends before it. */
  private searchFrom = 0;
  /** The length of the message at the front of `buf` once its header section has been read, else -1. */
  private total = -1;
  private failed = false;
  private readonly max: number;

  constructor(options: StreamFramerOptions = {}) {
    this.max = options.maxMessageSize ?? DEFAULT_LIMITS.maxMessageSize;
  }

  /** Bytes held while waiting for the rest of a message. */
  get buffered(): number {
    return this.buf.length;
  }

  /** Feed a chunk; returns the events it completed, in order. */
  push(chunk: Uint8Array): FrameEvent[] {
    if (this.failed) return [];
    this.append(chunk);
    const events: FrameEvent[] = [];
    for (;;) {
      const b = this.buf;
      // keepalives and stray line ends between messages
      let p = 0;
      while (p < b.length && (b[p] === 0x0d || b[p] === 0x0a)) {
        const rest = b.length - p;
        if (rest >= 4 && b[p] === 0x0d && b[p + 1] === 0x0a && b[p + 2] === 0x0d && b[p + 3] === 0x0a) {
          events.push({ type: 'ping' });
          p += 4;
        } else if (rest < 4 && isPrefixOfPing(b, p)) {
          break; // wait: this may become a ping
        } else if (b[p] === 0x0d && b[p + 1] === 0x0a) {
          p += 2; // a single CRLF: a pong, ignored
        } else p += 1;
      }
      if (p > 0) this.advance(p);
      const m = this.buf;
      if (m.length === 0 || m[0] === 0x0d || m[0] === 0x0a) return events;

      if (this.total < 0) {
        const headEnd = indexOfCrlfCrlf(m, this.searchFrom);
        if (headEnd < 0) {
          this.searchFrom = m.length;
          if (m.length > this.max) return this.fail(events, 'header section larger than the message size limit', completeLines(m, this.max));
          return events;
        }
        const head = (): Uint8Array => m.slice(0, headEnd + 4);
        const cl = findContentLength(m, headEnd);
        if (cl === undefined) return this.fail(events, 'message without Content-Length on a stream', head(), 'header/Content-Length');
        if (cl < 0) return this.fail(events, 'bad Content-Length', head(), 'header/Content-Length');
        const total = headEnd + 4 + cl;
        if (total > this.max) return this.fail(events, 'message larger than the size limit', head());
        this.total = total;
      }
      if (m.length < this.total) return events;
      events.push({ type: 'message', bytes: m.slice(0, this.total) });
      this.advance(this.total);
    }
  }

  /** Drop `n` bytes from the front of the buffer: a new message starts there. */
  private advance(n: number): void {
    this.buf = this.buf.subarray(n);
    this.searchFrom = 0;
    this.total = -1;
    if (this.buf.length === 0) this.store = undefined;
  }

  /** buf += chunk, in our own store with room to grow (a chunk alone is kept as it is, uncopied). */
  private append(chunk: Uint8Array): void {
    const b = this.buf;
    if (b.length === 0) {
      this.store = undefined;
      this.buf = chunk;
      return;
    }
    const store = this.store;
    if (store !== undefined && b.buffer === store.buffer) {
      // buf is a view of the store that ends where the store's written part ends
      const start = b.byteOffset - store.byteOffset;
      const end = start + b.length;
      if (end + chunk.length <= store.length) {
        store.set(chunk, end);
        this.buf = store.subarray(start, end + chunk.length);
        return;
      }
    }
    const next = new Uint8Array(Math.max(4096, 2 * (b.length + chunk.length)));
    next.set(b, 0);
    next.set(chunk, b.length);
    this.store = next;
    this.buf = next.subarray(0, b.length + chunk.length);
  }

  private fail(events: FrameEvent[], detail: string, head?: Uint8Array, place = 'stream'): FrameEvent[] {
    this.failed = true;
    this.buf = new Uint8Array(0);
    this.store = undefined;
    const error = new SipParseError(place, detail, 'ERR_SIP_FRAMING');
    events.push(head === undefined || head.length === 0 ? { type: 'error', error } : { type: 'error', error, head });
    return events;
  }
}

/** A copy of the complete lines (up to and including the last CRLF) of the first `max` bytes. */
function completeLines(b: Uint8Array, max: number): Uint8Array {
  const within = b.subarray(0, max);
  const lf = within.lastIndexOf(0x0a);
  return lf > 0 && within[lf - 1] === 0x0d ? b.slice(0, lf + 1) : new Uint8Array(0);
}

function isPrefixOfPing(b: Uint8Array, p: number): boolean {
  const ping = [0x0d, 0x0a, 0x0d, 0x0a];
  for (let i = 0; p + i < b.length; i++) if (b[p + i] !== ping[i]) return false;
  return true;
}

/**
 * Index of the first CRLFCRLF in b whose last byte is at or after `from` (the bytes before were
 * searched already), or -1. Hops from LF to LF with the native indexOf.
 */
function indexOfCrlfCrlf(b: Uint8Array, from: number): number {
  let i = b.indexOf(0x0a, Math.max(3, from));
  while (i >= 0) {
    if (b[i - 1] === 0x0d && b[i - 2] === 0x0a && b[i - 3] === 0x0d) return i - 3;
    i = b.indexOf(0x0a, i + 1);
  }
  return -1;
}

/**
 * Content-Length (or its compact form `l`) from the header section, without a full parse.
 * undefined when absent, -1 when malformed or given twice with different values.
 */
function findContentLength(b: Uint8Array, headEnd: number): number | undefined {
  let found: number | undefined;
  let lineStart = 0;
  for (let i = 0; i <= headEnd; i++) {
    if (i === headEnd || (b[i] === 0x0d && b[i + 1] === 0x0a)) {
      const v = contentLengthOfLine(b, lineStart, i);
      if (v !== undefined) {
        if (found !== undefined && found !== v) return -1;
        found = v;
      }
      lineStart = i + 2;
    }
  }
  return found;
}

function contentLengthOfLine(b: Uint8Array, start: number, end: number): number | undefined {
  let p = start;
  const lower = (c: number | undefined): number => (c !== undefined && c >= 0x41 && c <= 0x5a ? c + 32 : c ?? -1);
  const name = 'content-length';
  let k = 0;
  if (lower(b[p]) === 0x6c /* l */ && (b[p + 1] === 0x3a || b[p + 1] === 0x20 || b[p + 1] === 0x09)) p += 1;
  else {
    while (k < name.length && lower(b[p]) === name.charCodeAt(k)) {
      p++;
      k++;
    }
    if (k !== name.length) return undefined;
  }
  while (b[p] === 0x20 || b[p] === 0x09) p++;
  if (b[p] !== 0x3a) return undefined;
  p++;
  while (p < end && (b[p] === 0x20 || b[p] === 0x09)) p++;
  let n = 0;
  let digits = 0;
  while (p < end && b[p]! >= 0x30 && b[p]! <= 0x39) {
    n = n * 10 + (b[p]! - 0x30);
    p++;
    digits++;
    if (n > 2 ** 31) return -1;
  }
  while (p < end && (b[p] === 0x20 || b[p] === 0x09)) p++;
  if (digits === 0 || p !== end) return -1;
  return n;
}
