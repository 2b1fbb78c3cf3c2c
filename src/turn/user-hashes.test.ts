// USERHASH → username (RFC 8489 §14.4): the index made on first use, kept up to date by
// invalidations, remade on a miss at most once per maxAgeMs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { userHash } from '../stun/credentials.js';
import { UserHashIndex } from './user-hashes.js';

const REALM = 'example.test';

function index(users: string[], now = { t: 0 }) {
  const lists: string[] = [];
  const i = new UserHashIndex({
    realm: REALM,
    list: async (realm) => {
      lists.push(realm);
      return [...users];
    },
    maxAgeMs: 60_000,
    now: () => now.t,
  });
  return { i, lists, now };
}

describe('UserHashIndex', () => {
  it('lists the store only on first use, then finds every user of the realm by SHA-256(username:realm)', async () => {
    const { i, lists } = index(['alice', 'bob']);
    assert.equal(i.size, 0);
    assert.deepEqual(lists, []);
    assert.equal(await i.find(userHash('alice', REALM), REALM), 'alice');
    assert.equal(await i.find(userHash('bob', REALM), REALM), 'bob');
    assert.deepEqual(lists, [REALM]);
    assert.equal(i.size, 2);
  });

  it('a hash of another realm, or of an unknown user, finds nobody; concurrent first uses list once', async () => {
    const { i, lists } = index(['alice']);
    const [a, b] = await Promise.all([i.find(userHash('alice', 'other.test'), REALM), i.find(userHash('mallory', REALM), REALM)]);
    assert.equal(a, undefined);
    assert.equal(b, undefined);
    assert.equal(await i.find(userHash('alice', REALM), 'other.test'), undefined);
    assert.deepEqual(lists, [REALM]);
  });

  it('a subscriber announced by an invalidation is found without listing again; a full invalidation remakes the index', async () => {
    const users = ['alice'];
    const { i, lists } = index(users);
    await i.find(userHash('alice', REALM), REALM);
    i.invalidate('carol', 'EXAMPLE.test');
    i.invalidate('dave', 'elsewhere.test');
    assert.equal(await i.find(userHash('carol', REALM), REALM), 'carol');
    assert.deepEqual(lists, [REALM]);
    users.push('erin');
    i.invalidate();
    assert.equal(await i.find(userHash('erin', REALM), REALM), 'erin');
    assert.deepEqual(lists, [REALM, REALM]);
  });

  it('a subscriber announced while the index is being made is in it', async () => {
    let release: () => void = () => {};
    const listed = new Promise<void>((r) => (release = r));
    const i = new UserHashIndex({
      realm: REALM,
      list: async () => {
        await listed;
        return ['alice'];
      },
      maxAgeMs: 60_000,
      now: () => 0,
    });
    const first = i.find(userHash('alice', REALM), REALM);
    await new Promise((r) => setImmediate(r));
    i.invalidate('gina', REALM); // added after the store was read
    release();
    assert.equal(await first, 'alice');
    assert.equal(await i.find(userHash('gina', REALM), REALM), 'gina');
  });

  it('a miss remakes the index only when it is older than maxAgeMs (random hashes cannot make it list the store each time)', async () => {
    const users = ['alice'];
    const { i, lists, now } = index(users);
    await i.find(userHash('alice', REALM), REALM);
    users.push('frank'); // added without an invalidation
    for (let n = 0; n < 5; n++) assert.equal(await i.find(userHash('frank', REALM), REALM), undefined);
    assert.equal(lists.length, 1);
    now.t = 60_001;
    assert.equal(await i.find(userHash('frank', REALM), REALM), 'frank');
    assert.equal(lists.length, 2);
  });
});
