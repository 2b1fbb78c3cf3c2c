import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParleyError } from '../../lib/errors.js';
import { Timers } from './timers.js';

test('Timers default to RFC 3261 Table 4 over UDP (T1 500 ms, T2 4 s, T4 5 s)', () => {
  const t = new Timers();
  assert.deepEqual([t.T1, t.T2, t.T4], [500, 4000, 5000]);
  assert.deepEqual(
    { A: t.timerA, B: t.timerB, D: t.timerD(false), E: t.timerE, F: t.timerF, G: t.timerG, H: t.timerH },
    { A: 500, B: 32_000, D: 32_000, E: 500, F: 32_000, G: 500, H: 32_000 },
  );
  assert.deepEqual(
    { I: t.timerI(false), J: t.timerJ(false), K: t.timerK(false), L: t.timerL, M: t.timerM },
    { I: 5000, J: 32_000, K: 5000, L: 32_000, M: 32_000 },
  );
});

test('Timers D, I, J and K are zero on reliable transports', () => {
  const t = new Timers();
  assert.deepEqual([t.timerD(true), t.timerI(true), t.timerJ(true), t.timerK(true)], [0, 0, 0, 0]);
});

test('Timers derive from a configured T1, T2 and T4; Timer D stays at least 32 s', () => {
  const fast = new Timers({ T1: 100, T4: 1000 });
  assert.deepEqual(
    [fast.timerA, fast.timerB, fast.timerD(false), fast.timerH, fast.timerI(false), fast.timerL],
    [100, 6400, 32_000, 6400, 1000, 6400],
  );
  const slow = new Timers({ T1: 1000, T2: 8000 });
  assert.equal(slow.timerD(false), 64_000);
  assert.equal(slow.T2, 8000);
});

test('Timers.next doubles an interval of Timer E or G and caps it at T2', () => {
  const t = new Timers();
  assert.deepEqual([t.next(500), t.next(1000), t.next(2000), t.next(4000)], [1000, 2000, 4000, 4000]);
});

test('Timers rejects a base value that is not a positive number', () => {
  for (const config of [{ T1: 0 }, { T2: -1 }, { T4: Number.NaN }]) {
    assert.throws(() => new Timers(config), (e: unknown) => e instanceof ParleyError && e.code === 'ERR_INVALID_ARGUMENT');
  }
});
