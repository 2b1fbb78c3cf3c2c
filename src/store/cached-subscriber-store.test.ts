import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CachedSubscriberStore } from './cached-subscriber-store.js';
import { MemorySubscriberStore } from './memory-subscriber-store.js';
import type { SubscriberStore } from './subscriber-store.js';

/** A store that counts the reads that reach it. */
function counting(inner: SubscriberStore): { store: SubscriberStore; reads: () => number } {
  let n = 0;
  const store = Object.create(inner) as SubscriberStore;
  store.get = (u, d) => {
    n++;
    return inner.get(u, d);
  };
  return { store, reads: () => n };
}

function setup(ttlMs = 2000, maxEntries?: number) {
  let now = 0;
  const memory = new MemorySubscriberStore();
  const { store, reads } = counting(memory);
  const cache = new CachedSubscriberStore(store, { ttlMs, now: () => now, ...(maxEntries === undefined ? {} : { maxEntries }) });
  return { memory, cache, reads, advance: (ms: number) => (now += ms) };
}

test('CachedSubscriberStore answers repeated reads from memory until the entry expires', async () => {
  const { memory, cache, reads, advance } = setup();
  await memory.add({ username: 'alice', domain: 'example.com', password: 'pw' });
  const first = await cache.get('alice', 'example.com');
  assert.equal(first?.username, 'alice');
  assert.equal((await cache.get('alice', 'EXAMPLE.com'))?.ha1Md5, first.ha1Md5);
  assert.equal(reads(), 1);
  advance(2001);
  await cache.get('alice', 'example.com');
  assert.equal(reads(), 2);
});

test('CachedSubscriberStore remembers an absent subscriber for the same time, and sees one added elsewhere after it', async () => {
  const { memory, cache, reads, advance } = setup();
  assert.equal(await cache.get('bob', 'example.com'), undefined);
  await memory.add({ username: 'bob', domain: 'example.com', password: 'pw' }); // not through the cache
  assert.equal(await cache.get('bob', 'example.com'), undefined);
  assert.equal(reads(), 1);
  advance(2500);
  assert.equal((await cache.get('bob', 'example.com'))?.username, 'bob');
});

test('CachedSubscriberStore drops the entries that changes made through it touch', async () => {
  const { cache } = setup();
  await cache.add({ username: 'carol', domain: 'example.com', password: 'one' });
  const before = await cache.get('carol', 'example.com');
  assert.equal(await cache.setPassword('carol', 'example.com', 'two'), true);
  const after = await cache.get('carol', 'example.com');
  assert.notEqual(after?.ha1Md5, before?.ha1Md5);
  assert.equal(await cache.remove('carol', 'example.com'), true);
  assert.equal(await cache.get('carol', 'example.com'), undefined);
  assert.equal(await cache.addMany([{ username: 'carol', domain: 'example.com', password: 'three' }]), 1);
  assert.equal((await cache.get('carol', 'example.com'))?.username, 'carol');
});

test('CachedSubscriberStore keeps at most maxEntries, dropping the oldest', async () => {
  const { cache, reads } = setup(60_000, 2);
  for (const u of ['u1', 'u2', 'u3']) await cache.get(u, 'example.com');
  assert.equal(reads(), 3);
  await cache.get('u3', 'example.com');
  await cache.get('u2', 'example.com');
  assert.equal(reads(), 3);
  await cache.get('u1', 'example.com'); // dropped when u3 came in
  assert.equal(reads(), 4);
});
