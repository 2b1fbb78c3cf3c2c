/**
 * A WebSocket client written with raw frames (RFC 6455 §5.2) over a net or TLS socket, for the
 * WebSocket transport tests: it controls what a library would hide (fragmentation, masking, how
 * frames fall into TCP writes, answering pings or not) and records every frame the server sends.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { until, within, WAIT_MS } from './loopback.js';

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

export interface WsConnectOptions {
  readonly port: number;
  readonly host?: string;
  /** Local address to connect from (another 127.x address is another source). */
  readonly localAddress?: string;
  /** Connect over TLS, trusting `ca` (else any certificate). */
  readonly tls?: { readonly ca?: string };
  /** Request target. Default `/sip`. */
  readonly path?: string;
  /** Sec-WebSocket-Protocol value; null for none. Default `sip`. */
  readonly protocol?: string | null;
  readonly origin?: string;
  /** Host header. Default `host:port`. */
  readonly hostHeader?: string;
  /** Raw header lines added to the request. */
  readonly extraHeaders?: readonly string[];
  /** Replace the Upgrade header value. Default `websocket`. */
  readonly upgrade?: string;
  /** Answer pings with pongs (what every WebSocket stack does). Default true. */
  readonly answerPings?: boolean;
}

export interface WsFrame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload: Buffer;
}

/** One frame as a client sends it (masked unless `mask: false`). */
export function encodeFrame(opcode: number, payload: Buffer | string, o: { fin?: boolean; mask?: boolean } = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const fin = o.fin ?? true;
  const mask = o.mask ?? true;
  const head: number[] = [(fin ? 0x80 : 0) | opcode];
  const m = mask ? 0x80 : 0;
  if (data.length < 126) head.push(m | data.length);
  else if (data.length < 65536) head.push(m | 126, data.length >> 8, data.length & 255);
  else {
    head.push(m | 127);
    const len = Buffer.alloc(8);
    len.writeBigUInt64BE(BigInt(data.length));
    head.push(...len);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), data]);
  const key = randomBytes(4);
  const masked = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) masked[i] = data[i]! ^ key[i & 3]!;
  return Buffer.concat([Buffer.from(head), key, masked]);
}

/** A WebSocket client over raw frames; see the file comment. */
export class RawWsClient {
  /** Status code of the handshake response (101 when accepted). */
  status = 0;
  /** Response header fields, lower-case names. */
  readonly headers: Record<string, string> = {};
  /** Body of a refusal (what came after the header section). */
  refusalBody = '';
  /** Every frame the server sent, in order. */
  readonly frames: WsFrame[] = [];
  /** Data messages, reassembled from their fragments. */
  readonly messages: { readonly text: boolean; readonly data: Buffer }[] = [];
  /** Close code of the server's close frame, if one came. */
  closeCode: number | undefined;
  /** The TCP connection has closed. */
  closed = false;
  private buf = Buffer.alloc(0);
  private upgraded = false;
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;

  /** The client's port (kept: a closed socket forgets it). */
  readonly localPort: number;

  private constructor(
    readonly socket: Socket,
    private readonly answerPings: boolean,
  ) {
    this.localPort = socket.localPort ?? 0;
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => {});
    socket.on('close', () => (this.closed = true));
  }

  /** Open a TCP (or TLS) connection, send the handshake, and wait for the response head. */
  static async connect(o: WsConnectOptions): Promise<RawWsClient> {
    const host = o.host ?? '127.0.0.1';
    const socket =
      o.tls !== undefined
        ? tlsConnect({ port: o.port, host, localAddress: o.localAddress, ca: o.tls.ca, rejectUnauthorized: o.tls.ca !== undefined } as ConnectionOptions)
        : connect({ port: o.port, host, localAddress: o.localAddress });
    await within(
      new Promise<void>((resolve, reject) => socket.once(o.tls !== undefined ? 'secureConnect' : 'connect', () => resolve()).once('error', reject)),
      `connect to ${o.port}`,
    );
    socket.setNoDelay(true);
    const client = new RawWsClient(socket, o.answerPings ?? true);
    const key = randomBytes(16).toString('base64');
    const protocol = o.protocol === undefined ? 'sip' : o.protocol;
    const lines = [
      `GET ${o.path ?? '/sip'} HTTP/1.1`,
      `Host: ${o.hostHeader ?? `${host}:${o.port}`}`,
      `Upgrade: ${o.upgrade ?? 'websocket'}`,
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`,
      'Sec-WebSocket-Version: 13',
      ...(protocol === null ? [] : [`Sec-WebSocket-Protocol: ${protocol}`]),
      ...(o.origin === undefined ? [] : [`Origin: ${o.origin}`]),
      ...(o.extraHeaders ?? []),
    ];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    await until(() => client.status !== 0 || client.closed, 'the handshake response');
    if (client.status === 101) {
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      if (client.headers['sec-websocket-accept'] !== accept) throw new Error('bad Sec-WebSocket-Accept');
    } else if (client.status !== 0) {
      await until(() => client.closed, 'the server to close a refused handshake').catch(() => {});
    }
    return client;
  }

  write(bytes: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (e) => (e ? reject(e) : resolve())));
  }

  sendFrame(opcode: number, payload: Buffer | string, o: { fin?: boolean; mask?: boolean } = {}): Promise<void> {
    return this.write(encodeFrame(opcode, payload, o));
  }

  sendText(text: string): Promise<void> {
    return this.sendFrame(OP_TEXT, text);
  }

  /** Wait for data message #n (1-based) and return it as text. */
  async message(n: number, ms = WAIT_MS): Promise<string> {
    await until(() => this.messages.length >= n, `WebSocket message #${n}`, ms);
    return this.messages[n - 1]!.data.toString('utf8');
  }

  async waitClosed(ms = WAIT_MS): Promise<void> {
    await until(() => this.closed, 'the server to close the WebSocket', ms);
  }

  /** Send a close frame and end the socket. */
  close(code = 1000): void {
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.socket.end(encodeFrame(OP_CLOSE, payload));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    if (this.upgraded && this.status !== 101) {
      this.refusalBody += d.toString('utf8');
      return;
    }
    this.buf = Buffer.concat([this.buf, d]);
    if (!this.upgraded) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1').split('\r\n');
      this.buf = this.buf.subarray(end + 4);
      this.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1] ?? -1);
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) this.headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      this.upgraded = true;
      if (this.status !== 101) {
        this.refusalBody = this.buf.toString('utf8');
        this.buf = Buffer.alloc(0);
        return;
      }
    }
    this.parseFrames();
  }

  private parseFrames(): void {
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      const fin = (b[0]! & 0x80) !== 0;
      const opcode = b[0]! & 0x0f;
      let len = b[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if ((b[1]! & 0x80) !== 0) throw new Error('the server masked a frame (RFC 6455 §5.1 forbids it)');
      if (b.length < off + len) return;
      const payload = Buffer.from(b.subarray(off, off + len));
      this.buf = b.subarray(off + len);
      this.frames.push({ fin, opcode, payload });
      if (opcode === OP_PING) {
        if (this.answerPings) this.socket.write(encodeFrame(OP_PONG, payload));
      } else if (opcode === OP_CLOSE) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      } else if (opcode === OP_TEXT || opcode === OP_BINARY || opcode === OP_CONTINUATION) {
        if (opcode !== OP_CONTINUATION) this.fragmentOpcode = opcode;
        this.fragments.push(payload);
        if (fin) {
          this.messages.push({ text: this.fragmentOpcode === OP_TEXT, data: Buffer.concat(this.fragments) });
          this.fragments = [];
        }
      }
    }
  }
}
