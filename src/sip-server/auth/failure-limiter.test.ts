import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../../test/support/fake-clock.js';
import type { Logger } from '../../lib/logger.js';
import { FailureLimiter } from './failure-limiter.js';

function recordingLogger() {
  const warnings: Array<{ obj: unknown; msg: unknown }> = [];
  const noop = () => {};
  const logger: Logger = { info: noop, debug: noop, error: noop, warn: (obj, msg) => warnings.push({ obj, msg }), child: () => logger };
  return { logger, warnings };
}

describe('FailureLimiter', () => {
  it('blocks a source at the 10th failure within 60 s and warns once, naming it', () => {
    const clock = new FakeClock();
    const { logger, warnings } = recordingLogger();
    const limiter = new FailureLimiter({ clock, logger });
    for (let i = 0; i < 9; i++) {
      assert.equal(limiter.recordFailure('192.0.2.7'), false);
      clock.advance(1000);
    }
    assert.equal(limiter.isBlocked('192.0.2.7'), false);
    assert.equal(limiter.recordFailure('192.0.2.7'), true);
    assert.equal(limiter.isBlocked('192.0.2.7'), true);
    assert.equal(limiter.isBlocked('192.0.2.8'), false);
    assert.equal(limiter.recordFailure('192.0.2.7'), false, 'already blocked');
    assert.equal(warnings.length, 1);
    assert.deepEqual((warnings[0]!.obj as { source: string }).source, '192.0.2.7');
  });

  it('tells onBlock of each block it decides (once, with the address and the block time), not of blockFor', () => {
    const blocks: Array<[string, number]> = [];
    const limiter = new FailureLimiter({ clock: new FakeClock(), maxFailures: 2, blockTime: 30, onBlock: (a, ms) => blocks.push([a, ms]) });
    limiter.recordFailure('2001:db8::1');
    assert.deepEqual(blocks, []);
    limiter.recordFailure('2001:db8::2');
    limiter.recordFailure('2001:db8::3'); // blocked already: no second call
    limiter.blockFor('192.0.2.9', 1000);
    assert.deepEqual(blocks, [['2001:db8::2', 30_000]]);
  });

  it('setLimits: the new threshold, window and block time apply from the next failure; a bad limit changes nothing', () => {
    const clock = new FakeClock();
    const limiter = new FailureLimiter({ clock, maxFailures: 5, window: 60, blockTime: 300 });
    limiter.recordFailure('192.0.2.7');
    assert.equal(limiter.recordFailure('192.0.2.7'), false);
    assert.throws(() => limiter.setLimits({ maxFailures: 0 }), /maxFailures must be positive/);
    assert.equal(limiter.blockDurationMs, 300_000);
    limiter.setLimits({ maxFailures: 3, window: 10, blockTime: 20 });
    assert.equal(limiter.blockDurationMs, 20_000);
    // the two counted failures stay: the third blocks, for the new 20 s
    assert.equal(limiter.recordFailure('192.0.2.7'), true);
    clock.advance(19_999);
    assert.equal(limiter.isBlocked('192.0.2.7'), true);
    clock.advance(1);
    assert.equal(limiter.isBlocked('192.0.2.7'), false);
    // the new window: failures 11 s apart never reach three
    for (let i = 0; i < 5; i++) {
      assert.equal(limiter.recordFailure('192.0.2.8'), false);
      clock.advance(11_000);
    }
  });

  it('unblocks after the block time', () => {
    const clock = new FakeClock();
    const limiter = new FailureLimiter({ clock, maxFailures: 3, window: 60, blockTime: 300 });
    for (let i = 0; i < 3; i++) limiter.recordFailure('198.51.100.1');
    assert.ok(limiter.isBlocked('198.51.100.1'));
    clock.advance(299_999);
    assert.ok(limiter.isBlocked('198.51.100.1'));
    assert.deepEqual(limiter.blockedSources(), [{ source: '198.51.100.1', remainingMs: 1 }]);
    clock.advance(1);
    assert.ok(!limiter.isBlocked('198.51.100.1'));
    // the count starts again from zero
    assert.equal(limiter.recordFailure('198.51.100.1'), false);
  });

  it('counts in a sliding window: failures spread wider than the window never block', () => {
    const clock = new FakeClock();
    const limiter = new FailureLimiter({ clock, maxFailures: 3, window: 60 });
    for (let i = 0; i < 20; i++) {
      assert.equal(limiter.recordFailure('203.0.113.5'), false);
      clock.advance(30_001);
    }
    // three inside one window do
    clock.advance(60_000);
    assert.equal(limiter.recordFailure('203.0.113.5'), false);
    clock.advance(29_000);
    assert.equal(limiter.recordFailure('203.0.113.5'), false);
    clock.advance(30_000);
    assert.equal(limiter.recordFailure('203.0.113.5'), true);
  });

  it('keeps at most maxSources counters and blocks, evicting the oldest', () => {
    const clock = new FakeClock();
    const limiter = new FailureLimiter({ clock, maxFailures: 2, maxSources: 100 });
    for (let i = 0; i < 5000; i++) {
      const a = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      limiter.recordFailure(a);
      if (i % 2 === 0) limiter.recordFailure(a);
      clock.advance(1);
    }
    assert.ok(limiter.size.tracked <= 100, `tracked ${limiter.size.tracked}`);
    assert.ok(limiter.size.blocked <= 100, `blocked ${limiter.size.blocked}`);
    // the latest block is kept
    assert.ok(limiter.isBlocked('10.0.19.134'));
  });

  it('counts IPv6 sources per /64 by default, per address with ipv6PrefixLength 128', () => {
    const clock = new FakeClock();
    const per64 = new FailureLimiter({ clock, maxFailures: 3 });
    per64.recordFailure('2001:db8:1:2::1');
    per64.recordFailure('[2001:db8:1:2:aaaa:bbbb:cccc:dddd]');
    assert.equal(per64.recordFailure('2001:DB8:1:2:ffff::9'), true);
    assert.ok(per64.isBlocked('2001:db8:1:2::77'));
    assert.ok(!per64.isBlocked('2001:db8:1:3::1'));
    assert.deepEqual(per64.blockedSources().map((b) => b.source), ['2001:db8:1:2::/64']);

    const per128 = new FailureLimiter({ clock, maxFailures: 3, ipv6PrefixLength: 128 });
    per128.recordFailure('2001:db8:1:2::1');
    per128.recordFailure('2001:db8:1:2::2');
    assert.equal(per128.recordFailure('2001:db8:1:2::3'), false);
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 address', () => {
    const limiter = new FailureLimiter({ clock: new FakeClock(), maxFailures: 2 });
    limiter.recordFailure('::ffff:192.0.2.1');
    assert.equal(limiter.recordFailure('192.0.2.1'), true);
  });

  it('unblock ends a block at once', () => {
    const limiter = new FailureLimiter({ clock: new FakeClock(), maxFailures: 1 });
    limiter.recordFailure('192.0.2.9');
    assert.ok(limiter.unblock('192.0.2.9'));
    assert.ok(!limiter.isBlocked('192.0.2.9'));
    assert.ok(!limiter.unblock('192.0.2.9'));
  });
});

describe('FailureLimiter.blockFor (a block decided by another thread)', () => {
  it('blocks the source (and its IPv6 /64) for the given time without counting, then lets it go', () => {
    const clock = new FakeClock();
    const limiter = new FailureLimiter({ clock, maxFailures: 1 });
    assert.equal(limiter.isBlocked('192.0.2.7'), false);
    limiter.blockFor('192.0.2.7', 5_000);
    limiter.blockFor('2001:db8:1:2::9', 5_000);
    assert.equal(limiter.isBlocked('192.0.2.7'), true);
    assert.equal(limiter.isBlocked('192.0.2.8'), false);
    assert.equal(limiter.isBlocked('2001:db8:1:2::ffff'), true);
    clock.advance(4_999);
    assert.equal(limiter.isBlocked('192.0.2.7'), true);
    clock.advance(2);
    assert.equal(limiter.isBlocked('192.0.2.7'), false);
    assert.equal(new FailureLimiter({ blockTime: 7 }).blockDurationMs, 7_000);
  });
});
