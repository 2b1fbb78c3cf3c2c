import type { SentResponse, SipResponse } from '../../sip/index.js';
import type { FlowTransport } from './flow.js';
import type { ResponseTarget } from './response-target.js';

/** What a MessagePath keeps of a response it sent, to send it again. */
export interface PathSentResponse extends SentResponse {
  readonly bytes: Uint8Array;
  readonly target: ResponseTarget;
  readonly message: SipResponse | undefined;
  /** CSeq method and status, to count a retransmission. */
  readonly method: string;
  readonly status: number;
}

/** A PathSentResponse read back from its bytes (no message: packed ones never have one). */
export interface UnpackedResponse {
  readonly bytes: Uint8Array;
  readonly target: ResponseTarget;
  readonly method: string;
  readonly status: number;
}

const TRANSPORTS: readonly FlowTransport[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];
const RULES: readonly ResponseTarget['rule'][] = ['connection', 'maddr', 'rport', 'received', 'sent-by', 'source'];
const HAS_CONNECTION = 1;
const HAS_LOCAL_ADDRESS = 2;
const HAS_LOCAL_PORT = 4;
/**
 * u16 status, u8 flags, u8 transport, u8 rule, u8 method length, u8 host length, u8 local address
 * length, u16 port, u16 local port, u32 connection id; then method, host and local address (ASCII)
 * and the response's bytes.
 */
const FIXED = 16;

/**
 * Write `sent` as bytes into `into` at `at` (the Transport's packResponse contract): the length
 * written, minus the length needed when `room` is too small, 0 when it cannot be packed (an
 * observer holds the message object, or a string is not ASCII or longer than 255).
 */
export function packSentResponse(sent: PathSentResponse, into: Uint8Array, at: number, room: number): number {
  if (sent.message !== undefined) return 0;
  const { target, method, bytes } = sent;
  const local = target.localAddress ?? '';
  if (!isShortAscii(method) || !isShortAscii(target.host) || !isShortAscii(local)) return 0;
  const transport = TRANSPORTS.indexOf(target.transport);
  const rule = RULES.indexOf(target.rule);
  if (transport < 0 || rule < 0 || (target.connectionId ?? 0) > 0xffffffff) return 0;
  const length = FIXED + method.length + target.host.length + local.length + bytes.byteLength;
  if (length > room) return -length;
  const v = new DataView(into.buffer, into.byteOffset + at, FIXED);
  v.setUint16(0, sent.status, true);
  v.setUint8(2, (target.connectionId !== undefined ? HAS_CONNECTION : 0) | (target.localAddress !== undefined ? HAS_LOCAL_ADDRESS : 0) | (target.localPort !== undefined ? HAS_LOCAL_PORT : 0));
  v.setUint8(3, transport);
  v.setUint8(4, rule);
  v.setUint8(5, method.length);
  v.setUint8(6, target.host.length);
  v.setUint8(7, local.length);
  v.setUint16(8, target.port, true);
  v.setUint16(10, target.localPort ?? 0, true);
  v.setUint32(12, target.connectionId ?? 0, true);
  let p = at + FIXED;
  p = writeAscii(into, p, method);
  p = writeAscii(into, p, target.host);
  p = writeAscii(into, p, local);
  into.set(bytes, p);
  return length;
}

/** Read back what packSentResponse wrote; the bytes are a copy (the record may be overwritten). */
export function unpackSentResponse(record: Uint8Array): UnpackedResponse {
  const v = new DataView(record.buffer, record.byteOffset, FIXED);
  const flags = v.getUint8(2);
  let p = FIXED;
  const method = readAscii(record, p, v.getUint8(5));
  p += method.length;
  const host = readAscii(record, p, v.getUint8(6));
  p += host.length;
  const localLength = v.getUint8(7);
  const localAddress = readAscii(record, p, localLength);
  p += localLength;
  const target: ResponseTarget = {
    transport: TRANSPORTS[v.getUint8(3)]!,
    ...(flags & HAS_CONNECTION ? { connectionId: v.getUint32(12, true) } : {}),
    host,
    port: v.getUint16(8, true),
    ...(flags & HAS_LOCAL_ADDRESS ? { localAddress } : {}),
    ...(flags & HAS_LOCAL_PORT ? { localPort: v.getUint16(10, true) } : {}),
    rule: RULES[v.getUint8(4)]!,
  };
  return { bytes: record.slice(p), target, method, status: v.getUint16(0, true) };
}

function isShortAscii(s: string): boolean {
  if (s.length > 255) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function writeAscii(into: Uint8Array, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) into[at + i] = s.charCodeAt(i);
  return at + s.length;
}

function readAscii(from: Uint8Array, at: number, length: number): string {
  return String.fromCharCode.apply(null, from.subarray(at, at + length) as unknown as number[]);
}
