import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IpReassembler } from './ip-reassembly.js';

const bytes = (n: number, seed = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i + seed) & 0xff);

describe('IpReassembler', () => {
  it('completes a datagram from fragments in any order, a repeated fragment harmless', () => {
    const r = new IpReassembler();
    const whole = bytes(24);
    assert.equal(r.add('k', 0, 17, { id: 1, offset: 16, more: false }, whole.subarray(16)), undefined);
    assert.equal(r.add('k', 0, 17, { id: 1, offset: 16, more: false }, whole.subarray(16)), undefined);
    assert.equal(r.add('k', 0, 17, { id: 1, offset: 0, more: true }, whole.subarray(0, 8)), undefined);
    const done = r.add('k', 0, 17, { id: 1, offset: 8, more: true }, whole.subarray(8, 16));
    assert.deepEqual(done && [...done.payload], [...whole]);
    assert.deepEqual(r.counts, { reassembled: 1, expired: 0, evicted: 0, invalid: 0 });
    assert.equal(r.size, 0);
  });

  it('drops a datagram not complete within the timeout of its first fragment (capture time)', () => {
    const r = new IpReassembler({ timeoutSeconds: 60 });
    r.add('k', 100, 17, { id: 1, offset: 0, more: true }, bytes(8));
    assert.equal(r.add('other', 161, 17, { id: 2, offset: 0, more: true }, bytes(8)), undefined);
    assert.equal(r.add('k', 161, 17, { id: 1, offset: 8, more: false }, bytes(8, 8)), undefined);
    assert.equal(r.counts.expired, 1);
    assert.equal(r.counts.reassembled, 0);
  });

  it('evicts the oldest datagrams past maxPending and maxPendingBytes', () => {
    const r = new IpReassembler({ maxPending: 2, maxPendingBytes: 1000 });
    for (const k of ['a', 'b', 'c']) r.add(k, 0, 17, { id: 1, offset: 0, more: true }, bytes(8));
    assert.equal(r.size, 2);
    assert.equal(r.counts.evicted, 1);
    assert.equal(r.add('a', 0, 17, { id: 1, offset: 8, more: false }, bytes(8)), undefined, 'a was evicted');
    r.add('big', 0, 17, { id: 1, offset: 0, more: true }, bytes(992));
    assert.ok(r.size <= 2);
    assert.ok(r.counts.evicted >= 2);
  });

  it('drops overlapping fragments that disagree, and fragments past 65,535 bytes', () => {
    const r = new IpReassembler();
    r.add('k', 0, 17, { id: 1, offset: 0, more: true }, bytes(16));
    assert.equal(r.add('k', 0, 17, { id: 1, offset: 8, more: false }, bytes(16, 50)), undefined);
    assert.equal(r.counts.invalid, 1);
    assert.equal(r.size, 0);
    assert.equal(r.add('j', 0, 17, { id: 1, offset: 65528, more: false }, bytes(16)), undefined);
    assert.equal(r.counts.invalid, 2);
  });
});
