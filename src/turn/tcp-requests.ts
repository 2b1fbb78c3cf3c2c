/**
 * The requests and indications of TCP relaying (RFC 6062 §5.2-§5.4) on the server: Connect on a
 * TCP allocation's control connection, ConnectionAttempt for a peer that connected to the relayed
 * address, ConnectionBind on a new client connection. The connections themselves are tcp-relay.ts's.
 */
import type { Socket } from 'node:net';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { randomBytesFromPool } from '../lib/random-pool.js';
import { StunAttr, StunMessageBuilder, StunMethod, type StunMessage } from '../stun/index.js';
import type { Allocation } from './allocation.js';
import type { Answers, Authenticated, Source } from './answers.js';
import type { RequestAuthentication } from './authentication.js';
import { checkPeerAddress, isErrorAnswer, type PeerCheck } from './peer-address.js';
import type { TurnStats } from './server-stats.js';
import type { ConnectionIds, TcpRelay } from './tcp-relay.js';

export interface TcpRequestsOptions {
  readonly peers: PeerCheck;
  readonly clock: Clock;
  readonly log: Logger;
  /** Milliseconds a Connect waits for the peer before 447 (RFC 6062 §5.2: at least 30 s). */
  readonly connectTimeoutMs?: number;
}

export class TcpRequests {
  constructor(
    private readonly o: TcpRequestsOptions,
    private readonly answers: Answers,
    private readonly auth: RequestAuthentication,
    private readonly ids: ConnectionIds,
    private readonly stats: TurnStats,
  ) {}

  /** RFC 6062 §5.2, a Connect request on an allocation's control connection, authenticated. */
  connect(src: Source, m: StunMessage, a: Allocation, auth: Authenticated): void {
    const fail = (code: number, reason: string): void => this.answers.authenticatedError(src, m, auth, [code, reason]);
    const tcp = a.tcp;
    // "If the request is received on a TCP connection for which no allocation exists, the server
    // MUST return a 437 (Allocation Mismatch) error." (no allocation: turn-server.ts); a UDP
    // allocation relays no TCP: 400, as coturn answers
    if (tcp === undefined) return fail(400, 'Connect on a UDP allocation');
    // "If the request does not contain an XOR-PEER-ADDRESS attribute, or if such attribute is
    // invalid, the server MUST return a 400 (Bad Request) error."
    // "If the new connection is forbidden by local policy, the server MUST reject the request with
    // a 403 (Forbidden) error." (every spelling canonicalised: peer-address.ts)
    const attr = m.get(StunAttr.XOR_PEER_ADDRESS);
    if (attr === undefined) return fail(400, 'Missing XOR-PEER-ADDRESS');
    const peer = checkPeerAddress(this.o.peers, this.o.log, m, attr, a);
    if (isErrorAnswer(peer)) return fail(peer[0], peer[1]);
    // "If the server is currently processing a Connect request for this allocation with the same
    // XOR-PEER-ADDRESS, it MUST return a 446 (Connection Already Exists) error."
    // "If the server has already successfully processed a Connect request for this allocation
    // with the same XOR-PEER-ADDRESS, and the resulting client and peer data connections are
    // either pending or active, it MUST return a 446 (Connection Already Exists) error."
    if (tcp.hasPeer(peer)) return fail(446, 'Connection Already Exists');
    if (tcp.full) return fail(508, 'Insufficient Capacity (connections of this allocation)');
    tcp.connect(
      peer,
      () => this.o.clock.now(),
      (c) => {
        if (c === undefined) {
          // "If the connection attempt fails or times out, the server MUST return a 447
          // (Connection Timeout or Failure) error."
          fail(447, 'Connection Timeout or Failure');
          return;
        }
        // "The server MUST include the CONNECTION-ID attribute in the Connect success response."
        this.answers.signed(src, m, auth, new StunMessageBuilder(StunMethod.Connect, 'success', m.transactionId).addUint32(StunAttr.CONNECTION_ID, c.id));
      },
      this.o.connectTimeoutMs,
    );
  }

  /**
   * RFC 6062 §5.3: "When a server receives an incoming TCP connection on a relayed transport
   * address [...] If no permission for this peer has been installed for this allocation, the
   * server MUST close the connection with the peer immediately after it has been accepted.
   * Otherwise, the server sends a ConnectionAttempt indication to the client over the control
   * connection. The indication MUST include an XOR-PEER-ADDRESS attribute containing the peer's
   * transport address, as well as a CONNECTION-ID attribute uniquely identifying the peer data
   * connection." The peer policy is asked too (a permission may predate a change of it).
   */
  peerConnected(a: Allocation, tcp: TcpRelay, socket: Socket): void {
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    const now = this.o.clock.now();
    const verdict = address === undefined ? undefined : this.o.peers.check(address);
    if (port === undefined || verdict === undefined || !verdict.ok || !a.permissions.has(verdict.address, now)) {
      this.stats.relayDropped++;
      socket.destroy();
      return;
    }
    const family = verdict.address.includes(':') ? 6 : 4;
    const peer = { family, address: verdict.address, port } as const;
    if (tcp.hasPeer(peer) || tcp.full) {
      this.stats.relayDropped++;
      socket.destroy();
      return;
    }
    const c = tcp.accepted(socket, peer, now);
    const t = a.fiveTuple;
    const indication = new StunMessageBuilder(StunMethod.ConnectionAttempt, 'indication', randomBytesFromPool(12))
      .addXorAddress(StunAttr.XOR_PEER_ADDRESS, peer)
      .addUint32(StunAttr.CONNECTION_ID, c.id)
      .build();
    t.listener.send(indication, t.clientPort, t.clientAddress);
  }

  /**
   * RFC 6062 §5.4, a ConnectionBind request on a new client connection (no allocation on its
   * 5-tuple). Authenticated with the allocation's key (RFC 6062 §4.4: the client authenticates it
   * "using the same credentials" as the allocation; another USERNAME, USERHASH or password
   * algorithm: 441).
   */
  connectionBind(src: Source, m: StunMessage): void {
    // "If the client connection transport is not TCP or TLS, the server MUST return a 400 (Bad
    // Request) error."
    if (src.listener.stream !== true || src.listener.dataConnection === undefined) {
      this.answers.unauthenticatedError(src, m, [400, 'ConnectionBind needs a TCP or TLS connection']);
      return;
    }
    const pre = this.auth.precheck(src, m);
    if (pre === undefined) return;
    // "If the request does not contain the CONNECTION-ID attribute, or if this attribute does not
    // refer to an existing pending connection, the server MUST return a 400 (Bad Request) error."
    const idAttr = m.get(StunAttr.CONNECTION_ID);
    const id = idAttr !== undefined && idAttr.value.length === 4 ? new DataView(idAttr.value.buffer, idAttr.value.byteOffset, 4).getUint32(0) : undefined;
    const c = id === undefined ? undefined : this.ids.get(id);
    const a = c?.relay.owner;
    if (c === undefined || c.state !== 'pending' || a === undefined) {
      this.answers.unauthenticatedError(src, m, [400, 'No pending connection with this CONNECTION-ID']);
      return;
    }
    // the same user (USERNAME or USERHASH) and password algorithm as the allocation (authentication.ts)
    const auth = this.auth.verifyForAllocation(src, m, pre, a);
    if (auth === undefined) return;
    this.answers.signed(src, m, auth, new StunMessageBuilder(StunMethod.ConnectionBind, 'success', m.transactionId));
    // "Otherwise, the client connection is now called a client data connection": no more STUN
    // framing on it, its bytes go to the peer as they are (tcp-relay.ts bind)
    c.relay.bind(c, src.listener.dataConnection());
  }
}
