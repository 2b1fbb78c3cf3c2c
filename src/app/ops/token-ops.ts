import { OpsError, type TokenOps, type TokenScope, type TokenView } from '../../api/operations.js';
import { SqliteTokenStore } from '../../store/sqlite/sqlite-token-store.js';
import { StoreError } from '../../store/store-error.js';
import { tokenJson } from '../../store/token-store.js';
import type { ServerParts } from './server-parts.js';

/** TokenOps on the database of the running server (the store `parley token` writes too). */
export function tokenOps(parts: Pick<ServerParts, 'db'>): TokenOps {
  const store = new SqliteTokenStore(parts.db);
  return {
    list: async () => (await store.list()).map(tokenJson),
    create: async (name: string, scope: TokenScope, options = {}) => {
      let made;
      try {
        made = await store.create(name, scope, options.ttlSeconds === undefined ? {} : { expiresAt: Date.now() + options.ttlSeconds * 1000 });
      } catch (e) {
        if (e instanceof StoreError && e.storeCode === 'ERR_STORE_INVALID') throw new OpsError(400, e.message, e.message.slice(0, e.message.indexOf(':')));
        throw e;
      }
      const view: TokenView = tokenJson(made.info);
      return { ...view, token: made.token };
    },
    verify: async (text: string) => {
      const t = await store.verify(text);
      return t === undefined ? undefined : tokenJson(t);
    },
    revoke: async (id: string) => {
      if (!(await store.revoke(id))) throw new OpsError(404, `no such token ${id}`);
    },
  };
}
