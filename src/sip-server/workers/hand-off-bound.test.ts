import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { HandOffBound } from './hand-off-bound.js';
import { InFlight } from './in-flight.js';

const LIMITS = { maxMessages: 3, maxBytes: 1000 };

describe('HandOffBound: datagrams the workers hand each other, counted in shared memory', () => {
  it('admits up to the bound, sheds beyond it, and admits again once the worker took some', () => {
    const bound = new HandOffBound(HandOffBound.allocate(2), LIMITS);
    assert.deepEqual([1, 2, 3, 4].map(() => bound.admit(1, 100)), [true, true, true, false]);
    assert.equal(bound.waitingMessages(1), 3);
    assert.equal(bound.waitingBytes(1), 300);
    assert.equal(bound.shed(1), 1);
    // worker 0 is not concerned
    assert.equal(bound.waitingMessages(0), 0);
    assert.equal(bound.admit(0, 100), true);
    bound.took(1, 2, 200);
    assert.equal(bound.waitingMessages(1), 1);
    assert.equal(bound.admit(1, 100), true);
    assert.equal(bound.handedTotal(1), 4);
  });

  it('bounds bytes as well as messages', () => {
    const bound = new HandOffBound(HandOffBound.allocate(1), LIMITS);
    assert.equal(bound.admit(0, 999), true);
    assert.equal(bound.admit(0, 10), true);
    assert.equal(bound.admit(0, 10), false);
  });

  it('a retired worker loses what waited for it; its successor starts with an empty queue', () => {
    const bound = new HandOffBound(HandOffBound.allocate(1), LIMITS);
    bound.admit(0, 10);
    bound.admit(0, 10);
    bound.lost(0);
    assert.equal(bound.retire(0), 2);
    assert.equal(bound.waitingMessages(0), 0);
    assert.equal(bound.waitingBytes(0), 0);
    assert.equal(bound.lostCount(0), 1);
    assert.equal(bound.admit(0, 10), true);
  });

  it('another thread sees the same counters (the buffer is shared, not copied)', async () => {
    const bound = new HandOffBound(HandOffBound.allocate(2), LIMITS);
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      const c = new Int32Array(workerData);
      // what HandOffBound.took(1, 2, 50) does, from the worker that takes the datagrams
      Atomics.add(c, 8 + 2, 2); Atomics.add(c, 8 + 3, 50);
      parentPort.postMessage('done');`;
    bound.admit(1, 25);
    bound.admit(1, 25);
    const w = new Worker(code, { eval: true, workerData: bound.buffer });
    await new Promise((res) => w.once('message', res));
    await w.terminate();
    assert.equal(bound.waitingMessages(1), 0);
    assert.equal(bound.waitingBytes(1), 0);
  });

  it('wrapping cumulative counters still give the right difference', () => {
    const buffer = HandOffBound.allocate(1);
    const c = new Int32Array(buffer);
    c[1] = 0x7fffff00; // handed bytes near the top of int32
    c[3] = 0x7fffff00; // taken the same
    const bound = new HandOffBound(buffer, { maxMessages: 10, maxBytes: 1 << 20 });
    assert.equal(bound.admit(0, 0x200), true); // wraps past 2^31
    assert.equal(bound.waitingBytes(0), 0x200);
  });
});

describe('InFlight with what is counted elsewhere (the hand-offs)', () => {
  it('the bound of stream messages includes the handed datagrams; sheds elsewhere make one episode that ends at half', () => {
    const bound = new HandOffBound(HandOffBound.allocate(1), { maxMessages: 4, maxBytes: 1 << 20 });
    const q = new InFlight({ maxMessages: 4, maxBytes: 1 << 20 }, Date.now, { messages: () => bound.waitingMessages(0), bytes: () => bound.waitingBytes(0) });
    for (let i = 0; i < 4; i++) bound.admit(0, 10);
    assert.equal(q.messages, 4);
    // a stream message beyond the bound: handed over, its connection paused
    assert.equal(q.admit(10, 7), 'pause');
    q.shedElsewhere(3);
    assert.equal(q.announce(), true);
    assert.equal(q.announce(), false);
    assert.equal(q.check(), undefined);
    // the worker took the handed datagrams (no report to this thread): the check ends the episode
    bound.took(0, 4, 40);
    const end = q.check();
    assert.ok(end !== undefined);
    assert.equal(end.shed, 3);
    assert.deepEqual(end.paused, [7]);
  });
});
