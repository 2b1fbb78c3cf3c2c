import { OpsError, type Page, type SubscriberOps, type SubscriberView } from '../../api/operations.js';
import { checkPassword, checkSubscriber } from '../../store/check-subscriber.js';
import { SqliteSubscriberStore } from '../../store/sqlite/sqlite-subscriber-store.js';
import { StoreError } from '../../store/store-error.js';
import type { NewSubscriber, Subscriber } from '../../store/subscriber-store.js';
import { passwordMatches } from '../../web/turn-credentials-route.js';
import type { ServerParts } from './server-parts.js';

/** Default and largest page. */
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/**
 * SubscriberOps on the server's database: the same store `parley user` writes. Every change tells
 * the SIP cores and TURN (ServerParts.subscriberChanged), which drop their cached copies at once.
 */
export function subscriberOps(parts: Pick<ServerParts, 'db' | 'subscriberChanged'> & { readonly config: { readonly sip: { readonly domains: readonly string[] } } }): SubscriberOps {
  const store = new SqliteSubscriberStore(parts.db);
  const domainsOf = parts.db.handle.prepare('SELECT domain FROM subscribers WHERE username = ? LIMIT 2');
  /** A login without a domain: the first served domain, else the one domain that has this username. */
  const defaultDomain = (username: string): string => {
    const served = parts.config.sip.domains[0];
    if (served !== undefined) return served.toLowerCase();
    const rows = domainsOf.all(username) as Array<{ domain: string }>;
    return rows.length === 1 ? rows[0]!.domain : '';
  };
  const mustExist = async (username: string, domain: string): Promise<Subscriber> => {
    const s = await store.get(username, domain);
    if (s === undefined) throw new OpsError(404, `no such subscriber ${username}@${domain}`);
    return s;
  };
  return {
    list: async (query) => {
      const { offset, limit } = pageOf(query);
      const page = await store.page({ ...(query.domain === undefined ? {} : { domain: query.domain }), ...(query.search === undefined ? {} : { search: query.search }), limit, offset });
      return { items: page.items.map(view), total: page.total, offset, limit } satisfies Page<SubscriberView>;
    },
    get: async (username, domain) => view(await mustExist(username, domain)),
    create: async (s) => {
      const checked = checkSubscriber(s);
      if (!checked.ok) throw new OpsError(400, `${checked.error.field}: ${checked.error.problem}`, checked.error.field);
      const { username, domain } = checked.value;
      if ((await store.get(username, domain)) !== undefined) throw new OpsError(409, `${username}@${domain} already exists`, 'username');
      let added: Subscriber;
      try {
        added = await store.add({ ...checked.value, admin: s.admin === true });
      } catch (e) {
        throw opsError(e);
      }
      parts.subscriberChanged(username, domain);
      return view(added);
    },
    update: async (username, domain, change) => {
      const before = await mustExist(username, domain);
      if (change.password !== undefined) {
        const p = checkPassword(change.password);
        if (!p.ok) throw new OpsError(400, `password: ${p.error}`, 'password');
      }
      if (change.password !== undefined && !(await store.setPassword(before.username, before.domain, change.password))) throw new OpsError(404, `no such subscriber ${username}@${domain}`);
      if (change.admin !== undefined) await store.setAdmin(before.username, before.domain, change.admin);
      parts.subscriberChanged(before.username, before.domain);
      return view(await mustExist(before.username, before.domain));
    },
    remove: async (username, domain) => {
      const s = await mustExist(username, domain);
      if (!(await store.remove(s.username, s.domain))) throw new OpsError(404, `no such subscriber ${username}@${domain}`);
      parts.subscriberChanged(s.username, s.domain);
    },
    importMany: async (subscribers, progress) => {
      // everything is checked before anything is written: all or nothing
      const checked: NewSubscriber[] = [];
      const seen = new Map<string, number>();
      for (const [i, s] of subscribers.entries()) {
        const c = checkSubscriber(s);
        if (!c.ok) throw new OpsError(400, `item ${i + 1}: ${c.error.field}: ${c.error.problem}`, `[${i}].${c.error.field}`);
        const key = `${c.value.username}@${c.value.domain}`;
        const earlier = seen.get(key);
        if (earlier !== undefined) throw new OpsError(409, `item ${i + 1}: ${key} is also item ${earlier + 1}`, `[${i}].username`);
        seen.set(key, i);
        if ((await store.get(c.value.username, c.value.domain)) !== undefined) throw new OpsError(409, `item ${i + 1}: ${key} already exists`, `[${i}].username`);
        checked.push(c.value);
        // a large import must not hold the thread (it carries the server's sockets) for seconds
        if ((i + 1) % 1000 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      let imported: number;
      try {
        // addMany reports hashing then writing (2 × total): the caller hears items done
        imported = await store.addMany(checked, progress && ((done, total) => progress(Math.floor((done * checked.length) / total), checked.length)));
      } catch (e) {
        throw opsError(e);
      }
      parts.subscriberChanged();
      return { imported };
    },
    checkAdmin: async (username, given, password) => {
      const domain = given === '' ? defaultDomain(username) : given;
      const s = username.length <= 128 && domain.length <= 255 ? await store.get(username, domain) : undefined;
      // both HA1s computed and compared for an unknown user too: the same time as a wrong password
      const ok = passwordMatches(s, username, s?.domain ?? domain.toLowerCase(), password);
      return ok && s?.admin === true ? view(s) : undefined;
    },
  };
}

export function pageOf(query: { readonly offset?: number; readonly limit?: number }): { offset: number; limit: number } {
  const offset = Math.max(0, Math.trunc(query.offset ?? 0));
  const limit = Math.min(MAX_LIMIT, Math.max(1, Math.trunc(query.limit ?? DEFAULT_LIMIT)));
  return { offset, limit };
}

function view(s: Subscriber): SubscriberView {
  return { username: s.username, domain: s.domain, admin: s.admin === true, createdAt: new Date(s.createdAt).toISOString() };
}

function opsError(e: unknown): unknown {
  if (e instanceof StoreError && e.storeCode === 'ERR_STORE_EXISTS') return new OpsError(409, e.message, 'username');
  if (e instanceof StoreError && e.storeCode === 'ERR_STORE_INVALID') return new OpsError(400, e.message);
  return e;
}
