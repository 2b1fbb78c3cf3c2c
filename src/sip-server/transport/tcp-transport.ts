import { connect, createServer, type Server, type Socket } from 'node:net';
import type { SipParseError } from '../../sip/index.js';
import type { ConnectionTable, SipConnection } from './connection-table.js';
import { normalizeAddress } from './flow.js';
import type { ListenerInfo } from './listener-info.js';
import { StreamConnection, type StreamConnectionDelegate } from './stream-connection.js';
import { TransportError } from './transport-error.js';
import type { TransportLimits } from './transport-limits.js';
import type { Logger } from '../../lib/logger.js';

/**
 * What a stream transport reports to its owner (the transport layer). WebSocket connections
 * (ws-transport.ts) report through it too: each WebSocket message is one message.
 */
export interface StreamTransportDelegate {
  /** One framed message from a connection. */
  onMessage(bytes: Uint8Array, connection: SipConnection): void;
  /** A connection's stream could not be framed; the connection is closed right after. */
  onFramingError(error: SipParseError, connection: SipConnection, head?: Uint8Array): void;
}

export interface StreamTransportOptions {
  readonly delegate: StreamTransportDelegate;
  /** The server's connection table: connections enter it when accepted or opened, leave it when closed. */
  readonly connections: ConnectionTable;
  readonly limits: TransportLimits;
  readonly log: Logger;
}

/** A socket ready to be wrapped in a StreamConnection, with the event that makes it usable. */
export interface PreparedSocket {
  readonly socket: Socket;
  readonly readyEvent?: 'connect' | 'secureConnect' | 'secure';
}

/**
 * SIP over TCP (RFC 3261 §18): listeners on any number of addresses (IPv4 and IPv6), and
 * outbound connections. Every connection is a StreamConnection (the single framing path) and is
 * entered in the connection table. Enforces the connection limits on accept (ConnectionTable.admitInbound:
 * the total, the share of each source, the reserve for sources that have authenticated).
 * TlsTransport extends it, changing only how sockets are wrapped and opened.
 */
export class TcpTransport {
  readonly transport: 'tcp' | 'tls' = 'tcp';
  private readonly servers: Server[] = [];
  private readonly listening: ListenerInfo[] = [];
  /** Every socket not yet closed, including those closing gracefully (destroyed by close()). */
  private readonly sockets = new Set<Socket>();
  private readonly connectionDelegate: StreamConnectionDelegate;

  constructor(protected readonly options: StreamTransportOptions) {
    this.connectionDelegate = {
      onMessage: (bytes, connection) => options.delegate.onMessage(bytes, connection),
      onFramingError: (error, connection, head) => options.delegate.onFramingError(error, connection, head),
      onClose: (connection, reason) => options.connections.remove(connection, reason),
    };
  }

  /**
   * Listen on `address`:`port` (0 for an ephemeral port); resolves with the bound address and port.
   * `trusted`: a trusted interface, whose sources may use the connections kept for authenticated ones.
   */
  listen(address: string, port: number, trusted = false): Promise<ListenerInfo> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket, trusted));
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => {
        server.close();
        reject(e);
      };
      server.once('error', onError);
      server.listen({ host: address, port, exclusive: true }, () => {
        server.off('error', onError);
        server.on('error', (e) => this.options.log.warn({ transport: this.transport, err: e.message }, 'listener error'));
        const a = server.address();
        const info: ListenerInfo = {
          transport: this.transport,
          address: normalizeAddress(typeof a === 'object' && a !== null ? a.address : address),
          port: typeof a === 'object' && a !== null ? a.port : port,
        };
        this.servers.push(server);
        this.listening.push(info);
        resolve(info);
      });
    });
  }

  /** Listeners bound so far. */
  get bound(): ListenerInfo[] {
    return [...this.listening];
  }

  /**
   * Open a connection to `address`:`port` (an IP address) and enter it in the connection table
   * at once, so that other sends to the same peer reuse it while it connects. Data sent before
   * the connection is established waits in the socket; if it never is (refused, connect timeout,
   * TLS failure) every pending send's `onError` is called.
   */
  connect(address: string, port: number, localAddress?: string): StreamConnection | TransportError {
    const { connections, limits, log } = this.options;
    if (connections.size >= limits.maxConnections) {
      return new TransportError(`cannot open a ${this.transport} connection to ${address}:${port}: ${limits.maxConnections} connections open (maxConnections)`);
    }
    let prepared: PreparedSocket;
    try {
      prepared = this.openSocket(address, port, localAddress);
    } catch (e) {
      return new TransportError(`cannot open a ${this.transport} connection to ${address}:${port}: ${(e as Error).message}`, { cause: e });
    }
    this.track(prepared.socket);
    const connection = new StreamConnection({
      id: connections.allocateId(),
      transport: this.transport,
      direction: 'outbound',
      socket: prepared.socket,
      remoteAddress: address,
      remotePort: port,
      readyEvent: prepared.readyEvent ?? 'connect',
      readyTimeoutMs: limits.connectTimeoutMs,
      limits,
      log,
      delegate: this.connectionDelegate,
    });
    connections.add(connection);
    log.debug({ connectionId: connection.id, transport: this.transport, remote: `${address}:${port}` }, 'connecting');
    return connection;
  }

  /**
   * Stop accepting and destroy every socket this transport still has, including connections
   * closing gracefully (those in the connection table are closed by TransportLayer.stop first).
   */
  async close(): Promise<void> {
    const all = this.servers.splice(0);
    this.listening.splice(0);
    const closed = Promise.all(all.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** Wrap an accepted socket (TLS: in a server-side TLSSocket). */
  protected wrapInbound(socket: Socket): PreparedSocket {
    return { socket };
  }

  /** Start connecting to a peer. */
  protected openSocket(address: string, port: number, localAddress?: string): PreparedSocket {
    return { socket: connect({ host: address, port, localAddress, noDelay: true }), readyEvent: 'connect' };
  }

  private accept(socket: Socket, trusted: boolean): void {
    const { connections, limits, log } = this.options;
    socket.on('error', () => {}); // until a StreamConnection owns it (reset before the limit checks)
    this.track(socket);
    const remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    const remotePort = socket.remotePort ?? 0;
    if (remoteAddress === '') {
      socket.destroy(); // already gone
      return;
    }
    const refused = connections.admitInbound(remoteAddress, limits, trusted);
    if (refused !== undefined) {
      const { log: logIt, suppressed } = connections.shouldLogRefusal(refused);
      if (logIt) {
        log.warn({ transport: this.transport, remote: `${remoteAddress}:${remotePort}`, limit: refused.limit, value: refused.value, suppressed }, `connection refused: ${refused.reason}`);
      }
      socket.destroy();
      return;
    }
    let prepared: PreparedSocket;
    try {
      prepared = this.wrapInbound(socket);
    } catch (e) {
      log.error({ transport: this.transport, err: (e as Error).message }, 'cannot set up an accepted connection');
      socket.destroy();
      return;
    }
    const connection = new StreamConnection({
      id: connections.allocateId(),
      transport: this.transport,
      direction: 'inbound',
      socket: prepared.socket,
      remoteAddress,
      remotePort,
      readyEvent: prepared.readyEvent,
      readyTimeoutMs: limits.handshakeTimeoutMs,
      limits,
      log,
      delegate: this.connectionDelegate,
    });
    connections.add(connection);
    log.debug({ connectionId: connection.id, transport: this.transport, remote: `${remoteAddress}:${remotePort}` }, 'connection accepted');
  }
}
