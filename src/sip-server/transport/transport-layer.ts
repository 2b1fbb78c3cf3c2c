import { parseMessage, serialize, type SentResponse, type SipParseError, type SipRequest, type SipResponse, type Via } from '../../sip/index.js';
import { ConnectionTable, type SipConnection } from './connection-table.js';
import { malformedResponse, malformedStatus, malformedWarning } from './malformed-answer.js';
import { defaultPort, isStreamTransport, isWebSocketTransport, normalizeAddress, type Flow, type StreamTransport } from './flow.js';
import type { ListenerInfo } from './listener-info.js';
import { flowLog, formatHostPort, MessagePath, type TransportLayerDelegate } from './message-path.js';
import { listenError } from './listen-error.js';
import type { ResponseTarget } from './response-target.js';
import { TcpTransport, type StreamTransportDelegate, type StreamTransportOptions } from './tcp-transport.js';
import { loadServerCertificate, type TlsCertificate } from './tls-certificate.js';
import { TlsTransport, type TlsTransportSettings } from './tls-transport.js';
import { TransportError } from './transport-error.js';
import { onceError } from './once-error.js';
import { DEFAULT_TRANSPORT_LIMITS, type TransportLimits } from './transport-limits.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import { UdpTransport } from './udp-transport.js';
import { resolveHost } from './resolve-host.js';
import type { Wire } from './wire.js';

export type { TransportLayerDelegate } from './message-path.js';

/**
 * Where bytes go when the SIP core runs elsewhere (worker threads): every UDP datagram and every
 * framed stream message, unparsed, with its flow.
 */
export interface RawReceiver {
  onBytes(bytes: Uint8Array, flow: Flow, datagram: boolean): void;
  /** A stream could not be framed; its connection is closed right after. */
  onFramingError(error: SipParseError, flow: Flow): void;
}

/** One listener to start. */
export interface ListenerOptions {
  readonly transport: 'udp' | 'tcp' | 'tls';
  /** IP address to bind: `0.0.0.0`, `::` (both families), `127.0.0.1`, `::1`, … */
  readonly address: string;
  /** Port; 0 for an ephemeral one. Default 5060 (5061 for TLS). */
  readonly port?: number;
  /**
   * A trusted interface (`auth: false` in the configuration: a trunk, a gateway): its sources are
   * never asked to authenticate, so they may use the connections kept for authenticated ones
   * (ConnectionTable.admitInbound). Default false.
   */
  readonly trusted?: boolean;
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
  /**
   * Hand every received datagram and framed stream message to this instead of parsing it here
   * (the SIP core runs in worker threads; see sip-server/workers). `delegate` is then unused.
   */
  readonly receiver?: RawReceiver;
  /**
   * How long a source counts as authenticated for the connection reserve after its last digest
   * success (ConnectionTable.authenticatedSources), ms. Default a day.
   */
  readonly authenticatedSourceTtlMs?: number;
  /**
   * Bind the UDP listeners with SO_REUSEPORT: the SIP workers bind sockets of their own to the
   * same addresses and ports and take the datagrams from there; this layer binds first (a port 0
   * becomes a real one, a port in use fails the start here) and gives its sockets up once the
   * workers listen (`releaseUdp`). Default false.
   */
  readonly udpReusePort?: boolean;
  /** Value of the Server header on the answers the transport layer makes itself; empty for none. Default `Parley`. */
  readonly serverName?: string;
}

/**
 * The SIP transport layer (RFC 3261 §18, RFC 3581, RFC 5626 §3.5.1 keepalives): UDP, TCP and
 * TLS listeners behind one interface.
 *
 *   datagram ─ first byte 0-3 (STUN)? answered or dropped in udp-transport ─ CRLF-only? drop ─┐
 *   stream ─ StreamFramer (Content-Length; CRLFCRLF → CRLF) ─┴─ parseMessage ─┬─ ok: received/rport ─▶ onMessage
 *                                                                            └─ error ─▶ onParseError
 *   sendRequest:  connectionId │ open connection to the peer │ new connection (connect timeout) │ UDP
 *   sendResponse: §18.2.2 (same connection, else received/sent-by) · RFC 3581 (received + rport) · maddr
 *
 * Never throws on network input; exceptions of the delegate are caught and logged.
 */
export class TransportLayer implements Wire {
  /** Every open stream connection, with open/close events (the registrar binds flows to them). */
  readonly connections: ConnectionTable;
  readonly limits: TransportLimits;
  /** The SIP half: parsing what comes in, serializing what goes out. */
  readonly path: MessagePath;
  private readonly receiver: RawReceiver;
  private readonly options: TransportLayerOptions;
  private readonly log: Logger;
  private readonly serverName: string;
  private readonly udp: UdpTransport;
  private readonly tcp: TcpTransport;
  private readonly tls: TlsTransport;
  private readonly bound: ListenerInfo[] = [];
  private state: 'new' | 'starting' | 'started' | 'stopped' = 'new';

  constructor(options: TransportLayerOptions) {
    this.options = options;
    this.limits = Object.freeze({ ...DEFAULT_TRANSPORT_LIMITS, ...options.limits });
    this.connections = new ConnectionTable(options.authenticatedSourceTtlMs === undefined ? {} : { authenticatedSourceTtlMs: options.authenticatedSourceTtlMs });
    this.log = (options.log ?? silentLogger).child({ module: 'transport' });
    this.serverName = options.serverName ?? 'Parley';
    this.path = new MessagePath({
      wire: this,
      limits: this.limits,
      log: this.log,
      ...(options.delegate === undefined ? {} : { delegate: options.delegate }),
      ...(options.isOwnSentBy === undefined ? {} : { isOwnSentBy: options.isOwnSentBy }),
    });
    const path = this.path;
    this.receiver = options.receiver ?? {
      onBytes: (bytes, flow, datagram) => (datagram ? path.receiveDatagram(bytes, flow) : path.receiveStreamMessage(bytes, flow)),
      onFramingError: (error, flow) => path.receiveFramingError(error, flow),
    };
    this.udp = new UdpTransport({ onDatagram: (bytes, flow) => this.receiver.onBytes(bytes, flow, true) }, this.log);
    const streamOptions = { delegate: this.streamDelegate(), connections: this.connections, limits: this.limits, log: this.log };
    this.tcp = new TcpTransport(streamOptions);
    this.tls = new TlsTransport(streamOptions, this.tlsSettings());
  }

  /** Receives the messages (can be set after construction, before start). */
  get delegate(): TransportLayerDelegate | undefined {
    return this.path.delegate;
  }

  set delegate(delegate: TransportLayerDelegate | undefined) {
    this.path.delegate = delegate;
  }

  /** STUN datagrams this thread's UDP sockets answered and dropped (RFC 5626 keepalives, udp-transport.ts). */
  get stun(): { readonly answered: number; readonly dropped: number } {
    return this.udp.stun;
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
   * needs one). Rejects, with nothing left bound, if any listener fails: a ListenError naming
   * the listener, or a CertificateFileError naming the file.
   */
  async start(): Promise<readonly ListenerInfo[]> {
    if (this.state !== 'new') throw new Error(`TransportLayer.start: already ${this.state}`);
    this.state = 'starting';
    try {
      if (this.options.listeners.some((l) => l.transport === 'tls') || this.options.tls?.certFile !== undefined) {
        this.tls.useCertificate(await this.loadCertificate());
      }
      for (const [index, l] of this.options.listeners.entries()) {
        const port = l.port ?? defaultPort(l.transport);
        const transport = l.transport === 'udp' ? this.udp : l.transport === 'tcp' ? this.tcp : this.tls;
        let info: ListenerInfo;
        try {
          info = transport === this.udp ? await this.udp.listen(l.address, port, { reusePort: this.options.udpReusePort === true }) : await transport.listen(l.address, port, l.trusted === true);
        } catch (e) {
          throw listenError(index, { transport: l.transport, address: l.address, port }, e);
        }
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

  /**
   * Close the UDP sockets of this thread, keeping the listeners as bound (`listeners`): the SIP
   * workers' sockets on the same addresses and ports (SO_REUSEPORT) receive and send every
   * datagram from now on. A socket of this thread left in the group would be given its share of
   * datagrams by the kernel, for this thread to read and hand on.
   */
  async releaseUdp(): Promise<void> {
    await this.udp.close();
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

  /** Send a request (RFC 3261 §18.1.1); see MessagePath.sendRequest. */
  sendRequest(request: SipRequest, destination: Flow, onError: (error: TransportError) => void): void {
    this.path.sendRequest(request, destination, onError);
  }

  /** Send a response (RFC 3261 §18.2.2, RFC 3581 §4); see MessagePath.sendResponse. */
  sendResponse(response: SipResponse, source: Flow, onError: (error: TransportError) => void): SentResponse | undefined {
    return this.path.sendResponse(response, source, onError);
  }

  /** Send a response again (see MessagePath.resendResponse). */
  resendResponse(sent: SentResponse, onError: (error: TransportError) => void): void {
    this.path.resendResponse(sent, onError);
  }

  /** A sent response as bytes (see MessagePath.packResponse). */
  packResponse(sent: SentResponse, into: Uint8Array, at: number, room: number): number {
    return this.path.packResponse(sent, into, at, room);
  }

  /** Send again a packed response (see MessagePath.resendPacked). */
  resendPacked(record: Uint8Array, onError: (error: TransportError) => void): void {
    this.path.resendPacked(record, onError);
  }

  /**
   * Send bytes that are not a SIP message (a STUN answer, a keepalive) over a flow, with the
   * same connection reuse as sendRequest. `destination.remoteAddress` may be a host name (resolved with
   * A/AAAA).
   */
  sendRaw(bytes: Uint8Array, destination: Flow, onError: (error: TransportError) => void): void {
    this.sendBytes(bytes, destination, onError);
  }

  private streamDelegate(): StreamTransportDelegate {
    return {
      // TCP/TLS: the framer has cut the message by Content-Length, which a stream message must
      // have. WebSocket: the message is the whole WebSocket message (RFC 7118 §5.1), framed
      // like a datagram (Content-Length optional: early JsSIP versions left it out).
      onMessage: (bytes, connection) => this.receiver.onBytes(bytes, connection.flow(), isWebSocketTransport(connection.transport)),
      onFramingError: (error, connection, head) => {
        const flow = connection.flow();
        this.log.info({ ...flowLog(flow), err: error.message }, 'closing connection: stream cannot be framed');
        if (head !== undefined) this.answerFramingError(error, head, connection);
        this.receiver.onFramingError(error, flow);
      },
    };
  }

  /**
   * A stream message that cannot be framed but whose header section was read (no or a bad
   * Content-Length, larger than maxMessageSize): answered over its connection before the
   * connection closes (400, or 513 Message Too Large), when its top Via can be read. Here, in
   * the thread that owns the socket, because the connection closes right after.
   */
  private answerFramingError(error: SipParseError, head: Uint8Array, connection: SipConnection): void {
    const r = parseMessage(head, { datagram: true, limits: this.limits });
    const request = r.message;
    if (request === undefined || !request.isRequest) return;
    const extra: Array<readonly [string, string]> = [malformedWarning(error)];
    if (this.serverName !== '') extra.push(['Server', this.serverName]);
    const response = malformedResponse(request, malformedStatus(error), extra);
    if (response === undefined) return;
    let bytes: Uint8Array;
    try {
      bytes = serialize(response);
    } catch {
      return;
    }
    connection.send(bytes, (e) => this.log.debug({ err: e.message }, 'could not answer a message that cannot be framed'));
  }

  // ---- sending --------------------------------------------------------------------------

  /** Bytes of a response to its §18.2.2 target: the request's connection while it is open, else the address. */
  sendToTarget(bytes: Uint8Array, target: ResponseTarget, onError: (error: TransportError) => void): void {
    if (target.connectionId !== undefined) {
      const connection = this.connections.get(target.connectionId);
      if (connection !== undefined) {
        connection.send(bytes, onError);
        return;
      }
    }
    if (target.rule === 'source' && isStreamTransport(target.transport)) {
      // an answer to a malformed request never opens a connection (see sourceTarget)
      onError(new TransportError(`connection ${target.connectionId ?? '?'} is closed: the answer to a malformed request is dropped`));
      return;
    }
    this.sendBytes(
      bytes,
      { transport: target.transport, remoteAddress: target.host, remotePort: target.port, localAddress: target.localAddress, localPort: target.localPort },
      onError,
    );
  }

  /** Bytes to a flow (see Wire.sendBytes). */
  sendBytes(bytes: Uint8Array, destination: Flow, onError: (error: TransportError) => void): void {
    const fail = onceError(onError);
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
    resolveHost(destination.remoteAddress, (address, error) => {
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

  // ---- TLS ------------------------------------------------------------------------------

  private async loadCertificate(): Promise<TlsCertificate> {
    const tls = this.options.tls;
    return loadServerCertificate({ ...(tls?.certFile === undefined ? {} : { certFile: tls.certFile }), ...(tls?.keyFile === undefined ? {} : { keyFile: tls.keyFile }) }, this.options.dataDir, this.log);
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
