import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import { parseMessage } from '../sip/message/parse.js';
import { newTag } from '../sip/message/build.js';
import type { ClientConnection, ClientConnectionDelegate } from './client-connection.js';
import { describeSocketError } from './describe-error.js';

/** The WebSocket subprotocol of SIP (RFC 7118 §4.1, registered with IANA as "sip"). */
export const SIP_SUBPROTOCOL = 'sip';

export interface WsSipConnectionOptions {
  /** `ws://host:port/path` or `wss://host:port/path`. */
  readonly url: string;
  /** Accept a certificate that does not verify (the development self-signed one). */
  readonly insecure?: boolean;
  /** Time for TCP connect, TLS and the HTTP upgrade together, in ms. */
  readonly timeoutMs: number;
  /** Largest SIP message accepted, in bytes (default 65,535). */
  readonly maxMessageSize?: number;
}

/**
 * A SIP WebSocket client connection (RFC 7118): opened with the `sip` subprotocol, one SIP
 * message per WebSocket message in both directions, Via transport WS or WSS, and a random
 * `.invalid` host for Via and Contact:
 * the client "has no way to know the IP address and port" it is seen from, so RFC 7118 §7's
 * examples use such a domain, and the server routes back over the connection.
 *
 * Kept small, since a load run holds thousands: no per-message deflate (SIP messages are small
 * and every zlib context costs hundreds of KiB), no timers of its own (keepalive and timeouts
 * are driven by the run's one housekeeping tick).
 */
export class WsSipConnection implements ClientConnection {
  readonly viaTransport: 'WS' | 'WSS';
  readonly localHost: string;
  readonly contactTransport = 'ws';
  readonly reliable = true;
  delegate: ClientConnectionDelegate | undefined;
  private closedByUs = false;

  private constructor(
    private readonly socket: WebSocket,
    secure: boolean,
  ) {
    this.viaTransport = secure ? 'WSS' : 'WS';
    this.localHost = `${newTag()}${newTag()}.invalid`;
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => this.receive(data, isBinary));
    socket.on('pong', () => this.delegate?.onPong());
    socket.on('close', (code: number, reason: Buffer) => {
      if (this.closedByUs) return;
      this.delegate?.onClose(`closed by the server (WebSocket close ${code}${reason.length > 0 ? ` ${reason.toString('utf8')}` : ''})`);
    });
    // after the open, errors come before a close event: the close reports it
    socket.on('error', (e: Error) => {
      if (this.closedByUs) return;
      this.closedByUs = true;
      this.delegate?.onClose(describeSocketError(e));
    });
  }

  /** Open a connection; rejects with an Error whose message says what failed, in words. */
  static open(options: WsSipConnectionOptions): Promise<WsSipConnection> {
    const secure = options.url.startsWith('wss:');
    return new Promise((resolve, reject) => {
      let settled = false;
      const socket = new WebSocket(options.url, SIP_SUBPROTOCOL, {
        perMessageDeflate: false,
        handshakeTimeout: options.timeoutMs,
        maxPayload: options.maxMessageSize ?? 65_535,
        rejectUnauthorized: !options.insecure,
        followRedirects: false,
      });
      const fail = (reason: string): void => {
        if (settled) return;
        settled = true;
        socket.removeAllListeners();
        // keep one error listener: a late error on a dead socket must not crash the process
        socket.on('error', () => {});
        socket.terminate();
        reject(new Error(reason));
      };
      socket.once('open', () => {
        if (settled) return;
        // ws refuses a response whose subprotocol was not offered, and one without a subprotocol
        // when one was offered; checked again so that the rule does not depend on the library
        if (socket.protocol !== SIP_SUBPROTOCOL) {
          fail(`the server did not accept the "${SIP_SUBPROTOCOL}" subprotocol (got "${socket.protocol}")`);
          return;
        }
        settled = true;
        socket.removeAllListeners();
        resolve(new WsSipConnection(socket, secure));
      });
      socket.once('unexpected-response', (_req: unknown, res: IncomingMessage) => {
        const reason = (res.statusMessage ?? '').trimEnd();
        fail(`HTTP ${res.statusCode} ${reason === '' ? '' : `${reason} `}instead of a WebSocket upgrade`);
        res.resume();
      });
      socket.once('error', (e: Error) => fail(describeSocketError(e)));
      socket.once('close', () => fail('closed during the handshake'));
    });
  }

  send(text: string): boolean {
    if (this.socket.readyState !== WebSocket.OPEN) return false;
    // RFC 7118 §5: SIP messages go in text or binary frames; text, since ours are UTF-8
    this.socket.send(text);
    return true;
  }

  ping(kind: 'ping' | 'crlf'): boolean {
    if (this.socket.readyState !== WebSocket.OPEN) return false;
    if (kind === 'ping') this.socket.ping();
    else this.socket.send('\r\n\r\n');
    return true;
  }

  close(): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    this.delegate = undefined;
    // a clean close handshake (RFC 6455 §7): the server closes the TCP connection, so the
    // TIME_WAIT state stays on its side; terminate() if it does not answer in time (ws: 30 s)
    this.socket.close(1000);
  }

  /** Close at once without the closing handshake (end of a run that must not wait). */
  terminate(): void {
    this.closedByUs = true;
    this.delegate = undefined;
    this.socket.terminate();
  }

  private receive(data: Buffer | ArrayBuffer | Buffer[], _isBinary: boolean): void {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    // RFC 5626 §4.4.1: the pong of a CRLF ping is one CRLF
    if (bytes.length <= 4 && /^(\r\n)+$/.test(bytes.toString('latin1'))) {
      this.delegate?.onPong();
      return;
    }
    const r = parseMessage(bytes);
    if (r.ok) this.delegate?.onMessage(r.message);
    else this.delegate?.onParseError(r.error);
  }
}
