import { isUtf8 } from 'node:buffer';
import type { WebSocket } from 'ws';
import { connectionFlow, type SipConnection } from './connection-table.js';
import { normalizeAddress, type Flow } from './flow.js';
import { TransportError } from './transport-error.js';
import { onceError } from './once-error.js';
import type { TransportLimits } from './transport-limits.js';
import type { Logger } from '../../lib/logger.js';
import { wireTap } from './wire-tap.js';

/** What a WsConnection reports to its owner (the WebSocket transport). */
export interface WsConnectionDelegate {
  /** One SIP message: the whole payload of one WebSocket message, text or binary (RFC 7118 §5.1). */
  onMessage(bytes: Uint8Array, connection: WsConnection): void;
  /** The connection closed (called once); `reason` is for logs. */
  onClose(connection: WsConnection, reason: string): void;
}

export interface WsConnectionOptions {
  readonly id: number;
  readonly transport: 'ws' | 'wss';
  /** The WebSocket, handshake done, subprotocol `sip` agreed. */
  readonly socket: WebSocket;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly limits: TransportLimits;
  readonly log: Logger;
  readonly delegate: WsConnectionDelegate;
}

const CRLF = Buffer.from('\r\n');
const CRLF_CRLF = Buffer.from('\r\n\r\n');
/** After a close handshake begins, how long the peer has to answer before the socket is destroyed. */
const CLOSE_GRACE_MS = 2000;
/** WebSocket close codes (RFC 6455 §7.4.1). */
const NORMAL_CLOSURE = 1000;

/**
 * One SIP WebSocket connection (RFC 7118), as the rest of the server sees any stream connection
 * (SipConnection): it enters the connection table, hands each WebSocket message up as one SIP
 * message, and carries requests and responses back to the client, which can be reached no other
 * way.
 *
 * Keepalives: RFC 5626 §3.5.1 double-CRLF pings sent as a WebSocket message are answered with a
 * CRLF message (SIP.js sends them); WebSocket pings go out from the transport (keepalive()) and a
 * peer that has sent nothing, not even a pong, since the previous one is closed. Limits: the
 * idle timeout (SIP messages and CRLF keepalives either way count as activity, WebSocket
 * ping/pong does not) and the write buffer. Message size and fragment count are bounded by the
 * `ws` library (maxPayload: close code 1009). It never throws to the socket's event loop.
 */
export class WsConnection implements SipConnection {
  readonly id: number;
  readonly transport: 'ws' | 'wss';
  readonly direction = 'inbound' as const;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  private closedBecause: string | undefined;
  /** Something (a message, a pong) came in since the last WebSocket ping. */
  private answered = true;
  private readonly socket: WebSocket;
  private readonly limits: TransportLimits;
  private readonly log: Logger;
  private readonly delegate: WsConnectionDelegate;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastError: Error | undefined;

  constructor(options: WsConnectionOptions) {
    this.id = options.id;
    this.transport = options.transport;
    this.socket = options.socket;
    this.remoteAddress = normalizeAddress(options.remoteAddress);
    this.remotePort = options.remotePort;
    this.localAddress = normalizeAddress(options.localAddress);
    this.localPort = options.localPort;
    this.limits = options.limits;
    this.log = options.log;
    this.delegate = options.delegate;

    const ws = this.socket;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => this.guard('message', () => this.onWebSocketMessage(data)));
    ws.on('pong', () => (this.answered = true));
    ws.on('ping', () => (this.answered = true)); // answered by the library (autoPong)
    ws.on('error', (e: Error & { code?: string }) => {
      this.lastError ??= e;
      // over maxPayload: the library closes with 1009 (RFC 6455 §7.4.1 "message too big")
      this.log.info({ connectionId: this.id, err: e.message, code: e.code }, 'WebSocket error');
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.guard('close', () => this.shutdown(this.lastError ? `error: ${this.lastError.message}` : `peer closed (${code}${reason.length > 0 ? ` ${reason.toString('utf8').slice(0, 60)}` : ''})`, false));
    });
    this.startIdleTimer();
  }

  get isOpen(): boolean {
    return this.closedBecause === undefined;
  }

  /** Bytes written but not yet sent (the peer's receive window is full). */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  flow(): Flow {
    return connectionFlow(this);
  }

  /**
   * Send one SIP message as one WebSocket message: a text message when the bytes are UTF-8 (what
   * SIP text is, and what browsers' stacks read best: JsSIP decodes binary messages as Latin-1),
   * else a binary one (RFC 7118 §5.1 allows both).
   */
  send(bytes: Uint8Array, onError?: (error: TransportError) => void): void {
    const fail = onceError(onError);
    if (this.closedBecause !== undefined) {
      fail(new TransportError(`connection ${this.id} is closed (${this.closedBecause})`));
      return;
    }
    if (this.socket.bufferedAmount + bytes.length > this.limits.maxWriteBufferBytes) {
      fail(new TransportError(`connection ${this.id}: peer is not reading (write buffer over ${this.limits.maxWriteBufferBytes} bytes)`));
      this.shutdown('write buffer full', false);
      return;
    }
    if (wireTap !== undefined) wireTap(bytes, this.transport, this.localAddress, this.localPort, this.remoteAddress, this.remotePort);
    try {
      this.socket.send(bytes, { binary: !isUtf8(bytes) }, (err) => {
        if (err) fail(new TransportError(`connection ${this.id}: ${err.message}`, { cause: err }));
      });
    } catch (e) {
      fail(new TransportError(`connection ${this.id}: ${(e as Error).message}`, { cause: e }));
      return;
    }
    this.touch();
  }

  pauseReading(): void {
    if (this.closedBecause === undefined) this.socket.pause();
  }

  resumeReading(): void {
    if (this.closedBecause === undefined) this.socket.resume();
  }

  /** Close with a WebSocket close handshake (1000) and leave the table. */
  close(reason = 'closed locally'): void {
    this.shutdown(reason, true);
  }

  /** Close at once, without a close handshake, and leave the table. */
  destroy(reason = 'destroyed'): void {
    this.shutdown(reason, false);
  }

  /**
   * One WebSocket keepalive round (called by the transport every ping interval): a peer that has
   * sent nothing since the previous ping, not even the pong a WebSocket endpoint must answer with
   * (RFC 6455 §5.5.2), is dead and the connection is destroyed; else a new ping goes out.
   */
  keepalive(): void {
    if (this.closedBecause !== undefined) return;
    if (!this.answered) {
      this.log.info({ connectionId: this.id, remote: `${this.remoteAddress}:${this.remotePort}` }, 'closing WebSocket: no answer to the last ping');
      this.shutdown('keepalive timeout', false);
      return;
    }
    this.answered = false;
    try {
      this.socket.ping();
    } catch {
      /* not open any more: the close event follows */
    }
  }

  private onWebSocketMessage(data: Buffer | ArrayBuffer | Buffer[]): void {
    if (this.closedBecause !== undefined) return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    this.answered = true;
    this.touch();
    if (bytes.length <= 4 && isOnlyLineEnds(bytes)) {
      // RFC 5626 §3.5.1 keepalives carried in WebSocket messages (SIP.js keepAliveInterval):
      // a double CRLF "ping" gets a single CRLF "pong"; a lone CRLF (a pong) is dropped.
      if (bytes.equals(CRLF_CRLF)) this.send(CRLF);
      return;
    }
    if (wireTap !== undefined) wireTap(bytes, this.transport, this.remoteAddress, this.remotePort, this.localAddress, this.localPort);
    this.delegate.onMessage(bytes, this);
  }

  private startIdleTimer(): void {
    const ms = this.limits.inboundIdleTimeoutMs;
    if (ms > 0) this.idleTimer = setTimeout(() => this.shutdown('idle timeout', true), ms).unref();
  }

  private touch(): void {
    this.idleTimer?.refresh();
  }

  private shutdown(reason: string, graceful: boolean): void {
    if (this.closedBecause !== undefined) return;
    this.closedBecause = reason;
    clearTimeout(this.idleTimer);
    const ws = this.socket;
    try {
      if (graceful && ws.readyState === ws.OPEN) {
        // a close reason is at most 123 bytes (RFC 6455 §5.5)
        ws.close(NORMAL_CLOSURE, reason.slice(0, 100));
        setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
      } else {
        ws.terminate();
      }
    } catch {
      /* already closed */
    }
    this.log.debug({ connectionId: this.id, reason }, 'connection closed');
    this.delegate.onClose(this, reason);
  }

  /** Run an event handler; an exception is logged, never thrown into the socket's event loop. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ connectionId: this.id, err: e instanceof Error ? (e.stack ?? e.message) : String(e) }, `WebSocket ${what} handler threw`);
    }
  }
}

function isOnlyLineEnds(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x0d && b !== 0x0a) return false;
  return true;
}
