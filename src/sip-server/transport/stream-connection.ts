import type { Socket } from 'node:net';
import { StreamFramer, type SipParseError } from '../../sip/index.js';
import { connectionFlow, type SipConnection } from './connection-table.js';
import { normalizeAddress, type Flow } from './flow.js';
import { TransportError } from './transport-error.js';
import { onceError } from './once-error.js';
import type { TransportLimits } from './transport-limits.js';
import type { Logger } from '../../lib/logger.js';
import { wireTap } from './wire-tap.js';

/** What a StreamConnection reports to its owner (the transport layer). */
export interface StreamConnectionDelegate {
  /** One complete message's bytes, framed by Content-Length (RFC 3261 §18.3). */
  onMessage(bytes: Uint8Array, connection: StreamConnection): void;
  /**
   * The stream could not be framed (no Content-Length, over the size limit); the connection
   * closes next, gracefully, so that what is sent now (an answer built from `head`, the header
   * section when it was read) still goes out first.
   */
  onFramingError(error: SipParseError, connection: StreamConnection, head: Uint8Array | undefined): void;
  /** The connection closed (called once); `reason` is for logs. */
  onClose(connection: StreamConnection, reason: string): void;
}

export interface StreamConnectionOptions {
  readonly id: number;
  readonly transport: 'tcp' | 'tls';
  readonly direction: 'inbound' | 'outbound';
  /** A connected (inbound) or connecting (outbound) socket; a TLSSocket for TLS. */
  readonly socket: Socket;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * The socket event after which the connection carries SIP: `connect` (outbound TCP),
   * `secureConnect` (outbound TLS), `secure` (inbound TLS); none for an accepted TCP socket.
   */
  readonly readyEvent?: 'connect' | 'secureConnect' | 'secure';
  /** How long to wait for `readyEvent` before giving up, in ms. */
  readonly readyTimeoutMs?: number;
  readonly limits: TransportLimits;
  readonly log: Logger;
  readonly delegate: StreamConnectionDelegate;
}

const CRLF = new Uint8Array([0x0d, 0x0a]);
/** After a graceful close, how long the peer has to finish before the socket is destroyed. */
const CLOSE_GRACE_MS = 2000;

/**
 * One TCP or TLS connection carrying SIP: the single framing path of all stream transports.
 * Splits the byte stream into messages with StreamFramer (Content-Length, RFC 3261 §18.3),
 * answers CRLFCRLF keepalive pings (RFC 5626 §3.5.1), and enforces the idle, incomplete-message,
 * connect/handshake and write-buffer limits. It never throws to the socket's event loop.
 */
export class StreamConnection implements SipConnection {
  readonly id: number;
  readonly transport: 'tcp' | 'tls';
  readonly direction: 'inbound' | 'outbound';
  readonly remoteAddress: string;
  readonly remotePort: number;
  private state: 'connecting' | 'open' | 'closed';
  private readonly socket: Socket;
  private readonly framer: StreamFramer;
  private readonly limits: TransportLimits;
  private readonly log: Logger;
  private readonly delegate: StreamConnectionDelegate;
  private readonly pending = new Set<(error: TransportError) => void>();
  /** Sends made before the connection is established (a connecting TLSSocket reports writes it never made as done). */
  private queue: { bytes: Uint8Array; fail: (error: TransportError) => void }[] = [];
  private queuedBytes = 0;
  private readyTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private incompleteTimer: NodeJS.Timeout | undefined;
  private lastError: Error | undefined;
  private closeReason: string | undefined;
  /** Not reading (pauseReading). */
  private paused = false;

  constructor(options: StreamConnectionOptions) {
    this.id = options.id;
    this.transport = options.transport;
    this.direction = options.direction;
    this.socket = options.socket;
    this.remoteAddress = normalizeAddress(options.remoteAddress);
    this.remotePort = options.remotePort;
    this.limits = options.limits;
    this.log = options.log;
    this.delegate = options.delegate;
    this.framer = new StreamFramer({ maxMessageSize: options.limits.maxMessageSize });

    const s = this.socket;
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('error', (e) => {
      this.lastError ??= e;
      this.log.debug({ connectionId: this.id, err: e.message }, 'connection error');
    });
    s.on('close', () => this.onSocketClose());
    s.setNoDelay(true); // signaling is latency-bound: no Nagle delay

    if (options.readyEvent === undefined) {
      this.state = 'open';
      this.startIdleTimer();
    } else {
      this.state = 'connecting';
      s.once(options.readyEvent, () => this.onReady());
      const ms = options.readyTimeoutMs ?? this.limits.connectTimeoutMs;
      this.readyTimer = setTimeout(() => {
        this.shutdown(this.direction === 'inbound' ? 'handshake timeout' : 'connect timeout', false);
      }, ms).unref();
    }
  }

  get isOpen(): boolean {
    return this.state !== 'closed';
  }

  /** (A getter, so that TypeScript does not narrow `state` across delegate calls.) */
  private get closed(): boolean {
    return this.state === 'closed';
  }

  /** True once the connection carries SIP (connected, and TLS handshake done). */
  get isEstablished(): boolean {
    return this.state === 'open';
  }

  get localAddress(): string {
    return normalizeAddress(this.socket.localAddress ?? '');
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** Bytes of an incomplete message held while waiting for the rest. */
  get buffered(): number {
    return this.framer.buffered;
  }

  flow(): Flow {
    return connectionFlow(this);
  }

  send(bytes: Uint8Array, onError?: (error: TransportError) => void): void {
    const fail = onceError(onError);
    if (this.state === 'closed') {
      fail(new TransportError(`connection ${this.id} is closed (${this.closeReason ?? 'closed'})`));
      return;
    }
    if (this.socket.writableLength + this.queuedBytes + bytes.length > this.limits.maxWriteBufferBytes) {
      fail(new TransportError(`connection ${this.id}: peer is not reading (write buffer over ${this.limits.maxWriteBufferBytes} bytes)`));
      this.shutdown('write buffer full', false);
      return;
    }
    if (this.state === 'connecting') {
      this.queue.push({ bytes, fail });
      this.queuedBytes += bytes.length;
      return;
    }
    this.write(bytes, fail);
  }

  private write(bytes: Uint8Array, fail: (error: TransportError) => void): void {
    this.pending.add(fail);
    if (wireTap !== undefined) wireTap(bytes, this.transport, this.localAddress, this.localPort, this.remoteAddress, this.remotePort);
    this.socket.write(bytes, (err) => {
      this.pending.delete(fail);
      if (err) fail(new TransportError(`connection ${this.id}: ${err.message}`, { cause: err }));
    });
    this.touch();
  }

  /**
   * Stop reading (the SIP worker this connection's messages go to is not keeping up). While paused,
   * a message begun and not finished is not the peer's fault: its timer stops, and runs again
   * from the resume.
   */
  pauseReading(): void {
    if (this.state === 'closed' || this.paused) return;
    this.paused = true;
    this.socket.pause();
    clearTimeout(this.incompleteTimer);
    this.incompleteTimer = undefined;
  }

  resumeReading(): void {
    if (this.state === 'closed' || !this.paused) return;
    this.paused = false;
    this.socket.resume();
    this.touch();
    this.startIncompleteTimer();
  }

  close(reason = 'closed locally'): void {
    this.shutdown(reason, true);
  }

  /** Close at once, without waiting for buffered data to be written. */
  destroy(reason = 'destroyed'): void {
    this.shutdown(reason, false);
  }

  private onReady(): void {
    if (this.state !== 'connecting') return;
    clearTimeout(this.readyTimer);
    this.readyTimer = undefined;
    this.state = 'open';
    this.startIdleTimer();
    this.log.debug({ connectionId: this.id, transport: this.transport, remote: `${this.remoteAddress}:${this.remotePort}` }, 'connection established');
    const queued = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const q of queued) this.write(q.bytes, q.fail);
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.touch();
    const events = this.framer.push(chunk);
    let completed = false;
    for (const ev of events) {
      if (this.closed) return;
      if (ev.type === 'message') {
        completed = true;
        if (wireTap !== undefined) wireTap(ev.bytes, this.transport, this.remoteAddress, this.remotePort, this.localAddress, this.localPort);
        this.delegate.onMessage(ev.bytes, this);
      } else if (ev.type === 'ping') {
        // "When a server receives a double CRLF ("ping") on a connection-oriented transport, it
        //  [...] MUST send a single CRLF ("pong") in response" (RFC 5626 §4.4.1, §3.5.1)
        this.send(CRLF);
      } else {
        this.delegate.onFramingError(ev.error, this, ev.head);
        this.shutdown('framing error', true);
        return;
      }
    }
    if (this.closed) return;
    // A message begun and never finished (a header section that never ends) must not hold the
    // connection forever; its bytes are bounded by maxMessageSize in the framer. The clock runs
    // from the first byte of the message still incomplete.
    if (completed || this.framer.buffered === 0) {
      clearTimeout(this.incompleteTimer);
      this.incompleteTimer = undefined;
    }
    if (!this.paused) this.startIncompleteTimer();
  }

  private startIncompleteTimer(): void {
    if (this.framer.buffered > 0 && this.incompleteTimer === undefined && this.limits.incompleteMessageTimeoutMs > 0) {
      this.incompleteTimer = setTimeout(() => this.shutdown('incomplete message timeout', false), this.limits.incompleteMessageTimeoutMs).unref();
    }
  }

  private startIdleTimer(): void {
    const ms = this.direction === 'inbound' ? this.limits.inboundIdleTimeoutMs : this.limits.outboundIdleTimeoutMs;
    if (ms > 0) this.idleTimer = setTimeout(() => this.shutdown('idle timeout', true), ms).unref();
  }

  /** Activity in either direction restarts the idle timer. */
  private touch(): void {
    this.idleTimer?.refresh();
  }

  private shutdown(reason: string, graceful: boolean): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = reason;
    clearTimeout(this.readyTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.incompleteTimer);
    if (graceful && !this.socket.destroyed) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
    } else {
      this.socket.destroy();
    }
    this.log.debug({ connectionId: this.id, reason }, 'connection closed');
    this.delegate.onClose(this, reason);
  }

  private onSocketClose(): void {
    const reason = this.lastError ? `error: ${this.lastError.message}` : 'peer closed';
    this.shutdown(reason, false);
    const why = this.closeReason ?? reason;
    const error = new TransportError(`connection ${this.id} closed before the data was sent (${why})`, { cause: this.lastError });
    for (const fail of this.pending) fail(error);
    for (const q of this.queue) q.fail(error);
    this.pending.clear();
    this.queue = [];
    this.queuedBytes = 0;
  }
}
