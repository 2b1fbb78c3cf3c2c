import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RenewingMap } from './renewing-map.js';

test('RenewingMap keeps every entry across its renewals, as a Map would', () => {
  const m = new RenewingMap<string, number>();
  const model = new Map<string, number>();
  let seed = 7;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 20_000; i++) {
    const k = `k${Math.floor(random() * 3000)}`;
    if (random() < 0.55) {
      m.set(k, i);
      model.set(k, i);
    } else assert.equal(m.delete(k), model.delete(k));
    if (i % 997 === 0) {
      assert.equal(m.size, model.size);
      assert.deepEqual(new Map(m), model);
    }
    assert.equal(m.get(k), model.get(k));
    assert.equal(m.has(k), model.has(k));
  }
  assert.deepEqual([...m.keys()].sort(), [...model.keys()].sort());
  assert.deepEqual([...m.values()].sort(), [...model.values()].sort());
});

test('RenewingMap: an addition while iterating does not cut the iteration short', () => {
  const m = new RenewingMap<number, number>();
  for (let i = 0; i < 1000; i++) m.set(i, i);
  let seen = 0;
  for (const [k] of m) {
    seen++;
    // enough additions to renew the Map during the loop
    m.set(10_000 + k, k);
    m.delete(10_000 + k);
  }
  assert.equal(seen, 1000);
  m.clear();
  assert.equal(m.size, 0);
  assert.equal(m.get(1), undefined);
});
