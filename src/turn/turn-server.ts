/**
 * The TURN server (RFC 8656) over a STUN server (RFC 8489): what a client's datagram does, and
 * what a peer's datagram does. Sockets, configuration and credentials come from outside
 * (src/app/turn-worker.ts wires them); this class only decides.
 *
 *   client ──UDP──▶ listener ─▶ receive():  ChannelData  → its channel's peer, through the relay socket
 *                                            STUN request → Binding, Allocate, Refresh,
 *                                                           CreatePermission, ChannelBind
 *                                            Send indication → the peer, through the relay socket
 *   peer ──UDP──▶ relay socket ─▶ fromPeer(): permission? → ChannelData (bound channel) or Data indication
 *
 * The relay path per packet is one receive and one send, a Map lookup for the allocation by
 * 5-tuple and one for the channel or the peer, and no parse beyond the 4-byte ChannelData header
 * (a Send indication is a STUN message, parsed as one).
 */
import type { Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import { randomBytesFromPool } from '../lib/random-pool.js';
import {
  parseStunMessage,
  readXorAddress,
  StunAttr,
  StunMessageBuilder,
  StunMethod,
  unknownComprehensionRequired,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
  type StunAttribute,
  type StunMessage,
  type TransportAddress,
} from '../stun/index.js';
import { Allocation, type AllocationInfo } from './allocation.js';
import { AllocationTable } from './allocation-table.js';
import { MAX_CHANNEL, MIN_CHANNEL, peerKey } from './channels.js';
import { fiveTuple, fiveTupleKey, type FiveTuple, type TurnListener } from './five-tuple.js';
import type { NonceIssuer } from './nonce.js';
import type { PeerVerdict } from './peer-policy.js';
import type { RelayPorts, RelaySocket } from './relay-ports.js';
import { AllocationQuotas, type QuotaLease } from './quotas.js';
import type { TurnCredentials, TurnKeys } from './turn-credentials.js';

/** The peer-address check (peer-policy.ts's PeerPolicy). */
export interface PeerCheck {
  check(address: string): PeerVerdict;
}

/** Failed authentications per source (SIP's FailureLimiter fits). */
export interface AuthFailureLimit {
  isBlocked(address: string): boolean;
  recordFailure(address: string): unknown;
}

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
  readonly quotas: { readonly perUser: number; readonly perSource?: number; readonly total: number };
  /** Bytes per second per allocation, each way; 0: no limit. */
  readonly bandwidth: number;
  readonly limiter?: AuthFailureLimit;
  readonly clock: Clock;
  readonly log?: Logger;
}

/** Zeros for the padding of ChannelData over streams. */
const PADDING = new Uint8Array(3);
/** RFC 8656 §14.7: REQUESTED-TRANSPORT protocol number of UDP. */
const UDP_PROTOCOL = 17;
/** RFC 8656 §7.2: a reserved port is kept "for at least 30 seconds". */
const RESERVATION_MS = 30_000;
/** The request attributes this server understands (RFC 8489 §14, RFC 8656 §18). */
const KNOWN = new Set<number>([
  StunAttr.USERNAME,
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

/** Where a datagram came from: the listener it reached and the client's address. */
interface Source {
  readonly listener: TurnListener;
  readonly address: string;
  readonly port: number;
}

/** A request that passed the long-term credential check. */
interface Authenticated {
  readonly key: Uint8Array;
  readonly username: string;
  readonly user: string;
  /** The request was signed with MESSAGE-INTEGRITY-SHA256: so is the response. */
  readonly sha256: boolean;
}

/** Counters of the whole server, for the stats line. */
export interface TurnStats {
  requests: number;
  /** Datagrams dropped: malformed, not STUN nor ChannelData, responses, from blocked sources. */
  dropped: number;
  /** Answers to unauthenticated requests not sent because they were larger than the request. */
  amplificationDrops: number;
  /** Packets of allocations not relayed: no permission or channel, peer denied, over the bandwidth limit. */
  relayDropped: number;
  /** Packets whose handling threw (a bug): counted, logged now and then, and the thread goes on. */
  faults: number;
  allocationsMade: number;
  allocationsExpired: number;
  /** Error responses sent, by code. */
  errors: Record<number, number>;
}

type ErrorAnswer = readonly [code: number, reason: string];

export class TurnServer {
  readonly stats: TurnStats = { requests: 0, dropped: 0, amplificationDrops: 0, relayDropped: 0, faults: 0, allocationsMade: 0, allocationsExpired: 0, errors: {} };
  private readonly table = new AllocationTable();
  private readonly quotas: AllocationQuotas;
  /** 5-tuples with an Allocate waiting for its credentials (a retransmission meanwhile is dropped). */
  private readonly pending = new Set<string>();
  /** RESERVATION-TOKEN (hex) → the port held for it. */
  private readonly reservations = new Map<string, { readonly socket: RelaySocket; readonly expiresAt: number }>();
  private readonly log: Logger;
  /** The clock's time at the last tick: what the relay path compares expiries with. */
  private now: number;
  private closed = false;

  constructor(private readonly o: TurnServerOptions) {
    this.log = o.log ?? silentLogger;
    this.now = o.clock.now();
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
    const now = (this.now = this.o.clock.now());
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
      this.channelDataFromClient(listener, msg, address, port);
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
      if (m.method === StunMethod.Send) this.sendIndication(src, m);
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
        this.unauthenticatedError(src, m, [400, m.method === StunMethod.Connect || m.method === StunMethod.ConnectionBind ? 'TCP relaying is not supported' : 'Unknown method']);
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
      else this.authenticatedError(src, m, undefined, [437, 'Allocation Mismatch']);
      return;
    }
    // 1. "The server MUST require that the request be authenticated [...] using the long-term
    //    credential mechanism"
    const pre = this.precheck(src, m);
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

  private async allocateAuthenticated(src: Source, m: StunMessage, tuple: FiveTuple, pre: { readonly username: string }): Promise<void> {
    const auth = this.verify(src, m, pre, await this.o.credentials.keys(pre.username, this.o.realm));
    if (auth === undefined || this.closed) return;
    const unknown = unknownComprehensionRequired(m, KNOWN);
    if (unknown.length > 0) {
      this.unknownAttributes(src, m, auth, unknown);
      return;
    }
    const fail = (e: ErrorAnswer): void => this.authenticatedError(src, m, auth, e);

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
      this.unknownAttributes(src, m, auth, [StunAttr.DONT_FRAGMENT]);
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
    // (this user, or this source), 508 for the server's total (quotas.ts)
    const lease = this.quotas.acquire(auth.user, src.address);
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
      this.authenticatedError(src, m, auth, e);
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
    const response = this.sign(b, m, auth);
    const now = this.o.clock.now();
    const a = new Allocation(tuple, auth.username, auth.user, auth.key, relay, relayed, hex(m.transactionId), response, now, now + lifetime * 1000, this.o.bandwidth, lease);
    relay.socket.on('message', (data: Buffer, rinfo: { address: string; port: number }) => {
      try {
        this.fromPeer(a, data, rinfo.address, rinfo.port);
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
    const pre = this.precheck(src, m);
    if (pre === undefined) return;
    // RFC 8656 §7.3, §9.2, §11.2: no allocation on this 5-tuple → 437 (Allocation Mismatch). The
    // request is authenticated first (its key is looked up only for an allocation, and a stranger
    // learns nothing from the code): without an allocation, a request with credentials gets 437.
    if (a === undefined) {
      this.unauthenticatedError(src, m, [437, 'Allocation Mismatch']);
      return;
    }
    // RFC 8656 §5: "the server MUST verify that the USERNAME [...] is the same as the one used to
    // create the allocation; if not, 441 (Wrong Credentials)"
    if (pre.username !== a.username) {
      this.unauthenticatedError(src, m, [441, 'Wrong Credentials']);
      return;
    }
    const auth = this.verify(src, m, pre, { keys: [a.key], user: a.user });
    if (auth === undefined) return;
    const unknown = unknownComprehensionRequired(m, KNOWN);
    if (unknown.length > 0) {
      this.unknownAttributes(src, m, auth, unknown);
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
      this.authenticatedError(src, m, auth, [443, 'Peer Address Family Mismatch']);
      return;
    }
    const asked = m.get(StunAttr.LIFETIME);
    const zero = asked !== undefined && asked.value.length === 4 && new DataView(asked.value.buffer, asked.value.byteOffset, 4).getUint32(0) === 0;
    // "If the requested lifetime is zero, then the server MUST immediately delete the allocation"
    const lifetime = zero ? 0 : this.grantedLifetime(m);
    if (zero) this.release(a);
    else a.expiresAt = this.o.clock.now() + lifetime * 1000;
    const b = new StunMessageBuilder(StunMethod.Refresh, 'success', m.transactionId).addUint32(StunAttr.LIFETIME, lifetime);
    src.listener.send(this.sign(b, m, auth), src.port, src.address);
  }

  /** RFC 8656 §9.2: every XOR-PEER-ADDRESS checked, then all installed (or none). */
  private createPermission(src: Source, m: StunMessage, a: Allocation, auth: Authenticated): void {
    const peers: string[] = [];
    for (const attr of m.attributes) {
      if (attr.type !== StunAttr.XOR_PEER_ADDRESS) continue;
      const peer = this.checkPeer(m, attr, a);
      if (Array.isArray(peer)) {
        this.authenticatedError(src, m, auth, peer as ErrorAnswer);
        return;
      }
      peers.push((peer as TransportAddress).address);
    }
    // "The CreatePermission request MUST contain at least one XOR-PEER-ADDRESS attribute"
    if (peers.length === 0) {
      this.authenticatedError(src, m, auth, [400, 'Missing XOR-PEER-ADDRESS']);
      return;
    }
    const now = this.o.clock.now();
    for (const p of peers) a.permissions.install(p, now);
    src.listener.send(this.sign(new StunMessageBuilder(StunMethod.CreatePermission, 'success', m.transactionId), m, auth), src.port, src.address);
  }

  /** RFC 8656 §11.2. */
  private channelBind(src: Source, m: StunMessage, a: Allocation, auth: Authenticated): void {
    const fail = (e: ErrorAnswer): void => this.authenticatedError(src, m, auth, e);
    const channelAttr = m.get(StunAttr.CHANNEL_NUMBER);
    const peerAttr = m.get(StunAttr.XOR_PEER_ADDRESS);
    // "The request contains both a CHANNEL-NUMBER and an XOR-PEER-ADDRESS attribute"; "The
    // channel number is in the range 0x4000 through 0x4FFF (inclusive)" — else 400
    if (channelAttr === undefined || channelAttr.value.length !== 4 || peerAttr === undefined) return fail([400, 'Missing CHANNEL-NUMBER or XOR-PEER-ADDRESS']);
    const number = (channelAttr.value[0]! << 8) | channelAttr.value[1]!;
    if (number < MIN_CHANNEL || number > MAX_CHANNEL) return fail([400, 'Channel number out of range']);
    const peer = this.checkPeer(m, peerAttr, a);
    if (Array.isArray(peer)) return fail(peer as ErrorAnswer);
    const p = peer as TransportAddress;
    const now = this.o.clock.now();
    const outcome = a.channels.bind(number, p, peerKey(p.address, p.port), now);
    if (outcome === 'number-in-use') return fail([400, 'Channel bound to another peer']);
    if (outcome === 'peer-in-use') return fail([400, 'Peer bound to another channel']);
    // "the server MUST install or refresh a permission for the IP address contained in the
    // XOR-PEER-ADDRESS attribute"
    a.permissions.install(p.address, now);
    src.listener.send(this.sign(new StunMessageBuilder(StunMethod.ChannelBind, 'success', m.transactionId), m, auth), src.port, src.address);
  }

  /**
   * An XOR-PEER-ADDRESS read, its family checked against the allocation's (443), and the peer
   * policy's verdict on its canonical form (403): the peer in canonical form, or the error.
   */
  private checkPeer(m: StunMessage, attr: StunMessage['attributes'][number], a: Allocation): TransportAddress | ErrorAnswer {
    const read = readXorAddress(attr, m.transactionId);
    if (!read.ok) return [400, 'Malformed XOR-PEER-ADDRESS'];
    const peer = read.value;
    // RFC 8656 §9.2: "If the XOR-PEER-ADDRESS attribute contains an address of an address family
    // that is not the same as that of a relayed transport address for the allocation, the server
    // MUST generate an error response with the 443 (Peer Address Family Mismatch) response code."
    if (peer.family !== a.family) return [443, 'Peer Address Family Mismatch'];
    const verdict = this.o.peers.check(peer.address);
    if (!verdict.ok) {
      this.log.debug({ peer: peer.address, canonical: verdict.address, reason: verdict.reason }, 'TURN peer denied');
      return [403, 'Forbidden'];
    }
    // ::ffff:a.b.c.d on an IPv6 allocation is an IPv4 peer: not reachable from an IPv6 relay
    if ((verdict.address.includes(':') ? 6 : 4) !== a.family) return [443, 'Peer Address Family Mismatch'];
    return { family: peer.family, address: verdict.address, port: peer.port };
  }

  // --- The relay path ----------------------------------------------------------------------------

  /**
   * RFC 8656 §10.2, a Send indication: "If the [XOR-PEER-ADDRESS or DATA] attribute is missing or
   * invalid, the server MUST discard the indication"; "the server MUST check that there is a
   * permission installed for the IP address contained in the XOR-PEER-ADDRESS attribute. If no
   * such permission exists, the message is discarded." The peer policy is asked again: a
   * permission may predate a change of the policy, and the check is a few comparisons.
   */
  private sendIndication(src: Source, m: StunMessage): void {
    const a = this.table.get(fiveTupleKey(src.listener, src.address, src.port));
    const peerAttr = m.get(StunAttr.XOR_PEER_ADDRESS);
    const data = m.get(StunAttr.DATA);
    if (a === undefined || peerAttr === undefined || data === undefined) {
      this.stats.dropped++;
      return;
    }
    const read = readXorAddress(peerAttr, m.transactionId);
    if (!read.ok || read.value.family !== a.family) {
      a.counters.dropped++;
      this.stats.relayDropped++;
      return;
    }
    const verdict = this.o.peers.check(read.value.address);
    if (!verdict.ok || !a.permissions.has(verdict.address, this.now) || !a.mayRelayToPeer(data.value.length, this.now)) {
      a.counters.dropped++;
      this.stats.relayDropped++;
      return;
    }
    a.counters.bytesToPeer += data.value.length;
    a.counters.packetsToPeer++;
    a.relay.socket.send(data.value, read.value.port, verdict.address);
  }

  /**
   * RFC 8656 §12.5 (server side of ChannelData): "If the ChannelData message is received on a
   * channel that is not bound to any peer, then the message is silently discarded"; over UDP a
   * datagram shorter than the length it claims is discarded too.
   */
  private channelDataFromClient(listener: TurnListener, msg: Uint8Array, address: string, port: number): void {
    const a = this.table.get(fiveTupleKey(listener, address, port));
    if (a === undefined || msg.length < 4) {
      this.stats.dropped++;
      return;
    }
    const length = (msg[2]! << 8) | msg[3]!;
    const binding = a.channels.byChannel((msg[0]! << 8) | msg[1]!, this.now);
    if (binding === undefined || 4 + length > msg.length || !a.permissions.has(binding.peer.address, this.now) || !a.mayRelayToPeer(length, this.now)) {
      a.counters.dropped++;
      this.stats.relayDropped++;
      return;
    }
    a.counters.bytesToPeer += length;
    a.counters.packetsToPeer++;
    a.relay.socket.send(msg.subarray(4, 4 + length), binding.peer.port, binding.peer.address);
  }

  /**
   * RFC 8656 §10.3 and §12.7: data from a peer is relayed only with a permission for its IP
   * address; as ChannelData when a channel is bound to the peer's transport address, else in a
   * Data indication (XOR-PEER-ADDRESS, DATA).
   */
  private fromPeer(a: Allocation, data: Buffer, address: string, port: number): void {
    if (!a.permissions.has(address, this.now) || !a.mayRelayFromPeer(data.length, this.now)) {
      a.counters.dropped++;
      this.stats.relayDropped++;
      return;
    }
    a.counters.bytesFromPeer += data.length;
    a.counters.packetsFromPeer++;
    const t = a.fiveTuple;
    const binding = a.channels.forPeer(peerKey(address, port), this.now);
    if (binding !== undefined) {
      // RFC 8656 §12.4: channel number and length in front; over UDP no padding, over TCP and TLS
      // "the ChannelData message MUST be padded to a multiple of four bytes"
      const header = Buffer.allocUnsafe(4);
      header.writeUInt16BE(binding.number, 0);
      header.writeUInt16BE(data.length, 2);
      const pad = t.listener.stream === true ? (4 - (data.length & 3)) & 3 : 0;
      t.listener.send(pad === 0 ? [header, data] : [header, data, PADDING.subarray(0, pad)], t.clientPort, t.clientAddress);
      return;
    }
    // header, XOR-PEER-ADDRESS (IPv6: 24 bytes), DATA header and padded data: one buffer, no growth
    const indication = new StunMessageBuilder(StunMethod.Data, 'indication', randomBytesFromPool(12), 52 + data.length)
      .addXorAddress(StunAttr.XOR_PEER_ADDRESS, { family: a.family, address, port })
      .add(StunAttr.DATA, data)
      .build();
    t.listener.send(indication, t.clientPort, t.clientAddress);
  }

  // --- Long-term credentials (RFC 8489 §9.2.4) --------------------------------------------------

  /**
   * The checks before any key is looked up. Returns the USERNAME when the request may go on;
   * otherwise it has been answered (401 without credentials, 400 when some are missing, 438 for
   * a stale nonce) or dropped (a blocked source).
   */
  private precheck(src: Source, m: StunMessage): { readonly username: string } | undefined {
    if (this.o.limiter?.isBlocked(src.address) === true) {
      this.stats.dropped++;
      return undefined;
    }
    // "If the message does not contain a MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 attribute,
    // the server MUST generate an error response with an error code of 401 (Unauthenticated).
    // This response MUST include a REALM value [...] [and] a NONCE"
    if (m.get(StunAttr.MESSAGE_INTEGRITY) === undefined && m.get(StunAttr.MESSAGE_INTEGRITY_SHA256) === undefined) {
      this.challenge(src, m, 401, 'Unauthorized');
      return undefined;
    }
    // "If the message contains a MESSAGE-INTEGRITY or a MESSAGE-INTEGRITY-SHA256 attribute, but
    // is missing either the USERNAME or USERHASH, REALM, or NONCE attribute, the server MUST
    // generate an error response with an error code of 400 (Bad Request)."
    const username = m.get(StunAttr.USERNAME);
    const realm = m.get(StunAttr.REALM);
    const nonce = m.get(StunAttr.NONCE);
    if (username === undefined || realm === undefined || nonce === undefined) {
      this.unauthenticatedError(src, m, [400, 'Bad Request']);
      return undefined;
    }
    // "If the NONCE is no longer valid, the server MUST generate an error response with an error
    // code of 438 (Stale Nonce). This response MUST include NONCE, REALM"
    if (this.o.nonces.check(utf8(nonce.value), src.address) !== 'valid') {
      this.challenge(src, m, 438, 'Stale Nonce');
      return undefined;
    }
    return { username: utf8(username.value) };
  }

  /**
   * "Using the password associated with the username in the USERNAME attribute, compute the value
   * for the message integrity [...]. If the resulting value does not match the contents of the
   * corresponding MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 attribute, the server MUST reject
   * the request with an error response. This response MUST use an error code of 401" — and so
   * does an unknown user: the two cannot be told apart from outside. A REALM other than ours is
   * answered the same way (the key is made with ours).
   */
  private verify(src: Source, m: StunMessage, pre: { readonly username: string }, found: TurnKeys | undefined): Authenticated | undefined {
    const sha256 = m.get(StunAttr.MESSAGE_INTEGRITY_SHA256) !== undefined;
    const realm = m.get(StunAttr.REALM);
    let key: Uint8Array | undefined;
    if (found !== undefined && realm !== undefined && utf8(realm.value) === this.o.realm) {
      for (const k of found.keys) {
        if (sha256 ? verifyMessageIntegritySha256(m, k) : verifyMessageIntegrity(m, k)) {
          key = k;
          break;
        }
      }
    }
    if (key === undefined || found === undefined) {
      this.o.limiter?.recordFailure(src.address);
      this.challenge(src, m, 401, 'Unauthorized');
      return undefined;
    }
    return { key, username: pre.username, user: found.user, sha256 };
  }

  /** A 401 or 438 with REALM and a new NONCE (RFC 8489 §9.2.4). */
  private challenge(src: Source, m: StunMessage, code: 401 | 438, reason: string): void {
    const b = new StunMessageBuilder(m.method, 'error', m.transactionId)
      .addErrorCode(code, reason)
      .addString(StunAttr.REALM, this.o.realm)
      .addString(StunAttr.NONCE, this.o.nonces.issue(src.address));
    this.sendUnauthenticated(src, m, b, code, true);
  }

  /**
   * An error to a request not (yet) authenticated: no MESSAGE-INTEGRITY, no SOFTWARE. Never
   * larger than the request (no amplification towards a spoofed source): a larger one is not
   * sent. The 401/438 challenges are the exception (see sendUnauthenticated).
   */
  private unauthenticatedError(src: Source, m: StunMessage, [code, reason]: ErrorAnswer): void {
    this.sendUnauthenticated(src, m, new StunMessageBuilder(m.method, 'error', m.transactionId).addErrorCode(code, reason), code, false);
  }

  private sendUnauthenticated(src: Source, m: StunMessage, b: StunMessageBuilder, code: number, challenge: boolean): void {
    if (m.get(StunAttr.FINGERPRINT) !== undefined) b.addFingerprint();
    const bytes = b.build();
    // DEVIATION(issue 16 "no amplification"): a challenge (401, 438) is sent even when it is
    // larger than the request: its REALM and NONCE are what a client needs to authenticate at
    // all, and turnutils_uclient's first Allocate (60 bytes) or a browser's (28) is smaller than
    // any challenge that carries them. It is at most 20 + 8 + 16 + 4 + realm + 24 (+8) bytes,
    // with no SOFTWARE, and a source that keeps failing is blocked (limiter).
    if (!challenge && bytes.length > m.bytes.length) {
      this.stats.amplificationDrops++;
      return;
    }
    this.countError(code);
    src.listener.send(bytes, src.port, src.address);
  }

  /** An error to an authenticated request: signed with its key (RFC 8489 §9.2.4). */
  private authenticatedError(src: Source, m: StunMessage, auth: Authenticated | undefined, [code, reason]: ErrorAnswer): void {
    if (auth === undefined) {
      this.unauthenticatedError(src, m, [code, reason]);
      return;
    }
    this.countError(code);
    src.listener.send(this.sign(new StunMessageBuilder(m.method, 'error', m.transactionId).addErrorCode(code, reason), m, auth), src.port, src.address);
  }

  /**
   * RFC 8489 §6.3.1: "the server replies with an error response with an error code of 420
   * (Unknown Attribute) and includes an UNKNOWN-ATTRIBUTES attribute in the response that lists
   * the unknown comprehension-required attributes."
   */
  private unknownAttributes(src: Source, m: StunMessage, auth: Authenticated, types: readonly number[]): void {
    const list = new Uint8Array(types.length * 2);
    types.forEach((t, i) => {
      list[2 * i] = t >> 8;
      list[2 * i + 1] = t & 0xff;
    });
    this.countError(420);
    const b = new StunMessageBuilder(m.method, 'error', m.transactionId).addErrorCode(420, 'Unknown Attribute').add(StunAttr.UNKNOWN_ATTRIBUTES, list);
    src.listener.send(this.sign(b, m, auth), src.port, src.address);
  }

  /** MESSAGE-INTEGRITY (or -SHA256, as the request) with the key, then FINGERPRINT when the request had one. */
  private sign(b: StunMessageBuilder, m: StunMessage, auth: Authenticated): Uint8Array {
    if (auth.sha256) b.addMessageIntegritySha256(auth.key);
    else b.addMessageIntegrity(auth.key);
    if (m.get(StunAttr.FINGERPRINT) !== undefined) b.addFingerprint();
    return b.build();
  }

  private countError(code: number): void {
    this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
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

const decoder = new TextDecoder();
function utf8(b: Uint8Array): string {
  return decoder.decode(b);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export type { FiveTuple, TurnListener };
