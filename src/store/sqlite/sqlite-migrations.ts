import type { DatabaseSync } from 'node:sqlite';
import { StoreError } from '../store-error.js';
import { inTransaction } from './transaction.js';

/** One step of the schema. Steps are applied in order, each once, each in its own transaction. */
export interface SqliteMigration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/**
 * Parley's SQLite schema, oldest first. Never edit a step that has shipped: add the next one.
 * Timestamps are integer milliseconds since the epoch; JSON columns hold text.
 */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    description: 'subscribers and location bindings',
    sql: `
      CREATE TABLE subscribers (
        username   TEXT    NOT NULL,
        domain     TEXT    NOT NULL,
        ha1_md5    TEXT    NOT NULL,
        ha1_sha256 TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (username, domain)
      ) WITHOUT ROWID;
      CREATE TABLE bindings (
        aor           TEXT    NOT NULL,
        contact       TEXT    NOT NULL,
        expires       INTEGER NOT NULL,
        q             REAL    NOT NULL,
        call_id       TEXT    NOT NULL,
        cseq          INTEGER NOT NULL,
        path          TEXT    NOT NULL, -- JSON array of strings
        instance      TEXT,
        reg_id        INTEGER,
        received      TEXT    NOT NULL, -- JSON object
        connection_id INTEGER,
        node          TEXT    NOT NULL,
        user_agent    TEXT,
        updated_at    INTEGER NOT NULL,
        PRIMARY KEY (aor, contact)
      );
      CREATE INDEX bindings_expires ON bindings (expires);
    `,
  },
  {
    version: 2,
    description: 'bindings.send_to: source address or Contact URI',
    // 'source' for the rows already stored: they keep going where they went (ContactBinding.sendTo)
    sql: `ALTER TABLE bindings ADD COLUMN send_to TEXT NOT NULL DEFAULT 'source';`,
  },
  {
    version: 3,
    description: 'api_tokens; subscribers.admin (may log in to the dashboard)',
    // secret_sha256: SHA-256 of the token's secret, lower-case hex (src/store/token-store.ts)
    sql: `
      CREATE TABLE api_tokens (
        id            TEXT    NOT NULL PRIMARY KEY,
        name          TEXT    NOT NULL,
        scope         TEXT    NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
        secret_sha256 TEXT    NOT NULL,
        created_at    INTEGER NOT NULL,
        last_used_at  INTEGER,
        revoked_at    INTEGER,
        expires_at    INTEGER
      ) WITHOUT ROWID;
      ALTER TABLE subscribers ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 4,
    description: 'subscribers by domain then username (the API lists them in that order)',
    // the primary key is (username, domain): without this, a page of 100 out of 100,000 sorted them all
    sql: `CREATE INDEX subscribers_domain_username ON subscribers (domain, username);`,
  },
  {
    version: 5,
    description: 'bindings WITHOUT ROWID, without the index on expires (cheaper refreshes)',
    // Every REGISTER refresh rewrites its row. As a rowid table with an index on expires, that
    // was three b-trees per row (the table, the (aor, contact) key's autoindex, and a delete plus
    // an insert in the expires index, whose value changes at every refresh), each a page in the
    // log at the next commit. Keyed by (aor, contact) alone it is one. The purge of expired rows
    // scans the table instead: every few seconds, not every REGISTER (docs/architecture.md).
    // SQLite cannot turn a table WITHOUT ROWID in place: a new one, the rows copied, the old dropped
    // (its index with it).
    sql: `
      CREATE TABLE bindings_v5 (
        aor           TEXT    NOT NULL,
        contact       TEXT    NOT NULL,
        expires       INTEGER NOT NULL,
        q             REAL    NOT NULL,
        call_id       TEXT    NOT NULL,
        cseq          INTEGER NOT NULL,
        path          TEXT    NOT NULL, -- JSON array of strings
        instance      TEXT,
        reg_id        INTEGER,
        received      TEXT    NOT NULL, -- JSON object
        send_to       TEXT    NOT NULL DEFAULT 'source',
        connection_id INTEGER,
        node          TEXT    NOT NULL,
        user_agent    TEXT,
        updated_at    INTEGER NOT NULL,
        PRIMARY KEY (aor, contact)
      ) WITHOUT ROWID;
      INSERT INTO bindings_v5 (aor, contact, expires, q, call_id, cseq, path, instance, reg_id, received, send_to, connection_id, node, user_agent, updated_at)
        SELECT aor, contact, expires, q, call_id, cseq, path, instance, reg_id, received, send_to, connection_id, node, user_agent, updated_at FROM bindings;
      DROP TABLE bindings;
      ALTER TABLE bindings_v5 RENAME TO bindings;
    `,
  },
];

/** The newest schema version this build knows. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]?.version ?? 0;

/**
 * Bring the schema of `handle` up to date and return its version. Safe to call any number of times
 * and from several processes at once: each step runs in an IMMEDIATE transaction that re-reads the
 * version first. A database written by a newer Parley (a version this build does not know) is
 * refused with StoreError ERR_STORE_IO rather than used half-understood.
 */
export function migrateSqliteSchema(handle: DatabaseSync, migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS): number {
  handle.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL,
    description TEXT NOT NULL
  )`);
  const currentStatement = handle.prepare('SELECT max(version) AS v FROM schema_version');
  const current = (): number => Number((currentStatement.get() as { v: number | null } | undefined)?.v ?? 0);
  const record = handle.prepare('INSERT INTO schema_version (version, applied_at, description) VALUES (?, ?, ?)');
  const newest = migrations[migrations.length - 1]?.version ?? 0;
  const step = (m: SqliteMigration): void =>
    inTransaction(
      handle,
      () => {
        if (current() >= m.version) return; // another process got there first
        handle.exec(m.sql);
        record.run(m.version, Date.now(), m.description);
      },
      'immediate',
    );
  const found = current();
  if (found > newest) {
    throw new StoreError('ERR_STORE_IO', `database schema version ${found} is newer than this Parley knows (${newest}); upgrade Parley`);
  }
  for (const m of migrations) if (m.version > found) step(m);
  return current();
}
