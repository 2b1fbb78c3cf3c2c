import { systemClock, type Clock } from '../../lib/clock.js';
import { ParleyError } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import { sourcePrefix } from '../transport/source-prefix.js';

export interface FailureLimiterOptions {
  /** Failures within `window` that block a source. Default 10. */
  readonly maxFailures?: number;
  /** Sliding window, in seconds. Default 60. */
  readonly window?: number;
  /** How long a source stays blocked, in seconds. Default 300. */
  readonly blockTime?: number;
  /** Most sources tracked (and, separately, most blocked); the least recently seen go first. Default 10,000. */
  readonly maxSources?: number;
  /**
   * IPv6 sources are counted per prefix of this length (a host usually owns a whole /64 and can
   * change address inside it at will). 128 counts each address. Default 64.
   */
  readonly ipv6PrefixLength?: number;
  /** Monotonic time (only durations matter). Default `systemClock`. */
  readonly clock?: Clock;
  /** Receives one warning per block, naming the source. */
  readonly logger?: Logger;
  /**
   * Called once per block this limiter decides (not for blockFor), with the address whose failure
   * blocked its source and the block's length: how other threads that refuse the same sources
   * (SIP workers, the TURN thread) learn of it.
   */
  readonly onBlock?: (address: string, ms: number) => void;
}

/** A blocked source, for dumps and the REST API. */
export interface BlockedSource {
  /** The counted key: an IPv4 address, or an IPv6 address or prefix (`2001:db8:1:2::/64`). */
  readonly source: string;
  /** Milliseconds (on the limiter's clock) until the block ends. */
  readonly remainingMs: number;
}

/**
 * Counts failed authentications (wrong password, unknown user) per source address in a sliding
 * window — and the other failures a routing script reports (`ctx.countFailure()`: the default
 * script's probes for users that do not exist) — and blocks a source that fails too often, the way Kamailio's pike + htable ban or
 * fail2ban on a SIP log does. A blocked source's requests are refused before any credential is
 * looked at (the authenticator answers 403 without touching the subscriber store).
 *
 * Missing credentials are not failures (every client's first request has none), and neither are
 * stale nonces: only a wrong digest counts. A success does not reset the count, so that one good
 * account cannot be used to keep guessing the passwords of others from the same address.
 *
 * Memory is bounded: at most `maxSources` counters of at most `maxFailures` timestamps each, and
 * at most `maxSources` blocks; the least recently touched entry is evicted first.
 */
export class FailureLimiter {
  private maxFailures: number;
  private windowMs: number;
  private blockMs: number;
  private readonly maxSources: number;
  private readonly ipv6PrefixLength: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly onBlock: ((address: string, ms: number) => void) | undefined;
  /** source → failure times within the window, oldest first; Map order is least recently failed first. */
  private readonly failures = new Map<string, number[]>();
  /** source → end of its block; Map order is oldest block first. */
  private readonly blocked = new Map<string, number>();

  constructor(options: FailureLimiterOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = (options.window ?? 60) * 1000;
    this.blockMs = (options.blockTime ?? 300) * 1000;
    this.maxSources = options.maxSources ?? 10_000;
    this.ipv6PrefixLength = options.ipv6PrefixLength ?? 64;
    for (const [name, v] of [['maxFailures', this.maxFailures], ['window', this.windowMs], ['blockTime', this.blockMs], ['maxSources', this.maxSources]] as const) {
      if (!(v >= 1)) throw new ParleyError('ERR_INVALID_ARGUMENT', `FailureLimiter: ${name} must be positive`);
    }
    if (!Number.isInteger(this.ipv6PrefixLength) || this.ipv6PrefixLength < 1 || this.ipv6PrefixLength > 128) {
      throw new ParleyError('ERR_INVALID_ARGUMENT', 'FailureLimiter: ipv6PrefixLength must be 1–128');
    }
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.onBlock = options.onBlock;
  }

  /** True while `address` (or its IPv6 prefix) is blocked. */
  isBlocked(address: string): boolean {
    return this.keyBlocked(this.keyOf(address), this.clock.now());
  }

  /**
   * Count one failed authentication from `address`. Returns true when this failure blocks the
   * source (the warning is logged then, once per block).
   */
  recordFailure(address: string): boolean {
    const key = this.keyOf(address);
    const now = this.clock.now();
    if (this.keyBlocked(key, now)) return false;
    let times = this.failures.get(key);
    if (times === undefined) {
      this.evict(this.failures);
      times = [];
    } else {
      this.failures.delete(key);
    }
    const from = now - this.windowMs;
    let drop = 0;
    while (drop < times.length && times[drop]! <= from) drop++;
    if (drop > 0) times.splice(0, drop);
    times.push(now);
    if (times.length < this.maxFailures) {
      this.failures.set(key, times);
      return false;
    }
    this.evict(this.blocked);
    this.blocked.set(key, now + this.blockMs);
    this.logger.warn(
      { source: key, failures: times.length, windowSeconds: this.windowMs / 1000, blockSeconds: this.blockMs / 1000 },
      'auth: too many failed authentications; source blocked',
    );
    this.onBlock?.(address, this.blockMs);
    return true;
  }

  /**
   * Block `address` for `ms` milliseconds without counting: a block decided by the limiter of
   * another thread (sip-server/workers), applied here so that this thread refuses the source too.
   */
  blockFor(address: string, ms: number): void {
    const key = this.keyOf(address);
    this.evict(this.blocked);
    this.blocked.set(key, this.clock.now() + ms);
  }

  /** How long a block lasts, ms. */
  get blockDurationMs(): number {
    return this.blockMs;
  }

  /**
   * New limits from now on (a configuration reload): failures already counted stay and are read
   * with the new window and threshold at the next failure of their source; blocks in force keep
   * their end. A limit that is not positive is refused (ERR_INVALID_ARGUMENT) and nothing changes.
   */
  setLimits(limits: Pick<FailureLimiterOptions, 'maxFailures' | 'window' | 'blockTime'>): void {
    const maxFailures = limits.maxFailures ?? this.maxFailures;
    const windowMs = limits.window === undefined ? this.windowMs : limits.window * 1000;
    const blockMs = limits.blockTime === undefined ? this.blockMs : limits.blockTime * 1000;
    for (const [name, v] of [['maxFailures', maxFailures], ['window', windowMs], ['blockTime', blockMs]] as const) {
      if (!(v >= 1)) throw new ParleyError('ERR_INVALID_ARGUMENT', `FailureLimiter: ${name} must be positive`);
    }
    this.maxFailures = maxFailures;
    this.windowMs = windowMs;
    this.blockMs = blockMs;
  }

  /** End a block early (an operator's decision). Returns false when the source was not blocked. */
  unblock(address: string): boolean {
    const key = this.keyOf(address);
    this.failures.delete(key);
    return this.blocked.delete(key);
  }

  /** The sources blocked now. */
  blockedSources(): BlockedSource[] {
    const now = this.clock.now();
    const out: BlockedSource[] = [];
    for (const [source, until] of this.blocked) if (until > now) out.push({ source, remainingMs: until - now });
    return out;
  }

  /** Entries held now: sources with recent failures, and blocks (expired ones until next touched). */
  get size(): { readonly tracked: number; readonly blocked: number } {
    return { tracked: this.failures.size, blocked: this.blocked.size };
  }

  private keyBlocked(key: string, now: number): boolean {
    const until = this.blocked.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.blocked.delete(key);
    return false;
  }

  /** Make room for one more entry: expired blocks first, then the oldest entry. */
  private evict(map: Map<string, unknown>): void {
    if (map.size < this.maxSources) return;
    if (map === this.blocked) {
      const now = this.clock.now();
      for (const [k, until] of this.blocked) if (until <= now) this.blocked.delete(k);
    }
    while (map.size >= this.maxSources) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) break;
      map.delete(oldest);
    }
  }

  /** The counted key of an address: normalized, IPv6 cut to its prefix. */
  private keyOf(address: string): string {
    return sourcePrefix(address, this.ipv6PrefixLength);
  }
}
