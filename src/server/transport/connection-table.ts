import { EventEmitter } from 'node:events';
import type { Flow, StreamTransport } from './flow.js';
import { normalizeAddress } from './flow.js';
import type { TransportError } from './transport-error.js';

/**
 * One stream connection as the rest of the server sees it, whatever carries it (TCP, TLS, and
 * later WS/WSS). The registrar binds contacts to `id` (RFC 5626 flows); the transport layer
 * sends responses and requests over it (RFC 3261 §18.2.2, §18.1.1 connection reuse).
 */
export interface SipConnection {
  /** Unique in this server instance, never reused. */
  readonly id: number;
  readonly transport: StreamTransport;
  /** Who opened it: the peer (`inbound`) or Parley (`outbound`). */
  readonly direction: 'inbound' | 'outbound';
  readonly localAddress: string;
  readonly localPort: number;
  /** The peer's address, normalized (see normalizeAddress). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** False once closed; a closed connection has left the table. */
  readonly isOpen: boolean;
  /** Queue bytes for the peer; `onError` is called at most once if they cannot be written. */
  send(bytes: Uint8Array, onError?: (error: TransportError) => void): void;
  /** Close gracefully (buffered data is written first) and leave the table. */
  close(reason?: string): void;
  /** Close at once, dropping buffered data, and leave the table. */
  destroy(reason?: string): void;
  /** The flow of this connection, with its `connectionId`. */
  flow(): Flow;
  /**
   * Stop reading from the peer (the SIP worker its messages go to is not keeping up): TCP's
   * receive window fills and the peer waits. Messages already framed are still delivered.
   */
  pauseReading?(): void;
  /** Read again after pauseReading. */
  resumeReading?(): void;
}

/** The flow of a connection, with its `connectionId` (what SipConnection.flow returns). */
export function connectionFlow(c: Pick<SipConnection, 'id' | 'transport' | 'remoteAddress' | 'remotePort' | 'localAddress' | 'localPort'>): Flow {
  return {
    transport: c.transport,
    remoteAddress: c.remoteAddress,
    remotePort: c.remotePort,
    localAddress: c.localAddress,
    localPort: c.localPort,
    connectionId: c.id,
  };
}

/** Events of a ConnectionTable. */
export interface ConnectionTableEvents {
  /** A connection entered the table (accepted, or connecting outbound). */
  open: [connection: SipConnection];
  /** A connection left the table; `reason` is for logs (`idle`, `peer closed`, `limit`, …). */
  close: [connection: SipConnection, reason: string];
}

/**
 * Every open stream connection of a server, by id and by remote (transport, address, port).
 * Emits `open` and `close` so that others (registrar, metrics) can follow connections.
 */
export class ConnectionTable extends EventEmitter<ConnectionTableEvents> {
  private lastId = 0;
  private readonly byId = new Map<number, SipConnection>();
  private readonly byRemote = new Map<string, SipConnection[]>();
  private readonly inboundByAddress = new Map<string, number>();

  /** A new connection id (ids start at 1 and are never reused). */
  allocateId(): number {
    return ++this.lastId;
  }

  /** Connections in the table. */
  get size(): number {
    return this.byId.size;
  }

  /** Add a connection and emit `open`. */
  add(connection: SipConnection): void {
    if (this.byId.has(connection.id)) return;
    this.byId.set(connection.id, connection);
    const key = remoteKey(connection.transport, connection.remoteAddress, connection.remotePort);
    const list = this.byRemote.get(key);
    if (list) list.push(connection);
    else this.byRemote.set(key, [connection]);
    if (connection.direction === 'inbound') {
      this.inboundByAddress.set(connection.remoteAddress, (this.inboundByAddress.get(connection.remoteAddress) ?? 0) + 1);
    }
    this.emit('open', connection);
  }

  /** Remove a connection and emit `close`; nothing happens when it is not in the table. */
  remove(connection: SipConnection, reason: string): void {
    if (this.byId.get(connection.id) !== connection) return;
    this.byId.delete(connection.id);
    const key = remoteKey(connection.transport, connection.remoteAddress, connection.remotePort);
    const list = this.byRemote.get(key);
    if (list) {
      const i = list.indexOf(connection);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byRemote.delete(key);
    }
    if (connection.direction === 'inbound') {
      const n = (this.inboundByAddress.get(connection.remoteAddress) ?? 1) - 1;
      if (n <= 0) this.inboundByAddress.delete(connection.remoteAddress);
      else this.inboundByAddress.set(connection.remoteAddress, n);
    }
    this.emit('close', connection, reason);
  }

  /** The connection with this id, if it is still open. */
  get(id: number): SipConnection | undefined {
    const c = this.byId.get(id);
    return c?.isOpen ? c : undefined;
  }

  /**
   * An open connection to this remote transport address, the most recent when there are several
   * (RFC 3261 §18.1.1: "If a connection is open to that address and port, the client SHOULD use
   * that connection").
   */
  findByRemote(transport: StreamTransport, address: string, port: number): SipConnection | undefined {
    const list = this.byRemote.get(remoteKey(transport, normalizeAddress(address), port));
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.isOpen) return list[i];
    return undefined;
  }

  /** Inbound connections from this remote IP address (for the per-address limit). */
  inboundCount(address: string): number {
    return this.inboundByAddress.get(normalizeAddress(address)) ?? 0;
  }

  /** Every connection in the table. */
  values(): IterableIterator<SipConnection> {
    return this.byId.values();
  }
}

function remoteKey(transport: string, address: string, port: number): string {
  return `${transport}|${address}|${port}`;
}
