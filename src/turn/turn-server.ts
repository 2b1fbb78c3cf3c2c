/**
 * The TURN server (RFC 8656) over a STUN server (RFC 8489): what a client's datagram does, and
 * what a peer's datagram does. Sockets, configuration and credentials come from outside
 * (src/app/turn-worker.ts wires them); this class only decides.
 *
 *   client ──UDP──▶ listener ─▶ receive():  ChannelData  → relay-path.ts: its channel's peer
 *                                            STUN request → Binding, Allocate, Refresh,
 *                                                           CreatePermission, ChannelBind (here)
 *                                            Send indication → relay-path.ts: the peer
 *   peer ──UDP──▶ relay socket ─▶ relay-path.ts fromPeer(): ChannelData or Data indication
 *
 * Requests are authenticated by authentication.ts, answered through answers.ts; the peer of a
 * request is checked by peer-address.ts.
 */
import type { Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import { randomBytesFromPool } from '../lib/random-pool.js';
import { StunAttr, StunMessageBuilder, StunMethod, parseStunMessage, unknownComprehensionRequired, type StunAttribute, type StunMessage, type TransportAddress } from '../stun/index.js';
import { Allocation, type AllocationInfo } from './allocation.js';
import { AllocationTable } from './allocation-table.js';
import { Answers, type Authenticated, type ErrorAnswer, type Source } from './answers.js';
import { RequestAuthentication, type AuthFailureLimit, type Precheck } from './authentication.js';
import { MAX_CHANNEL, MIN_CHANNEL, peerKey } from './channels.js';
import { fiveTuple, fiveTupleKey, type FiveTuple, type TurnListener } from './five-tuple.js';
import type { NonceIssuer } from './nonce.js';
import { checkPeerAddress, isErrorAnswer, type PeerCheck } from './peer-address.js';
import type { RelayPorts, RelaySocket } from './relay-ports.js';
import { RelayPath } from './relay-path.js';
import { AllocationQuotas, type QuotaLease } from './quotas.js';
import { newTurnStats, type TurnStats } from './server-stats.js';
import type { TurnCredentials } from './turn-credentials.js';

export type { AuthFailureLimit, PeerCheck, TurnStats };

export interface TurnServerOptions {
  /** REALM of the long-term credentials. */
  readonly realm: string;
  readonly credentials: TurnCredentials;
  readonly peers: PeerCheck;
  readonly relays: RelayPorts;
  /** Addresses given in XOR-RELAYED-ADDRESS instead of the relay socket's (1:1 NAT), per family. */
  readonly externalAddresses?: { readonly 4?: string; readonly 6?: string };
  /** Seconds: the lifetime granted when none or a shorter one is asked, and the longest. */
  readonly lifetime: { readonly default: number; readonly max: number };
  readonly nonces: NonceIssuer;
  /** Most allocations per user (486) and in total (508); 0: no limit. */
  readonly quotas: { readonly perUser: number; readonly total: number };
  /** Bytes per second per allocation, each way; 0: no limit. */
  readonly bandwidth: number;
  readonly limiter?: AuthFailureLimit;
  readonly clock: Clock;
  readonly log?: Logger;
}

/** RFC 8656 §14.7: REQUESTED-TRANSPORT protocol number of UDP. */
const UDP_PROTOCOL = 17;
/** RFC 8656 §7.2: a reserved port is kept "for at least 30 seconds". */
const RESERVATION_MS = 30_000;
/** The request attributes this server understands (RFC 8489 §14, RFC 8656 §18). */
const KNOWN = new Set<number>([
  StunAttr.USERNAME,
  StunAttr.USERHASH,
  StunAttr.PASSWORD_ALGORITHM,
  StunAttr.MESSAGE_INTEGRITY,
  StunAttr.MESSAGE_INTEGRITY_SHA256,
  StunAttr.REALM,
  StunAttr.NONCE,
  StunAttr.LIFETIME,
  StunAttr.REQUESTED_TRANSPORT,
  StunAttr.REQUESTED_ADDRESS_FAMILY,
  StunAttr.EVEN_PORT,
  StunAttr.RESERVATION_TOKEN,
  StunAttr.XOR_PEER_ADDRESS,
  StunAttr.DATA,
  StunAttr.CHANNEL_NUMBER,
  // RFC 8445 §16.1: ICE agents' attributes in Binding requests (Binding needs none of them)
  StunAttr.PRIORITY,
  StunAttr.USE_CANDIDATE,
]);
export class TurnServer {
  readonly stats: TurnStats = newTurnStats();
  private readonly table = new AllocationTable();
  private readonly quotas: AllocationQuotas;
  /** 5-tuples with an Allocate waiting for its credentials (a retransmission meanwhile is dropped). */
  private readonly pending = new Set<string>();
  /** RESERVATION-TOKEN (hex) → the port held for it. */
  private readonly reservations = new Map<string, { readonly socket: RelaySocket; readonly expiresAt: number }>();
  private readonly log: Logger;
  private readonly answers: Answers;
  private readonly auth: RequestAuthentication;
  /** The relay path (relay-path.ts); its `now` is the clock's time at the last tick. */
  private readonly relay: RelayPath;
  private closed = false;

  constructor(private readonly o: TurnServerOptions) {
    this.log = o.log ?? silentLogger;
    this.answers = new Answers(o, this.stats);
    this.auth = new RequestAuthentication(o, this.answers, this.stats);
    this.relay = new RelayPath(this.table, o, this.stats, o.clock.now());
    this.quotas = new AllocationQuotas(o.quotas);
  }

  get allocationCount(): number {
    return this.table.size;
  }

  /** Snapshots of every allocation (counters, user, duration) for the operations API. */
  allocations(): AllocationInfo[] {
    const now = this.o.clock.now();
    return [...this.table.values()].map((a) => a.info(now));
  }

  /**
   * Once a second: expire allocations, permissions, channels and reservations, and take the time
   * the relay path compares expiries with and refills the bandwidth limiters by (it reads no clock).
   */
  tick(): void {
    const now = (this.relay.now = this.o.clock.now());
    for (const a of this.table.values()) {
      if (a.expiresAt <= now) {
        this.release(a);
        this.stats.allocationsExpired++;
        continue;
      }
      a.permissions.sweep(now);
      a.channels.sweep(now);
    }
    for (const [token, r] of this.reservations) {
      if (r.expiresAt <= now) {
        r.socket.close();
        this.reservations.delete(token);
      }
    }
  }

  /** A TCP/TLS connection closed: the allocation on it goes (its 5-tuple is gone). */
  closeConnection(listener: TurnListener, address: string, port: number): void {
    const a = this.table.get(fiveTupleKey(listener, address, port));
    if (a !== undefined) this.release(a);
  }

  /** Release every allocation and reservation (server stop). */
  close(): void {
    this.closed = true;
    for (const a of this.table.values()) this.release(a);
    for (const r of this.reservations.values()) r.socket.close();
    this.reservations.clear();
  }

  /**
   * A datagram (or a message cut from a stream) from a client on one of the listeners. Never
   * throws: a fault in handling one packet is counted and logged, and the thread goes on relaying.
   */
  receive(listener: TurnListener, msg: Uint8Array, address: string, port: number): void {
    try {
      this.receiveOne(listener, msg, address, port);
    } catch (e) {
      this.fault(e);
    }
  }

  private fault(e: unknown): void {
    this.stats.faults++;
    // one line per thousand: a packet that breaks a handler may come in a flood
    if (this.stats.faults % 1000 === 1) this.log.error({ err: e, faults: this.stats.faults }, 'TURN: a packet could not be handled');
  }

  private receiveOne(listener: TurnListener, msg: Uint8Array, address: string, port: number): void {
    const first = msg[0]!;
    // RFC 7983 §7: 64-79 is a TURN channel, 0-3 STUN; nothing else is for a TURN server
    // (0x50-0x7F too: channels of RFC 5766's range, see MAX_CHANNEL)
    if (first >= 0x40 && first <= 0x7f) {
      this.relay.channelDataFromClient(listener, msg, address, port);
      return;
    }
    if (first > 3) {
      this.stats.dropped++;
      return;
    }
    const parsed = parseStunMessage(msg);
    // RFC 8489 §6.3: a message that is not valid STUN is silently discarded
    if (!parsed.ok) {
      this.stats.dropped++;
      return;
    }
    const m = parsed.value;
    const src: Source = { listener, address, port };
    if (m.class === 'indication') {
      if (m.method === StunMethod.Send) this.relay.sendIndication(src, m);
      else this.stats.dropped++;
      return;
    }
    if (m.class !== 'request') {
      this.stats.dropped++;
      return;
    }
    this.stats.requests++;
    switch (m.method) {
      case StunMethod.Binding:
        this.binding(src, m);
        return;
      case StunMethod.Allocate:
        void this.allocate(src, m).catch((e: unknown) => this.log.error({ err: e }, 'TURN Allocate failed'));
        return;
      case StunMethod.Refresh:
      case StunMethod.CreatePermission:
      case StunMethod.ChannelBind:
        this.onAllocation(src, m);
        return;
      default:
        // RFC 8489 §6.3.1: "If the request is for an unknown method [...] 400 (Bad Request)";
        // RFC 6062 Connect and ConnectionBind need a TCP allocation, which this server does not make
        this.answers.unauthenticatedError(src, m, [400, m.method === StunMethod.Connect || m.method === StunMethod.ConnectionBind ? 'TCP relaying is not supported' : 'Unknown method']);
    }
  }

  // --- Binding (RFC 8489 §6.3.1) --------------------------------------------------------------

  /**
   * "If the request is a Binding request, the server [...] MUST add an XOR-MAPPED-ADDRESS
   * attribute to the response", the source transport address of the request. No credentials:
   * the answer is 32 bytes for IPv4 and 44 for IPv6 (+8 with FINGERPRINT when the request had it).
   */
  private binding(src: Source, m: StunMessage): void {
    const b = new StunMessageBuilder(StunMethod.Binding, 'success', m.transactionId).addXorAddress(StunAttr.XOR_MAPPED_ADDRESS, addressOf(src.address, src.port));
    if (m.get(StunAttr.FINGERPRINT) !== undefined) b.addFingerprint();
    src.listener.send(b.build(), src.port, src.address);
  }

  // --- Allocate (RFC 8656 §7.2) -----------------------------------------------------------------

  private async allocate(src: Source, m: StunMessage): Promise<void> {
    const tuple = fiveTuple(src.listener, src.address, src.port);
    if (this.pending.has(tuple.key)) return;
    // 2. "The server checks if the 5-tuple is currently in use by an existing allocation. If yes,
    //    the server rejects the request with a 437 (Allocation Mismatch) error." A retransmission
    //    of the Allocate that made it gets the same success again (RFC 8656 §7.2, last paragraph).
    const existing = this.table.get(tuple.key);
    if (existing !== undefined) {
      if (existing.allocateTransaction === hex(m.transactionId)) src.listener.send(existing.allocateResponse, src.port, src.address);
      else this.answers.authenticatedError(src, m, undefined, [437, 'Allocation Mismatch']);
      return;
    }
    // 1. "The server MUST require that the request be authenticated [...] using the long-term
    //    credential mechanism"
    const pre = this.auth.precheck(src, m);
    if (pre === undefined) return;
    // one Allocate at a time per 5-tuple: a retransmission that comes while the first waits for
    // its key or its port is dropped, and the next one gets the stored success
    this.pending.add(tuple.key);
    try {
      await this.allocateAuthenticated(src, m, tuple, pre);
    } finally {
      this.pending.delete(tuple.key);
    }
  }

  private async allocateAuthenticated(src: Source, m: StunMessage, tuple: FiveTuple, pre: Precheck): Promise<void> {
    const { username, found } = await this.auth.lookUp(pre);
    const auth = this.auth.verify(src, m, pre, username, found);
    if (auth === undefined || this.closed) return;
    const unknown = unknownComprehensionRequired(m, KNOWN);
    if (unknown.length > 0) {
      this.answers.unknownAttributes(src, m, auth, unknown);
      return;
    }
    const fail = (e: ErrorAnswer): void => this.answers.authenticatedError(src, m, auth, e);

    // 3. "The server checks if the request contains a REQUESTED-TRANSPORT attribute. If the
    //    REQUESTED-TRANSPORT attribute is not included or is malformed, the server rejects the
    //    request with a 400 (Bad Request) error. Otherwise, if the attribute indicates an
    //    unsupported transport protocol, the server rejects the request with a 442"
    const transport = m.get(StunAttr.REQUESTED_TRANSPORT);
    if (transport === undefined || transport.value.length !== 4) return fail([400, 'Missing or malformed REQUESTED-TRANSPORT']);
    if (transport.value[0] !== UDP_PROTOCOL) return fail([442, 'Unsupported Transport Protocol']);
    // 4. DONT-FRAGMENT: "If the server does not support sending UDP datagrams with the DF bit set
    //    to 1 [...], then the server treats the DONT-FRAGMENT attribute in the Allocate request as
    //    an unknown comprehension-required attribute." Node cannot set DF per socket.
    if (m.get(StunAttr.DONT_FRAGMENT) !== undefined) {
      this.answers.unknownAttributes(src, m, auth, [StunAttr.DONT_FRAGMENT]);
      return;
    }
    const token = m.get(StunAttr.RESERVATION_TOKEN);
    const evenPort = m.get(StunAttr.EVEN_PORT);
    const familyAttr = m.get(StunAttr.REQUESTED_ADDRESS_FAMILY);
    // 5. "If the request contains a RESERVATION-TOKEN [...] and the request also contains an
    //    EVEN-PORT attribute or a REQUESTED-ADDRESS-FAMILY [...], reject with 400"
    if (token !== undefined && (evenPort !== undefined || familyAttr !== undefined)) return fail([400, 'RESERVATION-TOKEN with EVEN-PORT or REQUESTED-ADDRESS-FAMILY']);
    // RFC 8656 §7.2: without REQUESTED-ADDRESS-FAMILY, "the server MUST allocate an IPv4 relayed
    // transport address"
    let family: 4 | 6 = 4;
    if (familyAttr !== undefined) {
      // RFC 8656 §14.8: 0x01 IPv4, 0x02 IPv6; anything else: 440
      const f = familyAttr.value.length === 4 ? familyAttr.value[0] : undefined;
      if (f === 0x01) family = 4;
      else if (f === 0x02) family = 6;
      else return fail([440, 'Address Family not Supported']);
    }
    if (token === undefined && !this.o.relays.supports(family)) return fail([440, 'Address Family not Supported']);
    // 7. quotas: "the server rejects the request with a 486 (Allocation Quota Reached) error"
    // (this user), 508 for the server's total (quotas.ts)
    const lease = this.quotas.acquire(auth.user);
    if (!lease.ok) return fail([lease.error.code, lease.error.code === 486 ? 'Allocation Quota Reached' : 'Insufficient Capacity']);
    let done = false;
    try {
      done = await this.makeAllocation(src, m, auth, tuple, family, token, evenPort, lease.value);
    } finally {
      if (!done) lease.value.release();
    }
  }

  /** Steps 5, 6 and the success of RFC 8656 §7.2; true when the allocation was made. */
  private async makeAllocation(
    src: Source,
    m: StunMessage,
    auth: Authenticated,
    tuple: FiveTuple,
    family: 4 | 6,
    token: StunAttribute | undefined,
    evenPort: StunAttribute | undefined,
    lease: QuotaLease,
  ): Promise<boolean> {
    const fail = (e: ErrorAnswer): false => {
      this.answers.authenticatedError(src, m, auth, e);
      return false;
    };

    let relay: RelaySocket | undefined;
    let reserved: { readonly token: Uint8Array; readonly socket: RelaySocket } | undefined;
    if (token !== undefined) {
      // 5. "[...] checks that the RESERVATION-TOKEN is valid [...]; if the token is not valid for
      //    some reason, the server rejects the request with a 508 (Insufficient Capacity) error"
      const r = token.value.length === 8 ? this.reservations.get(hex(token.value)) : undefined;
      if (r === undefined) return fail([508, 'Insufficient Capacity (unknown RESERVATION-TOKEN)']);
      this.reservations.delete(hex(token.value));
      relay = r.socket;
    } else {
      // 6. EVEN-PORT: "the server checks that it can satisfy the request (i.e., can allocate a
      //    relayed transport address as described below). If the server cannot satisfy the
      //    request, then the server rejects the request with a 508 (Insufficient Capacity) error."
      const even = evenPort !== undefined;
      const reserve = even && evenPort.value.length >= 1 && (evenPort.value[0]! & 0x80) !== 0;
      const opened = await this.o.relays.open(family, even, reserve);
      if (opened === undefined) return fail([508, 'Insufficient Capacity']);
      relay = opened.socket;
      if (opened.next !== undefined) reserved = { token: new Uint8Array(randomBytesFromPool(8)), socket: opened.next };
    }
    if (this.closed || this.table.get(tuple.key) !== undefined) {
      relay.close();
      reserved?.socket.close();
      return false;
    }
    if (reserved !== undefined) this.reservations.set(hex(reserved.token), { socket: reserved.socket, expiresAt: this.o.clock.now() + RESERVATION_MS });

    const lifetime = this.grantedLifetime(m);
    const external = this.o.externalAddresses?.[relay.family];
    const relayed: TransportAddress = { family: relay.family, address: external ?? relay.address, port: relay.port };
    // "the server MUST include [...] XOR-RELAYED-ADDRESS, LIFETIME, [RESERVATION-TOKEN when R
    // was set], XOR-MAPPED-ADDRESS"
    const b = new StunMessageBuilder(StunMethod.Allocate, 'success', m.transactionId)
      .addXorAddress(StunAttr.XOR_RELAYED_ADDRESS, relayed)
      .addUint32(StunAttr.LIFETIME, lifetime)
      .addXorAddress(StunAttr.XOR_MAPPED_ADDRESS, addressOf(src.address, src.port));
    if (reserved !== undefined) b.add(StunAttr.RESERVATION_TOKEN, reserved.token);
    const response = this.answers.sign(b, m, auth);
    const now = this.o.clock.now();
    const a = new Allocation(tuple, auth.username, auth.user, auth.key, relay, relayed, hex(m.transactionId), response, now, now + lifetime * 1000, this.o.bandwidth, lease);
    relay.socket.on('message', (data: Buffer, rinfo: { address: string; port: number }) => {
      try {
        this.relay.fromPeer(a, data, rinfo.address, rinfo.port);
      } catch (e) {
        this.fault(e);
      }
    });
    this.table.add(a);
    this.stats.allocationsMade++;
    this.log.debug({ client: `${src.address}:${src.port}`, relayed: `${relayed.address}:${relayed.port}`, user: auth.user, lifetime }, 'TURN allocation made');
    src.listener.send(response, src.port, src.address);
    return true;
  }

  /**
   * RFC 8656 §7.2: "If the LIFETIME attribute is present, the server uses the minimum of the
   * client-requested value [...] and the server's maximum allowed lifetime. If this computed
   * value is greater than the default lifetime, then the server uses that value; otherwise, it
   * uses the default lifetime."
   */
  private grantedLifetime(m: StunMessage): number {
    const asked = m.get(StunAttr.LIFETIME);
    if (asked === undefined || asked.value.length !== 4) return this.o.lifetime.default;
    const requested = new DataView(asked.value.buffer, asked.value.byteOffset, 4).getUint32(0);
    return Math.max(this.o.lifetime.default, Math.min(requested, this.o.lifetime.max));
  }

  // --- Refresh, CreatePermission, ChannelBind: requests on an allocation ---------------------

  private onAllocation(src: Source, m: StunMessage): void {
    const a = this.table.get(fiveTupleKey(src.listener, src.address, src.port));
    const pre = this.auth.precheck(src, m);
    if (pre === undefined) return;
    // RFC 8656 §7.3, §9.2, §11.2: no allocation on this 5-tuple → 437 (Allocation Mismatch). The
    // request is authenticated first (its key is looked up only for an allocation, and a stranger
    // learns nothing from the code): without an allocation, a request with credentials gets 437.
    if (a === undefined) {
      this.answers.unauthenticatedError(src, m, [437, 'Allocation Mismatch']);
      return;
    }
    // RFC 8656 §5: "the server MUST verify that the USERNAME or USERHASH attribute in the request
    // is the same as the one used to create the allocation. If not, the server MUST reject the
    // request with a 441 (Wrong Credentials) error." (and the same password algorithm: the
    // allocation keeps one key)
    if (!this.auth.sameCredentials(pre, a)) {
      this.answers.unauthenticatedError(src, m, [441, 'Wrong Credentials']);
      return;
    }
    const auth = this.auth.verify(src, m, pre, a.username, { keys: [a.key], user: a.user });
    if (auth === undefined) return;
    const unknown = unknownComprehensionRequired(m, KNOWN);
    if (unknown.length > 0) {
      this.answers.unknownAttributes(src, m, auth, unknown);
      return;
    }
    if (m.method === StunMethod.Refresh) this.refresh(src, m, a, auth);
    else if (m.method === StunMethod.CreatePermission) this.createPermission(src, m, a, auth);
    else this.channelBind(src, m, a, auth);
  }

  /** RFC 8656 §7.3. */
  private refresh(src: Source, m: StunMessage, a: Allocation, auth: Authenticated): void {
    // "If the request contains a REQUESTED-ADDRESS-FAMILY attribute and the attribute value does
    // not match the address family of the allocation, the server MUST reply with a 443 (Peer
    // Address Family Mismatch) error response."
    const familyAttr = m.get(StunAttr.REQUESTED_ADDRESS_FAMILY);
    if (familyAttr !== undefined && familyAttr.value[0] !== (a.family === 4 ? 0x01 : 0x02)) {
      this.answers.authenticatedError(src, m, auth, [443, 'Peer Address Family Mismatch']);
      return;
    }
    const asked = m.get(StunAttr.LIFETIME);
    const zero = asked !== undefined && asked.value.length === 4 && new DataView(asked.value.buffer, asked.value.byteOffset, 4).getUint32(0) === 0;
    // "If the requested lifetime is zero, then the server MUST immediately delete the allocation"
    const lifetime = zero ? 0 : this.grantedLifetime(m);
    if (zero) this.release(a);
    else a.expiresAt = this.o.clock.now() + lifetime * 1000;
    const b = new StunMessageBuilder(StunMethod.Refresh, 'success', m.transactionId).addUint32(StunAttr.LIFETIME, lifetime);
    src.listener.send(this.answers.sign(b, m, auth), src.port, src.address);
  }

  /** RFC 8656 §9.2: every XOR-PEER-ADDRESS checked, then all installed (or none). */
  private createPermission(src: Source, m: StunMessage, a: Allocation, auth: Authenticated): void {
    const peers: string[] = [];
    for (const attr of m.attributes) {
      if (attr.type !== StunAttr.XOR_PEER_ADDRESS) continue;
      const peer = checkPeerAddress(this.o.peers, this.log, m, attr, a.family);
      if (isErrorAnswer(peer)) {
        this.answers.authenticatedError(src, m, auth, peer);
        return;
      }
      peers.push(peer.address);
    }
    // "The CreatePermission request MUST contain at least one XOR-PEER-ADDRESS attribute"
    if (peers.length === 0) {
      this.answers.authenticatedError(src, m, auth, [400, 'Missing XOR-PEER-ADDRESS']);
      return;
    }
    const now = this.o.clock.now();
    for (const p of peers) a.permissions.install(p, now);
    src.listener.send(this.answers.sign(new StunMessageBuilder(StunMethod.CreatePermission, 'success', m.transactionId), m, auth), src.port, src.address);
  }

  /** RFC 8656 §11.2. */
  private channelBind(src: Source, m: StunMessage, a: Allocation, auth: Authenticated): void {
    const fail = (e: ErrorAnswer): void => this.answers.authenticatedError(src, m, auth, e);
    const channelAttr = m.get(StunAttr.CHANNEL_NUMBER);
    const peerAttr = m.get(StunAttr.XOR_PEER_ADDRESS);
    // "The request contains both a CHANNEL-NUMBER and an XOR-PEER-ADDRESS attribute"; "The
    // channel number is in the range 0x4000 through 0x4FFF (inclusive)" — else 400
    if (channelAttr === undefined || channelAttr.value.length !== 4 || peerAttr === undefined) return fail([400, 'Missing CHANNEL-NUMBER or XOR-PEER-ADDRESS']);
    const number = (channelAttr.value[0]! << 8) | channelAttr.value[1]!;
    if (number < MIN_CHANNEL || number > MAX_CHANNEL) return fail([400, 'Channel number out of range']);
    const peer = checkPeerAddress(this.o.peers, this.log, m, peerAttr, a.family);
    if (isErrorAnswer(peer)) return fail(peer);
    const p = peer;
    const now = this.o.clock.now();
    const outcome = a.channels.bind(number, p, peerKey(p.address, p.port), now);
    if (outcome === 'number-in-use') return fail([400, 'Channel bound to another peer']);
    if (outcome === 'peer-in-use') return fail([400, 'Peer bound to another channel']);
    // "the server MUST install or refresh a permission for the IP address contained in the
    // XOR-PEER-ADDRESS attribute"
    a.permissions.install(p.address, now);
    src.listener.send(this.answers.sign(new StunMessageBuilder(StunMethod.ChannelBind, 'success', m.transactionId), m, auth), src.port, src.address);
  }

  private release(a: Allocation): void {
    if (!this.table.delete(a)) return;
    a.lease.release();
    a.relay.socket.removeAllListeners('message');
    a.relay.close();
    this.log.debug({ client: `${a.fiveTuple.clientAddress}:${a.fiveTuple.clientPort}`, user: a.user, ...a.counters }, 'TURN allocation released');
  }
}

function addressOf(address: string, port: number): TransportAddress {
  return { family: address.includes(':') ? 6 : 4, address, port };
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export type { FiveTuple, TurnListener };
