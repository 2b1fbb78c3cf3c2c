import type { DatabaseSync } from 'node:sqlite';

/** How a transaction takes SQLite's locks: DEFERRED on first use, IMMEDIATE the write lock at once. */
export type TransactionMode = 'deferred' | 'immediate';

/**
 * Run `fn` in a transaction of `db`: committed when it returns, rolled back when it throws (the
 * error passes on). Inside another transaction it runs in a SAVEPOINT, so an inner failure undoes
 * only its own writes. node:sqlite has no transaction helper; this is the one place that writes
 * BEGIN/COMMIT.
 */
export function inTransaction<T>(db: DatabaseSync, fn: () => T, mode: TransactionMode = 'deferred'): T {
  if (db.isTransaction) {
    db.exec('SAVEPOINT parley_nested');
    try {
      const result = fn();
      db.exec('RELEASE parley_nested');
      return result;
    } catch (e) {
      db.exec('ROLLBACK TO parley_nested');
      db.exec('RELEASE parley_nested');
      throw e;
    }
  }
  db.exec(mode === 'immediate' ? 'BEGIN IMMEDIATE' : 'BEGIN');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (e) {
    // A failed COMMIT (SQLITE_BUSY, a full disk) may leave the transaction open; an error that
    // SQLite itself rolled back leaves none.
    if (db.isTransaction) db.exec('ROLLBACK');
    throw e;
  }
}
