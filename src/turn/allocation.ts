/**
 * An allocation (RFC 8656 §2.2, §7): the relayed transport address a client holds on the server,
 * its 5-tuple, its credentials, lifetime, permissions and channels, and its counters.
 */
import type { TransportAddress } from '../stun/index.js';
import { Channels } from './channels.js';
import type { FiveTuple } from './five-tuple.js';
import { Permissions } from './permissions.js';
import { BandwidthLimiter, type QuotaLease } from './quotas.js';
import type { RelaySocket } from './relay-ports.js';
import type { TcpRelay } from './tcp-relay.js';

/** What an allocation has relayed, for the operations API and the stats line. */
export interface AllocationCounters {
  /** Client → peer (Send indications, ChannelData). */
  bytesToPeer: number;
  packetsToPeer: number;
  /** Peer → client (Data indications, ChannelData). */
  bytesFromPeer: number;
  packetsFromPeer: number;
  /** Packets dropped: no permission, over the bandwidth limit, peer denied. */
  dropped: number;
}

/** A snapshot of an allocation, for the operations API. */
export interface AllocationInfo {
  readonly client: string;
  /** One relayed address, or two (IPv4 and IPv6) separated by a space. */
  readonly relayed: string;
  /** The relayed transport: UDP, or TCP (RFC 6062). */
  readonly transport: 'udp' | 'tcp';
  readonly user: string;
  readonly username: string;
  readonly durationS: number;
  readonly expiresInS: number;
  readonly permissions: number;
  readonly channels: number;
  readonly counters: Readonly<AllocationCounters>;
}

export class Allocation {
  readonly permissions = new Permissions();
  readonly channels = new Channels();
  readonly counters: AllocationCounters = { bytesToPeer: 0, packetsToPeer: 0, bytesFromPeer: 0, packetsFromPeer: 0, dropped: 0 };
  /** The bandwidth limit of each direction (none: no limit). */
  private readonly toPeer: BandwidthLimiter | undefined;
  private readonly fromPeer: BandwidthLimiter | undefined;
  private readonly udp4: RelaySocket | undefined;
  private readonly udp6: RelaySocket | undefined;

  constructor(
    readonly fiveTuple: FiveTuple,
    /** USERNAME of the Allocate: later requests must bring the same (RFC 8656 §7.2, 441). */
    readonly username: string,
    /** Who the allocation counts against (quotas): the username, or a REST username's user. */
    readonly user: string,
    /** The long-term key (RFC 8489 §9.2.2) that signs this allocation's responses. */
    readonly key: Uint8Array,
    /**
     * The UDP relay sockets: one, or an IPv4 and an IPv6 one with ADDITIONAL-ADDRESS-FAMILY
     * (RFC 8656 §7.2); none for a TCP allocation (RFC 6062), which has `tcp` instead.
     */
    relays: readonly RelaySocket[],
    /** RFC 6062: the TCP relayed transport address and its connections. */
    readonly tcp: TcpRelay | undefined,
    /** The addresses given to the client in XOR-RELAYED-ADDRESS (the external ones behind 1:1 NAT), one per family. */
    readonly relayed: readonly TransportAddress[],
    /** Transaction ID of the Allocate and the success sent for it (a retransmission gets it again). */
    readonly allocateTransaction: string,
    readonly allocateResponse: Uint8Array,
    readonly createdAt: number,
    public expiresAt: number,
    /** Bytes per second each way; 0: no limit. */
    bandwidth: number,
    /** Its place in the allocation quotas, given back when it goes. */
    readonly lease: QuotaLease,
  ) {
    this.udp4 = relays.find((r) => r.family === 4);
    this.udp6 = relays.find((r) => r.family === 6);
    this.toPeer = bandwidth > 0 ? new BandwidthLimiter({ bytesPerSecond: bandwidth }, createdAt) : undefined;
    this.fromPeer = bandwidth > 0 ? new BandwidthLimiter({ bytesPerSecond: bandwidth }, createdAt) : undefined;
  }

  /** The UDP relay socket of the family (the relay path's lookup), if the allocation has one. */
  udpRelay(family: 4 | 6): RelaySocket | undefined {
    return family === 4 ? this.udp4 : this.udp6;
  }

  /** Has the allocation a relayed transport address of this family? */
  hasFamily(family: 4 | 6): boolean {
    return this.relayed.some((r) => r.family === family);
  }

  /** Every relay socket and connection closed (the allocation is gone). */
  closeRelays(): void {
    for (const r of [this.udp4, this.udp6]) {
      if (r === undefined) continue;
      r.socket.removeAllListeners('message');
      r.close();
    }
    this.tcp?.close();
  }

  /** May `bytes` more be relayed to the peer at `now` (bandwidth limit)? Counts them when so. */
  mayRelayToPeer(bytes: number, now: number): boolean {
    return this.toPeer === undefined || this.toPeer.take(bytes, now);
  }

  /** May `bytes` more be relayed from a peer to the client at `now`? Counts them when so. */
  mayRelayFromPeer(bytes: number, now: number): boolean {
    return this.fromPeer === undefined || this.fromPeer.take(bytes, now);
  }

  info(now: number): AllocationInfo {
    const t = this.fiveTuple;
    return {
      client: `${t.listener.transport}:${t.clientAddress}:${t.clientPort}`,
      relayed: this.relayed.map((r) => (r.family === 6 ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`)).join(' '),
      transport: this.tcp === undefined ? 'udp' : 'tcp',
      user: this.user,
      username: this.username,
      durationS: Math.round((now - this.createdAt) / 1000),
      expiresInS: Math.max(0, Math.round((this.expiresAt - now) / 1000)),
      permissions: this.permissions.size,
      channels: this.channels.size,
      counters: { ...this.counters },
    };
  }
}
