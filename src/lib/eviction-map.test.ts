import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EvictionMap } from './eviction-map.js';

/**
 * The model: a Map in which a touch is delete + set (its iteration order is the eviction order),
 * which is what EvictionMap replaces.
 */
function check(m: EvictionMap<string, number>, model: Map<string, number>): void {
  assert.equal(m.size, model.size);
  assert.deepEqual([...m.entries()], [...model.entries()]);
  assert.deepEqual(m.oldest(), model.size === 0 ? undefined : [...model.entries()][0]);
}

test('EvictionMap keeps the order of a Map whose touches re-insert, through sets, touches, deletes and shifts', () => {
  const m = new EvictionMap<string, number>();
  const model = new Map<string, number>();
  let seed = 11;
  const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 30_000; i++) {
    const k = `k${Math.floor(random() * 2000)}`;
    const r = random();
    if (r < 0.4) {
      m.set(k, i);
      model.set(k, i);
    } else if (r < 0.6) {
      const had = model.has(k);
      assert.equal(m.touch(k), had);
      if (had) {
        const v = model.get(k)!;
        model.delete(k);
        model.set(k, v);
      }
    } else if (r < 0.8) {
      assert.equal(m.delete(k), model.delete(k));
    } else {
      const first = [...model.entries()][0];
      if (first !== undefined) model.delete(first[0]);
      assert.deepEqual(m.shift(), first);
    }
    assert.equal(m.get(k), model.get(k));
    assert.equal(m.has(k), model.has(k));
    if (i % 499 === 0) check(m, model);
  }
  check(m, model);
  m.clear();
  check(m, new Map());
  assert.equal(m.shift(), undefined);
});

test('EvictionMap: a key set again keeps its place, a key deleted and set again goes last', () => {
  const m = new EvictionMap<string, number>();
  m.set('a', 1).set('b', 2).set('c', 3);
  m.set('a', 10);
  assert.deepEqual(m.oldest(), ['a', 10]);
  m.delete('a');
  m.set('a', 11);
  assert.deepEqual([...m.entries()], [['b', 2], ['c', 3], ['a', 11]]);
  assert.ok(m.touch('b'));
  assert.ok(!m.touch('zz'));
  assert.deepEqual([...m.entries()], [['c', 3], ['a', 11], ['b', 2]]);
});

test('EvictionMap as a bounded queue: evicting the oldest stays cheap and the places left behind do not pile up', () => {
  const m = new EvictionMap<number, number>();
  const max = 5000;
  for (let i = 0; i < 200_000; i++) {
    if (m.size >= max) assert.equal(m.shift()?.[0], i - max);
    m.set(i, i);
    if (i % 3 === 0) m.touch(i); // a touch of the newest leaves a place behind and keeps the order
  }
  assert.equal(m.size, max);
  assert.deepEqual(m.oldest(), [200_000 - max, 200_000 - max]);
  // the internal order holds the live entries and a bounded number of places left behind
  const internal = m as unknown as { order: unknown[]; head: number };
  assert.ok(internal.order.length - internal.head <= 3 * max + 1024, `order holds ${internal.order.length - internal.head} places for ${max} entries`);
});
