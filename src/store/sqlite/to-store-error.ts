import { StoreError } from '../store-error.js';

/** SQLite's extended result codes (sqlite.org/rescode.html) for a duplicate key. */
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;
const SQLITE_CONSTRAINT_UNIQUE = 2067;

/**
 * Turn what node:sqlite threw into a StoreError: a primary-key conflict is ERR_STORE_EXISTS
 * (`what` names the row), a StoreError passes through, anything else (I/O, a full disk, a locked
 * file past busy_timeout, a closed connection) is ERR_STORE_IO with the original as `cause`.
 */
export function toStoreError(e: unknown, what?: string): StoreError {
  if (e instanceof StoreError) return e;
  // node:sqlite reports SQLite's extended result code as `errcode`.
  const errcode = (e as { errcode?: unknown } | null)?.errcode;
  if (errcode === SQLITE_CONSTRAINT_PRIMARYKEY || errcode === SQLITE_CONSTRAINT_UNIQUE) {
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
