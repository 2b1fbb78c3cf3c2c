// The TURN thread's credentials (turn-worker.ts turnCredentials): the subscriber's stored HA1s are
// the long-term keys of RFC 8489 §9.2.2 for each password algorithm, REST credentials derive
// either key, and USERHASH finds a subscriber through the index.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { longTermKey, userHash } from '../stun/credentials.js';
import { MemorySubscriberStore } from '../store/memory-subscriber-store.js';
import { RestSecrets } from '../turn/rest-credentials.js';
import { UserHashIndex } from '../turn/user-hashes.js';
import { turnCredentials } from './turn-worker.js';

const REALM = 'example.test';

describe('turnCredentials (the TURN thread wiring)', () => {
  it("a subscriber's MD5 and SHA-256 keys are its stored HA1s, equal to the RFC 8489 derivations; USERHASH finds it; REST credentials give either key", async () => {
    const store = new MemorySubscriberStore();
    await store.add({ username: 'alice', domain: REALM, password: 'wonderland' });
    const index = new UserHashIndex({ realm: REALM, list: async (d) => (await store.list({ domain: d })).map((s) => s.username), maxAgeMs: 60_000, now: () => 0 });
    const rest = new RestSecrets(['s3cret']);
    const c = turnCredentials(store, rest, () => 1_700_000_000, index);
    const md5 = await c.keys('alice', REALM, 'md5');
    const sha256 = await c.keys('alice', REALM, 'sha256');
    assert.deepEqual(Buffer.from(md5!.keys[0]!), Buffer.from(longTermKey('alice', REALM, 'wonderland', 'md5')));
    assert.deepEqual(Buffer.from(sha256!.keys[0]!), Buffer.from(longTermKey('alice', REALM, 'wonderland', 'sha256')));
    assert.equal(sha256!.keys[0]!.length, 32);
    assert.equal(await c.keys('nobody', REALM, 'sha256'), undefined);
    assert.equal(await c.usernameOfHash!(userHash('alice', REALM), REALM), 'alice');
    assert.equal(await c.usernameOfHash!(userHash('nobody', REALM), REALM), undefined);
    const made = rest.make('carol', 3600, 1_700_000_000);
    const restSha = await c.keys(made.username, REALM, 'sha256');
    assert.equal(restSha!.user, 'carol');
    assert.deepEqual(Buffer.from(restSha!.keys[0]!), Buffer.from(longTermKey(made.username, REALM, made.password, 'sha256')));
    const restMd5 = await c.keys(made.username, REALM, 'md5');
    assert.deepEqual(Buffer.from(restMd5!.keys[0]!), Buffer.from(longTermKey(made.username, REALM, made.password, 'md5')));
  });
});
