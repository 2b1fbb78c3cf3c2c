/**
 * better-sqlite3 against Node's built-in node:sqlite on Parley's two SQLite workloads, in one run:
 *
 * - binding write-behind: the binding writer's group commit, transactions of B upserts into the
 *   real `bindings` table (WAL, synchronous = NORMAL, a file on disk), B = 1, 8 and 64;
 * - subscriber lookups: `SELECT … WHERE username = ? AND domain = ?` on 10,000 subscribers, in a
 *   random order.
 *
 * Each workload runs ROUNDS times per driver, alternating drivers; the median is reported.
 *
 * Then Parley's own code on node:sqlite (SqliteDatabase, SqliteBindingStore), what the binding
 * writer thread does at 4,000 REGISTER/s: REFRESH_USERS bindings stored, then REFRESHES refreshes
 * of random ones (same aor and contact, new expires, cseq and updated_at) in transactions of
 * REFRESH_BATCH through `transaction` + `applyRows`, in CPU µs per row (this thread's user+system
 * time) and wall µs per row; and one `purgeRows` over PURGE_ROWS live rows (none expired), in ms.
 * REFRESH_ONLY=1 skips the driver comparison (for A/B runs of two checkouts); PRAGMAS (e.g.
 * `PRAGMA cache_size = -16000`) runs on the store's connection after it is opened, to try them.
 *
 *   node --import tsx bench/store/sqlite-drivers.ts
 *   REFRESH_ONLY=1 ROUNDS=7 node --import tsx bench/store/sqlite-drivers.ts
 *   BETTER_SQLITE3=/path/to/node_modules/better-sqlite3 node --import tsx bench/store/sqlite-drivers.ts
 *
 * better-sqlite3 is no longer a dependency of Parley; to compare, install it somewhere built for
 * the running Node (see bench/store/README.md) and point BETTER_SQLITE3 at it. Without it, only
 * node:sqlite is measured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ContactBinding } from '../../src/store/binding-store.js';
import { SqliteBindingStore } from '../../src/store/sqlite/sqlite-binding-store.js';
import { SqliteDatabase } from '../../src/store/sqlite/sqlite-database.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/sqlite-migrations.js';

interface Stmt {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
}
interface Driver {
  readonly name: string;
  open(file: string): { exec(sql: string): void; prepare(sql: string): Stmt; close(): void };
}

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const WRITE_ROWS = Number(process.env.WRITE_ROWS ?? 20_000);
const SUBSCRIBERS = 10_000;
const LOOKUPS = Number(process.env.LOOKUPS ?? 200_000);
const REFRESH_USERS = Number(process.env.REFRESH_USERS ?? 10_000);
const REFRESHES = Number(process.env.REFRESHES ?? 40_000);
const REFRESH_BATCH = Number(process.env.REFRESH_BATCH ?? 8);
const PURGE_ROWS = Number(process.env.PURGE_ROWS ?? 100_000);
const REFRESH_ONLY = process.env.REFRESH_ONLY === '1';

const nodeSqlite: Driver = {
  name: 'node:sqlite',
  open(file) {
    const db = new DatabaseSync(file);
    return { exec: (sql) => db.exec(sql), prepare: (sql) => db.prepare(sql) as unknown as Stmt, close: () => db.close() };
  },
};

function betterSqlite3(): Driver | undefined {
  const where = process.env.BETTER_SQLITE3 ?? 'better-sqlite3';
  try {
    const Database = createRequire(import.meta.url)(where) as new (file: string) => {
      exec(sql: string): void;
      prepare(sql: string): Stmt;
      close(): void;
    };
    new Database(':memory:').close();
    return {
      name: 'better-sqlite3',
      open(file) {
        const db = new Database(file);
        return { exec: (sql) => db.exec(sql), prepare: (sql) => db.prepare(sql), close: () => db.close() };
      },
    };
  } catch (e) {
    console.error(`better-sqlite3 not measured (${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

function openFresh(driver: Driver, dir: string) {
  const db = driver.open(join(dir, `${driver.name.replace(/\W/g, '')}-${Math.random().toString(36).slice(2)}.db`));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  for (const m of SQLITE_MIGRATIONS) db.exec(m.sql);
  return db;
}

/** Rows per second written in transactions of `batch` upserts. */
function writes(driver: Driver, dir: string, batch: number): number {
  const db = openFresh(driver, dir);
  const upsert = db.prepare(
    `INSERT INTO bindings (aor, contact, expires, q, call_id, cseq, path, instance, reg_id, received, connection_id, node, user_agent, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (aor, contact) DO UPDATE SET expires = excluded.expires, cseq = excluded.cseq, updated_at = excluded.updated_at`,
  );
  const received = JSON.stringify({ transport: 'udp', address: '127.0.0.1', port: 5062 });
  const start = process.hrtime.bigint();
  for (let i = 0; i < WRITE_ROWS; i += batch) {
    db.exec('BEGIN');
    for (let j = i; j < i + batch && j < WRITE_ROWS; j++) {
      const user = j % 5000;
      upsert.run(`sip:u${user}@example.com`, `sip:u${user}@127.0.0.1:5062`, 1_900_000_000_000 + j, 1, `call-${user}`, j, '[]', null, null, received, null, 'n1', 'sipp', Date.now());
    }
    db.exec('COMMIT');
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  db.close();
  return WRITE_ROWS / s;
}

/** Lookups per second by primary key. */
function lookups(driver: Driver, dir: string): number {
  const db = openFresh(driver, dir);
  const insert = db.prepare('INSERT INTO subscribers (username, domain, ha1_md5, ha1_sha256, created_at) VALUES (?, ?, ?, ?, ?)');
  db.exec('BEGIN');
  for (let i = 0; i < SUBSCRIBERS; i++) insert.run(`user${i}`, 'example.com', 'a'.repeat(32), 'b'.repeat(64), 0);
  db.exec('COMMIT');
  const select = db.prepare('SELECT username, domain, ha1_md5, ha1_sha256, created_at FROM subscribers WHERE username = ? AND domain = ?');
  let seed = 12345;
  const start = process.hrtime.bigint();
  let found = 0;
  for (let i = 0; i < LOOKUPS; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    if (select.get(`user${seed % SUBSCRIBERS}`, 'example.com') !== undefined) found++;
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  db.close();
  if (found !== LOOKUPS) throw new Error(`${driver.name}: ${found} of ${LOOKUPS} lookups found their row`);
  return LOOKUPS / s;
}

/** A binding like the bench's sipp REGISTERs make (request-cost.sh: 10,000 users over UDP). */
function registration(user: number, cseq: number, now: number): ContactBinding {
  const name = `user${String(user).padStart(6, '0')}`;
  return {
    aor: `${name}@127.0.0.1`,
    contact: `sip:${name}@127.0.0.1:${5000 + (user % 60_000)}`,
    expires: now + 3_600_000,
    q: 1,
    callId: `${user}-4242@127.0.0.1`,
    cseq,
    path: [],
    received: { transport: 'udp', address: '127.0.0.1', port: 5000 + (user % 60_000), localAddress: '127.0.0.1', localPort: 5370 },
    sendTo: 'source',
    node: 'local',
    updatedAt: now,
  };
}

/** A fresh Parley database in `dir` with `users` bindings stored. */
function storeWith(dir: string, users: number): { db: SqliteDatabase; store: SqliteBindingStore } {
  const db = SqliteDatabase.open(mkdtempSync(join(dir, 'parley-')));
  if (process.env.PRAGMAS !== undefined) db.handle.exec(process.env.PRAGMAS);
  const store = new SqliteBindingStore(db);
  const now = Date.now();
  for (let u = 1; u <= users; u += 1000) {
    const save: ContactBinding[] = [];
    for (let v = u; v < u + 1000 && v <= users; v++) save.push(registration(v, 1, now));
    store.transaction(() => store.applyRows({ save, remove: [] }));
  }
  return { db, store };
}

/** CPU and wall µs per row of refreshes in transactions of REFRESH_BATCH (the binding writer's work). */
function refreshes(dir: string): { cpu: number; wall: number } {
  const { db, store } = storeWith(dir, REFRESH_USERS);
  let seed = 7;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < REFRESHES; i += REFRESH_BATCH) {
    const save: ContactBinding[] = [];
    const now = Date.now();
    for (let j = i; j < i + REFRESH_BATCH && j < REFRESHES; j++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      save.push(registration(1 + (seed % REFRESH_USERS), j + 2, now));
    }
    store.transaction(() => store.applyRows({ save, remove: [] }));
  }
  const wall = Number(process.hrtime.bigint() - start) / 1e3;
  const cpu = process.cpuUsage(cpu0);
  db.close();
  return { cpu: (cpu.user + cpu.system) / REFRESHES, wall: wall / REFRESHES };
}

/** ms of one purge over PURGE_ROWS live bindings (none expired): what the sweep costs the writer. */
function purge(dir: string): number {
  const { db, store } = storeWith(dir, PURGE_ROWS);
  const start = process.hrtime.bigint();
  const purged = store.transaction(() => store.purgeRows(Date.now()));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  db.close();
  if (purged !== 0) throw new Error(`purge removed ${purged} live rows`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const drivers = [nodeSqlite, betterSqlite3()].filter((d): d is Driver => d !== undefined);
const dir = mkdtempSync(join(tmpdir(), 'parley-sqlite-bench-'));
const workloads: Array<[string, (d: Driver) => number]> = [
  ['binding writes, 1 row per commit (rows/s)', (d) => writes(d, dir, 1)],
  ['binding writes, 8 rows per commit (rows/s)', (d) => writes(d, dir, 8)],
  ['binding writes, 64 rows per commit (rows/s)', (d) => writes(d, dir, 64)],
  ['subscriber lookups (lookups/s)', (d) => lookups(d, dir)],
];
console.log(`Node ${process.version}, ${ROUNDS} rounds, medians; SQLite files in ${dir}`);
try {
  for (const [label, run] of REFRESH_ONLY ? [] : workloads) {
    const results = new Map<string, number[]>(drivers.map((d) => [d.name, []]));
    for (let r = 0; r < ROUNDS; r++) for (const d of drivers) results.get(d.name)!.push(run(d));
    const cells = drivers.map((d) => `${d.name} ${Math.round(median(results.get(d.name)!)).toLocaleString('en')}`);
    const ratio = drivers.length === 2 ? `  node:sqlite/better-sqlite3 ${(median(results.get('node:sqlite')!) / median(results.get('better-sqlite3')!)).toFixed(2)}x` : '';
    console.log(`${label}: ${cells.join(', ')}${ratio}`);
  }
  const cpu: number[] = [];
  const wall: number[] = [];
  const purges: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const one = refreshes(dir);
    cpu.push(one.cpu);
    wall.push(one.wall);
    purges.push(purge(dir));
  }
  console.log(
    `binding refreshes through SqliteBindingStore, ${REFRESH_BATCH} rows per commit, ${REFRESH_USERS.toLocaleString('en')} bindings: ` +
      `${median(cpu).toFixed(2)} CPU µs/row, ${median(wall).toFixed(2)} wall µs/row (CPU per round: ${cpu.map((x) => x.toFixed(1)).join(' ')})`,
  );
  console.log(`purge of ${PURGE_ROWS.toLocaleString('en')} live bindings: ${median(purges).toFixed(1)} ms (per round: ${purges.map((x) => x.toFixed(1)).join(' ')})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
