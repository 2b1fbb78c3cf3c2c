/**
 * Allocation quotas (per user and in total) and the per-allocation bandwidth limit.
 *
 * RFC 8656 §7.2, on receiving an Allocate request:
 *
 *   At any point, the server MAY choose to reject the request with a 486 (Allocation Quota
 *   Reached) error if it feels the client is trying to exceed some locally defined allocation
 *   quota. The server is free to define this allocation quota any way it wishes, but it SHOULD
 *   define it based on the username used to authenticate the request, and not on the client's
 *   transport address.
 *
 * So the per-user quota answers 486. A quota per source (an IPv4 address whatever its ports, an
 * IPv6 /64: src/lib/source-prefix.ts) is kept besides, not instead: a UDP 5-tuple holds one
 * allocation, but one host has 65,535 ports and, with REST credentials, as many usernames as it
 * likes; it answers 486 too. The total is not a quota of the username but the server's
 * capacity, for which RFC 8656 names 508 (Insufficient Capacity: "some capacity limit being
 * reached"); coturn answers 486 for both
 * its user-quota and total-quota, which tells a client to try another username when no username
 * would do.
 *
 * The bandwidth limit is a token bucket on bytes, one per direction of an allocation (as coturn's
 * max-bps treats input and output separately); time is passed in, no timers.
 */
import { ParleyError } from '../lib/errors.js';
import { err, ok, type Result } from '../lib/result.js';
import { sourcePrefix } from '../lib/source-prefix.js';

export interface AllocationQuotaOptions {
  /** Concurrent allocations one user may hold (0 or absent: no limit). */
  readonly perUser?: number;
  /** Concurrent allocations from one source (sourcePrefix of the client's address; 0 or absent: no limit). */
  readonly perSource?: number;
  /** Concurrent allocations on the whole server (0 or absent: no limit). */
  readonly total?: number;
}

/** One allocation's hold on the quotas. release() gives it back; calling it again does nothing. */
export interface QuotaLease {
  readonly user: string;
  release(): void;
}

export interface QuotaRefusal {
  /** 486 Allocation Quota Reached (this user), 508 Insufficient Capacity (the server). */
  readonly code: 486 | 508;
  readonly reason: string;
}

export class AllocationQuotas {
  readonly #perUser: number;
  readonly #perSource: number;
  readonly #total: number;
  readonly #byUser = new Map<string, number>();
  readonly #bySource = new Map<string, number>();
  #held = 0;

  /** Throws on a limit that is not a whole number >= 0 (configuration). */
  constructor(o: AllocationQuotaOptions = {}) {
    this.#perUser = limit(o.perUser, 'perUser');
    this.#perSource = limit(o.perSource, 'perSource');
    this.#total = limit(o.total, 'total');
  }

  /** Takes one allocation for `user`, asked for from `clientAddress` (when given), or says why not. */
  acquire(user: string, clientAddress?: string): Result<QuotaLease, QuotaRefusal> {
    const mine = this.#byUser.get(user) ?? 0;
    if (this.#perUser > 0 && mine >= this.#perUser) {
      return err({ code: 486, reason: `user ${user} holds ${mine} allocations, the most allowed` });
    }
    const source = clientAddress === undefined || this.#perSource === 0 ? undefined : sourcePrefix(clientAddress);
    const fromSource = source === undefined ? 0 : (this.#bySource.get(source) ?? 0);
    if (source !== undefined && fromSource >= this.#perSource) {
      return err({ code: 486, reason: `source ${source} holds ${fromSource} allocations, the most allowed` });
    }
    if (this.#total > 0 && this.#held >= this.#total) {
      return err({ code: 508, reason: `the server holds ${this.#held} allocations, the most allowed` });
    }
    this.#byUser.set(user, mine + 1);
    if (source !== undefined) this.#bySource.set(source, fromSource + 1);
    this.#held++;
    let released = false;
    return ok({
      user,
      release: () => {
        if (released) return;
        released = true;
        this.#held--;
        const n = (this.#byUser.get(user) ?? 1) - 1;
        if (n === 0) this.#byUser.delete(user);
        else this.#byUser.set(user, n);
        if (source !== undefined) {
          const m = (this.#bySource.get(source) ?? 1) - 1;
          if (m === 0) this.#bySource.delete(source);
          else this.#bySource.set(source, m);
        }
      },
    });
  }

  /** Allocations held from the source of `clientAddress` (counted only with a perSource quota). */
  heldFrom(clientAddress: string): number {
    return this.#bySource.get(sourcePrefix(clientAddress)) ?? 0;
  }

  /** Allocations held by `user`, or by everyone. */
  held(user?: string): number {
    return user === undefined ? this.#held : (this.#byUser.get(user) ?? 0);
  }
}

export interface BandwidthLimitOptions {
  /** Sustained rate in bytes per second (> 0). */
  readonly bytesPerSecond: number;
  /**
   * Bytes that may pass at once after a quiet spell. Default: one second's worth; never less
   * than 65,540 (the largest ChannelData message), so that any one packet can pass.
   */
  readonly burstBytes?: number;
}

/** The largest packet a relay carries: a ChannelData header and 65,535 bytes of data. */
const LARGEST_PACKET = 65_540;

/**
 * A token bucket on bytes. Full at the start; `take` passes a packet if the bucket holds its
 * size and takes that much out, else refuses it (the caller drops the packet) and takes nothing.
 */
export class BandwidthLimiter {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #lastMs: number;
  #dropped = 0;

  /** Throws on a rate or burst that is not positive (configuration). */
  constructor(o: BandwidthLimitOptions, nowMs: number) {
    if (!(o.bytesPerSecond > 0) || !Number.isFinite(o.bytesPerSecond)) throw new ParleyError('ERR_INVALID_ARGUMENT', `bandwidth limit: ${o.bytesPerSecond} bytes/s is not positive`);
    if (o.burstBytes !== undefined && !(o.burstBytes > 0)) throw new ParleyError('ERR_INVALID_ARGUMENT', `bandwidth limit: burst ${o.burstBytes} is not positive`);
    this.#rate = o.bytesPerSecond;
    this.#burst = Math.max(o.burstBytes ?? o.bytesPerSecond, LARGEST_PACKET);
    this.#tokens = this.#burst;
    this.#lastMs = nowMs;
  }

  /** Whether a packet of `bytes` may pass at `nowMs`. A clock that goes back refills nothing. */
  take(bytes: number, nowMs: number): boolean {
    if (nowMs > this.#lastMs) {
      this.#tokens = Math.min(this.#burst, this.#tokens + ((nowMs - this.#lastMs) * this.#rate) / 1000);
      this.#lastMs = nowMs;
    }
    if (bytes > this.#tokens) {
      this.#dropped++;
      return false;
    }
    this.#tokens -= bytes;
    return true;
  }

  /** Packets refused so far (for the allocation's counters). */
  get dropped(): number {
    return this.#dropped;
  }
}

function limit(v: number | undefined, name: string): number {
  if (v === undefined) return 0;
  if (!Number.isInteger(v) || v < 0) throw new ParleyError('ERR_INVALID_ARGUMENT', `allocation quota ${name}: ${v} is not a whole number >= 0`);
  return v;
}
