import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../../lib/clock.js';
import { AuthenticatedSources } from './authenticated-sources.js';
import type { Flow, StreamTransport } from './flow.js';
import { normalizeAddress } from './flow.js';
import { sourcePrefix } from './source-prefix.js';
import type { TransportError } from './transport-error.js';
import type { TransportLimits } from './transport-limits.js';

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

/** Why an inbound connection is refused (ConnectionTable.admitInbound). */
export interface ConnectionRefusal {
  /** The limit reached: the table is full, its unreserved part is (for a source that has not authenticated), or the source's share. */
  readonly limit: 'maxConnections' | 'authenticatedReserve' | 'maxConnectionsPerSource';
  /** The number that was reached. */
  readonly value: number;
  /** For logs and HTTP refusals. */
  readonly reason: string;
}

export interface ConnectionTableOptions {
  /** How long a source counts as authenticated after its last success, ms. Default 86,400,000 (a day). */
  readonly authenticatedSourceTtlMs?: number;
  readonly clock?: Clock;
}

/**
 * Every open stream connection of a server, by id and by remote (transport, address, port).
 * Emits `open` and `close` so that others (registrar, metrics) can follow connections.
 *
 * It also decides whether an inbound connection may open (admitInbound), for TCP, TLS and
 * WebSocket alike. Inbound connections are counted per source (sourcePrefix: an IPv4 address, an
 * IPv6 /64), and a share of the table (`authenticatedReserve`) is kept for sources that have
 * authenticated recently (`authenticatedSources`, told by the SIP cores): with 10,000 connections
 * and 100 per source, 100 strangers (or one host with a /64) would otherwise fill the table and
 * lock every phone out.
 */
export class ConnectionTable extends EventEmitter<ConnectionTableEvents> {
  private lastId = 0;
  private readonly byId = new Map<number, SipConnection>();
  private readonly byRemote = new Map<string, SipConnection[]>();
  /** Inbound connections by source (sourcePrefix). */
  private readonly inboundBySource = new Map<string, number>();
  /** Sources from which a request passed digest authentication recently. */
  readonly authenticatedSources: AuthenticatedSources;
  private readonly clock: Pick<Clock, 'now'>;
  /** Per limit: when its refusals were last logged, and how many since. */
  private readonly refusals = new Map<ConnectionRefusal['limit'], { loggedAt: number; since: number }>();

  constructor(options: ConnectionTableOptions = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.authenticatedSources = new AuthenticatedSources({
      ttlMs: options.authenticatedSourceTtlMs ?? 86_400_000,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
  }

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
      const source = sourcePrefix(connection.remoteAddress);
      this.inboundBySource.set(source, (this.inboundBySource.get(source) ?? 0) + 1);
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
      const source = sourcePrefix(connection.remoteAddress);
      const n = (this.inboundBySource.get(source) ?? 1) - 1;
      if (n <= 0) this.inboundBySource.delete(source);
      else this.inboundBySource.set(source, n);
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

  /** Inbound connections from this address's source: its IPv4 address, or its IPv6 /64. */
  inboundCount(address: string): number {
    return this.inboundBySource.get(sourcePrefix(address)) ?? 0;
  }

  /**
   * May a new inbound connection from `address` open? undefined: yes. Refused when the table is
   * full (`maxConnections`), when the source has its share (`maxConnectionsPerAddress`, per IPv4
   * address or IPv6 /64), or when only the reserve is left (the last `authenticatedReserve` share
   * of `maxConnections`) and the source has not authenticated recently. `trusted`: it came to a
   * trusted interface (`auth: false`), where nobody authenticates; such a source may use the
   * reserve. Connections Parley opens itself may use the whole table too.
   */
  admitInbound(address: string, limits: Pick<TransportLimits, 'maxConnections' | 'maxConnectionsPerAddress' | 'authenticatedReserve'>, trusted = false): ConnectionRefusal | undefined {
    const size = this.byId.size;
    if (size >= limits.maxConnections) {
      return { limit: 'maxConnections', value: limits.maxConnections, reason: `${limits.maxConnections} connections open (maxConnections)` };
    }
    const perSource = this.inboundCount(address);
    if (perSource >= limits.maxConnectionsPerAddress) {
      return { limit: 'maxConnectionsPerSource', value: limits.maxConnectionsPerAddress, reason: `${perSource} connections from ${sourcePrefix(address)} (maxConnectionsPerSource)` };
    }
    const unreserved = limits.maxConnections - reservedConnections(limits);
    if (size >= unreserved && !trusted && !this.authenticatedSources.has(address)) {
      return { limit: 'authenticatedReserve', value: unreserved, reason: `${size} connections open; the rest is kept for sources that have authenticated (authenticatedReserve)` };
    }
    return undefined;
  }

  /**
   * Count a refusal of admitInbound and say whether to log it: the first of each limit, then at
   * most one line per limit every REFUSAL_LOG_INTERVAL_MS carrying how many were not logged
   * (`suppressed`), so that a flood of connections does not become a flood of log lines.
   */
  shouldLogRefusal(refusal: ConnectionRefusal): { log: boolean; suppressed: number } {
    const now = this.clock.now();
    const r = this.refusals.get(refusal.limit);
    if (r === undefined || now - r.loggedAt >= REFUSAL_LOG_INTERVAL_MS) {
      this.refusals.set(refusal.limit, { loggedAt: now, since: 0 });
      return { log: true, suppressed: r?.since ?? 0 };
    }
    r.since++;
    return { log: false, suppressed: 0 };
  }

  /** Every connection in the table. */
  values(): IterableIterator<SipConnection> {
    return this.byId.values();
  }
}

/** Refusals of one limit are logged at most once in this many ms (ConnectionTable.shouldLogRefusal). */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;

/** Connections of the table only sources that have authenticated may take. */
export function reservedConnections(limits: Pick<TransportLimits, 'maxConnections' | 'authenticatedReserve'>): number {
  return Math.floor(limits.maxConnections * Math.min(1, Math.max(0, limits.authenticatedReserve)));
}

function remoteKey(transport: string, address: string, port: number): string {
  return `${transport}|${address}|${port}`;
}
