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
  readonly relayed: string;
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

  constructor(
    readonly fiveTuple: FiveTuple,
    /** USERNAME of the Allocate: later requests must bring the same (RFC 8656 §7.2, 441). */
    readonly username: string,
    /** Who the allocation counts against (quotas): the username, or a REST username's user. */
    readonly user: string,
    /** The long-term key (RFC 8489 §9.2.2) that signs this allocation's responses. */
    readonly key: Uint8Array,
    readonly relay: RelaySocket,
    /** The address given to the client in XOR-RELAYED-ADDRESS (the external one behind 1:1 NAT). */
    readonly relayed: TransportAddress,
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
    this.toPeer = bandwidth > 0 ? new BandwidthLimiter({ bytesPerSecond: bandwidth }, createdAt) : undefined;
    this.fromPeer = bandwidth > 0 ? new BandwidthLimiter({ bytesPerSecond: bandwidth }, createdAt) : undefined;
  }

  get family(): 4 | 6 {
    return this.relayed.family;
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
      relayed: `${this.relayed.address}:${this.relayed.port}`,
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
