import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { computeHa1 } from '../../sip/digest/hash.js';
import { StoreError } from '../store-error.js';
import type { NewSubscriber } from '../subscriber-store.js';
import { IN_MEMORY, SqliteDatabase } from './sqlite-database.js';
import { SqliteSubscriberStore } from './sqlite-subscriber-store.js';

function storeError(code: StoreError['storeCode'], message: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof StoreError, `not a StoreError: ${String(e)}`);
    assert.equal(e.code, 'ERR_STORE');
    assert.equal(e.storeCode, code);
    assert.match(e.message, message);
    return true;
  };
}

describe('SqliteSubscriberStore', () => {
  let db: SqliteDatabase;
  let store: SqliteSubscriberStore;
  let clock: number;
  beforeEach(() => {
    db = SqliteDatabase.open(IN_MEMORY);
    clock = 1_800_000_000_000;
    store = new SqliteSubscriberStore(db, { now: () => clock++ });
  });
  afterEach(() => db.close());

  it('adds a subscriber with HA1 for MD5 and SHA-256 (realm = domain), never the password', async () => {
    const added = await store.add({ username: 'alice', domain: 'Example.COM', password: 'secret' });
    assert.deepEqual(added, {
      username: 'alice',
      domain: 'example.com',
      ha1Md5: computeHa1('MD5', 'alice', 'example.com', 'secret'),
      ha1Sha256: computeHa1('SHA-256', 'alice', 'example.com', 'secret'),
      createdAt: 1_800_000_000_000,
      admin: false,
    });
    assert.deepEqual(await store.get('alice', 'EXAMPLE.com'), added);
    const raw = JSON.stringify(db.handle.prepare('SELECT * FROM subscribers').all());
    assert.ok(!raw.includes('secret'));
  });

  it('compares usernames case-sensitively and domains case-insensitively', async () => {
    await store.add({ username: 'alice', domain: 'example.com', password: 'a' });
    await store.add({ username: 'Alice', domain: 'example.com', password: 'b' });
    assert.equal(await store.get('ALICE', 'example.com'), undefined);
    assert.equal((await store.get('Alice', 'Example.Com'))?.username, 'Alice');
    await assert.rejects(store.add({ username: 'alice', domain: 'EXAMPLE.COM', password: 'c' }), storeError('ERR_STORE_EXISTS', /^alice@example\.com: already exists$/));
    assert.equal(await store.count(), 2);
  });

  it('refuses bad usernames, domains and passwords, naming the field', async () => {
    const cases: Array<[NewSubscriber, RegExp]> = [
      [{ username: '', domain: 'example.com', password: 'pw' }, /^username: must not be empty/],
      [{ username: 'a b', domain: 'example.com', password: 'pw' }, /^username: must not contain whitespace/],
      [{ username: 'a:b', domain: 'example.com', password: 'pw' }, /^username: must not contain ":"/],
      [{ username: 'a@b', domain: 'example.com', password: 'pw' }, /^username: must not contain "@"/],
      [{ username: 'u'.repeat(129), domain: 'example.com', password: 'pw' }, /^username: must be at most 128/],
      [{ username: 'alice', domain: 'exa mple.com', password: 'pw' }, /^domain: /],
      [{ username: 'alice', domain: '', password: 'pw' }, /^domain: must not be empty/],
      [{ username: 'alice', domain: 'example.com', password: '' }, /^password: must not be empty/],
    ];
    for (const [s, message] of cases) await assert.rejects(store.add(s), storeError('ERR_STORE_INVALID', message));
    assert.equal(await store.count(), 0);
  });

  it('removes, and says whether there was someone to remove', async () => {
    await store.add({ username: 'alice', domain: 'example.com', password: 'pw' });
    assert.equal(await store.remove('alice', 'Example.com'), true);
    assert.equal(await store.remove('alice', 'example.com'), false);
    assert.equal(await store.get('alice', 'example.com'), undefined);
    assert.equal(await store.remove('nobody', 'not a domain'), false);
  });

  it('changes a password by replacing both HA1s', async () => {
    const before = await store.add({ username: 'alice', domain: 'example.com', password: 'old' });
    assert.equal(await store.setPassword('alice', 'EXAMPLE.com', 'new'), true);
    const after = await store.get('alice', 'example.com');
    assert.equal(after?.ha1Md5, computeHa1('MD5', 'alice', 'example.com', 'new'));
    assert.equal(after?.ha1Sha256, computeHa1('SHA-256', 'alice', 'example.com', 'new'));
    assert.equal(after?.createdAt, before.createdAt);
    assert.equal(await store.setPassword('bob', 'example.com', 'new'), false);
    await assert.rejects(store.setPassword('alice', 'example.com', ''), storeError('ERR_STORE_INVALID', /^password: /));
  });

  it('lists by domain then username, with a domain filter, limit and offset', async () => {
    await store.addMany([
      { username: 'carol', domain: 'b.example', password: 'x' },
      { username: 'bob', domain: 'a.example', password: 'x' },
      { username: 'alice', domain: 'b.example', password: 'x' },
      { username: 'Zed', domain: 'a.example', password: 'x' },
    ]);
    const names = (list: Array<{ username: string; domain: string }>): string[] => list.map((s) => `${s.username}@${s.domain}`);
    assert.deepEqual(names(await store.list()), ['Zed@a.example', 'bob@a.example', 'alice@b.example', 'carol@b.example']);
    assert.deepEqual(names(await store.list({ domain: 'B.Example' })), ['alice@b.example', 'carol@b.example']);
    assert.deepEqual(names(await store.list({ limit: 2, offset: 1 })), ['bob@a.example', 'alice@b.example']);
    assert.deepEqual(names(await store.list({ offset: 3 })), ['carol@b.example']);
    assert.deepEqual(await store.list({ domain: 'nowhere.example' }), []);
    assert.equal(await store.count(), 4);
  });

  it('addMany is all or nothing: a bad row in the middle leaves the store unchanged', async () => {
    await store.add({ username: 'existing', domain: 'example.com', password: 'pw' });
    const batch = (bad: NewSubscriber): NewSubscriber[] => [
      { username: 'u1', domain: 'example.com', password: 'pw' },
      { username: 'u2', domain: 'example.com', password: 'pw' },
      bad,
      { username: 'u4', domain: 'example.com', password: 'pw' },
    ];
    await assert.rejects(store.addMany(batch({ username: 'bad user', domain: 'example.com', password: 'pw' })), storeError('ERR_STORE_INVALID', /^item 3: username: /));
    await assert.rejects(store.addMany(batch({ username: 'existing', domain: 'EXAMPLE.com', password: 'pw' })), storeError('ERR_STORE_EXISTS', /^existing@example\.com \(item 3\): already exists/));
    await assert.rejects(store.addMany(batch({ username: 'u1', domain: 'example.com', password: 'again' })), storeError('ERR_STORE_EXISTS', /^u1@example\.com \(item 3\)/));
    assert.deepEqual((await store.list()).map((s) => s.username), ['existing']);

    assert.equal(await store.addMany(batch({ username: 'u3', domain: 'example.com', password: 'pw' })), 4);
    assert.equal(await store.count(), 5);
    assert.equal(await store.addMany([]), 0);
  });

  it('addMany reports progress and adds 10,000 rows in one go', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({ username: `user${i}`, domain: 'example.com', password: `pw${i}` }));
    const seen: Array<[number, number]> = [];
    assert.equal(await store.addMany(many, (done, total) => seen.push([done, total])), 10_000);
    assert.equal(await store.count(), 10_000);
    assert.deepEqual(seen.at(-1), [20_000, 20_000]);
    assert.ok(seen.every(([done], i) => i === 0 || done > seen[i - 1]![0]));
    assert.equal((await store.get('user9999', 'example.com'))?.ha1Md5, computeHa1('MD5', 'user9999', 'example.com', 'pw9999'));
  });

  it('turns a closed database into ERR_STORE_IO', async () => {
    db.close();
    await assert.rejects(store.get('alice', 'example.com'), storeError('ERR_STORE_IO', /^database: /));
    await assert.rejects(store.add({ username: 'alice', domain: 'example.com', password: 'pw' }), storeError('ERR_STORE_IO', /^database: /));
  });

  it('keeps the admin flag (add, setAdmin) and pages with a filter, a search and the total', async () => {
    await store.add({ username: 'boss', domain: 'example.com', password: 'secret', admin: true });
    await store.addMany([
      { username: 'alice', domain: 'example.com', password: 'p' },
      { username: 'al_x', domain: 'example.com', password: 'p' },
      { username: 'alan', domain: 'other.org', password: 'p' },
    ]);
    assert.equal((await store.get('boss', 'example.com'))?.admin, true);
    assert.equal((await store.get('alice', 'example.com'))?.admin, false);
    assert.equal(await store.setAdmin('alice', 'EXAMPLE.com', true), true);
    assert.equal((await store.get('alice', 'example.com'))?.admin, true);
    assert.equal(await store.setAdmin('nobody', 'example.com', true), false);
    const all = await store.page({ limit: 2, offset: 1 });
    assert.equal(all.total, 4);
    assert.deepEqual(all.items.map((s) => s.username), ['alice', 'boss']);
    const al = await store.page({ search: 'AL', limit: 10, offset: 0 });
    assert.deepEqual(al.items.map((s) => `${s.username}@${s.domain}`), ['al_x@example.com', 'alice@example.com', 'alan@other.org']);
    // % and _ are themselves, not wildcards
    assert.deepEqual((await store.page({ search: 'l_', limit: 10, offset: 0 })).items.map((s) => s.username), ['al_x']);
    assert.equal((await store.page({ search: '%', limit: 10, offset: 0 })).total, 0);
    const other = await store.page({ domain: 'Other.org', search: 'al', limit: 10, offset: 0 });
    assert.deepEqual([other.total, other.items[0]?.username], [1, 'alan']);
  });
});
