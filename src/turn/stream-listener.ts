/**
 * TURN over TCP and TLS (RFC 8656 §3.1, §12.5): each connection is a 5-tuple of its own (its
 * allocation goes when it closes: the 5-tuple is gone), its byte stream cut into STUN messages and
 * ChannelData by src/stun's StunStreamFramer, and what goes back to the client is written to it,
 * ChannelData padded to a multiple of 4 ("Over TCP and TLS-over-TCP, the ChannelData message MUST
 * be padded to a multiple of four bytes").
 */
import type { Server, Socket } from 'node:net';
import { silentLogger, type Logger } from '../lib/logger.js';
import { StunStreamFramer } from '../stun/index.js';
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
  /** Milliseconds a connection may stay silent (no byte from the client) before it is closed. */
  readonly idleTimeoutMs: number;
  readonly log?: Logger;
}

export class StreamListener {
  private readonly connections = new Set<Socket>();
  private nextId: number;
  private readonly log: Logger;
  /** Connections closed because their stream could not be framed. */
  framingErrors = 0;

  constructor(private readonly o: StreamListenerOptions) {
    this.nextId = o.firstId;
    this.log = o.log ?? silentLogger;
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
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(this.o.idleTimeoutMs, () => socket.destroy());
    /** RFC 6062 §5.4: a client data connection now; its bytes are no longer framed here. */
    let data = false;
    const listener: TurnListener = {
      id: this.nextId++,
      transport: this.o.transport,
      address: socket.localAddress ?? '',
      port: socket.localPort ?? 0,
      stream: true,
      dataConnection: () => {
        data = true;
        // a data connection may be as quiet as the TCP session it carries
        socket.setTimeout(0);
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
    });
    socket.on('data', (chunk: Buffer) => {
      if (data) return;
      const error = framer.push(chunk);
      if (error !== undefined) {
        this.framingErrors++;
        this.log.debug({ client: `${address}:${port}`, reason: error.reason, offset: error.offset }, 'TURN stream cannot be framed: closed');
        socket.destroy();
      }
    });
    socket.once('close', () => {
      this.connections.delete(socket);
      // over TCP/TLS the 5-tuple is the connection: its allocation goes with it
      turn.closeConnection(listener, address, port);
    });
  }

  close(): void {
    this.o.server.close();
    for (const s of this.connections) s.destroy();
    this.connections.clear();
  }
}
