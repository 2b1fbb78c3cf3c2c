import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LEARNING_MS, Latch } from './latch.js';

const SDP = { address: '192.0.2.10', port: 4000 };

describe('Latch (symmetric RTP with a learning window)', () => {
  it('sends to the SDP address until a packet comes, then to its source', () => {
    const latch = new Latch(SDP, () => 0);
    assert.deepEqual(latch.destination, SDP);
    assert.equal(latch.latched, false);
    assert.ok(latch.accept('198.51.100.7', 31000), 'a phone behind NAT: its public address');
    assert.deepEqual(latch.destination, { address: '198.51.100.7', port: 31000 });
    assert.ok(latch.latched);
  });

  it('a stranger who sends first loses the stream to the SDP address within the window (RTP Bleed)', () => {
    let now = 0;
    const latch = new Latch(SDP, () => now);
    assert.ok(latch.accept('203.0.113.66', 5555), 'the stranger takes the latch at first');
    now = 500;
    assert.ok(latch.accept(SDP.address, SDP.port), 'the phone named in the SDP takes it over');
    assert.deepEqual(latch.destination, SDP);
    now = 600;
    assert.equal(latch.accept('203.0.113.66', 5555), false, 'the stranger is dropped from then on');
    assert.equal(latch.accept(SDP.address, 4002), false, 'a worse match does not move it either');
  });

  it('ranks the SDP address with another port over a stranger, and fixes the latch after the window', () => {
    let now = 0;
    const latch = new Latch(SDP, () => now);
    assert.ok(latch.accept('203.0.113.66', 5555));
    now = 1000;
    assert.ok(latch.accept(SDP.address, 6000), 'same address, another port (a NAT that keeps the address)');
    now = LEARNING_MS + 1;
    assert.equal(latch.accept(SDP.address, SDP.port), false, 'after the window even the exact SDP match is refused');
    assert.deepEqual(latch.destination, { address: SDP.address, port: 6000 });
  });

  it('after the window the first source keeps the stream against anyone', () => {
    let now = 0;
    const latch = new Latch({ address: '10.0.0.5', port: 4000 }, () => now);
    assert.ok(latch.accept('198.51.100.7', 31000));
    now = LEARNING_MS + 10;
    assert.equal(latch.accept('203.0.113.66', 5555), false);
    assert.ok(latch.accept('198.51.100.7', 31000));
  });

  it('reset (a re-offer with a new address) starts learning again', () => {
    let now = 0;
    const latch = new Latch(SDP, () => now);
    latch.accept(SDP.address, SDP.port);
    now = 10_000;
    latch.reset({ address: '192.0.2.20', port: 7000 });
    assert.equal(latch.latched, false);
    assert.deepEqual(latch.destination, { address: '192.0.2.20', port: 7000 });
    assert.ok(latch.accept('192.0.2.20', 7000));
  });

  it('no usable SDP address (c=0.0.0.0): nothing to send to until a packet comes', () => {
    const latch = new Latch(undefined, () => 0);
    assert.equal(latch.destination, undefined);
    assert.ok(latch.accept('198.51.100.7', 31000));
    assert.deepEqual(latch.destination, { address: '198.51.100.7', port: 31000 });
  });
});
