import { computeHa1 } from '../sip/digest/hash.js';
import { checkSubscriber } from './check-subscriber.js';
import { StoreError } from './store-error.js';
import type { NewSubscriber, Subscriber, SubscriberStore } from './subscriber-store.js';

/**
 * Subscribers in memory, for the routing-script test harness and tests: the same rules as the
 * SQLite store (checked names, HA1 only, domains lower-case), nothing written anywhere.
 */
export class MemorySubscriberStore implements SubscriberStore {
  private readonly rows = new Map<string, Subscriber>();

  constructor(private readonly now: () => number = Date.now) {}

  async get(username: string, domain: string): Promise<Subscriber | undefined> {
    return this.rows.get(`${username}@${domain.toLowerCase()}`);
  }

  async add(s: NewSubscriber): Promise<Subscriber> {
    const checked = checkSubscriber(s);
    if (!checked.ok) throw new StoreError('ERR_STORE_INVALID', `${checked.error.field}: ${checked.error.problem}`);
    const domain = checked.value.domain.toLowerCase();
    const key = `${checked.value.username}@${domain}`;
    if (this.rows.has(key)) throw new StoreError('ERR_STORE_EXISTS', `${key}: already exists`);
    const row: Subscriber = {
      username: checked.value.username,
      domain,
      ha1Md5: computeHa1('MD5', checked.value.username, domain, checked.value.password),
      ha1Sha256: computeHa1('SHA-256', checked.value.username, domain, checked.value.password),
      createdAt: this.now(),
    };
    this.rows.set(key, row);
    return row;
  }

  async addMany(subscribers: readonly NewSubscriber[]): Promise<number> {
    for (const s of subscribers) await this.add(s);
    return subscribers.length;
  }

  async remove(username: string, domain: string): Promise<boolean> {
    return this.rows.delete(`${username}@${domain.toLowerCase()}`);
  }

  async setPassword(username: string, domain: string, password: string): Promise<boolean> {
    const s = this.rows.get(`${username}@${domain.toLowerCase()}`);
    if (s === undefined) return false;
    this.rows.delete(`${username}@${s.domain}`);
    await this.add({ username, domain: s.domain, password });
    return true;
  }

  async list(options: { readonly domain?: string; readonly limit?: number; readonly offset?: number } = {}): Promise<Subscriber[]> {
    const all = [...this.rows.values()]
      .filter((s) => options.domain === undefined || s.domain === options.domain.toLowerCase())
      .sort((a, b) => a.domain.localeCompare(b.domain) || a.username.localeCompare(b.username));
    const from = options.offset ?? 0;
    return all.slice(from, options.limit === undefined ? undefined : from + options.limit);
  }

  async count(): Promise<number> {
    return this.rows.size;
  }
}
