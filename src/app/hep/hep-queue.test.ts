import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HepCounts } from './hep-counts.js';
import { HepQueue } from './hep-queue.js';

/** A scheduler the test runs by hand: what setImmediate would run at the end of the turn. */
function manual(): { schedule: (fn: () => void) => void; turn: () => void; pending: () => number } {
  let fns: (() => void)[] = [];
  return {
    schedule: (fn) => fns.push(fn),
    turn: () => {
      const run = fns;
      fns = [];
      for (const f of run) f();
    },
    pending: () => fns.length,
  };
}

const counts = (): HepCounts => ({ sent: 0, dropped: 0, sampledOut: 0 });
const packet = (n: number): Uint8Array => new Uint8Array(n).fill(n & 0xff);

describe('HepQueue (batches per event-loop turn, bounded)', () => {
  it('hands what a turn pushed to flush once, in order, with its byte count; one schedule per turn', () => {
    const s = manual();
    const batches: { items: number[]; bytes: number }[] = [];
    const q = new HepQueue(100, 1, counts(), (b, bytes) => batches.push({ items: b.map((p) => p.length), bytes }), s.schedule);
    q.push(packet(3));
    q.push(packet(5));
    q.push(packet(7));
    assert.equal(s.pending(), 1, 'scheduled once for the turn');
    assert.deepEqual(batches, [], 'nothing is sent on the SIP path');
    s.turn();
    assert.deepEqual(batches, [{ items: [3, 5, 7], bytes: 15 }]);
    q.push(packet(2));
    s.turn();
    assert.deepEqual(batches[1], { items: [2], bytes: 2 });
    s.turn();
    assert.equal(batches.length, 2, 'an empty turn sends nothing');
  });

  it('drops past the bound and counts each drop once per collector', () => {
    const s = manual();
    const c = counts();
    const sizes: number[] = [];
    const q = new HepQueue(4, 2, c, (b) => sizes.push(b.length), s.schedule);
    for (let i = 0; i < 10; i++) q.push(packet(10));
    assert.equal(q.size, 4);
    assert.equal(c.dropped, 6 * 2);
    s.turn();
    assert.deepEqual(sizes, [4]);
    // room again after the batch left
    for (let i = 0; i < 4; i++) q.push(packet(10));
    assert.equal(c.dropped, 12);
    s.turn();
    assert.deepEqual(sizes, [4, 4]);
  });

  it('run() sends at once (at stop)', () => {
    const s = manual();
    const sizes: number[] = [];
    const q = new HepQueue(4, 1, counts(), (b) => sizes.push(b.length), s.schedule);
    q.push(packet(1));
    q.run();
    assert.deepEqual(sizes, [1]);
    s.turn();
    assert.deepEqual(sizes, [1]);
  });
});
