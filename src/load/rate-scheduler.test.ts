import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../test/support/fake-clock.js';
import { ParleyError } from '../lib/errors.js';
import { RateScheduler } from './rate-scheduler.js';

/** A scheduler on a fake clock that records when each task started. */
function setup(options: { rate: number; total: number; burst?: number; maxInFlight?: number }) {
  const clock = new FakeClock();
  const starts: number[] = [];
  const scheduler = new RateScheduler({ ...options, clock }, (i) => {
    assert.equal(i, starts.length, 'tasks start in index order');
    starts.push(clock.now());
  });
  return { clock, starts, scheduler };
}

describe('RateScheduler', () => {
  it('starts task i at i / rate: 100/s for 1 s is 100 starts 10 ms apart, the first at once', () => {
    const { clock, starts, scheduler } = setup({ rate: 100, total: 100 });
    scheduler.run();
    assert.deepEqual(starts, [0]);
    clock.advance(1000);
    assert.equal(starts.length, 100);
    for (let i = 0; i < 100; i++) assert.ok(Math.abs(starts[i]! - i * 10) < 1e-6, `task ${i} at ${starts[i]}`);
  });

  it('stops at total and resolves finished; no timer is left behind', async () => {
    const { clock, starts, scheduler } = setup({ rate: 1000, total: 25 });
    let finished = false;
    void scheduler.finished.then(() => (finished = true));
    scheduler.run();
    clock.advance(10_000);
    assert.equal(starts.length, 25);
    assert.equal(scheduler.started, 25);
    await Promise.resolve();
    assert.ok(finished);
    assert.equal(clock.size, 0);
  });

  it('a rate below 1/s: 0.5/s starts every 2 s', () => {
    const { clock, starts, scheduler } = setup({ rate: 0.5, total: 3 });
    scheduler.run();
    clock.advance(1999);
    assert.equal(starts.length, 1);
    clock.advance(1);
    assert.equal(starts.length, 2);
    clock.advance(2000);
    assert.deepEqual(starts, [0, 2000, 4000]);
  });

  it('after a stall it catches up by at most burst, then keeps the rate', () => {
    const { clock, starts, scheduler } = setup({ rate: 100, total: 1000, burst: 5 });
    // a busy event loop: one second passes before the pending timer (due at 10 ms) fires
    const fakeNow = clock.now.bind(clock);
    let stall = 0;
    clock.now = () => fakeNow() + stall;
    scheduler.run();
    assert.equal(starts.length, 1);
    stall = 1000;
    clock.advance(10);
    // 1 at start + the burst cap of 5, not the 100 a fixed schedule would owe
    assert.equal(starts.length, 6);
    clock.advance(100);
    // then the rate again: 10 more in 100 ms
    assert.ok(Math.abs(starts.length - 16) <= 1, String(starts.length));
    scheduler.stop();
  });

  it('the offered rate stays at rate over a long window whatever the burst', () => {
    const { clock, starts, scheduler } = setup({ rate: 250, total: 100_000, burst: 50 });
    scheduler.run();
    clock.advance(4000);
    // 1 at t=0 plus 250/s for 4 s
    assert.ok(Math.abs(starts.length - 1001) <= 1, String(starts.length));
    scheduler.stop();
  });

  it('maxInFlight holds starts back until done() is called', () => {
    const { clock, starts, scheduler } = setup({ rate: 1000, total: 10, maxInFlight: 2 });
    scheduler.run();
    clock.advance(100);
    assert.equal(starts.length, 2);
    assert.equal(scheduler.inFlight, 2);
    scheduler.done();
    assert.equal(starts.length, 3, 'a saved token starts the next task at once');
    scheduler.done();
    scheduler.done();
    assert.equal(starts.length, 5);
    clock.advance(1000);
    assert.equal(starts.length, 5, 'nothing more without done()');
    for (let i = 0; i < 5; i++) scheduler.done();
    clock.advance(1000);
    assert.equal(starts.length, 10);
  });

  it('stop() ends it early and resolves finished', async () => {
    const { clock, starts, scheduler } = setup({ rate: 10, total: 100 });
    scheduler.run();
    clock.advance(250);
    scheduler.stop();
    clock.advance(10_000);
    assert.equal(starts.length, 3);
    await scheduler.finished;
    assert.equal(clock.size, 0);
  });

  it('refuses a rate <= 0, a negative or fractional total and maxInFlight < 1', () => {
    const clock = new FakeClock();
    const bad = [
      { rate: 0, total: 1 },
      { rate: -5, total: 1 },
      { rate: Number.NaN, total: 1 },
      { rate: 10, total: -1 },
      { rate: 10, total: 1.5 },
      { rate: 10, total: 1, maxInFlight: 0 },
    ];
    for (const o of bad) {
      assert.throws(() => new RateScheduler({ ...o, clock }, () => {}), (e: unknown) => e instanceof ParleyError && e.code === 'ERR_INVALID_ARGUMENT', JSON.stringify(o));
    }
  });

  it('total 0 finishes at once without starting anything', async () => {
    const { starts, scheduler } = setup({ rate: 10, total: 0 });
    scheduler.run();
    await scheduler.finished;
    assert.equal(starts.length, 0);
  });
});
