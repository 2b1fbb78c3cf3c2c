import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../../lib/clock.js';
import { AuthenticatedSources } from './authenticated-sources.js';

function clockAt(): Clock & { t: number } {
  return { t: 1000, now() { return this.t; }, setTimeout: () => ({}), clearTimeout: () => {} };
}

test('AuthenticatedSources: a source counts for its time to live after its last success, an IPv6 /64 as one', () => {
  const clock = clockAt();
  const s = new AuthenticatedSources({ ttlMs: 100, clock });
  s.mark('192.0.2.1');
  s.mark('2001:db8:1:2::5');
  assert.ok(s.has('192.0.2.1'));
  assert.ok(!s.has('192.0.2.2'));
  assert.ok(s.has('2001:db8:1:2::99'), 'the same /64');
  assert.ok(!s.has('2001:db8:1:3::5'), 'another /64');
  clock.t += 60;
  s.mark('192.0.2.1'); // a later success extends its mark
  clock.t += 60;
  assert.ok(s.has('192.0.2.1'));
  assert.ok(!s.has('2001:db8:1:2::5'), 'expired');
  clock.t += 100;
  assert.ok(!s.has('192.0.2.1'));
});

test('AuthenticatedSources: when full, the source authenticated longest ago goes first, and a new success counts as recent', () => {
  const s = new AuthenticatedSources({ ttlMs: 1e9, maxSources: 3, clock: clockAt() });
  s.mark('192.0.2.1');
  s.mark('192.0.2.2');
  s.mark('192.0.2.3');
  s.mark('192.0.2.1'); // .2 is now the least recently authenticated
  s.mark('192.0.2.4');
  assert.equal(s.size, 3);
  assert.ok(!s.has('192.0.2.2'));
  for (const a of ['192.0.2.1', '192.0.2.3', '192.0.2.4']) assert.ok(s.has(a), a);
  // many sources through a full table: it stays at its bound and keeps the latest
  for (let i = 0; i < 50_000; i++) s.mark(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  assert.equal(s.size, 3);
  assert.ok(s.has('10.0.195.79') && s.has('10.0.195.78') && s.has('10.0.195.77'));
});
