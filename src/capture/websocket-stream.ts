/**
 * WebSocket in one direction of a captured TCP stream (RFC 6455): the HTTP opening handshake,
 * then frames, unmasked, and fragmented messages joined. Fed the in-order bytes of the direction
 * (tcp-reassembly.ts); hands out each whole data message. Bounded: a message or frame larger
 * than `maxMessageSize`, or a header section past 16 KiB, ends the reading of the direction.
 *
 * Each direction is read on its own: the client's side begins with the GET carrying
 * `Upgrade: websocket` (RFC 6455 §4.1), the server's with `HTTP/1.1 101` (§4.2.2: "If the server
 * chooses to accept the incoming connection, it MUST reply with a valid HTTP response indicating
 * the following. 1. A Status-Line with a 101 response code"); after the empty line, frames.
 */
import { copyOf } from './bytes.js';

export interface WebSocketMessage {
  /** 1 text, 2 binary (RFC 6455 §5.6). */
  readonly opcode: number;
  readonly payload: Uint8Array;
}

export type WebSocketEvent =
  | { readonly kind: 'message'; readonly message: WebSocketMessage }
  | { readonly kind: 'close' }
  | { readonly kind: 'error'; readonly reason: string };

const MAX_HEAD = 16 * 1024;
export const DEFAULT_MAX_WS_MESSAGE = 1024 * 1024;

const CR = 0x0d;
const LF = 0x0a;

/** Where the header section ending with CRLFCRLF ends in `b` (the index after it), or -1. */
export function headEnd(b: Uint8Array, from = 0): number {
  for (let i = Math.max(from, 3); i < b.length; i++) {
    if (b[i] === LF && b[i - 1] === CR && b[i - 2] === LF && b[i - 3] === CR) return i + 1;
  }
  return -1;
}

function startsWithAscii(b: Uint8Array, text: string): boolean {
  if (b.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Could these be the first bytes of an HTTP request or response (so wait for the head)? */
export function looksLikeHttpStart(b: Uint8Array): boolean {
  return startsWithAscii(b, 'GET ') || startsWithAscii(b, 'HTTP/1.');
}

/**
 * Is `head` (an HTTP header section) a WebSocket opening handshake: a GET with `Upgrade:
 * websocket`, or a 101 response? Header names and the token compare case-insensitively
 * (RFC 6455 §4.2.1: "An |Upgrade| header field containing the value "websocket", treated as an
 * ASCII case-insensitive value").
 */
export function isWebSocketHandshake(head: string): boolean {
  if (head.startsWith('HTTP/1.1 101')) return true;
  if (!head.startsWith('GET ')) return false;
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== 'upgrade') continue;
    if (line.slice(colon + 1).toLowerCase().split(',').some((t) => t.trim() === 'websocket')) return true;
  }
  return false;
}

/** The frames of one direction after its handshake. */
export class WebSocketFrameReader {
  private buf: Uint8Array = new Uint8Array(0);
  private parts: Uint8Array[] = [];
  private partsLength = 0;
  private messageOpcode = 0;
  private done = false;

  constructor(private readonly maxMessageSize = DEFAULT_MAX_WS_MESSAGE) {}

  /** Bytes held waiting for the rest of a frame or message. */
  get buffered(): number {
    return this.buf.length + this.partsLength;
  }

  push(chunk: Uint8Array): WebSocketEvent[] {
    if (this.done) return [];
    this.buf = this.buf.length === 0 ? chunk : concat(this.buf, chunk);
    const events: WebSocketEvent[] = [];
    let pos = 0;
    const b = this.buf;
    while (!this.done) {
      const frame = readFrame(b, pos, this.maxMessageSize);
      if (frame === 'need') break;
      if (typeof frame === 'string') {
        this.fail(events, frame);
        break;
      }
      pos = frame.end;
      this.onFrame(frame, b, events);
    }
    this.buf = this.done ? new Uint8Array(0) : copyOf(b, pos);
    return events;
  }

  private onFrame(frame: Frame, b: Uint8Array, events: WebSocketEvent[]): void {
    const payload = copyOf(b, frame.payloadStart, frame.end);
    // RFC 6455 §5.3: "Octet i of the transformed data ("transformed-octet-i") is the XOR of octet i
    // of the original data ("original-octet-i") with octet at index i modulo 4 of the masking key"
    if (frame.mask !== undefined) for (let i = 0; i < payload.length; i++) payload[i]! ^= frame.mask[i & 3]!;
    const op = frame.opcode;
    if (op >= 8) {
      // RFC 6455 §5.5: "Control frames ... MAY be injected in the middle of a fragmented message."
      if (op === 8) {
        this.done = true;
        events.push({ kind: 'close' });
      }
      return;
    }
    if (op === 0) {
      if (this.messageOpcode === 0) return this.fail(events, 'a continuation frame outside a fragmented message');
    } else {
      // RFC 6455 §5.4: a fragmented message "consists of a single frame with the FIN bit clear and
      // an opcode other than 0, followed by zero or more frames with the FIN bit clear and the
      // opcode set to 0, and terminated by a single frame with the FIN bit set and an opcode of 0"
      if (this.messageOpcode !== 0) return this.fail(events, 'a new data frame inside a fragmented message');
      this.messageOpcode = op;
    }
    if (this.partsLength + payload.length > this.maxMessageSize) return this.fail(events, `a message of more than ${this.maxMessageSize} bytes`);
    this.parts.push(payload);
    this.partsLength += payload.length;
    if (!frame.fin) return;
    const whole = this.parts.length === 1 ? this.parts[0]! : concatAll(this.parts, this.partsLength);
    events.push({ kind: 'message', message: { opcode: this.messageOpcode, payload: whole } });
    this.parts = [];
    this.partsLength = 0;
    this.messageOpcode = 0;
  }

  private fail(events: WebSocketEvent[], reason: string): void {
    this.done = true;
    this.parts = [];
    this.partsLength = 0;
    events.push({ kind: 'error', reason });
  }
}

interface Frame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly mask: Uint8Array | undefined;
  readonly payloadStart: number;
  readonly end: number;
}

/** One frame at b[pos]: its parts, 'need' for more bytes, or what is wrong (RFC 6455 §5.2). */
function readFrame(b: Uint8Array, pos: number, max: number): Frame | 'need' | string {
  if (b.length - pos < 2) return 'need';
  const b0 = b[pos]!;
  const b1 = b[pos + 1]!;
  const opcode = b0 & 0x0f;
  if ((opcode > 2 && opcode < 8) || opcode > 10) return `reserved opcode ${opcode}`;
  let at = pos + 2;
  let length = b1 & 0x7f;
  // RFC 6455 §5.2: "If 126, the following 2 bytes interpreted as a 16-bit unsigned integer are the
  // payload length. If 127, the following 8 bytes interpreted as a 64-bit unsigned integer"
  if (length === 126) {
    if (b.length - at < 2) return 'need';
    length = (b[at]! << 8) | b[at + 1]!;
    at += 2;
  } else if (length === 127) {
    if (b.length - at < 8) return 'need';
    const high = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
    const low = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0;
    if (high !== 0) return 'a frame longer than 2^32 bytes';
    length = low;
    at += 8;
  }
  if (length > max) return `a frame of ${length} bytes, more than ${max}`;
  let mask: Uint8Array | undefined;
  if (b1 & 0x80) {
    if (b.length - at < 4) return 'need';
    mask = b.subarray(at, at + 4);
    at += 4;
  }
  if (b.length - at < length) return 'need';
  return { fin: (b0 & 0x80) !== 0, opcode, mask, payloadStart: at, end: at + length };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function concatAll(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export { MAX_HEAD as MAX_HTTP_HEAD };
