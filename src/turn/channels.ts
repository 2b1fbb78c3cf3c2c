/**
 * The channel bindings of one allocation (RFC 8656 §12): channel number ↔ peer transport address,
 * each with its expiry, found by number (ChannelData from the client) and by peer (data from the
 * peer), one Map lookup each way.
 */
import type { TransportAddress } from '../stun/index.js';

/** RFC 8656 §12: "Channel bindings last for 10 minutes unless refreshed." */
export const CHANNEL_LIFETIME_MS = 600_000;

/**
 * RFC 8656 §12: channel numbers 0x4000 through 0x4FFF may be bound; "The server MUST NOT accept
 * ChannelBind requests with channel numbers outside of this range".
 */
export const MIN_CHANNEL = 0x4000;
// DEVIATION(RFC 8656 §12): channels up to 0x7FFF are accepted, RFC 5766's range. coturn's own
// clients (turnutils_uclient picks them at random in 0x4000-0x7FFF), libre/baresip and coturn's
// server use it; RFC 8656 narrowed it so that RFC 7983 demultiplexing can give 80-127 to others,
// which matters on a port shared with DTLS/RTP, not on a TURN listener. 0x8000 up is refused (400).
export const MAX_CHANNEL = 0x7fff;
/** RFC 8656 §12: the top of the range this server would keep to without the deviation above. */
export const RFC8656_MAX_CHANNEL = 0x4fff;

export interface ChannelBinding {
  readonly number: number;
  readonly peer: TransportAddress;
  /** `address:port` of the peer, as data from it is looked up. */
  readonly peerKey: string;
  expiresAt: number;
}

/** `address:port`: the key of a peer transport address (an IPv6 address keeps its colons; the port comes last). */
export function peerKey(address: string, port: number): string {
  return `${address}:${port}`;
}

export type BindOutcome = 'bound' | 'refreshed' | 'number-in-use' | 'peer-in-use';

export class Channels {
  private readonly byNumber = new Map<number, ChannelBinding>();
  private readonly byPeer = new Map<string, ChannelBinding>();

  get size(): number {
    return this.byNumber.size;
  }

  /**
   * RFC 8656 §11.2: the request is refused (400) unless "The channel number is not currently bound
   * to a different transport address (same transport address is OK)" and "The transport address is
   * not currently bound to a different channel number." A binding of the same pair is refreshed.
   */
  bind(number: number, peer: TransportAddress, key: string, now: number): BindOutcome {
    const existing = this.byNumber.get(number);
    if (existing !== undefined && existing.peerKey !== key) return 'number-in-use';
    const other = this.byPeer.get(key);
    if (other !== undefined && other.number !== number) return 'peer-in-use';
    if (existing !== undefined) {
      existing.expiresAt = now + CHANNEL_LIFETIME_MS;
      return 'refreshed';
    }
    const binding: ChannelBinding = { number, peer, peerKey: key, expiresAt: now + CHANNEL_LIFETIME_MS };
    this.byNumber.set(number, binding);
    this.byPeer.set(key, binding);
    return 'bound';
  }

  /** The binding of a channel number (ChannelData from the client), unexpired. */
  byChannel(number: number, now: number): ChannelBinding | undefined {
    const b = this.byNumber.get(number);
    return b !== undefined && b.expiresAt > now ? b : undefined;
  }

  /** The binding of a peer transport address (data from the peer), unexpired. */
  forPeer(key: string, now: number): ChannelBinding | undefined {
    const b = this.byPeer.get(key);
    return b !== undefined && b.expiresAt > now ? b : undefined;
  }

  // DEVIATION(RFC 8656 §12): an expired channel number and peer may be bound again at once; the RFC
  // asks the server not to rebind them to something else for 5 more minutes (so that late
  // packets of the old binding do not reach a new peer). A client that rebinds one channel to
  // another peer within those 5 minutes is the only one that sees a difference.
  /** Forget the bindings that have expired. */
  sweep(now: number): void {
    for (const [number, b] of this.byNumber) {
      if (b.expiresAt <= now) {
        this.byNumber.delete(number);
        this.byPeer.delete(b.peerKey);
      }
    }
  }
}
