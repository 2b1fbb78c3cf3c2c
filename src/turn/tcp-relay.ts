/**
 * TCP relaying (RFC 6062): the TCP relayed transport address of an allocation, its peer data
 * connections (made by Connect, or accepted from a peer and announced by a ConnectionAttempt
 * indication), each identified by a CONNECTION-ID until a client data connection binds to it
 * (ConnectionBind), then bytes as they are both ways.
 *
 *   client ─control conn─▶ Connect(peer)  ──▶ server dials the peer ─▶ success + CONNECTION-ID
 *   peer ─▶ relayed address (permission?) ──▶ ConnectionAttempt(peer, CONNECTION-ID) on the control conn
 *   client ─new conn─▶ ConnectionBind(CONNECTION-ID) ─▶ success, then raw bytes ⇄ peer data connection
 *
 * A peer data connection is paused until it is bound: its data waits in the kernel, and TCP's
 * receive window tells the peer ("The server MUST buffer any data received from the peer. The
 * server adjusts its advertised TCP receive window to reflect the amount of empty buffer space",
 * §5.3). Once bound, each side is piped to the other (backpressure both ways); one closing closes
 * the other.
 */
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TransportAddress } from '../stun/index.js';
import type { Allocation } from './allocation.js';
import type { TcpRelaySocket } from './relay-ports.js';

/** RFC 6062 §5.2: "The timeout value MUST be at least 30 seconds." */
export const CONNECT_TIMEOUT_MS = 30_000;
/**
 * RFC 6062 §5.2, §5.3: "If no ConnectionBind request associated with this peer data connection is
 * received after 30 seconds, the peer data connection MUST be closed."
 */
export const BIND_TIMEOUT_MS = 30_000;
/**
 * Peer data connections an allocation may hold at once, in progress, pending or bound (our
 * choice: RFC 6062 sets no limit; each is a socket). One more Connect: 508; one more peer: closed.
 */
export const MAX_CONNECTIONS_PER_ALLOCATION = 64;

/** A peer data connection (RFC 6062 §3). */
export interface PeerConnection {
  readonly id: number;
  readonly relay: TcpRelay;
  /** The peer's transport address (canonical form). */
  readonly peer: TransportAddress;
  /** 'connecting': Connect in progress; 'pending': waiting for its ConnectionBind; 'bound'. */
  state: 'connecting' | 'pending' | 'bound';
  socket: Socket | undefined;
  /** Until when (clock ms) a ConnectionBind is awaited. */
  bindBy: number;
  client: Duplex | undefined;
}

/** Every peer data connection of the server by CONNECTION-ID (one counter for the whole server). */
export class ConnectionIds {
  private readonly byId = new Map<number, PeerConnection>();
  private next: number;

  constructor(first = (Math.random() * 0xffffffff) >>> 0) {
    this.next = first;
  }

  /**
   * A new id: "The attribute's value MUST uniquely identify the peer data connection" (§5.2);
   * 32 bits, counted up from a random start, never one in use.
   */
  take(): number {
    for (;;) {
      this.next = (this.next + 1) >>> 0;
      if (this.next !== 0 && !this.byId.has(this.next)) return this.next;
    }
  }

  add(c: PeerConnection): void {
    this.byId.set(c.id, c);
  }

  get(id: number): PeerConnection | undefined {
    return this.byId.get(id);
  }

  delete(c: PeerConnection): void {
    if (this.byId.get(c.id) === c) this.byId.delete(c.id);
  }

  get size(): number {
    return this.byId.size;
  }
}

/** The TCP side of an RFC 6062 allocation: its relayed transport address and its connections. */
export class TcpRelay {
  /** Its peer data connections by the peer's address:port (446 for a second Connect to one). */
  readonly byPeer = new Map<string, PeerConnection>();
  private closed = false;
  /** The allocation this is the TCP side of (set by the server once the allocation is made). */
  owner: Allocation | undefined;

  constructor(
    readonly socket: TcpRelaySocket,
    private readonly ids: ConnectionIds,
  ) {}

  /**
   * RFC 6062 §5.2: "the server MUST initiate an outgoing TCP connection. The local endpoint is the
   * relayed transport address associated with the allocation. The remote endpoint is the one
   * indicated by the XOR-PEER-ADDRESS attribute. If the connection attempt fails or times out,
   * the server MUST return a 447 (Connection Timeout or Failure) error."
   *
   * `done` is called once: with the connection (now pending, its CONNECTION-ID for the success)
   * or undefined (447). The caller has checked 446 with `hasPeer` and the peer policy.
   */
  connect(peer: TransportAddress, now: () => number, done: (c: PeerConnection | undefined) => void, timeoutMs = CONNECT_TIMEOUT_MS): void {
    const c: PeerConnection = { id: this.ids.take(), relay: this, peer, state: 'connecting', socket: undefined, bindBy: 0, client: undefined };
    this.byPeer.set(tcpPeerKey(peer.address, peer.port), c);
    this.ids.add(c);
    // DEVIATION(RFC 6062 §5.2): the connection leaves from the relayed IP address but from a port
    // the system picks, not the relayed port: the relayed port is a listening socket, and Node
    // sets no SO_REUSEPORT on an outgoing socket, so binding it to that port fails (EADDRINUSE).
    // Permissions are by IP address (RFC 8656 §9), so a peer behind a TURN server of its own still
    // accepts it.
    const socket = connect({ host: peer.address, port: peer.port, localAddress: this.socket.address, family: peer.family, noDelay: true });
    c.socket = socket;
    let settled = false;
    const settle = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!ok || this.closed) {
        this.drop(c);
        done(undefined);
        return;
      }
      socket.pause();
      c.state = 'pending';
      c.bindBy = now() + BIND_TIMEOUT_MS;
      done(c);
    };
    const timer = setTimeout(() => settle(false), timeoutMs);
    socket.once('connect', () => settle(true));
    socket.on('error', () => settle(false));
    socket.once('close', () => {
      settle(false);
      this.drop(c);
    });
  }

  /**
   * RFC 6062 §5.3, a peer connected to the relayed address and the caller found a permission for
   * it: a pending peer data connection (paused), for the ConnectionAttempt indication.
   */
  accepted(socket: Socket, peer: TransportAddress, now: number): PeerConnection {
    const c: PeerConnection = { id: this.ids.take(), relay: this, peer, state: 'pending', socket, bindBy: now + BIND_TIMEOUT_MS, client: undefined };
    socket.on('error', () => {});
    socket.setNoDelay(true);
    socket.once('close', () => this.drop(c));
    this.byPeer.set(tcpPeerKey(peer.address, peer.port), c);
    this.ids.add(c);
    return c;
  }

  /** Is a Connect in progress, or a peer data connection pending or bound, for this peer address? (446) */
  /** Has the allocation as many peer data connections as it may hold? */
  get full(): boolean {
    return this.byPeer.size >= MAX_CONNECTIONS_PER_ALLOCATION;
  }

  hasPeer(peer: TransportAddress): boolean {
    return this.byPeer.has(tcpPeerKey(peer.address, peer.port));
  }

  /**
   * RFC 6062 §5.4: "the client connection is now called a client data connection. Data received on
   * it MUST be sent as-is to the associated peer data connection. Data received on the associated
   * peer data connection MUST be sent as-is on this client data connection. This includes data
   * that was received after the associated Connect or request was successfully processed and
   * before this ConnectionBind request was received."
   */
  bind(c: PeerConnection, client: Duplex): void {
    const peer = c.socket!;
    c.state = 'bound';
    c.client = client;
    client.on('error', () => {});
    // §5.5: "When a client data connection is closed or times out, the server MUST close the
    // corresponding peer data connection. When a peer data connection is closed or times out,
    // the server MUST close the corresponding client data connection."
    client.once('close', () => this.drop(c));
    // the allocation's counters (a chunk counts as a packet)
    const counters = this.owner?.counters;
    if (counters !== undefined) {
      client.on('data', (d: Buffer) => {
        counters.bytesToPeer += d.length;
        counters.packetsToPeer++;
      });
      peer.on('data', (d: Buffer) => {
        counters.bytesFromPeer += d.length;
        counters.packetsFromPeer++;
      });
    }
    client.pipe(peer);
    peer.pipe(client);
    peer.resume();
  }

  /** Peer data connections not bound in time (§5.2, §5.3) closed. */
  sweep(now: number): void {
    for (const c of this.byPeer.values()) if (c.state === 'pending' && c.bindBy <= now) this.drop(c);
  }

  /** The allocation is gone: "If the allocation associated with a data connection expires, the data connection MUST be closed" (§5.5). */
  close(): void {
    this.closed = true;
    this.socket.server.removeAllListeners('connection');
    this.socket.close();
    for (const c of [...this.byPeer.values()]) this.drop(c);
  }

  /** A connection closed, failed or expired: both sides go, and its id and peer are free again. */
  private drop(c: PeerConnection): void {
    const key = tcpPeerKey(c.peer.address, c.peer.port);
    if (this.byPeer.get(key) === c) this.byPeer.delete(key);
    this.ids.delete(c);
    c.socket?.destroy();
    c.client?.destroy();
  }
}

/** The key of a peer in `byPeer` (address and port). */
export function tcpPeerKey(address: string, port: number): string {
  return `${address} ${port}`;
}
