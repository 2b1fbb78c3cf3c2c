/**
 * SIP messages out of captured traffic: UDP datagrams (one message each, RFC 3261 §18.1.1), TCP
 * streams reassembled (tcp-reassembly.ts) and framed by Content-Length (RFC 3261 §18.3: "In the
 * case of stream-oriented transports such as TCP, the Content-Length header field indicates the
 * size of the body"), and WebSocket messages (RFC 7118 §5: "Each SIP message MUST be carried
 * within a single WebSocket message"). TLS is recognised by its record header and left opaque
 * (counted), as are other TCP protocols.
 *
 * Feed it every decoded segment in capture order (`add`), then `finish`. Each message comes out
 * with its capture time, addresses, transport, the parsed message (src/sip) and its raw bytes.
 */
import { copyOf } from './bytes.js';
import { readCapture, PacketDecoder, type CaptureError, type CaptureSummary, type TransportSegment } from '../pcap/index.js';
import { parseMessage, StreamFramer, type AnySipMessage } from '../sip/index.js';
import { TcpReassembler, type TcpHalfFlow, type TcpReassemblyCounts, type TcpReassemblyOptions } from './tcp-reassembly.js';
import { headEnd, isWebSocketHandshake, looksLikeHttpStart, MAX_HTTP_HEAD, WebSocketFrameReader } from './websocket-stream.js';

export type SipTransport = 'udp' | 'tcp' | 'ws';

/** One SIP message seen in the capture. */
export interface CapturedSipMessage {
  /** Capture time, ns since 1970 (UTC): the packet that carried it, or completed it (TCP, WS). */
  readonly time: bigint;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly transport: SipTransport;
  readonly message: AnySipMessage;
  /** The message's bytes as sent (for UDP, the whole datagram). */
  readonly bytes: Uint8Array;
  /** File offset of the record that carried (or completed) it. */
  readonly offset: number;
  /** Its place among the SIP messages of the capture, from 0. */
  readonly index: number;
}

/** Something that looked like SIP but did not parse. */
export interface SipCaptureFault {
  readonly time: bigint;
  readonly offset: number;
  readonly transport: SipTransport;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly reason: string;
}

export interface SipCaptureCounts {
  /** SIP messages handed out. */
  messages: number;
  /** UDP datagrams and stream messages that looked like SIP and did not parse. */
  malformed: number;
  /** TCP directions that carry TLS (left opaque). */
  tlsFlows: number;
  /** TCP directions that carry WebSocket. */
  webSocketFlows: number;
  /** TCP directions that carry neither SIP, WebSocket nor TLS. */
  otherFlows: number;
}

export interface SipCaptureOptions {
  readonly tcp?: TcpReassemblyOptions;
  /** Largest SIP message (and WebSocket message) read from a stream (default 65,535). */
  readonly maxMessageSize?: number;
  /** Keep at most this many faults in `faults` (default 100; all are counted). */
  readonly maxFaults?: number;
}

type StreamState =
  /**
   * Not yet known: `pending` holds the first bytes until the first line is whole. `resync`: a SIP
   * stream lost its framing (a gap, a bad message); bytes are dropped until a segment starts
   * with a SIP start line.
   */
  | { kind: 'new'; pending: Uint8Array; resync: boolean }
  | { kind: 'sip'; framer: StreamFramer }
  | { kind: 'http'; head: Uint8Array }
  | { kind: 'ws'; reader: WebSocketFrameReader }
  | { kind: 'opaque' };

/** Whether `b` starts like a SIP message: a request line ending in SIP/2.0, or a status line. */
export function looksLikeSip(b: Uint8Array): boolean {
  let i = 0;
  // keepalive CRLFs before a message (RFC 5626 §3.5.1)
  while (i < b.length && (b[i] === 0x0d || b[i] === 0x0a)) i++;
  if (i === b.length) return false;
  const c = b[i]!;
  if (c < 0x41 || c > 0x5a) return false; // methods are upper case in practice; so is SIP/2.0
  const limit = Math.min(b.length, i + FIRST_LINE_MAX);
  let eol = i;
  while (eol < limit && b[eol] !== 0x0d && b[eol] !== 0x0a) eol++;
  if (eol - i >= 8 && ascii(b, i, 'SIP/2.0 ')) return true;
  if (eol === limit) return false;
  return eol - i > 8 && ascii(b, eol - 8, ' SIP/2.0');
}

function ascii(b: Uint8Array, at: number, text: string): boolean {
  for (let k = 0; k < text.length; k++) if (b[at + k] !== text.charCodeAt(k)) return false;
  return true;
}

function isTlsRecord(b: Uint8Array): boolean {
  // RFC 8446 §5.1: ContentType handshake(22), then legacy_record_version 0x0301..0x0303
  return b.length >= 3 && b[0] === 22 && b[1] === 3 && b[2]! <= 4;
}

export class SipCapture {
  readonly counts: SipCaptureCounts = { messages: 0, malformed: 0, tlsFlows: 0, webSocketFlows: 0, otherFlows: 0 };
  readonly faults: SipCaptureFault[] = [];
  private readonly tcp: TcpReassembler;
  private readonly streams = new Map<string, StreamState>();
  private readonly maxMessageSize: number;
  private readonly maxFaults: number;
  private offset = 0;
  private lastTime = 0n;

  constructor(
    private readonly onMessage: (m: CapturedSipMessage) => void,
    options: SipCaptureOptions = {},
  ) {
    this.maxMessageSize = options.maxMessageSize ?? 65_535;
    this.maxFaults = options.maxFaults ?? 100;
    this.tcp = new TcpReassembler(
      {
        data: (flow, key, bytes, time, gap) => this.streamData(flow, key, bytes, time, gap),
        end: (key) => this.streams.delete(key),
      },
      options.tcp,
    );
  }

  get tcpCounts(): TcpReassemblyCounts {
    return this.tcp.counts;
  }

  /** One decoded segment; `time` its capture time (ns), `offset` its record's file offset. */
  add(segment: TransportSegment, time: bigint, offset: number): void {
    this.offset = offset;
    this.lastTime = time;
    if (segment.protocol === 'udp') {
      if (!looksLikeSip(segment.payload)) return;
      // the parsed message keeps views of its bytes: a copy, as the record's bytes go with the next chunk
      const bytes = copyOf(segment.payload, 0);
      const parsed = parseMessage(bytes, { datagram: true });
      if (!parsed.ok) return this.fault(time, 'udp', segment, parsed.error.message);
      this.emit(time, segment, 'udp', parsed.message, bytes);
      return;
    }
    if (segment.tcp !== undefined) this.tcp.add(segment, segment.tcp, segment.payload, time);
  }

  /** The end of the capture: what TCP still held is delivered. */
  finish(): void {
    this.tcp.finish(this.lastTime);
  }

  private streamData(flow: TcpHalfFlow, key: string, chunk: Uint8Array, time: bigint, gap: boolean): void {
    let state = this.streams.get(key);
    let bytes = chunk;
    if (state === undefined) state = { kind: 'new', pending: EMPTY, resync: false };
    else if (gap && state.kind !== 'ws' && state.kind !== 'opaque') state = { kind: 'new', pending: EMPTY, resync: state.kind === 'sip' || (state.kind === 'new' && state.resync) };
    if (gap && state.kind === 'ws') {
      // frames cannot be found again after lost bytes
      this.tcp.ignore(key);
      this.streams.set(key, { kind: 'opaque' });
      return;
    }
    if (state.kind === 'new') {
      bytes = concat(state.pending, chunk);
      let next: StreamState;
      if (isTlsRecord(bytes)) {
        this.counts.tlsFlows++;
        next = { kind: 'opaque' };
      } else if (looksLikeHttpStart(bytes)) {
        next = { kind: 'http', head: EMPTY };
      } else if (looksLikeSip(bytes)) {
        next = { kind: 'sip', framer: new StreamFramer({ maxMessageSize: this.maxMessageSize }) };
      } else if (bytes.length < FIRST_LINE_MAX && !hasLineEnd(bytes) && (bytes.length < 3 || bytes[0] !== 22)) {
        // the first line is not whole yet
        this.streams.set(key, { kind: 'new', pending: bytes, resync: state.resync });
        return;
      } else if (state.resync) {
        this.streams.set(key, { kind: 'new', pending: EMPTY, resync: true });
        return;
      } else {
        this.counts.otherFlows++;
        next = { kind: 'opaque' };
      }
      if (next.kind === 'opaque') this.tcp.ignore(key);
      this.streams.set(key, next);
      state = next;
    }
    switch (state.kind) {
      case 'opaque':
        return;
      case 'sip':
        return this.sipStream(flow, key, state.framer, bytes, time);
      case 'http': {
        const head = concat(state.head, bytes);
        const end = headEnd(head, Math.max(0, state.head.length - 3));
        if (end < 0) {
          if (head.length > MAX_HTTP_HEAD) this.giveUp(key);
          else state.head = head;
          return;
        }
        if (!isWebSocketHandshake(new TextDecoder().decode(head.subarray(0, end)))) return this.giveUp(key);
        this.counts.webSocketFlows++;
        const ws = { kind: 'ws' as const, reader: new WebSocketFrameReader(this.maxMessageSize) };
        this.streams.set(key, ws);
        if (end < head.length) this.wsStream(flow, key, ws.reader, head.subarray(end), time);
        return;
      }
      case 'ws':
        return this.wsStream(flow, key, state.reader, bytes, time);
    }
  }

  private giveUp(key: string): void {
    this.counts.otherFlows++;
    this.tcp.ignore(key);
    this.streams.set(key, { kind: 'opaque' });
  }

  private sipStream(flow: TcpHalfFlow, key: string, framer: StreamFramer, bytes: Uint8Array, time: bigint): void {
    for (const ev of framer.push(bytes)) {
      if (ev.type === 'ping') continue;
      if (ev.type === 'error') {
        this.fault(time, 'tcp', flow, ev.error.message);
        // find the next message start after the next data (a gap resets the state)
        this.streams.set(key, { kind: 'new', pending: EMPTY, resync: true });
        return;
      }
      const parsed = parseMessage(ev.bytes, { datagram: false });
      if (!parsed.ok) this.fault(time, 'tcp', flow, parsed.error.message);
      else this.emit(time, flow, 'tcp', parsed.message, ev.bytes);
    }
  }

  private wsStream(flow: TcpHalfFlow, key: string, reader: WebSocketFrameReader, bytes: Uint8Array, time: bigint): void {
    for (const ev of reader.push(bytes)) {
      if (ev.kind === 'error') {
        this.fault(time, 'ws', flow, `WebSocket: ${ev.reason}`);
        this.tcp.ignore(key);
        this.streams.set(key, { kind: 'opaque' });
        return;
      }
      if (ev.kind === 'close') {
        this.tcp.ignore(key);
        this.streams.set(key, { kind: 'opaque' });
        return;
      }
      const payload = ev.message.payload;
      if (!looksLikeSip(payload)) continue;
      // RFC 7118 §5: a message is whole in its WebSocket message; Content-Length may be absent
      const parsed = parseMessage(payload, { datagram: true });
      if (!parsed.ok) this.fault(time, 'ws', flow, parsed.error.message);
      else this.emit(time, flow, 'ws', parsed.message, payload);
    }
  }

  private emit(time: bigint, ends: TcpHalfFlow, transport: SipTransport, message: AnySipMessage, bytes: Uint8Array): void {
    const index = this.counts.messages++;
    this.onMessage({ time, src: ends.src, srcPort: ends.srcPort, dst: ends.dst, dstPort: ends.dstPort, transport, message, bytes, offset: this.offset, index });
  }

  private fault(time: bigint, transport: SipTransport, ends: TcpHalfFlow, reason: string): void {
    this.counts.malformed++;
    if (this.faults.length < this.maxFaults) {
      this.faults.push({ time, offset: this.offset, transport, src: ends.src, srcPort: ends.srcPort, dst: ends.dst, dstPort: ends.dstPort, reason });
    }
  }
}

const EMPTY = new Uint8Array(0);
/** How far looksLikeSip looks for the end of the first line. */
const FIRST_LINE_MAX = 2048;

function hasLineEnd(b: Uint8Array): boolean {
  return b.indexOf(0x0a) >= 0 || b.indexOf(0x0d) >= 0;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export interface SipCaptureResult {
  /** The reader's summary; undefined when the file ended in an error. */
  readonly summary: CaptureSummary | undefined;
  /** Why reading stopped early (the offset and what was expected); the messages before it were handed out. */
  readonly error: CaptureError | undefined;
  readonly sip: SipCapture;
  readonly decoder: PacketDecoder;
  /** Records the decoder found damaged (offset and fault), at most 100 kept. */
  readonly malformedPackets: readonly { readonly offset: number; readonly message: string }[];
}

export interface ReadSipOptions extends SipCaptureOptions {
  /** Called with the bytes read so far, after each chunk. */
  readonly onProgress?: (bytesRead: number) => void;
}

/** Read a whole capture (chunks of a pcap or pcapng file) and hand out its SIP messages in capture order. */
export async function readSipMessages(
  chunks: AsyncIterable<Uint8Array>,
  onMessage: (m: CapturedSipMessage) => void,
  options: ReadSipOptions = {},
): Promise<SipCaptureResult> {
  const decoder = new PacketDecoder();
  const sip = new SipCapture(onMessage, options);
  const malformedPackets: { offset: number; message: string }[] = [];
  let read = 0;
  async function* counted(): AsyncIterable<Uint8Array> {
    for await (const c of chunks) {
      yield c;
      read += c.length;
      options.onProgress?.(read);
    }
  }
  const result = await readCapture(counted(), (record) => {
    const d = decoder.decode(record);
    if (d.kind === 'segment') {
      sip.add(d.segment, BigInt(record.seconds) * 1_000_000_000n + BigInt(record.nanoseconds), record.offset);
    } else if (d.kind === 'malformed' && malformedPackets.length < 100) {
      malformedPackets.push({ offset: d.offset, message: d.message });
    }
  });
  sip.finish();
  return { summary: result.ok ? result.value : undefined, error: result.ok ? undefined : result.error, sip, decoder, malformedPackets };
}
