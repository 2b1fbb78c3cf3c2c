/**
 * Allocation quotas (486 per user, 508 in total, leases given back once) and the bandwidth
 * limiter (a token bucket on bytes with injected time: what passes in a given span).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AllocationQuotas, BandwidthLimiter, type QuotaLease } from './quotas.js';

function lease(q: AllocationQuotas, user: string, from?: string): QuotaLease {
  const r = q.acquire(user, from);
  assert.equal(r.ok, true, `${user} should get an allocation`);
  if (!r.ok) throw new Error('unreachable');
  return r.value;
}

describe('AllocationQuotas', () => {
  it('per-user quota: 486 when the user holds the most allowed, other users unaffected', () => {
    const q = new AllocationQuotas({ perUser: 2 });
    lease(q, 'alice');
    lease(q, 'alice');
    const third = q.acquire('alice');
    assert.equal(third.ok, false);
    if (!third.ok) assert.equal(third.error.code, 486);
    lease(q, 'bob');
    assert.equal(q.held('alice'), 2);
    assert.equal(q.held(), 3);
  });
  it('per-source quota: 486 when one IPv4 address (any port) or IPv6 /64 holds the most allowed, whatever the usernames; a release frees the place', () => {
    const q = new AllocationQuotas({ perSource: 2 });
    const first = lease(q, '1700000000:a', '192.0.2.1');
    lease(q, '1700000000:b', '::ffff:192.0.2.1'); // the same source, IPv4-mapped
    const r = q.acquire('1700000000:c', '192.0.2.1');
    assert.equal(!r.ok && r.error.code, 486);
    assert.match(!r.ok ? r.error.reason : '', /source 192\.0\.2\.1/);
    lease(q, '1700000000:c', '192.0.2.2'); // another source
    lease(q, 'v6a', '2001:db8:1:2::1');
    lease(q, 'v6b', '2001:db8:1:2:ffff::9'); // the same /64
    assert.equal(!q.acquire('v6c', '2001:db8:1:2::77').ok, true);
    lease(q, 'v6c', '2001:db8:1:3::1'); // the next /64
    assert.equal(q.heldFrom('192.0.2.1'), 2);
    first.release();
    assert.equal(q.heldFrom('192.0.2.1'), 1);
    lease(q, '1700000000:d', '192.0.2.1');
  });
  it('total quota: 508 (capacity) when the server holds the most allowed', () => {
    const q = new AllocationQuotas({ total: 2 });
    lease(q, 'alice');
    lease(q, 'bob');
    const r = q.acquire('carol');
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.code, 508);
  });
  it('the per-user quota is checked first (486 rather than 508 when both are full)', () => {
    const q = new AllocationQuotas({ perUser: 1, total: 1 });
    lease(q, 'alice');
    const r = q.acquire('alice');
    assert.equal(!r.ok && r.error.code, 486);
  });
  it('release gives the allocation back, once', () => {
    const q = new AllocationQuotas({ perUser: 1, total: 2 });
    const a = lease(q, 'alice');
    lease(q, 'bob');
    a.release();
    a.release();
    assert.equal(q.held(), 1);
    assert.equal(q.held('alice'), 0);
    lease(q, 'alice');
    assert.equal(q.acquire('carol').ok, false, 'a second release must not have freed a slot');
  });
  it('no limits: everything passes', () => {
    const q = new AllocationQuotas();
    for (let i = 0; i < 1000; i++) lease(q, 'alice');
    assert.equal(q.held('alice'), 1000);
  });
  it('refuses limits that are not whole numbers >= 0', () => {
    for (const v of [-1, 1.5, Number.NaN]) {
      assert.throws(() => new AllocationQuotas({ perUser: v }));
      assert.throws(() => new AllocationQuotas({ total: v }));
    }
  });
});

describe('BandwidthLimiter', () => {
  it('starts with one burst and then passes the rate', () => {
    const b = new BandwidthLimiter({ bytesPerSecond: 100_000, burstBytes: 100_000 }, 0);
    let passed = 0;
    // 2,000 packets of 1,000 bytes, one every 5 ms (200 kB/s offered) for 10 s: at most the burst
    // (100 kB) and 10 s x 100 kB/s pass, at least the 10 s x 100 kB/s.
    for (let i = 0; i < 2000; i++) if (b.take(1000, i * 5)) passed += 1000;
    assert.ok(passed <= 100_000 + 100_000 * 10, `${passed} bytes passed`);
    assert.ok(passed >= 100_000 * 10, `${passed} bytes passed`);
    assert.ok(b.dropped > 0);
  });
  it('a refused packet takes no tokens', () => {
    const b = new BandwidthLimiter({ bytesPerSecond: 1000, burstBytes: 70_000 }, 0);
    assert.equal(b.take(70_000, 0), true);
    assert.equal(b.take(1000, 0), false);
    assert.equal(b.take(1000, 1000), true, 'one second refills 1000 bytes, none lost to the refusal');
    assert.equal(b.take(1, 1000), false);
    assert.equal(b.dropped, 2);
  });
  it('the bucket never holds more than the burst', () => {
    const b = new BandwidthLimiter({ bytesPerSecond: 1000, burstBytes: 70_000 }, 0);
    assert.equal(b.take(70_000, 1_000_000), true);
    assert.equal(b.take(1000, 1_000_000), false);
  });
  it('the burst is never below the largest packet', () => {
    const b = new BandwidthLimiter({ bytesPerSecond: 10 }, 0);
    assert.equal(b.take(65_540, 0), true);
  });
  it('a clock going back refills nothing', () => {
    const b = new BandwidthLimiter({ bytesPerSecond: 1000, burstBytes: 70_000 }, 10_000);
    assert.equal(b.take(70_000, 10_000), true);
    assert.equal(b.take(1, 0), false);
    assert.equal(b.take(1000, 10_000), false, 'going back and forth again gives nothing');
    assert.equal(b.take(1000, 11_000), true);
  });
  it('refuses a rate or burst that is not positive', () => {
    assert.throws(() => new BandwidthLimiter({ bytesPerSecond: 0 }, 0));
    assert.throws(() => new BandwidthLimiter({ bytesPerSecond: Number.POSITIVE_INFINITY }, 0));
    assert.throws(() => new BandwidthLimiter({ bytesPerSecond: 10, burstBytes: 0 }, 0));
  });
});
