import type { StatementSync } from 'node:sqlite';
import { StoreError } from '../store-error.js';
import {
  checkTokenName,
  hashSecret,
  isTokenScope,
  mintToken,
  parseToken,
  secretMatches,
  TOKEN_LAST_USED_EVERY_MS,
  type ApiToken,
  type ApiTokenScope,
  type NewApiToken,
  type TokenStore,
} from '../token-store.js';
import type { SqliteDatabase } from './sqlite-database.js';
import { withStoreErrors } from './to-store-error.js';

/** Options of SqliteTokenStore. */
export interface SqliteTokenStoreOptions {
  /** Wall-clock time, ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

interface TokenRow {
  id: string;
  name: string;
  scope: string;
  secret_sha256: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  expires_at: number | null;
}

const COLUMNS = 'id, name, scope, secret_sha256, created_at, last_used_at, revoked_at, expires_at';

/**
 * API tokens in the `api_tokens` table of Parley's database. Nothing is cached: every `verify`
 * reads the row, so a token created or revoked by another process (`parley token …`) counts at
 * the next request. Revoked tokens keep their row (for the audit log's names); expired session
 * tokens are deleted when new ones are made.
 */
export class SqliteTokenStore implements TokenStore {
  private readonly now: () => number;
  private readonly insert: StatementSync;
  private readonly selectOne: StatementSync;
  private readonly selectLive: StatementSync;
  private readonly revokeOne: StatementSync;
  private readonly touch: StatementSync;
  private readonly deleteExpired: StatementSync;

  constructor(database: SqliteDatabase, options: SqliteTokenStoreOptions = {}) {
    const db = database.handle;
    this.now = options.now ?? Date.now;
    this.insert = db.prepare(`INSERT INTO api_tokens (id, name, scope, secret_sha256, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`);
    this.selectOne = db.prepare(`SELECT ${COLUMNS} FROM api_tokens WHERE id = ?`);
    this.selectLive = db.prepare(`SELECT ${COLUMNS} FROM api_tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at, id`);
    this.revokeOne = db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
    // the WHERE makes "at most once a minute" hold across processes sharing the file, too
    this.touch = db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)');
    this.deleteExpired = db.prepare('DELETE FROM api_tokens WHERE expires_at IS NOT NULL AND expires_at <= ?');
  }

  async create(name: string, scope: ApiTokenScope, options: { readonly expiresAt?: number } = {}): Promise<NewApiToken> {
    const problem = checkTokenName(name);
    if (problem !== undefined) throw new StoreError('ERR_STORE_INVALID', `name: ${problem}`);
    if (!isTokenScope(scope)) throw new StoreError('ERR_STORE_INVALID', `scope: must be read, write or admin`);
    const createdAt = this.now();
    const { id, secret, text } = mintToken();
    withStoreErrors(() => {
      this.deleteExpired.run(createdAt);
      this.insert.run(id, name, scope, hashSecret(secret), createdAt, options.expiresAt ?? null);
    });
    return { token: text, info: { id, name, scope, createdAt, ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }) } };
  }

  async list(): Promise<ApiToken[]> {
    const rows = withStoreErrors(() => this.selectLive.all(this.now())) as unknown as TokenRow[];
    return rows.map(toToken);
  }

  async revoke(id: string): Promise<boolean> {
    return Number(withStoreErrors(() => this.revokeOne.run(this.now(), id)).changes) > 0;
  }

  async verify(text: string): Promise<ApiToken | undefined> {
    const parsed = parseToken(text);
    const row = parsed === undefined ? undefined : (withStoreErrors(() => this.selectOne.get(parsed.id)) as TokenRow | undefined);
    // one hash and one comparison whatever happened above: unknown and wrong look alike
    const matches = secretMatches(parsed?.secret ?? text, row?.secret_sha256);
    if (!matches || row === undefined) return undefined;
    const now = this.now();
    if (row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) return undefined;
    if (row.last_used_at === null || row.last_used_at <= now - TOKEN_LAST_USED_EVERY_MS) {
      try {
        this.touch.run(now, row.id, now - TOKEN_LAST_USED_EVERY_MS);
        row.last_used_at = now;
      } catch {
        // a locked or read-only database: the token is still good, only its last use goes unrecorded
      }
    }
    return toToken(row);
  }
}

function toToken(row: TokenRow): ApiToken {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope as ApiTokenScope,
    createdAt: row.created_at,
    ...(row.last_used_at === null ? {} : { lastUsedAt: row.last_used_at }),
    ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
    ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
  };
}
