import { EvictionMap } from '../lib/eviction-map.js';
import type { NewSubscriber, Subscriber, SubscriberStore } from './subscriber-store.js';

export interface CachedSubscriberStoreOptions {
  /** How long a looked-up subscriber (or its absence) is reused, ms. */
  readonly ttlMs: number;
  /** Entries kept at most; the oldest go first. Default 100,000. */
  readonly maxEntries?: number;
  /** Monotonic milliseconds. Default `performance.now`. */
  readonly now?: () => number;
}

interface Entry {
  readonly subscriber: Subscriber | undefined;
  readonly expires: number;
}

/**
 * A SubscriberStore that remembers `get` answers for a short while: a registration with digest
 * authentication reads the subscriber once per challenge answered, and a phone that refreshes
 * (or a benchmark) asks again and again for the same few. An absent subscriber is remembered
 * too, so that guessing at unknown users costs no more than a wrong password.
 *
 * Changes made through this store drop the entries they touch at once. Changes made elsewhere
 * are announced with `invalidate` (`parley user` tells a running server over its control socket,
 * which tells every SIP thread); anything else is seen once the entry expires, within `ttlMs`.
 */
export class CachedSubscriberStore implements SubscriberStore {
  /** Oldest first; evicting the oldest of a full cache is cheap in an EvictionMap (lib/eviction-map.ts), not in a Map. */
  private readonly entries = new EvictionMap<string, Entry>();
  private readonly ttl: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(
    private readonly inner: SubscriberStore,
    options: CachedSubscriberStoreOptions,
  ) {
    this.ttl = options.ttlMs;
    this.max = options.maxEntries ?? 100_000;
    this.now = options.now ?? (() => performance.now());
  }

  async get(username: string, domain: string): Promise<Subscriber | undefined> {
    const key = cacheKey(username, domain);
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.expires > now) return hit.subscriber;
    const subscriber = await this.inner.get(username, domain);
    if (hit !== undefined) this.entries.delete(key); // re-inserted last: the order is age order
    else if (this.entries.size >= this.max) this.entries.shift();
    this.entries.set(key, { subscriber, expires: now + this.ttl });
    return subscriber;
  }

  async add(subscriber: NewSubscriber): Promise<Subscriber> {
    this.forget(subscriber.username, subscriber.domain);
    return this.inner.add(subscriber);
  }

  async addMany(subscribers: readonly NewSubscriber[]): Promise<number> {
    this.entries.clear();
    return this.inner.addMany(subscribers);
  }

  async remove(username: string, domain: string): Promise<boolean> {
    this.forget(username, domain);
    return this.inner.remove(username, domain);
  }

  async setPassword(username: string, domain: string, password: string): Promise<boolean> {
    this.forget(username, domain);
    return this.inner.setPassword(username, domain, password);
  }

  list(options?: { readonly domain?: string; readonly limit?: number; readonly offset?: number }): Promise<Subscriber[]> {
    return this.inner.list(options);
  }

  count(): Promise<number> {
    return this.inner.count();
  }

  /**
   * Forget what is remembered of one subscriber, or of all (no arguments): the store was changed
   * elsewhere (`parley user`, over the control socket).
   */
  invalidate(username?: string, domain?: string): void {
    if (username === undefined || domain === undefined) this.entries.clear();
    else this.forget(username, domain);
  }

  private forget(username: string, domain: string): void {
    this.entries.delete(cacheKey(username, domain));
  }
}

/** Domains are case-insensitive (stored lower-case); user names are not. */
function cacheKey(username: string, domain: string): string {
  return `${username}@${domain.toLowerCase()}`;
}
