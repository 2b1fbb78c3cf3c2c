import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { StoreError } from '../store-error.js';
import { IN_MEMORY, NEW_DATABASE_PAGE_SIZE, SqliteDatabase, WAL_AUTOCHECKPOINT_PAGES } from './sqlite-database.js';
import { migrateSqliteSchema, SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from './sqlite-migrations.js';
import { SqliteSubscriberStore } from './sqlite-subscriber-store.js';

/** The first column of every row `sql` returns. */
function column(db: DatabaseSync, sql: string): unknown[] {
  return db.prepare(sql).all().map((row) => Object.values(row)[0]);
}

describe('SqliteDatabase', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-sqlite-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates <dataDir>/parley.db (and the directory), in WAL mode with synchronous NORMAL', () => {
    const dataDir = join(dir, 'nested', 'data');
    const db = SqliteDatabase.open(dataDir);
    try {
      assert.equal(db.file, join(dataDir, 'parley.db'));
      assert.equal(column(db.handle, 'PRAGMA journal_mode')[0], 'wal');
      assert.equal(column(db.handle, 'PRAGMA synchronous')[0], 1); // NORMAL
      assert.equal(column(db.handle, 'PRAGMA busy_timeout')[0], 5000);
      assert.equal(column(db.handle, 'PRAGMA wal_autocheckpoint')[0], WAL_AUTOCHECKPOINT_PAGES);
      assert.equal(column(db.handle, 'PRAGMA page_size')[0], NEW_DATABASE_PAGE_SIZE);
      assert.equal(db.schemaVersion, SQLITE_SCHEMA_VERSION);
      if (process.platform !== 'win32') assert.equal(statSync(db.file).mode & 0o777, 0o600);
      const tables = column(db.handle, "SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name");
      // bindings WITHOUT ROWID, no index on expires (migration 5): no autoindex, no bindings_expires
      assert.deepEqual(tables, ['api_tokens', 'bindings', 'schema_version', 'subscribers', 'subscribers_domain_username']);
      assert.equal(column(db.handle, "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE name = 'bindings'")[0], 1);
    } finally {
      db.close();
    }
  });

  it('a database made with other pages keeps them (the page size is set for new files only)', async () => {
    const raw = new DatabaseSync(join(dir, 'parley.db'));
    raw.exec('PRAGMA page_size = 4096; CREATE TABLE made_before (x)');
    raw.close();
    const db = SqliteDatabase.open(dir);
    try {
      assert.equal(column(db.handle, 'PRAGMA page_size')[0], 4096);
      await new SqliteSubscriberStore(db).add({ username: 'alice', domain: 'example.com', password: 'pw' });
      assert.equal(await new SqliteSubscriberStore(db).count(), 1);
    } finally {
      db.close();
    }
  });

  it('synchronous FULL when asked (registrar.synchronous: full, power-loss durability)', () => {
    const db = SqliteDatabase.open(dir, { synchronous: 'full' });
    try {
      assert.equal(column(db.handle, 'PRAGMA synchronous')[0], 2); // FULL
      assert.equal(column(db.handle, 'PRAGMA journal_mode')[0], 'wal');
    } finally {
      db.close();
    }
  });

  it('keeps data across close and reopen, and migrates only once', async () => {
    const first = SqliteDatabase.open(dir);
    await new SqliteSubscriberStore(first).add({ username: 'alice', domain: 'example.com', password: 'pw' });
    first.close();
    first.close(); // idempotent
    assert.equal(first.isOpen, false);

    const second = SqliteDatabase.open(dir);
    try {
      assert.equal((await new SqliteSubscriberStore(second).get('alice', 'example.com'))?.username, 'alice');
      const versions = column(second.handle, 'SELECT version FROM schema_version');
      assert.deepEqual(versions, SQLITE_MIGRATIONS.map((m) => m.version));
      // running the migrations again on an up-to-date database changes nothing
      assert.equal(migrateSqliteSchema(second.handle), SQLITE_SCHEMA_VERSION);
      assert.equal(migrateSqliteSchema(second.handle), SQLITE_SCHEMA_VERSION);
      assert.deepEqual(column(second.handle, 'SELECT version FROM schema_version'), SQLITE_MIGRATIONS.map((m) => m.version));
      assert.equal(await new SqliteSubscriberStore(second).count(), 1);
    } finally {
      second.close();
    }
  });

  it('applies later migrations in order on an existing database', () => {
    const db = SqliteDatabase.open(dir);
    try {
      const n = SQLITE_SCHEMA_VERSION;
      const next = [
        ...SQLITE_MIGRATIONS,
        { version: n + 1, description: 'a column', sql: 'ALTER TABLE subscribers ADD COLUMN note TEXT' },
        { version: n + 2, description: 'an index', sql: 'CREATE INDEX subscribers_note ON subscribers (note)' },
      ];
      assert.equal(migrateSqliteSchema(db.handle, next), n + 2);
      assert.equal(migrateSqliteSchema(db.handle, next), n + 2);
      assert.deepEqual(column(db.handle, 'SELECT version FROM schema_version ORDER BY version'), next.map((m) => m.version));
      assert.equal(column(db.handle, "SELECT count(*) FROM pragma_table_info('subscribers') WHERE name = 'note'")[0], 1);
    } finally {
      db.close();
    }
  });

  it('rolls back a migration that fails, leaving the version where it was', () => {
    const db = SqliteDatabase.open(IN_MEMORY);
    try {
      const broken = [
        ...SQLITE_MIGRATIONS,
        { version: SQLITE_SCHEMA_VERSION + 1, description: 'half done', sql: 'CREATE TABLE t2 (x); CREATE TABLE t2 (y)' },
      ];
      assert.throws(() => migrateSqliteSchema(db.handle, broken), /already exists/);
      assert.equal(column(db.handle, "SELECT count(*) FROM sqlite_master WHERE name = 't2'")[0], 0);
      assert.deepEqual(column(db.handle, 'SELECT version FROM schema_version'), SQLITE_MIGRATIONS.map((m) => m.version));
    } finally {
      db.close();
    }
  });

  it('refuses a database from a newer Parley', () => {
    SqliteDatabase.open(dir).close();
    const raw = new DatabaseSync(join(dir, 'parley.db'));
    raw.prepare("INSERT INTO schema_version VALUES (99, 0, 'from the future')").run();
    raw.close();
    assert.throws(
      () => SqliteDatabase.open(dir),
      (e: unknown) => e instanceof StoreError && e.storeCode === 'ERR_STORE_IO' && /version 99 is newer/.test(e.message),
    );
  });

  it('reports a file that is not a database as ERR_STORE_IO', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'parley.db'), 'this is not SQLite '.repeat(100));
    assert.throws(
      () => SqliteDatabase.open(dir),
      (e: unknown) => e instanceof StoreError && e.storeCode === 'ERR_STORE_IO' && e.message.includes('parley.db'),
    );
  });

  it('opens a private database in memory', async () => {
    const a = SqliteDatabase.open(IN_MEMORY);
    const b = SqliteDatabase.open(IN_MEMORY);
    try {
      await new SqliteSubscriberStore(a).add({ username: 'alice', domain: 'example.com', password: 'pw' });
      assert.equal(await new SqliteSubscriberStore(b).count(), 0);
      assert.equal(a.file, ':memory:');
    } finally {
      a.close();
      b.close();
    }
  });
});
