import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IN_MEMORY, SqliteDatabase } from './sqlite-database.js';
import { SqliteTokenStore } from './sqlite-token-store.js';
import { hashSecret, parseToken, scopeAllows, TOKEN_LAST_USED_EVERY_MS } from '../token-store.js';
import { StoreError } from '../store-error.js';

function open(now: () => number = Date.now): { db: SqliteDatabase; store: SqliteTokenStore } {
  const db = SqliteDatabase.open(IN_MEMORY);
  return { db, store: new SqliteTokenStore(db, { now }) };
}

describe('SqliteTokenStore', () => {
  it('creates pk_<id>_<secret> tokens that verify, and stores only the SHA-256 of the secret', async () => {
    const { db, store } = open(() => 1_000_000);
    const made = await store.create('grafana', 'read');
    const parsed = parseToken(made.token);
    assert.ok(parsed, made.token);
    assert.equal(parsed.id, made.info.id);
    assert.match(made.token, /^pk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/u);
    assert.deepEqual(made.info, { id: parsed.id, name: 'grafana', scope: 'read', createdAt: 1_000_000 });
    const row = db.handle.prepare('SELECT * FROM api_tokens').get() as Record<string, unknown>;
    assert.equal(row.secret_sha256, hashSecret(parsed.secret));
    assert.ok(!JSON.stringify(row).includes(parsed.secret), 'the secret itself is not stored');
    const verified = await store.verify(made.token);
    assert.equal(verified?.id, made.info.id);
    assert.equal(verified?.scope, 'read');
    db.close();
  });

  it('refuses a wrong secret, an unknown id, a malformed text, a revoked and an expired token', async () => {
    let now = 5_000;
    const { db, store } = open(() => now);
    const a = await store.create('a', 'admin');
    const b = await store.create('b', 'write', { expiresAt: 10_000 });
    const { id, secret } = parseToken(a.token)!;
    const otherSecret = parseToken(b.token)!.secret;
    assert.equal(await store.verify(`pk_${id}_${otherSecret}`), undefined, 'wrong secret');
    assert.equal(await store.verify(`pk_000000000000_${secret}`), undefined, 'unknown id');
    for (const bad of ['', 'pk_', `pk_${id}`, `pk_${id}_`, `pk_${id.toUpperCase()}_${secret}`, `xx_${id}_${secret}`, `pk_${id}_${secret}x`, `pk_${id}_${secret.slice(1)}!`]) {
      assert.equal(await store.verify(bad), undefined, JSON.stringify(bad));
    }
    assert.ok(await store.verify(b.token));
    now = 10_000;
    assert.equal(await store.verify(b.token), undefined, 'expired');
    assert.equal(await store.revoke(id), true);
    assert.equal(await store.revoke(id), false, 'already revoked');
    assert.equal(await store.revoke('nosuchid0000'), false);
    assert.equal(await store.verify(a.token), undefined, 'revoked');
    db.close();
  });

  it('lists live tokens oldest first, without revoked or expired ones', async () => {
    let now = 1;
    const { db, store } = open(() => now);
    const a = await store.create('a', 'read');
    now = 2;
    await store.create('b', 'write', { expiresAt: 100 });
    now = 3;
    const c = await store.create('c', 'admin');
    await store.revoke(a.info.id);
    assert.deepEqual((await store.list()).map((t) => t.name), ['b', 'c']);
    now = 100;
    assert.deepEqual((await store.list()).map((t) => t.id), [c.info.id]);
    db.close();
  });

  it('records the last use at most once a minute', async () => {
    let now = 1_000_000;
    const { db, store } = open(() => now);
    const made = await store.create('a', 'read');
    const lastUsed = (): unknown => (db.handle.prepare('SELECT last_used_at AS t FROM api_tokens').get() as { t: unknown }).t;
    assert.equal(lastUsed(), null);
    await store.verify(made.token);
    assert.equal(lastUsed(), 1_000_000);
    now += TOKEN_LAST_USED_EVERY_MS - 1;
    await store.verify(made.token);
    assert.equal(lastUsed(), 1_000_000, 'not again within the minute');
    now += 1;
    assert.equal((await store.verify(made.token))?.lastUsedAt, now);
    assert.equal(lastUsed(), now);
    db.close();
  });

  it('refuses an empty, a long or a control-character name and an unknown scope', async () => {
    const { db, store } = open();
    for (const name of ['', 'x'.repeat(101), 'a\nb']) await assert.rejects(store.create(name, 'read'), (e: unknown) => e instanceof StoreError && e.message.startsWith('name:'));
    await assert.rejects(store.create('x', 'root' as 'read'), (e: unknown) => e instanceof StoreError && e.message.startsWith('scope:'));
    db.close();
  });

  it('orders scopes read < write < admin', () => {
    assert.ok(scopeAllows('admin', 'read') && scopeAllows('admin', 'write') && scopeAllows('write', 'read') && scopeAllows('read', 'read'));
    assert.ok(!scopeAllows('read', 'write') && !scopeAllows('write', 'admin') && !scopeAllows('read', 'admin'));
  });
});
