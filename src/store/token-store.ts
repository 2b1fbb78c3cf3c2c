import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What an API token may do: read < write < admin (each includes the ones before it). */
export type ApiTokenScope = 'read' | 'write' | 'admin';

export const API_TOKEN_SCOPES: readonly ApiTokenScope[] = ['read', 'write', 'admin'];

/** An API token as stored: never its secret, only the secret's SHA-256. */
export interface ApiToken {
  /** Random, 12 lower-case hex digits; the public half of the token text. */
  readonly id: string;
  /** What the operator called it (`grafana`, `crm-sync`, `dashboard session alice@example.com`). */
  readonly name: string;
  readonly scope: ApiTokenScope;
  /** ms since the epoch. */
  readonly createdAt: number;
  /** ms since the epoch; written at most once a minute (TOKEN_LAST_USED_EVERY_MS). */
  readonly lastUsedAt?: number;
  /** ms since the epoch; a token with it set no longer verifies. */
  readonly revokedAt?: number;
  /** ms since the epoch (dashboard sessions); none for operators' tokens. */
  readonly expiresAt?: number;
}

/** A token just made: `token` is the whole text (`pk_<id>_<secret>`), shown to its owner this once. */
export interface NewApiToken {
  readonly token: string;
  readonly info: ApiToken;
}

/**
 * Where API tokens live (SQLite now: src/store/sqlite/sqlite-token-store.ts). A running server
 * reads it on every request (a primary-key lookup), so `parley token create|revoke` on the same
 * database takes effect at the next request, without telling the server.
 */
export interface TokenStore {
  /** Throws StoreError ERR_STORE_INVALID for an empty or too long name, or an unknown scope. */
  create(name: string, scope: ApiTokenScope, options?: { readonly expiresAt?: number }): Promise<NewApiToken>;
  /** Tokens not revoked and not expired, oldest first. */
  list(): Promise<ApiToken[]>;
  /** Returns false when there is no such token (or it was revoked already). */
  revoke(id: string): Promise<boolean>;
  /**
   * The token this text names, when the text is a token of this store, its secret matches, and it
   * is neither revoked nor expired; undefined otherwise. Unknown ids, wrong secrets and malformed
   * texts take the same path (a SHA-256 and a constant-time comparison against a stored or a
   * dummy hash), so the time does not tell which it was.
   */
  verify(text: string): Promise<ApiToken | undefined>;
}

/** `last_used_at` is written at most this often per token (a busy token would write per request). */
export const TOKEN_LAST_USED_EVERY_MS = 60_000;
/** Token names: 1 to this many characters (no control characters). */
export const TOKEN_NAME_MAX = 100;

const PREFIX = 'pk_';
const ID_BYTES = 6;
/** 256 random bits. */
const SECRET_BYTES = 32;
/** base64url of 32 bytes, unpadded. */
const SECRET_CHARS = 43;

/** A fresh id and secret, and the token text they make. */
export function mintToken(): { id: string; secret: string; text: string } {
  const id = randomBytes(ID_BYTES).toString('hex');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { id, secret, text: `${PREFIX}${id}_${secret}` };
}

/**
 * `pk_<id>_<secret>` → its parts, or undefined when the text does not have that shape. The id is
 * hex (no `_`), so the secret is whatever follows the second `_` (base64url may hold `_` itself).
 */
export function parseToken(text: string): { id: string; secret: string } | undefined {
  if (!text.startsWith(PREFIX)) return undefined;
  const id = text.slice(PREFIX.length, PREFIX.length + ID_BYTES * 2);
  if (text.charAt(PREFIX.length + ID_BYTES * 2) !== '_' || !isLowerHex(id)) return undefined;
  const secret = text.slice(PREFIX.length + ID_BYTES * 2 + 1);
  if (secret.length !== SECRET_CHARS || !isBase64Url(secret)) return undefined;
  return { id, secret };
}

/**
 * The stored form of a secret: SHA-256, lower-case hex. No slow hash (scrypt, argon2) is needed:
 * those make guessing a low-entropy password from a stolen hash expensive, but a token's secret is
 * 256 random bits, which no amount of guessing reaches whatever the hash costs; a fast hash also
 * keeps a per-request check cheap.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A hash no secret is known to have: compared against when the id is unknown, to take the same time. */
const DUMMY_HASH = hashSecret(randomBytes(SECRET_BYTES).toString('base64url'));

/**
 * Does `secret` hash to `storedHash` (or, when there is no stored hash, pretend to check)? Always
 * one SHA-256 and one constant-time comparison of 32 bytes.
 */
export function secretMatches(secret: string, storedHash: string | undefined): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(storedHash ?? DUMMY_HASH, 'hex');
  const same = expected.length === presented.length && timingSafeEqual(expected, presented);
  return same && storedHash !== undefined;
}

/** A token name's problem, or undefined when it is fine. */
export function checkTokenName(name: string): string | undefined {
  if (name.length === 0) return 'empty';
  if (name.length > TOKEN_NAME_MAX) return `longer than ${TOKEN_NAME_MAX} characters`;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'contains a control character';
  }
  return undefined;
}

export function isTokenScope(s: string): s is ApiTokenScope {
  return (API_TOKEN_SCOPES as readonly string[]).includes(s);
}

/** Does a token of scope `held` allow what needs `needed`? read < write < admin. */
export function scopeAllows(held: ApiTokenScope, needed: ApiTokenScope): boolean {
  return API_TOKEN_SCOPES.indexOf(held) >= API_TOKEN_SCOPES.indexOf(needed);
}

/** A token as JSON (`parley token list --json`, the API's TokenView): times in ISO 8601. */
export function tokenJson(t: ApiToken): { id: string; name: string; scope: ApiTokenScope; createdAt: string; lastUsedAt?: string; expiresAt?: string } {
  return {
    id: t.id,
    name: t.name,
    scope: t.scope,
    createdAt: new Date(t.createdAt).toISOString(),
    ...(t.lastUsedAt === undefined ? {} : { lastUsedAt: new Date(t.lastUsedAt).toISOString() }),
    ...(t.expiresAt === undefined ? {} : { expiresAt: new Date(t.expiresAt).toISOString() }),
  };
}

function isLowerHex(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function isBase64Url(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x5f;
    if (!ok) return false;
  }
  return true;
}
