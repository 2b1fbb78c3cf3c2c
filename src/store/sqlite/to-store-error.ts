import { StoreError } from '../store-error.js';

/**
 * Turn what better-sqlite3 threw into a StoreError: a primary-key conflict is ERR_STORE_EXISTS
 * (`what` names the row), a StoreError passes through, anything else (I/O, a full disk, a locked
 * file past busy_timeout, a closed connection) is ERR_STORE_IO with the original as `cause`.
 */
export function toStoreError(e: unknown, what?: string): StoreError {
  if (e instanceof StoreError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new StoreError('ERR_STORE_EXISTS', `${what ?? 'row'}: already exists`, { cause: e });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new StoreError('ERR_STORE_IO', `database: ${message}`, { cause: e });
}

/** Run a database call, turning what it throws into a StoreError (see toStoreError). */
export function withStoreErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toStoreError(e);
  }
}
