import { systemClock, type Clock } from '../../lib/clock.js';
import { EvictionMap } from '../../lib/eviction-map.js';
import { sourcePrefix } from './source-prefix.js';

export interface AuthenticatedSourcesOptions {
  /** How long a source counts as authenticated after its last reported success, ms. */
  readonly ttlMs: number;
  /** Most sources remembered; the least recently authenticated go first. Default 100,000. */
  readonly maxSources?: number;
  /** Monotonic time. Default `systemClock`. */
  readonly clock?: Clock;
}

/**
 * Sources (an IPv4 address, an IPv6 /64: sourcePrefix) from which a request passed digest
 * authentication within the last `ttlMs`: the connection table lets them use the connections
 * it keeps in reserve. The SIP cores report successes (a worker only the first per source per
 * minute); with a time to live of the registrar's longest registration, a source that holds a
 * binding refreshes it, and so its mark, before either runs out.
 *
 * Memory is bounded: at most `maxSources` entries (a key and a number each, ~100 bytes), the one
 * authenticated longest ago evicted first.
 */
export class AuthenticatedSources {
  private readonly ttlMs: number;
  private readonly maxSources: number;
  private readonly clock: Clock;
  /**
   * source → when its mark runs out, least recently marked first. An EvictionMap: every
   * authenticated request re-marks its source, and evicting the oldest of a full Map stepped over
   * the holes those re-marks left (lib/eviction-map.ts).
   */
  private readonly until = new EvictionMap<string, number>();

  constructor(options: AuthenticatedSourcesOptions) {
    this.ttlMs = options.ttlMs;
    this.maxSources = Math.max(1, options.maxSources ?? 100_000);
    this.clock = options.clock ?? systemClock;
  }

  /** A request from `address` passed authentication now. */
  mark(address: string): void {
    const key = sourcePrefix(address);
    const until = this.clock.now() + this.ttlMs;
    if (this.until.touch(key)) {
      this.until.set(key, until);
      return;
    }
    while (this.until.size >= this.maxSources) if (this.until.shift() === undefined) break;
    this.until.set(key, until);
  }

  /** True when `address` (its IPv4 address or IPv6 /64) authenticated within the time to live. */
  has(address: string): boolean {
    const key = sourcePrefix(address);
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > this.clock.now()) return true;
    this.until.delete(key);
    return false;
  }

  /** Sources remembered now (expired ones until next looked at or evicted). */
  get size(): number {
    return this.until.size;
  }
}
