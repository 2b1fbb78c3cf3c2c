import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParleyError } from '../../lib/errors.js';
import { NonceManager } from './nonce-manager.js';

const T0 = 1_700_000_000_000;

function manager(options: { lifetime?: number; maxTracked?: number; secret?: string } = {}) {
  const clock = { now: T0 };
  const nonces = new NonceManager({ ...options, now: () => clock.now });
  return { nonces, clock };
}

describe('NonceManager.verify', () => {
  it('accepts its own nonce for the realm it was issued for, with the issue time', () => {
    const { nonces } = manager();
    const n = nonces.issue('example.com');
    assert.match(n, /^[A-Za-z0-9_-]{75}$/);
    assert.deepEqual(nonces.verify(n, 'example.com'), { status: 'valid', issuedAt: T0 });
  });

  it('issues a different nonce each time', () => {
    const { nonces } = manager();
    assert.notEqual(nonces.issue('example.com'), nonces.issue('example.com'));
  });

  it('refuses the nonce for another realm', () => {
    const { nonces } = manager();
    assert.equal(nonces.verify(nonces.issue('example.com'), 'example.org').status, 'invalid');
  });

  it('calls a nonce older than the lifetime stale, and one just inside it valid', () => {
    const { nonces, clock } = manager({ lifetime: 300 });
    const n = nonces.issue('example.com');
    clock.now = T0 + 300_000;
    assert.equal(nonces.verify(n, 'example.com').status, 'valid');
    clock.now = T0 + 300_001;
    assert.deepEqual(nonces.verify(n, 'example.com'), { status: 'stale', issuedAt: T0 });
  });

  it('refuses a tampered nonce: any changed character, a non-canonical spelling, other lengths', () => {
    const { nonces } = manager();
    const n = nonces.issue('example.com');
    for (const i of [0, 5, 11, 30, 60, 74]) {
      const c = n[i] === 'A' ? 'B' : 'A';
      assert.equal(nonces.verify(n.slice(0, i) + c + n.slice(i + 1), 'example.com').status, 'invalid', `char ${i}`);
    }
    // 56 bytes leave 2 spare bits in the last character: a different last character that decodes
    // to the same bytes is still refused
    const last = n.charCodeAt(74);
    const alias = n.slice(0, 74) + String.fromCharCode(last ^ 1);
    assert.equal(nonces.verify(alias, 'example.com').status, 'invalid');
    assert.equal(nonces.verify(n.slice(0, 74), 'example.com').status, 'invalid');
    assert.equal(nonces.verify(n + 'A', 'example.com').status, 'invalid');
    assert.equal(nonces.verify('', 'example.com').status, 'invalid');
    assert.equal(nonces.verify('"><script>', 'example.com').status, 'invalid');
  });

  it('refuses a nonce made with another secret (a restart), accepts it with the same secret (another node)', () => {
    const a = new NonceManager({ secret: 'shared secret of the cluster, 32b', now: () => T0 });
    const b = new NonceManager({ secret: 'shared secret of the cluster, 32b', now: () => T0 + 1000 });
    const c = new NonceManager({ now: () => T0 });
    const n = a.issue('example.com');
    assert.equal(b.verify(n, 'example.com').status, 'valid');
    assert.equal(c.verify(n, 'example.com').status, 'invalid');
  });

  it('refuses a nonce from the future beyond the allowed skew', () => {
    const future = new NonceManager({ secret: 'x'.repeat(32), now: () => T0 + 60_000 });
    const here = new NonceManager({ secret: 'x'.repeat(32), now: () => T0 });
    assert.equal(here.verify(future.issue('r'), 'r').status, 'invalid');
    const slightly = new NonceManager({ secret: 'x'.repeat(32), now: () => T0 + 2_000 });
    assert.equal(here.verify(slightly.issue('r'), 'r').status, 'valid');
  });

  it('throws ERR_INVALID_ARGUMENT for a secret under 16 bytes or a non-positive lifetime', () => {
    const isArg = (e: unknown) => e instanceof ParleyError && e.code === 'ERR_INVALID_ARGUMENT';
    assert.throws(() => new NonceManager({ secret: 'short' }), isArg);
    assert.throws(() => new NonceManager({ lifetime: 0 }), isArg);
  });
});

describe('NonceManager.useNonceCount', () => {
  it('accepts increasing counts and refuses a repeated or lower one (RFC 7616 §3.4)', () => {
    const { nonces } = manager();
    const n = nonces.issue('r');
    assert.equal(nonces.useNonceCount(n, T0, 1), 'ok');
    assert.equal(nonces.useNonceCount(n, T0, 1), 'replay');
    assert.equal(nonces.useNonceCount(n, T0, 2), 'ok');
    assert.equal(nonces.useNonceCount(n, T0, 5), 'ok');
    assert.equal(nonces.useNonceCount(n, T0, 3), 'replay');
    assert.equal(nonces.useNonceCount(n, T0, 6), 'ok');
  });

  it('keeps counts per nonce', () => {
    const { nonces } = manager();
    const a = nonces.issue('r');
    const b = nonces.issue('r');
    assert.equal(nonces.useNonceCount(a, T0, 1), 'ok');
    assert.equal(nonces.useNonceCount(b, T0, 1), 'ok');
  });

  it('stays within maxTracked and refuses a nonce it may have forgotten, not a newer one', () => {
    const { nonces, clock } = manager({ maxTracked: 3 });
    const old: Array<[string, number]> = [];
    for (let i = 0; i < 5; i++) {
      clock.now = T0 + i;
      old.push([nonces.issue('r'), clock.now]);
    }
    for (const [n, at] of old) assert.equal(nonces.useNonceCount(n, at, 1), 'ok');
    assert.ok(nonces.trackedCount <= 3);
    // the first two were evicted while still valid: a replay of them must not pass
    assert.equal(nonces.useNonceCount(old[0]![0], T0, 1), 'forgotten');
    clock.now = T0 + 1000;
    const fresh = nonces.issue('r');
    assert.equal(nonces.useNonceCount(fresh, T0 + 1000, 1), 'ok');
    assert.ok(nonces.trackedCount <= 3);
  });

  it('drops expired entries instead of evicting live ones', () => {
    const { nonces, clock } = manager({ maxTracked: 2, lifetime: 10 });
    const a = nonces.issue('r');
    const b = nonces.issue('r');
    nonces.useNonceCount(a, T0, 1);
    nonces.useNonceCount(b, T0, 1);
    clock.now = T0 + 20_000;
    const c = nonces.issue('r');
    assert.equal(nonces.useNonceCount(c, T0 + 20_000, 1), 'ok');
    assert.equal(nonces.trackedCount, 1);
    // nothing live was evicted, so an unseen nonce issued earlier is not "forgotten"
    const d = nonces.issue('r');
    assert.equal(nonces.useNonceCount(d, T0 + 20_000, 1), 'ok');
  });
});

describe('NonceManager issuer (worker threads sharing a secret)', () => {
  it('accepts its own nonces and calls those of another issuer with the same secret stale, so the client retries here', () => {
    const now = () => T0;
    const secret = 'a shared secret of the workers';
    const w0 = new NonceManager({ secret, now, issuer: 0 });
    const w1 = new NonceManager({ secret, now, issuer: 1 });
    const n0 = w0.issue('example.com');
    const n1 = w1.issue('example.com');
    assert.deepEqual(w0.verify(n0, 'example.com'), { status: 'valid', issuedAt: T0 });
    assert.deepEqual(w1.verify(n1, 'example.com'), { status: 'valid', issuedAt: T0 });
    assert.deepEqual(w0.verify(n1, 'example.com'), { status: 'stale', issuedAt: T0 });
    assert.deepEqual(w1.verify(n0, 'example.com'), { status: 'stale', issuedAt: T0 });
    // a manager without an issuer (one thread) takes both; a forged one is still invalid
    const single = new NonceManager({ secret, now });
    assert.equal(single.verify(n1, 'example.com').status, 'valid');
    assert.equal(w0.verify(n1.slice(0, -2) + (n1.endsWith('AA') ? 'BA' : 'AA'), 'example.com').status, 'invalid');
  });

  it('refuses an issuer outside 0-255', () => {
    assert.throws(() => new NonceManager({ issuer: 256 }), ParleyError);
    assert.throws(() => new NonceManager({ issuer: -1 }), ParleyError);
    assert.throws(() => new NonceManager({ issuer: 1.5 }), ParleyError);
  });
});
