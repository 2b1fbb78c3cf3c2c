/**
 * Helpers for the transport tests: sample messages, a recording delegate, loopback peers.
 * Everything binds 127.0.0.1 / ::1 on ephemeral ports and every wait is bounded.
 */
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { AnySipMessage, SipParseError } from '../../../sip/index.js';
import type { Flow } from '../flow.js';
import type { TransportLayerDelegate } from '../transport-layer.js';

const encoder = new TextEncoder();

/** How long any single wait in a test may take before it fails. */
export const WAIT_MS = 5000;

export interface SampleOptions {
  readonly method?: string;
  readonly transport?: string;
  /** sent-by host[:port] of the top Via. */
  readonly sentBy?: string;
  /** Extra ;params of the top Via, e.g. ';rport'. */
  readonly viaParams?: string;
  readonly body?: string;
  readonly callId?: string;
}

/** A small valid request (RFC 3261 §24 style) as text. */
export function sampleRequest(o: SampleOptions = {}): string {
  const method = o.method ?? 'OPTIONS';
  const body = o.body ?? '';
  return (
    `${method} sip:parley@127.0.0.1 SIP/2.0\r\n` +
    `Via: SIP/2.0/${o.transport ?? 'UDP'} ${o.sentBy ?? 'client.example.com:5070'};branch=z9hG4bK776asdhds${o.viaParams ?? ''}\r\n` +
    'Max-Forwards: 70\r\n' +
    'To: <sip:parley@127.0.0.1>\r\n' +
    'From: Alice <sip:alice@example.com>;tag=1928301774\r\n' +
    `Call-ID: ${o.callId ?? 'a84b4c76e66710@pc33.example.com'}\r\n` +
    `CSeq: 63104 ${method}\r\n` +
    'Contact: <sip:alice@client.example.com>\r\n' +
    (body ? 'Content-Type: application/sdp\r\n' : '') +
    `Content-Length: ${encoder.encode(body).length}\r\n` +
    '\r\n' +
    body
  );
}

/** An SDP body (RFC 4566 example) so that stream tests exercise Content-Length framing. */
export const SAMPLE_SDP =
  'v=0\r\no=alice 2890844526 2890844526 IN IP4 client.example.com\r\ns=-\r\nc=IN IP4 192.0.2.101\r\n' +
  't=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reject when `promise` takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Poll `condition` until true (bounded). */
export async function until(condition: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(5);
  }
}

export interface Received {
  readonly message: AnySipMessage;
  readonly flow: Flow;
}

export interface ParseFailure {
  readonly error: SipParseError;
  readonly partial: AnySipMessage | undefined;
  readonly flow: Flow;
}

/** A TransportLayerDelegate that records what it gets. */
export class RecordingDelegate implements TransportLayerDelegate {
  readonly messages: Received[] = [];
  readonly parseErrors: ParseFailure[] = [];
  /** Called after recording a message (tests answer requests from here). */
  onReceived: ((r: Received) => void) | undefined;

  onMessage(message: AnySipMessage, flow: Flow): void {
    const r = { message, flow };
    this.messages.push(r);
    this.onReceived?.(r);
  }

  onParseError(error: SipParseError, partial: AnySipMessage | undefined, flow: Flow): void {
    this.parseErrors.push({ error, partial, flow });
  }

  async message(n = 1): Promise<Received> {
    await until(() => this.messages.length >= n, `message #${n}`);
    return this.messages[n - 1]!;
  }

  async parseError(n = 1): Promise<ParseFailure> {
    await until(() => this.parseErrors.length >= n, `parse error #${n}`);
    return this.parseErrors[n - 1]!;
  }
}

/** A UDP peer on loopback that records datagrams. */
export class UdpPeer {
  readonly received: Buffer[] = [];
  private constructor(readonly socket: DgramSocket) {
    socket.on('message', (m) => this.received.push(m));
  }

  static async open(address = '127.0.0.1'): Promise<UdpPeer> {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    return new UdpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(data: string | Uint8Array, port: number, address = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(typeof data === 'string' ? bytes(data) : data, port, address, (e) => (e ? reject(e) : resolve())));
  }

  async datagram(n = 1): Promise<string> {
    await until(() => this.received.length >= n, `datagram #${n} on port ${this.port}`);
    return this.received[n - 1]!.toString('utf8');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** A TCP or TLS client connection on loopback that records what it receives. */
export class StreamPeer {
  data = '';
  closed = false;
  private constructor(readonly socket: Socket | TLSSocket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => (this.data += d.toString('utf8')));
    socket.on('error', () => {});
    socket.on('close', () => (this.closed = true));
  }

  static async tcp(port: number, host = '127.0.0.1'): Promise<StreamPeer> {
    const socket = connect({ port, host });
    await within(new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject)), `TCP connect to ${port}`);
    return new StreamPeer(socket);
  }

  static async tls(port: number, ca?: string, host = '127.0.0.1'): Promise<StreamPeer> {
    const socket = tlsConnect({ port, host, ca, rejectUnauthorized: ca !== undefined });
    await within(new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject)), `TLS connect to ${port}`);
    return new StreamPeer(socket);
  }

  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (e) => (e ? reject(e) : resolve())));
  }

  get localPort(): number {
    return this.socket.localPort!;
  }

  async waitFor(text: string): Promise<void> {
    await until(() => this.data.includes(text), `"${JSON.stringify(text).slice(1, 40)}" on a stream`);
  }

  async waitClosed(ms = WAIT_MS): Promise<void> {
    await until(() => this.closed, 'the server to close the connection', ms);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A plain TCP server on loopback that records connections and bytes (a peer Parley connects to). */
export class TcpPeerServer {
  readonly sockets: Socket[] = [];
  data = '';
  private constructor(readonly server: Server) {}

  static async open(address = '127.0.0.1', onSocket?: (s: Socket) => void): Promise<TcpPeerServer> {
    let peer: TcpPeerServer | undefined;
    const server = createServer((s) => {
      s.on('error', () => {});
      peer!.sockets.push(s);
      if (onSocket) onSocket(s);
      else s.on('data', (d: Buffer) => (peer!.data += d.toString('utf8')));
    });
    peer = new TcpPeerServer(server);
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, address, () => resolve()));
    return peer;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** True when this machine can bind ::1. */
export async function hasIPv6Loopback(): Promise<boolean> {
  const s = createSocket('udp6');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, '::1', () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    try {
      s.close();
    } catch {
      /* not bound */
    }
  }
}

/** A Logger that records every call as `level message` plus its object. */
export class RecordingLogger {
  readonly lines: { level: string; obj: unknown; msg: string | undefined }[] = [];
  private make(level: string) {
    return (objOrMessage: unknown, message?: string): void => {
      if (typeof objOrMessage === 'string') this.lines.push({ level, obj: undefined, msg: objOrMessage });
      else this.lines.push({ level, obj: objOrMessage, msg: message });
    };
  }
  info = this.make('info');
  warn = this.make('warn');
  error = this.make('error');
  debug = this.make('debug');
  child(): RecordingLogger {
    return this;
  }
}
