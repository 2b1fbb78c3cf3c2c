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
import type { TurnAllocationEvent } from '../lib/events.js';
import type { Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import { randomBytesFromPool } from '../lib/random-pool.js';
import { addressErrorCodeValue, StunAttr, StunMessageBuilder, StunMethod, parseStunMessage, unknownComprehensionRequired, type StunAttribute, type StunMessage, type TransportAddress } from '../stun/index.js';
import { Allocation, type AllocationInfo } from './allocation.js';
import { AllocationTable } from './allocation-table.js';
import { Answers, type Authenticated, type ErrorAnswer, type Source } from './answers.js';
import { RequestAuthentication, type AuthFailureLimit, type Precheck } from './authentication.js';
import { MAX_CHANNEL, MIN_CHANNEL, peerKey } from './channels.js';
import { fiveTuple, fiveTupleKey, type FiveTuple, type TurnListener } from './five-tuple.js';
import type { NonceIssuer } from './nonce.js';
import { checkPeerAddress, isErrorAnswer, type PeerCheck } from './peer-address.js';
import type { RelayPorts, RelaySocket, TcpRelaySocket } from './relay-ports.js';
import { RelayPath } from './relay-path.js';
import { AllocationQuotas, type QuotaLease } from './quotas.js';
import { newTurnStats, type TurnStats } from './server-stats.js';
import { ConnectionIds, TcpRelay } from './tcp-relay.js';
import { TcpRequests } from './tcp-requests.js';
import type { TurnCredentials } from './turn-credentials.js';
import type { Socket } from 'node:net';

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
  readonly quotas: { readonly perUser: number; readonly perSource?: number; readonly total: number };
  /** Bytes per second per allocation, each way; 0: no limit. */
  readonly bandwidth: number;
  readonly limiter?: AuthFailureLimit;
  /** RFC 6062 Connect: milliseconds to wait for the peer before 447 (default and least: 30 s; tests shorten it). */
  readonly tcpConnectTimeoutMs?: number;
  readonly clock: Clock;
  readonly log?: Logger;
  /** Told of each allocation made and ended (the operator's events, lib/events.ts). */
  readonly onEvent?: (event: TurnAllocationEvent) => void;
}

/** RFC 8656 §14.7: REQUESTED-TRANSPORT protocol number of UDP. */
const UDP_PROTOCOL = 17;
/** RFC 6062 §6.1: REQUESTED-TRANSPORT "the value 6 (TCP)". */
const TCP_PROTOCOL = 6;
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
  StunAttr.CONNECTION_ID,
  StunAttr.ADDITIONAL_ADDRESS_FAMILY,
  // answered apart: 400 in a TCP Allocate (RFC 6062 §5.1), 420 in a UDP one (RFC 8656 §7.2)
  StunAttr.DONT_FRAGMENT,
  // RFC 8445 §16.1: ICE agents' attributes in Binding requests (Binding needs none of them)
  StunAttr.PRIORITY,
  StunAttr.USE_CANDIDATE,
]);
/** The families of the relayed addresses an Allocate asks for: one, or IPv4 then IPv6 (ADDITIONAL-ADDRESS-FAMILY). */
type Families = readonly [4 | 6] | readonly [4, 6];

/** What an Allocate asks for, once checked. */
interface AllocateAsk {
  /** RFC 6062: a TCP relayed address. */
  readonly tcp: boolean;
  readonly families: Families;
  readonly token: StunAttribute | undefined;
  readonly evenPort: StunAttribute | undefined;
}

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
  /** RFC 6062: the CONNECTION-IDs of every TCP allocation's peer data connections, and the requests. */
  private readonly connectionIds = new ConnectionIds();
  private readonly tcpRequests: TcpRequests;
  private closed = false;

  constructor(private readonly o: TurnServerOptions) {
    this.log = o.log ?? silentLogger;
    this.answers = new Answers(o, this.stats);
    this.auth = new RequestAuthentication(o, this.answers, this.stats);
    this.relay = new RelayPath(this.table, o, this.stats, o.clock.now());
    this.tcpRequests = new TcpRequests({ peers: o.peers, clock: o.clock, log: this.log, connectTimeoutMs: o.tcpConnectTimeoutMs }, this.answers, this.auth, this.connectionIds, this.stats);
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
      a.tcp?.sweep(now);
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
      case StunMethod.Connect:
        this.onAllocation(src, m);
        return;
      case StunMethod.ConnectionBind:
        // RFC 6062 §4.4: a ConnectionBind comes on a new connection; one that holds an allocation
        // is a control connection, and stays one (400)
        if (this.table.get(fiveTupleKey(listener, address, port)) !== undefined) this.answers.unauthenticatedError(src, m, [400, 'ConnectionBind on a control connection']);
        else this.tcpRequests.connectionBind(src, m);
        return;
      default:
        // RFC 8489 §6.3.1: "If the request is for an unknown method [...] 400 (Bad Request)"
        this.answers.unauthenticatedError(src, m, [400, 'Unknown method']);
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
    // RFC 6062 §5.1: "If the REQUESTED-TRANSPORT attribute is included and specifies a protocol
    // other than UDP or TCP, the server MUST reject the request with a 442"
    const transport = m.get(StunAttr.REQUESTED_TRANSPORT);
    if (transport === undefined || transport.value.length !== 4) return fail([400, 'Missing or malformed REQUESTED-TRANSPORT']);
    const protocol = transport.value[0];
    if (protocol !== UDP_PROTOCOL && protocol !== TCP_PROTOCOL) return fail([442, 'Unsupported Transport Protocol']);
    const tcp = protocol === TCP_PROTOCOL;
    const token = m.get(StunAttr.RESERVATION_TOKEN);
    const evenPort = m.get(StunAttr.EVEN_PORT);
    const familyAttr = m.get(StunAttr.REQUESTED_ADDRESS_FAMILY);
    const additionalAttr = m.get(StunAttr.ADDITIONAL_ADDRESS_FAMILY);
    if (tcp) {
      // RFC 6062 §5.1: "If the client connection transport is not TCP or TLS, the server MUST
      // reject the request with a 400 (Bad Request) error." "If the request contains the
      // DONT-FRAGMENT, EVEN-PORT, or RESERVATION-TOKEN attribute, the server MUST reject the
      // request with a 400 (Bad Request) error."
      if (src.listener.stream !== true) return fail([400, 'TCP allocations need a TCP or TLS connection']);
      if (m.get(StunAttr.DONT_FRAGMENT) !== undefined || evenPort !== undefined || token !== undefined) return fail([400, 'DONT-FRAGMENT, EVEN-PORT or RESERVATION-TOKEN in a TCP Allocate']);
      // RFC 6062 predates dual allocations: a TCP allocation has one relayed address (our choice)
      if (additionalAttr !== undefined) return fail([400, 'ADDITIONAL-ADDRESS-FAMILY in a TCP Allocate']);
    }
    // 4. DONT-FRAGMENT: "If the server does not support sending UDP datagrams with the DF bit set
    //    to 1 [...], then the server treats the DONT-FRAGMENT attribute in the Allocate request as
    //    an unknown comprehension-required attribute." Node cannot set DF per socket.
    if (m.get(StunAttr.DONT_FRAGMENT) !== undefined) {
      this.answers.unknownAttributes(src, m, auth, [StunAttr.DONT_FRAGMENT]);
      return;
    }
    // 5. "If the request contains a RESERVATION-TOKEN [...] and the request also contains an
    //    EVEN-PORT attribute or a REQUESTED-ADDRESS-FAMILY [...], reject with 400" (and with
    //    ADDITIONAL-ADDRESS-FAMILY: a reserved port is one address of one family)
    if (token !== undefined && (evenPort !== undefined || familyAttr !== undefined || additionalAttr !== undefined)) {
      return fail([400, 'RESERVATION-TOKEN with EVEN-PORT or an address family']);
    }
    const families = this.families(familyAttr, additionalAttr, evenPort, token);
    if ('error' in families) return fail(families.error);
    // 7. quotas: "the server rejects the request with a 486 (Allocation Quota Reached) error"
    // (this user), 508 for the server's total (quotas.ts)
    const lease = this.quotas.acquire(auth.user, src.address);
    if (!lease.ok) return fail([lease.error.code, lease.error.code === 486 ? 'Allocation Quota Reached' : 'Insufficient Capacity']);
    let done = false;
    try {
      done = await this.makeAllocation(src, m, auth, tuple, { tcp, families: families.families, token, evenPort }, lease.value);
    } finally {
      if (!done) lease.value.release();
    }
  }

  /**
   * The families of the relayed addresses asked for (RFC 8656 §7.2), each with whether this
   * server has a relay address of it: the first must be served (440 when it cannot), the second
   * (ADDITIONAL-ADDRESS-FAMILY) is served when it can be, else named in ADDRESS-ERROR-CODE.
   */
  private families(
    familyAttr: StunAttribute | undefined,
    additionalAttr: StunAttribute | undefined,
    evenPort: StunAttribute | undefined,
    token: StunAttribute | undefined,
  ): { readonly families: Families } | { readonly error: ErrorAnswer } {
    // 6. "The server checks if the request contains both REQUESTED-ADDRESS-FAMILY and
    //    ADDITIONAL-ADDRESS-FAMILY attributes. If yes, then the server rejects the request with
    //    a 400 (Bad Request) error."
    if (familyAttr !== undefined && additionalAttr !== undefined) return { error: [400, 'Both REQUESTED-ADDRESS-FAMILY and ADDITIONAL-ADDRESS-FAMILY'] };
    if (additionalAttr !== undefined) {
      // "If yes, and the attribute value is 0x01 (IPv4 address family), then the server rejects
      // the request with a 400 (Bad Request) error."; RFC 8656 §18.11: "The attribute value of
      // 0x02 (IPv6 address) is the only valid value in Allocate request."
      const f = additionalAttr.value.length === 4 ? additionalAttr.value[0] : undefined;
      if (f !== 0x02) return { error: [400, 'ADDITIONAL-ADDRESS-FAMILY other than IPv6'] };
      // 8. "The server checks if the request contains an EVEN-PORT attribute with the R bit set
      //    to 1. If yes, and the request also contains an ADDITIONAL-ADDRESS-FAMILY attribute,
      //    the server rejects the request with a 400 (Bad Request) error."
      if (evenPort !== undefined && evenPort.value.length >= 1 && (evenPort.value[0]! & 0x80) !== 0) return { error: [400, 'EVEN-PORT with R and ADDITIONAL-ADDRESS-FAMILY'] };
      // 7. without REQUESTED-ADDRESS-FAMILY IPv4 is asked; a dual allocation is served when at
      //    least one of its families is, the other named in ADDRESS-ERROR-CODE (below)
      if (!this.o.relays.supports(4) && !this.o.relays.supports(6)) return { error: [440, 'Address Family not Supported'] };
      return { families: [4, 6] };
    }
    // RFC 8656 §7.2: without REQUESTED-ADDRESS-FAMILY, "the server MUST allocate an IPv4 relayed
    // transport address"
    let family: 4 | 6 = 4;
    if (familyAttr !== undefined) {
      // RFC 8656 §14.8: 0x01 IPv4, 0x02 IPv6; anything else: 440
      const f = familyAttr.value.length === 4 ? familyAttr.value[0] : undefined;
      if (f === 0x01) family = 4;
      else if (f === 0x02) family = 6;
      else return { error: [440, 'Address Family not Supported'] };
    }
    // 7. "If the server does not support the address family requested by the client in
    //    REQUESTED-ADDRESS-FAMILY, or if the allocation of the requested address family is
    //    disabled by local policy, it MUST generate an Allocate error response [...] 440"
    if (token === undefined && !this.o.relays.supports(family)) return { error: [440, 'Address Family not Supported'] };
    return { families: [family] };
  }

  /** Steps 5, 6 and the success of RFC 8656 §7.2 (RFC 6062 §5.1 for TCP); true when the allocation was made. */
  private async makeAllocation(src: Source, m: StunMessage, auth: Authenticated, tuple: FiveTuple, ask: AllocateAsk, lease: QuotaLease): Promise<boolean> {
    const fail = (e: ErrorAnswer): false => {
      this.answers.authenticatedError(src, m, auth, e);
      return false;
    };

    const relays: RelaySocket[] = [];
    let tcpSocket: TcpRelaySocket | undefined;
    let reserved: { readonly token: Uint8Array; readonly socket: RelaySocket } | undefined;
    /** RFC 8656 §18.12, ADDRESS-ERROR-CODE: "used by servers to signal the reason for not allocating the requested address family". */
    const addressErrors: Array<readonly [4 | 6, number, string]> = [];
    if (ask.tcp) {
      tcpSocket = await this.o.relays.openTcp(ask.families[0]);
      if (tcpSocket === undefined) return fail([508, 'Insufficient Capacity']);
    } else if (ask.token !== undefined) {
      // 5. "[...] checks that the RESERVATION-TOKEN is valid [...]; if the token is not valid for
      //    some reason, the server rejects the request with a 508 (Insufficient Capacity) error"
      const r = ask.token.value.length === 8 ? this.reservations.get(hex(ask.token.value)) : undefined;
      if (r === undefined) return fail([508, 'Insufficient Capacity (unknown RESERVATION-TOKEN)']);
      this.reservations.delete(hex(ask.token.value));
      relays.push(r.socket);
    } else {
      // 6. EVEN-PORT: "the server checks that it can satisfy the request (i.e., can allocate a
      //    relayed transport address as described below). If the server cannot satisfy the
      //    request, then the server rejects the request with a 508 (Insufficient Capacity) error."
      const even = ask.evenPort !== undefined;
      const reserve = even && ask.evenPort.value.length >= 1 && (ask.evenPort.value[0]! & 0x80) !== 0;
      for (const family of ask.families) {
        if (!this.o.relays.supports(family)) {
          addressErrors.push([family, 440, 'Address Family not Supported']);
          continue;
        }
        const opened = await this.o.relays.open(family, even, reserve);
        if (opened === undefined) {
          addressErrors.push([family, 508, 'Insufficient Capacity']);
          continue;
        }
        relays.push(opened.socket);
        if (opened.next !== undefined) reserved = { token: new Uint8Array(randomBytesFromPool(8)), socket: opened.next };
      }
      if (relays.length === 0) {
        // nothing served: the one family's error is the answer's (a dual request that got
        // neither: 440 when no family is supported, else 508)
        const [, code, reason] = addressErrors.find((e) => e[1] === 508) ?? addressErrors[0]!;
        return fail([code, reason]);
      }
    }
    if (this.closed || this.table.get(tuple.key) !== undefined) {
      for (const r of relays) r.close();
      tcpSocket?.close();
      reserved?.socket.close();
      return false;
    }
    if (reserved !== undefined) this.reservations.set(hex(reserved.token), { socket: reserved.socket, expiresAt: this.o.clock.now() + RESERVATION_MS });

    const lifetime = this.grantedLifetime(m);
    const relayed: TransportAddress[] = [...relays, ...(tcpSocket === undefined ? [] : [tcpSocket])].map((r) => ({
      family: r.family,
      address: this.o.externalAddresses?.[r.family] ?? r.address,
      port: r.port,
    }));
    // "the server MUST include [...] XOR-RELAYED-ADDRESS, LIFETIME, [RESERVATION-TOKEN when R
    // was set], XOR-MAPPED-ADDRESS"; a dual allocation gives both relayed addresses, IPv4 first
    const b = new StunMessageBuilder(StunMethod.Allocate, 'success', m.transactionId);
    for (const r of relayed) b.addXorAddress(StunAttr.XOR_RELAYED_ADDRESS, r);
    for (const [family, code, reason] of addressErrors) b.add(StunAttr.ADDRESS_ERROR_CODE, addressErrorCodeValue(family, code, reason));
    b.addUint32(StunAttr.LIFETIME, lifetime).addXorAddress(StunAttr.XOR_MAPPED_ADDRESS, addressOf(src.address, src.port));
    if (reserved !== undefined) b.add(StunAttr.RESERVATION_TOKEN, reserved.token);
    const response = this.answers.sign(b, m, auth);
    const now = this.o.clock.now();
    const tcp = tcpSocket === undefined ? undefined : new TcpRelay(tcpSocket, this.connectionIds);
    const a = new Allocation(tuple, auth.username, auth.user, auth.key, relays, tcp, relayed, hex(m.transactionId), response, now, now + lifetime * 1000, this.o.bandwidth, lease);
    for (const relay of relays) {
      relay.socket.on('message', (data: Buffer, rinfo: { address: string; port: number }) => {
        try {
          this.relay.fromPeer(a, relay.family, data, rinfo.address, rinfo.port);
        } catch (e) {
          this.fault(e);
        }
      });
    }
    if (tcp !== undefined) {
      tcp.owner = a;
      tcp.socket.server.on('connection', (socket: Socket) => this.tcpRequests.peerConnected(a, tcp, socket));
    }
    this.table.add(a);
    this.stats.allocationsMade++;
    if (this.o.onEvent !== undefined) {
      const info = a.info(now);
      this.o.onEvent({ type: 'turn.allocation.created', time: Date.now(), username: a.username, client: info.client, relayed: info.relayed });
    }
    this.log.debug({ client: `${src.address}:${src.port}`, relayed: a.info(now).relayed, transport: tcp === undefined ? 'udp' : 'tcp', user: auth.user, lifetime }, 'TURN allocation made');
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
    const auth = this.auth.verifyForAllocation(src, m, pre, a);
    if (auth === undefined) return;
    const unknown = unknownComprehensionRequired(m, KNOWN);
    if (unknown.length > 0) {
      this.answers.unknownAttributes(src, m, auth, unknown);
      return;
    }
    if (m.method === StunMethod.Refresh) this.refresh(src, m, a, auth);
    else if (m.method === StunMethod.CreatePermission) this.createPermission(src, m, a, auth);
    else if (m.method === StunMethod.Connect) this.tcpRequests.connect(src, m, a, auth);
    else this.channelBind(src, m, a, auth);
  }

  /** RFC 8656 §7.3. */
  private refresh(src: Source, m: StunMessage, a: Allocation, auth: Authenticated): void {
    // "If the request contains a REQUESTED-ADDRESS-FAMILY attribute and the attribute value does
    // not match the address family of the allocation, the server MUST reply with a 443 (Peer
    // Address Family Mismatch) error response."
    // DEVIATION(RFC 8656 §7.3): a dual allocation (ADDITIONAL-ADDRESS-FAMILY) has one lifetime for
    // both its relayed addresses: a Refresh naming either family refreshes (or with LIFETIME 0
    // deletes) the whole allocation, where the RFC would keep a lifetime per family.
    const familyAttr = m.get(StunAttr.REQUESTED_ADDRESS_FAMILY);
    const asks = familyAttr === undefined ? undefined : familyAttr.value[0] === 0x01 ? 4 : familyAttr.value[0] === 0x02 ? 6 : 0;
    if (asks !== undefined && (asks === 0 || !a.hasFamily(asks))) {
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
      const peer = checkPeerAddress(this.o.peers, this.log, m, attr, a);
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
    // a TCP allocation (RFC 6062) relays over its connections, not over channels (our choice:
    // RFC 6062 is silent; coturn answers 400 too)
    if (a.tcp !== undefined) return fail([400, 'ChannelBind on a TCP allocation']);
    const channelAttr = m.get(StunAttr.CHANNEL_NUMBER);
    const peerAttr = m.get(StunAttr.XOR_PEER_ADDRESS);
    // "The request contains both a CHANNEL-NUMBER and an XOR-PEER-ADDRESS attribute"; "The
    // channel number is in the range 0x4000 through 0x4FFF (inclusive)" — else 400
    if (channelAttr === undefined || channelAttr.value.length !== 4 || peerAttr === undefined) return fail([400, 'Missing CHANNEL-NUMBER or XOR-PEER-ADDRESS']);
    const number = (channelAttr.value[0]! << 8) | channelAttr.value[1]!;
    if (number < MIN_CHANNEL || number > MAX_CHANNEL) return fail([400, 'Channel number out of range']);
    const peer = checkPeerAddress(this.o.peers, this.log, m, peerAttr, a);
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

  /** Bytes relayed since start, both ways: released allocations' and live ones'. */
  relayedBytes(): { readonly toPeer: number; readonly fromPeer: number } {
    let toPeer = this.stats.releasedBytesToPeer;
    let fromPeer = this.stats.releasedBytesFromPeer;
    for (const a of this.table.values()) {
      toPeer += a.counters.bytesToPeer;
      fromPeer += a.counters.bytesFromPeer;
    }
    return { toPeer, fromPeer };
  }

  private release(a: Allocation): void {
    if (!this.table.delete(a)) return;
    this.stats.releasedBytesToPeer += a.counters.bytesToPeer;
    this.stats.releasedBytesFromPeer += a.counters.bytesFromPeer;
    a.lease.release();
    a.closeRelays();
    if (this.o.onEvent !== undefined) {
      const info = a.info(this.o.clock.now());
      this.o.onEvent({ type: 'turn.allocation.ended', time: Date.now(), username: a.username, client: info.client, relayed: info.relayed, bytesToPeer: a.counters.bytesToPeer, bytesToClient: a.counters.bytesFromPeer });
    }
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
