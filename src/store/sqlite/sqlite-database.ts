import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { StoreError } from '../store-error.js';
import { migrateSqliteSchema } from './sqlite-migrations.js';

/** Options of SqliteDatabase.open. */
export interface SqliteDatabaseOptions {
  /**
   * How long a write waits for another connection's lock (PRAGMA busy_timeout), in ms: the
   * server and `parley user …` may use the file at the same time. Default 5000.
   */
  readonly busyTimeoutMs?: number;
  /**
   * PRAGMA synchronous of this connection. `normal` (the default): in WAL mode a commit is a
   * write() into the log without fsync, so a committed transaction survives a crash of the process
   * (kill -9, out of memory) but a power loss or an OS crash may take the last commits back
   * (never the file's consistency). `full`: the log is fsynced at every commit, which a power loss
   * does not undo either, at the cost of an fsync per commit.
   */
  readonly synchronous?: Synchronous;
}

/** How a connection's commits reach the disk (SqliteDatabaseOptions.synchronous). */
export type Synchronous = 'normal' | 'full';

/** Pages of write-ahead log after which a commit checkpoints it into the file (PRAGMA wal_autocheckpoint). */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** PRAGMA page_size of a database file made by this Parley, bytes (files made before keep theirs). */
export const NEW_DATABASE_PAGE_SIZE = 2048;

/** The data-directory value that opens a private in-memory database (for tests). */
export const IN_MEMORY = ':memory:';

/**
 * Parley's embedded database: one SQLite file, `<dataDir>/parley.db`, shared by every SQLite store.
 * Opened in WAL mode (readers never block the writer; with `synchronous = NORMAL` a crash of the
 * process loses no commit, a power loss at most the last commits, never the file's consistency) and migrated to the current schema on open.
 * An instance owns its connection; stores prepare their statements once against `handle`.
 */
export class SqliteDatabase {
  /** The file name inside the data directory. */
  static readonly FILE_NAME = 'parley.db';

  /** Where the database of `dataDir` lives (`:memory:` stays as it is). */
  static fileIn(dataDir: string): string {
    return dataDir === IN_MEMORY ? IN_MEMORY : join(dataDir, SqliteDatabase.FILE_NAME);
  }

  /**
   * Open (creating the directory and the file when missing) and migrate. `dataDir` may be `:memory:`.
   * Throws StoreError ERR_STORE_IO when the file cannot be opened or is not a Parley database.
   */
  static open(dataDir: string, options: SqliteDatabaseOptions = {}): SqliteDatabase {
    const file = SqliteDatabase.fileIn(dataDir);
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    let handle: DatabaseSync | undefined;
    try {
      if (file !== IN_MEMORY) {
        mkdirSync(dataDir, { recursive: true, mode: 0o700 });
        // The file holds HA1s, which are as good as passwords for digest: owner-only from the
        // start. SQLite gives its -wal and -shm files the main file's permissions.
        closeSync(openSync(file, 'a', 0o600));
      }
      handle = new DatabaseSync(file, { timeout: Math.max(0, Math.trunc(busyTimeoutMs)) });
      // Set before the first table exists, so only a new file takes it (SQLite ignores it for one
      // that has pages; converting one would take a VACUUM outside WAL mode, not done here). A
      // binding writer's commit writes each page it changed whole into the log: a refresh of 8
      // random bindings is about 8 leaf pages, and at 2 KiB instead of SQLite's 4 KiB the writer
      // spent about a fifth less CPU per row (bench/store/README.md). Not 1 KiB: a row of the
      // bindings table (WITHOUT ROWID) longer than about 230 bytes would spill onto an overflow
      // page (at 2 KiB, about 490), and the purge's scan took twice as long.
      handle.exec(`PRAGMA page_size = ${NEW_DATABASE_PAGE_SIZE}`);
      if (file !== IN_MEMORY) {
        const row = handle.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode?: unknown } | undefined;
        const mode = row?.journal_mode;
        if (mode !== 'wal') throw new Error(`could not switch to WAL mode (journal_mode is ${String(mode)})`);
      }
      // "A transaction committed in WAL mode with synchronous=NORMAL might roll back following a
      // power loss or system crash." (sqlite.org/pragma.html#pragma_synchronous): a crash of the
      // process alone loses nothing committed. FULL syncs the log at each commit.
      handle.exec(`PRAGMA synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      // A checkpoint every WAL_AUTOCHECKPOINT_PAGES pages of log rather than SQLite's 1,000: each
      // copies the pages the log holds into the file (once however often they were rewritten) and
      // syncs it, and the binding writer, which rewrites the same few hundred pages of bindings
      // all the time, checkpointed several times a second at 4,000 REGISTER/s. The log file grows
      // to about that many pages (20 MB at 2 KiB, 40 MB at 4 KiB) instead of a tenth of it.
      // Durability is synchronous's business, unchanged (bench/store/README.md).
      handle.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      const version = migrateSqliteSchema(handle);
      return new SqliteDatabase(handle, file, version);
    } catch (e) {
      handle?.close();
      if (e instanceof StoreError) throw e;
      throw new StoreError('ERR_STORE_IO', `cannot open database ${file}: ${(e as Error).message}`, { cause: e });
    }
  }

  private constructor(
    /** The node:sqlite connection, for the stores in this folder. */
    readonly handle: DatabaseSync,
    /** The database file, or `:memory:`. */
    readonly file: string,
    /** The schema version after migration. */
    readonly schemaVersion: number,
  ) {}

  get isOpen(): boolean {
    return this.handle.isOpen;
  }

  /** Close the connection (checkpointing the WAL into the file). Idempotent. */
  close(): void {
    if (this.handle.isOpen) this.handle.close();
  }
}
