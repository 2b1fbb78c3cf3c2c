import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { refuseUpgrade } from '../../lib/http-refusal.js';
import { normalizeAddress } from './flow.js';
import type { StreamTransportOptions } from './tcp-transport.js';
import { WsConnection } from './ws-connection.js';

/** The WebSocket subprotocol of SIP (RFC 7118 §4.1, IANA WebSocket Subprotocol Name Registry). */
export const SIP_SUBPROTOCOL = 'sip';

/** Most frames one SIP message may be cut into; more is abuse (the library closes with 1008). */
const MAX_FRAGMENTS = 1024;

export interface WsTransportOptions extends StreamTransportOptions {
  /**
   * Interval of WebSocket pings, ms; a connection that has sent nothing (not even a pong) between
   * two pings is closed. 0 disables. Default 30,000.
   */
  readonly pingIntervalMs?: number;
}

/**
 * SIP over WebSocket, server side (RFC 7118): takes the HTTP upgrades the HTTP server routes to
 * it (path `/sip`, Origin already checked), completes the handshake for clients that ask for the
 * `sip` subprotocol, and turns each WebSocket into a WsConnection in the transport layer's
 * connection table, delivering to the same delegate as TCP and TLS.
 *
 *   upgrade ─ no "sip" subprotocol? 400 ─ over maxConnections / per source / into the reserve? 503 ─ handshake (101, "sip")
 *     ─ WsConnection: one WebSocket message = one SIP message ─▶ delegate.onMessage(bytes, connection)
 *
 * Limits: `maxMessageSize` is the WebSocket maxPayload (a larger message closes with 1009),
 * `maxConnections`/`maxConnectionsPerAddress`/`authenticatedReserve` count WebSockets with TCP and TLS connections,
 * the idle timeout and write buffer apply per connection, pings find dead peers. No
 * permessage-deflate: SIP messages are small and compression would let a small frame cost much
 * memory.
 */
export class WsTransport {
  private readonly server: WebSocketServer;
  private readonly open = new Set<WsConnection>();
  private readonly pingTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: WsTransportOptions) {
    this.server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.limits.maxMessageSize,
      maxFragments: MAX_FRAGMENTS,
      // the client's own spelling of the token is echoed (it checks for exactly what it sent)
      handleProtocols: (protocols) => [...protocols].find(isSipToken) ?? false,
    });
    const every = options.pingIntervalMs ?? 30_000;
    if (every > 0) {
      this.pingTimer = setInterval(() => {
        for (const c of this.open) c.keepalive();
      }, every).unref();
    }
  }

  /** WebSocket connections open now. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Take an HTTP upgrade request (the HTTP server has checked the path and the Origin). `secure`:
   * it came over TLS, and the connection is `wss`. `trusted`: to a listener with `auth: false`
   * (its sources may use the connections kept for authenticated ones).
   *
   * RFC 7118 §4.1: the client asks for the subprotocol `sip` in Sec-WebSocket-Protocol, and the
   * server that accepts answers with it. A handshake without it is refused with 400 rather than
   * completed without a subprotocol (which RFC 6455 §4.2.2 would allow, leaving the client to
   * fail it): nothing but SIP may use this endpoint.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean, trusted = false): void {
    const { connections, limits, log } = this.options;
    const transport = secure ? 'wss' : 'ws';
    const tcp = socket as Socket;
    const remoteAddress = normalizeAddress(tcp.remoteAddress ?? '');
    const remotePort = tcp.remotePort ?? 0;
    const remote = `${remoteAddress}:${remotePort}`;
    if (remoteAddress === '') {
      socket.destroy(); // already gone
      return;
    }
    const offered = request.headers['sec-websocket-protocol'];
    if (offered === undefined || !offered.split(',').some((p) => isSipToken(p.trim()))) {
      log.info({ transport, remote, offered }, 'WebSocket refused: no "sip" subprotocol');
      refuseUpgrade(socket, 400, 'SIP over WebSocket needs the subprotocol "sip" (Sec-WebSocket-Protocol: sip, RFC 7118)');
      return;
    }
    const refused = connections.admitInbound(remoteAddress, limits, trusted);
    if (refused !== undefined) {
      const { log: logIt, suppressed } = connections.shouldLogRefusal(refused);
      if (logIt) log.warn({ transport, remote, limit: refused.limit, value: refused.value, suppressed }, `connection refused: ${refused.reason}`);
      refuseUpgrade(socket, 503, refused.limit === 'maxConnectionsPerSource' ? 'too many connections from this address' : 'too many connections', { 'Retry-After': '30' });
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws, tcp, transport, remoteAddress, remotePort));
  }

  /** Stop pinging. Connections are closed with the connection table (TransportLayer.stop). */
  close(): void {
    clearInterval(this.pingTimer);
    for (const c of [...this.open]) c.destroy('WebSocket transport closed');
    this.server.close();
  }

  private accept(ws: WebSocket, socket: Socket, transport: 'ws' | 'wss', remoteAddress: string, remotePort: number): void {
    const { connections, limits, log, delegate } = this.options;
    const connection = new WsConnection({
      id: connections.allocateId(),
      transport,
      socket: ws,
      remoteAddress,
      remotePort,
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
      limits,
      log,
      delegate: {
        onMessage: (bytes, c) => delegate.onMessage(bytes, c),
        onClose: (c, reason) => {
          this.open.delete(c);
          connections.remove(c, reason);
        },
      },
    });
    if (!connection.isOpen) return; // closed during construction
    this.open.add(connection);
    connections.add(connection);
    log.debug({ connectionId: connection.id, transport, remote: `${remoteAddress}:${remotePort}` }, 'WebSocket connection accepted');
  }
}

/** `sip`, in any case: the registered name is lower-case, and some devices send `SIP`. */
function isSipToken(protocol: string): boolean {
  return protocol.toLowerCase() === SIP_SUBPROTOCOL;
}
