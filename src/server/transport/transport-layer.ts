import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import {
  parseMessage, serialize, type AnySipMessage, type ParseResult, type SipParseError, type SipRequest, type SipResponse, type Via,
} from '../../sip/index.js';
import { ConnectionTable } from './connection-table.js';
import { defaultPort, isStreamTransport, isWebSocketTransport, normalizeAddress, type Flow, type StreamTransport } from './flow.js';
import type { ListenerInfo } from './listener-info.js';
import { addReceivedParameters } from './received-parameters.js';
import { responseTarget } from './response-target.js';
import { TcpTransport, type StreamTransportDelegate, type StreamTransportOptions } from './tcp-transport.js';
import { loadCertificateFiles, loadOrCreateCertificate, type TlsCertificate } from './tls-certificate.js';
import { TlsTransport, type TlsTransportSettings } from './tls-transport.js';
import { TransportError } from './transport-error.js';
import { DEFAULT_TRANSPORT_LIMITS, type TransportLimits } from './transport-limits.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import { UdpTransport } from './udp-transport.js';

/** What the transport layer hands up (to the transaction layer, RFC 3261 §18.1.2, §18.2.1). */
export interface TransportLayerDelegate {
  /**
   * A well-formed message. A request's top Via already carries `received`/`rport`
   * (RFC 3261 §18.2.1, RFC 3581 §4). `flow` is where it came from (with `connectionId` on streams).
   */
  onMessage(message: AnySipMessage, flow: Flow): void;
  /**
   * Input that is not a well-formed message. `partial` is the message as far as it could be
   * split (start line and header fields) when that was possible, so the server can answer
   * 400 (505 for a version); it is undefined for framing errors, after which a stream
   * connection is closed.
   */
  onParseError(error: SipParseError, partial: AnySipMessage | undefined, flow: Flow): void;
  /**
   * A UDP datagram that is not SIP but STUN (first byte 0-3, RFC 7983 §7): RFC 5626 §3.5.1
   * keepalives on UDP flows. Dropped when absent; a STUN server can answer with `sendRaw`.
   */
  onStunDatagram?(bytes: Uint8Array, flow: Flow): void;
}

/** One listener to start. */
export interface ListenerOptions {
  readonly transport: 'udp' | 'tcp' | 'tls';
  /** IP address to bind: `0.0.0.0`, `::` (both families), `127.0.0.1`, `::1`, … */
  readonly address: string;
  /** Port; 0 for an ephemeral one. Default 5060 (5061 for TLS). */
  readonly port?: number;
}

/** TLS configuration (certificate from files; else a development certificate in `dataDir`). */
export interface TlsOptions {
  /** PEM file of the server certificate (and chain). With `keyFile`. */
  readonly certFile?: string;
  /** PEM file of the server private key. */
  readonly keyFile?: string;
  /** Trusted CA certificates (PEM text) for verifying peers; Node's bundled roots when absent. */
  readonly ca?: string | readonly string[];
  /** Verify the certificate of servers Parley connects to. Default true. */
  readonly verifyServer?: boolean;
  /** Ask TLS clients for a certificate and refuse those without a valid one. Default false. */
  readonly requireClientCertificate?: boolean;
}

export interface TransportLayerOptions {
  readonly listeners: readonly ListenerOptions[];
  /** Receives messages; can also be set later (`layer.delegate = …`), before start. */
  readonly delegate?: TransportLayerDelegate;
  /** Overrides of DEFAULT_TRANSPORT_LIMITS. */
  readonly limits?: Partial<TransportLimits>;
  readonly tls?: TlsOptions;
  /**
   * The data directory: without `tls.certFile`/`keyFile`, a TLS listener uses the development
   * certificate kept in `<dataDir>/tls/` (generated on first start).
   */
  readonly dataDir?: string;
  /** A pino (or compatible) logger. Default: silent. */
  readonly log?: Logger;
  /**
   * RFC 3261 §18.1.2: "If the value of the "sent-by" parameter in that header field value does
   * not correspond to a value that the client transport would have inserted into that header
   * field value in outgoing requests, the response MUST be silently discarded." When given, a
   * response whose top Via fails this test is dropped; when absent, every response is handed up.
   */
  readonly isOwnSentBy?: (via: Via) => boolean;
}

/**
 * The SIP transport layer (RFC 3261 §18, RFC 3581, RFC 5626 §3.5.1 keepalives): UDP, TCP and
 * TLS listeners behind one interface.
 *
 *   datagram ─ CRLF-only? drop ─ STUN? onStunDatagram ─┐
 *   stream ─ StreamFramer (Content-Length; CRLFCRLF → CRLF) ─┴─ parseMessage ─┬─ ok: received/rport ─▶ onMessage
 *                                                                            └─ error ─▶ onParseError
 *   sendRequest:  connectionId │ open connection to the peer │ new connection (connect timeout) │ UDP
 *   sendResponse: §18.2.2 (same connection, else received/sent-by) · RFC 3581 (received + rport) · maddr
 *
 * Never throws on network input; exceptions of the delegate are caught and logged.
 */
export class TransportLayer {
  /** Every open stream connection, with open/close events (the registrar binds flows to them). */
  readonly connections = new ConnectionTable();
  readonly limits: TransportLimits;
  private readonly parseLimits: { readonly maxMessageSize: number; readonly maxHeaders: number };
  delegate: TransportLayerDelegate | undefined;
  private readonly options: TransportLayerOptions;
  private readonly log: Logger;
  private readonly udp: UdpTransport;
  private readonly tcp: TcpTransport;
  private readonly tls: TlsTransport;
  private readonly bound: ListenerInfo[] = [];
  private state: 'new' | 'starting' | 'started' | 'stopped' = 'new';

  constructor(options: TransportLayerOptions) {
    this.options = options;
    this.delegate = options.delegate;
    this.limits = Object.freeze({ ...DEFAULT_TRANSPORT_LIMITS, ...options.limits });
    this.parseLimits = { maxMessageSize: this.limits.maxMessageSize, maxHeaders: this.limits.maxHeaders };
    this.log = (options.log ?? silentLogger).child({ module: 'transport' });
    this.udp = new UdpTransport({ onDatagram: (bytes, flow) => this.onDatagram(bytes, flow) }, this.log);
    const streamOptions = { delegate: this.streamDelegate(), connections: this.connections, limits: this.limits, log: this.log };
    this.tcp = new TcpTransport(streamOptions);
    this.tls = new TlsTransport(streamOptions, this.tlsSettings());
  }

  /** The bound listeners (real ports when 0 was configured). */
  get listeners(): readonly ListenerInfo[] {
    return this.bound;
  }

  /**
   * What a transport living outside this layer (SIP over WebSocket, whose sockets the HTTP
   * server accepts) needs so that its connections join the table and deliver their messages
   * like TCP and TLS ones.
   */
  connectionSink(): StreamTransportOptions {
    return { delegate: this.streamDelegate(), connections: this.connections, limits: this.limits, log: this.log };
  }

  /**
   * Bind every configured listener (and load or create the TLS certificate when a TLS listener
   * needs one). Rejects, with nothing left bound, if any listener fails.
   */
  async start(): Promise<readonly ListenerInfo[]> {
    if (this.state !== 'new') throw new Error(`TransportLayer.start: already ${this.state}`);
    this.state = 'starting';
    try {
      if (this.options.listeners.some((l) => l.transport === 'tls') || this.options.tls?.certFile !== undefined) {
        this.tls.useCertificate(await this.loadCertificate());
      }
      for (const l of this.options.listeners) {
        const port = l.port ?? defaultPort(l.transport);
        const transport = l.transport === 'udp' ? this.udp : l.transport === 'tcp' ? this.tcp : this.tls;
        const info = await transport.listen(l.address, port);
        this.bound.push(info);
        this.log.info({ transport: info.transport, address: info.address, port: info.port }, `listening on ${info.transport} ${formatHostPort(info.address, info.port)}`);
      }
    } catch (e) {
      this.state = 'started';
      await this.stop();
      throw e;
    }
    this.state = 'started';
    return this.bound;
  }

  /** Close every listener and connection. Safe to call more than once. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const c of [...this.connections.values()]) c.destroy('transport layer stopped');
    await Promise.all([this.udp.close(), this.tcp.close(), this.tls.close()]);
    if (this.bound.length > 0) this.log.info({ listeners: this.bound.length }, 'transport layer stopped');
    this.bound.splice(0);
  }

  /**
   * Send a request (RFC 3261 §18.1.1). Streams: over the connection `destination.connectionId`
   * names when it is open, else over an open connection to the same remote address, port and
   * transport ("If a connection is open to that address and port, the client SHOULD use that
   * connection"), else over a new connection (with `connectTimeoutMs`). UDP: from the listener
   * `destination.localAddress`/`localPort` names, or one of the right address family.
   * The caller has set the top Via. `onError` is called at most once, possibly after this returns.
   */
  sendRequest(request: SipRequest, destination: Flow, onError: (error: TransportError) => void): void {
    // DEVIATION(RFC 3261 §18.1.1): a request over 1300 bytes is not switched from UDP to TCP
    // here; the Via (and so the choice of transport) belongs to the caller.
    const bytes = this.serializeOrFail(request, onError);
    if (bytes !== undefined) this.sendBytes(bytes, destination, onError);
  }

  /**
   * Send a response (RFC 3261 §18.2.2, RFC 3581 §4) for a request that came in on `source`:
   * reliable transports over the request's connection when it is still open, else to
   * `received` (or sent-by) and the sent-by port; unreliable ones to maddr, else received and
   * rport, else received (or sent-by) and the sent-by port (default 5060), from the listener the
   * request came in on.
   */
  sendResponse(response: SipResponse, source: Flow, onError: (error: TransportError) => void): void {
    let via: Via | undefined;
    try {
      via = response.topVia;
    } catch (e) {
      onError(new TransportError(`response has a malformed top Via: ${(e as Error).message}`, { cause: e }));
      return;
    }
    if (via === undefined) {
      onError(new TransportError('response has no Via'));
      return;
    }
    const target = responseTarget(via, source);
    if (target === undefined) {
      onError(new TransportError(`response Via names transport ${via.transport}, which Parley does not speak`));
      return;
    }
    const bytes = this.serializeOrFail(response, onError);
    if (bytes === undefined) return;
    if (target.connectionId !== undefined) {
      const connection = this.connections.get(target.connectionId);
      if (connection !== undefined) {
        connection.send(bytes, onError);
        return;
      }
    }
    this.sendBytes(
      bytes,
      { transport: target.transport, remoteAddress: target.host, remotePort: target.port, localAddress: target.localAddress, localPort: target.localPort },
      onError,
    );
  }

  /**
   * Send bytes that are not a SIP message (a STUN answer, a keepalive) over a flow, with the
   * same connection reuse as sendRequest. `destination.remoteAddress` may be a host name (resolved with
   * A/AAAA).
   */
  sendRaw(bytes: Uint8Array, destination: Flow, onError: (error: TransportError) => void): void {
    this.sendBytes(bytes, destination, onError);
  }

  // ---- receiving ------------------------------------------------------------------------

  private onDatagram(bytes: Buffer, flow: Flow): void {
    if (isOnlyLineEnds(bytes)) {
      // CRLF keepalives sent over UDP by many phones: not SIP, never reach the parser (as for
      // streams, RFC 3261 §7.5: "ignore any CRLF appearing before the start-line").
      return;
    }
    if (bytes[0]! <= 3) {
      // RFC 7983 §7: a first byte 0-3 is STUN; RFC 5626 §3.5.1 keepalives on UDP are STUN Binding requests.
      if (this.delegate?.onStunDatagram) this.safely('onStunDatagram', () => this.delegate!.onStunDatagram!(bytes, flow));
      return;
    }
    this.deliver(parseMessage(bytes, { datagram: true, limits: this.parseLimits }), flow);
  }

  private streamDelegate(): StreamTransportDelegate {
    return {
      onMessage: (bytes, connection) => {
        // TCP/TLS: the framer has cut the message by Content-Length, which a stream message must
        // have. WebSocket: the message is the whole WebSocket message (RFC 7118 §5.1), framed
        // like a datagram (Content-Length optional: early JsSIP versions left it out).
        const datagram = isWebSocketTransport(connection.transport);
        this.deliver(parseMessage(bytes, { datagram, limits: this.parseLimits }), connection.flow());
      },
      onFramingError: (error, connection) => {
        const flow = connection.flow();
        this.log.info({ ...flowLog(flow), err: error.message }, 'closing connection: stream cannot be framed');
        this.reportParseError(error, undefined, flow);
      },
    };
  }

  private deliver(result: ParseResult, flow: Flow): void {
    if (!result.ok) {
      this.reportParseError(result.error, result.message, flow);
      return;
    }
    const message = result.message;
    if (message.isRequest) {
      addReceivedParameters(message, flow);
    } else if (this.options.isOwnSentBy !== undefined) {
      const via = message.topVia;
      if (via === undefined || !this.options.isOwnSentBy(via)) {
        this.log.debug({ ...flowLog(flow), via: via?.toString() }, 'response discarded: top Via is not ours (RFC 3261 §18.1.2)');
        return;
      }
    }
    const delegate = this.delegate;
    if (delegate === undefined) {
      this.log.debug(flowLog(flow), 'message dropped: no delegate');
      return;
    }
    this.safely('onMessage', () => delegate.onMessage(message, flow));
  }

  private reportParseError(error: SipParseError, partial: AnySipMessage | undefined, flow: Flow): void {
    this.log.debug({ ...flowLog(flow), place: error.place, err: error.detail }, 'malformed input');
    const delegate = this.delegate;
    if (delegate !== undefined) this.safely('onParseError', () => delegate.onParseError(error, partial, flow));
  }

  /** Run a delegate callback; an exception is logged, never thrown into a socket's event loop. */
  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: e instanceof Error ? (e.stack ?? e.message) : String(e) }, `transport delegate ${what} threw`);
    }
  }

  // ---- sending --------------------------------------------------------------------------

  private serializeOrFail(message: AnySipMessage, onError: (error: TransportError) => void): Uint8Array | undefined {
    try {
      return serialize(message);
    } catch (e) {
      onError(new TransportError(`cannot serialize message: ${(e as Error).message}`, { cause: e }));
      return undefined;
    }
  }

  private sendBytes(bytes: Uint8Array, destination: Flow, onError: (error: TransportError) => void): void {
    const fail = once(onError);
    if (this.state === 'stopped') {
      fail(new TransportError('transport layer stopped'));
      return;
    }
    const transport = destination.transport;
    if (isStreamTransport(transport)) {
      if (destination.connectionId !== undefined) {
        const named = this.connections.get(destination.connectionId);
        if (named !== undefined) {
          named.send(bytes, fail);
          return;
        }
      }
      const existing = this.connections.findByRemote(transport, destination.remoteAddress, destination.remotePort);
      if (existing !== undefined) {
        existing.send(bytes, fail);
        return;
      }
    }
    this.resolve(destination.remoteAddress, (address, error) => {
      if (address === undefined) {
        fail(new TransportError(`cannot resolve ${destination.remoteAddress}: ${error?.message ?? 'no address'}`, { cause: error }));
        return;
      }
      if (transport === 'udp') {
        this.udp.send(bytes, { address, port: destination.remotePort, localAddress: destination.localAddress, localPort: destination.localPort }, fail);
        return;
      }
      this.sendOverConnection(transport, address, bytes, destination, fail);
    });
  }

  private sendOverConnection(transport: StreamTransport, address: string, bytes: Uint8Array, destination: Flow, fail: (e: TransportError) => void): void {
    // a name may have resolved to the address of a connection that is already open
    const existing = this.connections.findByRemote(transport, address, destination.remotePort);
    if (existing !== undefined) {
      existing.send(bytes, fail);
      return;
    }
    if (transport !== 'tcp' && transport !== 'tls') {
      // WebSocket clients cannot be called back: only their own connection reaches them.
      fail(new TransportError(`no open ${transport} connection to ${formatHostPort(address, destination.remotePort)}`));
      return;
    }
    const connector = transport === 'tcp' ? this.tcp : this.tls;
    const connection = connector.connect(address, destination.remotePort, undefined);
    if (connection instanceof TransportError) {
      fail(connection);
      return;
    }
    connection.send(bytes, fail);
  }

  /** An IP address as is (synchronously, keeping send order); a name through A/AAAA lookup. */
  private resolve(host: string, then: (address: string | undefined, error?: Error) => void): void {
    if (isIP(host) !== 0) {
      then(normalizeAddress(host));
      return;
    }
    const name = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (isIP(name) !== 0) {
      then(normalizeAddress(name));
      return;
    }
    lookup(name, (err, address) => (err ? then(undefined, err) : then(normalizeAddress(address))));
  }

  // ---- TLS ------------------------------------------------------------------------------

  private async loadCertificate(): Promise<TlsCertificate> {
    const tls = this.options.tls;
    if (tls?.certFile !== undefined || tls?.keyFile !== undefined) {
      if (tls.certFile === undefined || tls.keyFile === undefined) throw new TypeError('tls.certFile and tls.keyFile go together');
      const c = await loadCertificateFiles(tls.certFile, tls.keyFile);
      this.log.info({ certPath: c.certPath, fingerprint256: c.fingerprint256 }, 'TLS certificate loaded');
      return c;
    }
    if (this.options.dataDir !== undefined) return loadOrCreateCertificate(this.options.dataDir, this.log);
    throw new TypeError('a TLS listener needs tls.certFile and tls.keyFile, or a dataDir for a development certificate');
  }

  private tlsSettings(): TlsTransportSettings {
    const tls = this.options.tls;
    return {
      ca: tls?.ca,
      verifyServer: tls?.verifyServer ?? true,
      requireClientCertificate: tls?.requireClientCertificate ?? false,
    };
  }
}

function isOnlyLineEnds(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x0d && b !== 0x0a) return false;
  return true;
}

function formatHostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function flowLog(flow: Flow): Record<string, unknown> {
  return { transport: flow.transport, remote: formatHostPort(flow.remoteAddress, flow.remotePort), connectionId: flow.connectionId };
}

function once(fn: (error: TransportError) => void): (error: TransportError) => void {
  let called = false;
  return (error) => {
    if (called) return;
    called = true;
    fn(error);
  };
}
