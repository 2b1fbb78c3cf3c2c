/**
 * TURN over TCP and TLS (RFC 8656 §3.1, §12.5): each connection is a 5-tuple of its own (its
 * allocation goes when it closes: the 5-tuple is gone), its byte stream cut into STUN messages and
 * ChannelData by src/stun's StunStreamFramer, and what goes back to the client is written to it,
 * ChannelData padded to a multiple of 4 ("Over TCP and TLS-over-TCP, the ChannelData message MUST
 * be padded to a multiple of four bytes").
 *
 * Limits, against a client that holds connections open to exhaust them (slowloris): at most
 * `maxConnections` at once, at most `maxConnectionsPerSource` from one source (an IPv4 address, an
 * IPv6 /64: src/lib/source-prefix.ts, the rule SIP's connection table counts by); a message must
 * come whole within `messageTimeoutMs` of its first byte, and the first within `messageTimeoutMs`
 * of the connection (a connection that sends nothing, or trickles a byte at a time, is closed);
 * and a connection silent for `idleTimeoutMs` is closed. The deadlines are checked by tick(),
 * which the TURN thread calls every second with the server's tick.
 *
 * Channel numbers: ChannelData frames are read in RFC 5766's range, 0x4000-0x7FFF, the range the
 * server binds (DEVIATION in channels.ts); src/stun's framer is strict (0x4FFF) by default.
 */
import type { Server, Socket } from 'node:net';
import { systemClock, type Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import { sourcePrefix } from '../lib/source-prefix.js';
import { StunStreamFramer } from '../stun/index.js';
import { MAX_CHANNEL } from './channels.js';
import type { TurnListener } from './five-tuple.js';
import type { TurnServer } from './turn-server.js';

export interface StreamListenerOptions {
  /** The listening server (net or tls), already bound. */
  readonly server: Server;
  readonly transport: 'tcp' | 'tls';
  readonly turn: TurnServer;
  /** Ids for the connections' 5-tuples, apart from the datagram listeners' (index in turn.listen). */
  readonly firstId: number;
  /** Most connections at once; one more is closed at once. */
  readonly maxConnections: number;
  /** Most connections at once from one source (sourcePrefix); one more is closed at once. Default: maxConnections. */
  readonly maxConnectionsPerSource?: number;
  /** Milliseconds a connection may stay silent (no byte from the client) before it is closed. */
  readonly idleTimeoutMs: number;
  /**
   * Milliseconds within which a message must arrive whole once its first byte is in, and the first
   * message once the connection is accepted (after the TLS handshake). Default: idleTimeoutMs.
   */
  readonly messageTimeoutMs?: number;
  /** Monotonic time for the message deadlines. Default systemClock. */
  readonly clock?: Clock;
  readonly log?: Logger;
}

/** What the listener keeps of a connection. */
interface StreamConnection {
  readonly source: string;
  /** When the message not yet whole (or, first, the connection) began: its deadline is this + messageTimeoutMs. */
  since: number | undefined;
}

export class StreamListener {
  private readonly connections = new Map<Socket, StreamConnection>();
  /** Open connections by source (sourcePrefix). */
  private readonly bySource = new Map<string, number>();
  private nextId: number;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly perSource: number;
  private readonly messageTimeoutMs: number;
  /** Connections closed because their stream could not be framed. */
  framingErrors = 0;
  /** Connections closed at once: maxConnections, maxConnectionsPerSource. */
  readonly refused = { total: 0, perSource: 0 };
  /** Connections closed because a message did not come whole in time. */
  messageTimeouts = 0;

  constructor(private readonly o: StreamListenerOptions) {
    this.nextId = o.firstId;
    this.log = o.log ?? silentLogger;
    this.clock = o.clock ?? systemClock;
    this.perSource = o.maxConnectionsPerSource ?? o.maxConnections;
    this.messageTimeoutMs = o.messageTimeoutMs ?? o.idleTimeoutMs;
    o.server.on(o.transport === 'tls' ? 'secureConnection' : 'connection', (socket: Socket) => this.accept(socket));
    // a failed handshake or a reset before the connection is ours: nothing to do
    o.server.on('tlsClientError', () => {});
  }

  get size(): number {
    return this.connections.size;
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {});
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    if (this.connections.size >= this.o.maxConnections || address === undefined || port === undefined) {
      this.refused.total++;
      socket.destroy();
      return;
    }
    const source = sourcePrefix(address);
    const fromSource = this.bySource.get(source) ?? 0;
    if (fromSource >= this.perSource) {
      this.refused.perSource++;
      this.log.debug({ client: `${address}:${port}`, source, connections: fromSource }, 'TURN stream refused: too many connections from its source');
      socket.destroy();
      return;
    }
    this.bySource.set(source, fromSource + 1);
    const connection: StreamConnection = { source, since: this.clock.now() };
    this.connections.set(socket, connection);
    socket.setNoDelay(true);
    socket.setTimeout(this.o.idleTimeoutMs, () => socket.destroy());
    /** RFC 6062 §5.4: a client data connection now; its bytes are no longer framed here. */
    let isDataConnection = false;
    const listener: TurnListener = {
      id: this.nextId++,
      transport: this.o.transport,
      address: socket.localAddress ?? '',
      port: socket.localPort ?? 0,
      stream: true,
      dataConnection: () => {
        isDataConnection = true;
        // a data connection may be as quiet as the TCP session it carries: no idle timeout, and
        // no message deadline (its bytes are not STUN messages any more)
        socket.setTimeout(0);
        connection.since = undefined;
        return socket;
      },
      send: (data) => {
        if (socket.destroyed) return;
        if (Array.isArray(data)) {
          socket.cork();
          for (const part of data as readonly Uint8Array[]) socket.write(part);
          socket.uncork();
        } else socket.write(data as Uint8Array);
      },
    };
    const turn = this.o.turn;
    const framer = new StunStreamFramer({
      onStun: (bytes) => turn.receive(listener, bytes, address, port),
      // the data is a view right after its 4-byte header, in the same buffer: hand the whole
      // message on as a datagram listener would
      onChannelData: (_channel, data) => turn.receive(listener, new Uint8Array(data.buffer, data.byteOffset - 4, data.length + 4), address, port),
    }, { maxChannel: MAX_CHANNEL });
    socket.on('data', (chunk: Buffer) => {
      if (isDataConnection) return;
      const error = framer.push(chunk);
      if (error !== undefined) {
        this.framingErrors++;
        this.log.debug({ client: `${address}:${port}`, reason: error.reason, offset: error.offset }, 'TURN stream cannot be framed: closed');
        socket.destroy();
        return;
      }
      // a message begun and not yet whole runs against its deadline from its first byte
      if (framer.pending === 0) connection.since = undefined;
      else connection.since ??= this.clock.now();
    });
    socket.once('close', () => {
      this.connections.delete(socket);
      const n = this.bySource.get(source) ?? 1;
      if (n <= 1) this.bySource.delete(source);
      else this.bySource.set(source, n - 1);
      // over TCP/TLS the 5-tuple is the connection: its allocation goes with it
      turn.closeConnection(listener, address, port);
    });
  }

  /** Connections open now from the source of `address` (sourcePrefix). */
  connectionsFrom(address: string): number {
    return this.bySource.get(sourcePrefix(address)) ?? 0;
  }

  /** Closes the connections whose message (or first message) is late. Called every second. */
  tick(): void {
    const late = this.clock.now() - this.messageTimeoutMs;
    for (const [socket, c] of this.connections) {
      if (c.since !== undefined && c.since <= late && !socket.destroyed) {
        this.messageTimeouts++;
        this.log.debug({ client: `${socket.remoteAddress}:${socket.remotePort}`, source: c.source }, 'TURN stream: a message did not come whole in time: closed');
        socket.destroy();
      }
    }
  }

  close(): void {
    this.o.server.close();
    for (const s of this.connections.keys()) s.destroy();
    this.connections.clear();
    this.bySource.clear();
  }
}
