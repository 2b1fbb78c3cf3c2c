import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { computeHa1 } from '../../sip/digest/hash.js';
import { StoreError } from '../store-error.js';
import type { NewSubscriber, Subscriber, SubscriberStore } from '../subscriber-store.js';
import { checkDomain, checkPassword, checkSubscriber } from '../check-subscriber.js';
import type { SqliteDatabase } from './sqlite-database.js';
import { containsPattern } from './like-pattern.js';
import { toStoreError, withStoreErrors } from './to-store-error.js';
import { inTransaction } from './transaction.js';

/** Options of SqliteSubscriberStore. */
export interface SqliteSubscriberStoreOptions {
  /** Wall-clock time for `createdAt`, ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** Progress of `addMany`, called as rows are hashed and written (synchronously: keep it cheap). */
export type AddManyProgress = (done: number, total: number) => void;

interface SubscriberRow {
  username: string;
  domain: string;
  ha1_md5: string;
  ha1_sha256: string;
  created_at: number;
  admin: number;
}

type InsertParams = [username: string, domain: string, ha1Md5: string, ha1Sha256: string, createdAt: number, admin: number];

const COLUMNS = 'username, domain, ha1_md5, ha1_sha256, created_at, admin';

/** A page of subscribers and how many match in all (SqliteSubscriberStore.page). */
export interface SubscriberPage {
  readonly items: Subscriber[];
  readonly total: number;
}
const PROGRESS_EVERY = 1000;

/**
 * Subscribers in Parley's SQLite database. Usernames are checked with `checkUsername` (RFC 3261
 * `user` characters, at most 128) and domains with `checkDomain` (host name or IP, stored
 * lower-case); a bad value is a StoreError ERR_STORE_INVALID whose message starts with the field.
 * Only HA1 (MD5 and SHA-256, realm = domain) is stored, never the password.
 */
export class SqliteSubscriberStore implements SubscriberStore {
  private readonly now: () => number;
  private readonly selectOne: StatementSync;
  private readonly insert: StatementSync;
  private readonly deleteOne: StatementSync;
  private readonly updateHa1: StatementSync;
  private readonly selectPage: StatementSync;
  private readonly selectDomainPage: StatementSync;
  private readonly countAll: StatementSync;
  private readonly updateAdmin: StatementSync;
  private readonly db: DatabaseSync;
  /** The statements of `page`, by WHERE clause (four at most). */
  private readonly pageStatements = new Map<string, { rows: StatementSync; count: StatementSync }>();
  private readonly insertAll: (rows: readonly InsertParams[], onProgress?: AddManyProgress) => void;

  constructor(database: SqliteDatabase, options: SqliteSubscriberStoreOptions = {}) {
    const db = database.handle;
    this.now = options.now ?? Date.now;
    this.selectOne = db.prepare(`SELECT ${COLUMNS} FROM subscribers WHERE username = ? AND domain = ?`);
    this.insert = db.prepare(`INSERT INTO subscribers (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`);
    this.updateAdmin = db.prepare('UPDATE subscribers SET admin = ? WHERE username = ? AND domain = ?');
    this.db = db;
    this.deleteOne = db.prepare('DELETE FROM subscribers WHERE username = ? AND domain = ?');
    this.updateHa1 = db.prepare('UPDATE subscribers SET ha1_md5 = ?, ha1_sha256 = ? WHERE username = ? AND domain = ?');
    // LIMIT -1 is SQLite for "no limit"
    this.selectPage = db.prepare(`SELECT ${COLUMNS} FROM subscribers ORDER BY domain, username LIMIT ? OFFSET ?`);
    this.selectDomainPage = db.prepare(`SELECT ${COLUMNS} FROM subscribers WHERE domain = ? ORDER BY username LIMIT ? OFFSET ?`);
    this.countAll = db.prepare('SELECT count(*) AS n FROM subscribers');
    this.insertAll = (rows: readonly InsertParams[], onProgress?: AddManyProgress): void =>
      inTransaction(
        db,
        () => {
          for (let i = 0; i < rows.length; i++) {
            const row = rows[i]!;
            try {
              this.insert.run(...row);
            } catch (e) {
              throw toStoreError(e, `${row[0]}@${row[1]}` + (rows.length > 1 ? ` (item ${i + 1})` : ''));
            }
            if (onProgress && (i + 1) % PROGRESS_EVERY === 0 && i + 1 < rows.length) onProgress(i + 1, rows.length);
          }
        },
        'immediate',
      );
  }

  async get(username: string, domain: string): Promise<Subscriber | undefined> {
    const row = withStoreErrors(() => this.selectOne.get(username, canonicalOrAsIs(domain))) as SubscriberRow | undefined;
    return row && toSubscriber(row);
  }

  async add(subscriber: NewSubscriber): Promise<Subscriber> {
    const row = this.hashed(subscriber, 0, 1);
    withStoreErrors(() => this.insertAll([row]));
    return toSubscriber(rowObject(row));
  }

  /**
   * All or nothing, in one IMMEDIATE transaction. Every item is checked (and hashed) before the
   * transaction starts (yielding to the event loop every 1000 rows); the error names the first bad
   * one as `user@domain (item N)`. `onProgress` (an extension of the interface) reports hashing,
   * then writing, every 1000 rows.
   */
  async addMany(subscribers: readonly NewSubscriber[], onProgress?: AddManyProgress): Promise<number> {
    const total = subscribers.length;
    const report = onProgress && ((done: number): void => onProgress(done, 2 * total));
    const rows: InsertParams[] = [];
    for (const [i, s] of subscribers.entries()) {
      rows.push(this.hashed(s, i, total));
      if ((i + 1) % PROGRESS_EVERY === 0) {
        report?.(i + 1);
        // hashing 100,000 takes about a second: let the thread's other work (sockets, a running
        // server's requests) run between thousands; the writing below is one transaction
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    withStoreErrors(() => this.insertAll(rows, report && ((done) => report(total + done))));
    report?.(2 * total);
    return rows.length;
  }

  async remove(username: string, domain: string): Promise<boolean> {
    return Number(withStoreErrors(() => this.deleteOne.run(username, canonicalOrAsIs(domain))).changes) > 0;
  }

  /** Throws StoreError ERR_STORE_INVALID (`password: …`) for an unacceptable password. */
  async setPassword(username: string, domain: string, password: string): Promise<boolean> {
    const checked = checkPassword(password);
    if (!checked.ok) throw new StoreError('ERR_STORE_INVALID', `password: ${checked.error}`);
    const d = canonicalOrAsIs(domain);
    const md5 = computeHa1('MD5', username, d, password);
    const sha256 = computeHa1('SHA-256', username, d, password);
    return Number(withStoreErrors(() => this.updateHa1.run(md5, sha256, username, d)).changes) > 0;
  }

  async list(options: { readonly domain?: string; readonly limit?: number; readonly offset?: number } = {}): Promise<Subscriber[]> {
    const limit = options.limit ?? -1;
    const offset = options.offset ?? 0;
    const rows = withStoreErrors(() =>
      options.domain === undefined ? this.selectPage.all(limit, offset) : this.selectDomainPage.all(canonicalOrAsIs(options.domain), limit, offset),
    );
    return (rows as unknown as SubscriberRow[]).map(toSubscriber);
  }

  /** Returns false when there is no such user. */
  async setAdmin(username: string, domain: string, admin: boolean): Promise<boolean> {
    return Number(withStoreErrors(() => this.updateAdmin.run(admin ? 1 : 0, username, canonicalOrAsIs(domain))).changes) > 0;
  }

  /**
   * A page of subscribers ordered by domain then username, with how many match in all: `domain`
   * exact, `search` a substring of `username@domain` (case-insensitive for ASCII, as SQLite's LIKE).
   */
  async page(options: { readonly domain?: string; readonly search?: string; readonly limit: number; readonly offset: number }): Promise<SubscriberPage> {
    const where: string[] = [];
    const params: string[] = [];
    if (options.domain !== undefined) {
      where.push('domain = ?');
      params.push(canonicalOrAsIs(options.domain));
    }
    if (options.search !== undefined && options.search !== '') {
      where.push("(username || '@' || domain) LIKE ? ESCAPE '\\'");
      params.push(containsPattern(options.search));
    }
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    return withStoreErrors(() => {
      let s = this.pageStatements.get(clause);
      if (s === undefined) {
        s = { rows: this.db.prepare(`SELECT ${COLUMNS} FROM subscribers ${clause} ORDER BY domain, username LIMIT ? OFFSET ?`), count: this.db.prepare(`SELECT count(*) AS n FROM subscribers ${clause}`) };
        this.pageStatements.set(clause, s);
      }
      const rows = s.rows.all(...params, options.limit, options.offset) as unknown as SubscriberRow[];
      const total = Number((s.count.get(...params) as { n: number }).n);
      return { items: rows.map(toSubscriber), total };
    });
  }

  async count(): Promise<number> {
    return Number((withStoreErrors(() => this.countAll.get()) as { n: number } | undefined)?.n ?? 0);
  }

  private hashed(subscriber: NewSubscriber, index: number, total: number): InsertParams {
    const checked = checkSubscriber(subscriber);
    if (!checked.ok) {
      const which = total > 1 ? `item ${index + 1}: ` : '';
      throw new StoreError('ERR_STORE_INVALID', `${which}${checked.error.field}: ${checked.error.problem}`);
    }
    const { username, domain, password } = checked.value;
    return [username, domain, computeHa1('MD5', username, domain, password), computeHa1('SHA-256', username, domain, password), this.now(), subscriber.admin === true ? 1 : 0];
  }
}

/** Lookups take any spelling of a domain; one that is not valid simply matches nothing. */
function canonicalOrAsIs(domain: string): string {
  const d = checkDomain(domain);
  return d.ok ? d.value : domain;
}


function rowObject([username, domain, ha1Md5, ha1Sha256, createdAt, admin]: InsertParams): SubscriberRow {
  return { username, domain, ha1_md5: ha1Md5, ha1_sha256: ha1Sha256, created_at: createdAt, admin };
}

function toSubscriber(row: SubscriberRow): Subscriber {
  return { username: row.username, domain: row.domain, ha1Md5: row.ha1_md5, ha1Sha256: row.ha1_sha256, createdAt: row.created_at, admin: row.admin === 1 };
}
