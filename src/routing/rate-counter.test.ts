import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateCounter } from './rate-counter.js';

describe('RateCounter (rateLimited)', () => {
  it('lets max requests through per window, then says over; keys and window lengths count apart', () => {
    let now = 0;
    const c = new RateCounter(() => now);
    const over = (): boolean[] => Array.from({ length: 5 }, () => c.hit('a', 3, 1));
    assert.deepEqual(over(), [false, false, false, true, true]);
    assert.equal(c.hit('b', 3, 1), false, 'another key');
    assert.equal(c.hit('a', 3, 10), false, 'the same key over another window length');
    now = 2500; // two windows on: nothing left of the burst
    assert.deepEqual(over(), [false, false, false, true, true]);
  });

  it('a sliding estimate: half a window after a full one, half of the old count still weighs', () => {
    let now = 0;
    const c = new RateCounter(() => now);
    for (let i = 0; i < 10; i++) c.hit('k', 10, 1);
    now = 1500; // previous window weighs 0.5: 5 + new ones
    const out = Array.from({ length: 7 }, () => c.hit('k', 10, 1));
    assert.deepEqual(out, [false, false, false, false, false, true, true]);
  });

  it('forgets stale keys and never holds more than maxKeys', () => {
    let now = 0;
    const c = new RateCounter(() => now, 100);
    for (let i = 0; i < 500; i++) c.hit(`k${i}`, 1, 1);
    assert.ok(c.size <= 100);
    now = 10_000;
    for (let i = 0; i < 5000; i++) c.hit(`n${i}`, 1, 1);
    assert.ok(c.size <= 100);
  });

  it('refuses nonsense limits', () => {
    const c = new RateCounter();
    assert.throws(() => c.hit('x', 1, 0), RangeError);
    assert.throws(() => c.hit('x', Number.NaN, 1), RangeError);
  });
});
