import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashAscii, PackedRecords } from './packed-records.js';

/** A payload writer for `text` (the PackedRecords.add contract: minus the length when short of room). */
function payload(text: string) {
  return (into: Buffer, at: number, room: number): number => {
    if (room < text.length) return -text.length;
    into.write(text, at, 'latin1');
    return text.length;
  };
}

function add(r: PackedRecords, key: string, text: string, expires: number, hash = hashAscii(key)): boolean {
  return r.add(key, hash, expires, payload(text));
}

function find(r: PackedRecords, key: string, hash = hashAscii(key)): string | undefined {
  return r.find(key, hash)?.toString('latin1');
}

test('PackedRecords finds a record by its key and gives its payload back', () => {
  const r = new PackedRecords(1 << 20);
  assert.equal(add(r, 'z9hG4bKa|host:5060|REGISTER', 'SIP/2.0 200 OK a', 100), true);
  assert.equal(add(r, 'z9hG4bKb|host:5060|REGISTER', 'SIP/2.0 401 b', 100), true);
  assert.equal(find(r, 'z9hG4bKa|host:5060|REGISTER'), 'SIP/2.0 200 OK a');
  assert.equal(find(r, 'z9hG4bKb|host:5060|REGISTER'), 'SIP/2.0 401 b');
  assert.equal(find(r, 'z9hG4bKc|host:5060|REGISTER'), undefined);
  assert.equal(r.size, 2);
});

test('PackedRecords expires records first in, first out, by their time', () => {
  const r = new PackedRecords(1 << 20);
  add(r, 'a', 'A', 10);
  add(r, 'b', 'B', 20);
  add(r, 'c', 'C', 30);
  assert.equal(r.oldestExpiry, 10);
  r.expire(20);
  assert.equal(find(r, 'a'), undefined);
  assert.equal(find(r, 'b'), undefined);
  assert.equal(find(r, 'c'), 'C');
  assert.equal(r.oldestExpiry, 30);
  r.expire(30);
  assert.equal(r.size, 0);
  assert.equal(r.oldestExpiry, undefined);
});

test('PackedRecords keeps two keys with the same hash apart', () => {
  const r = new PackedRecords(1 << 20);
  add(r, 'first', 'one', 10, 7);
  add(r, 'second', 'two', 20, 7);
  assert.equal(find(r, 'first', 7), 'one');
  assert.equal(find(r, 'second', 7), 'two');
  assert.equal(find(r, 'third', 7), undefined);
  r.expire(10);
  assert.equal(find(r, 'first', 7), undefined);
  assert.equal(find(r, 'second', 7), 'two');
  r.expire(20);
  assert.equal(find(r, 'second', 7), undefined);
});

test('PackedRecords: a key added again finds its newest payload, and the older record expiring leaves it', () => {
  const r = new PackedRecords(1 << 20);
  add(r, 'k', 'old', 10);
  add(r, 'k', 'new', 20);
  assert.equal(find(r, 'k'), 'new');
  r.expire(10);
  assert.equal(find(r, 'k'), 'new');
});

test('PackedRecords wraps around its ring and grows while every record is alive, keeping every one', () => {
  const r = new PackedRecords(1 << 20);
  const start = r.capacity;
  // expire some as we go so that the ring wraps before it grows
  for (let i = 0; i < 5000; i++) {
    assert.equal(add(r, `key${i}`, `payload ${i} `.padEnd(40 + (i % 50), 'x'), i), true);
    r.expire(i - 1000);
  }
  assert.ok(r.capacity > start, 'grew');
  assert.equal(r.evicted, 0);
  for (let i = 0; i < 5000; i++) assert.equal(find(r, `key${i}`), i < 4000 ? undefined : `payload ${i} `.padEnd(40 + (i % 50), 'x'), `key${i}`);
});

test('PackedRecords at its bound drops the oldest records first and counts them', () => {
  const r = new PackedRecords(64 * 1024);
  const text = 'x'.repeat(1000);
  for (let i = 0; i < 200; i++) assert.equal(add(r, `key${i}`, text, 1e9), true);
  assert.equal(r.capacity, 64 * 1024);
  assert.ok(r.evicted > 0);
  assert.equal(r.size + r.evicted, 200);
  // the newest are all there, the oldest are gone
  for (let i = 0; i < 200; i++) assert.equal(find(r, `key${i}`) !== undefined, i >= r.evicted, `key${i}`);
  // a record larger than a quarter of the bound is not kept at all
  assert.equal(add(r, 'huge', 'y'.repeat(20_000), 1e9), false);
  assert.equal(find(r, 'huge'), undefined);
});

test('PackedRecords keeps nothing when the payload cannot be written, and clear empties it', () => {
  const r = new PackedRecords(1 << 20);
  assert.equal(r.add('k', hashAscii('k'), 10, () => 0), false);
  assert.equal(r.size, 0);
  add(r, 'a', 'A', 10);
  r.clear();
  assert.equal(r.size, 0);
  assert.equal(find(r, 'a'), undefined);
  add(r, 'b', 'B', 10);
  assert.equal(find(r, 'b'), 'B');
});

test('PackedRecords agrees with a Map under random adds, expiries and finds (with and without evictions)', () => {
  let seed = 42;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (const bound of [1 << 24, 16 * 1024]) {
    const r = new PackedRecords(bound);
    // the model: key → [payload, expires], in the order added (the newest per key wins)
    const model = new Map<string, [string, number]>();
    let now = 0;
    for (let step = 0; step < 20_000; step++) {
      const op = random();
      if (op < 0.6) {
        const key = `k${Math.floor(random() * 3000)}`;
        const text = `${key}:${step}:`.padEnd(10 + Math.floor(random() * 300), '.');
        // one lifetime for all, as in CompletedTable (Timer J): expiry times never go down
        const expires = now + 50;
        // a small hash space forces collisions
        assert.equal(r.add(key, hashAscii(key) & 0xff, expires, payload(text)), true);
        model.set(key, [text, expires]);
      } else if (op < 0.7) {
        now += Math.floor(random() * 5);
        r.expire(now);
      } else {
        const key = `k${Math.floor(random() * 3000)}`;
        const found = find(r, key, hashAscii(key) & 0xff);
        const m = model.get(key);
        if (found !== undefined) assert.equal(found, m![0], `${key} at step ${step}`);
        // without evictions a key is missing exactly when its newest record has expired
        else if (bound === 1 << 24) assert.ok(m === undefined || m[1] <= now, `${key} lost at step ${step}`);
      }
    }
    if (bound === 1 << 24) assert.equal(r.evicted, 0);
    else assert.ok(r.evicted > 0);
  }
});

test('hashAscii is a small non-negative integer for ASCII and -1 otherwise', () => {
  const h = hashAscii('z9hG4bK776asdhds|pc33.atlanta.com:5060|INVITE');
  assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 30);
  assert.equal(hashAscii('z9hG4bK776asdhds|pc33.atlanta.com:5060|INVITE'), h);
  assert.notEqual(hashAscii('z9hG4bK776asdhdt|pc33.atlanta.com:5060|INVITE'), h);
  assert.equal(hashAscii('caf\u00e9'), -1);
});
