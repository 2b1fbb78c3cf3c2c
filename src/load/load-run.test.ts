/**
 * LoadRun on a fake clock against the in-memory registrar (Parley's DigestAuthenticator behind
 * in-memory flows): the ramp's pacing, hold, refreshes, keepalives, unregistration, failures and
 * the bounds in time. Real peers: test/interop/load-*.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../test/support/fake-clock.js';
import type { ClientConnection } from './client-connection.js';
import { LoadRun, type LoadRunSettings } from './load-run.js';
import { MemoryRegistrar } from './testdata/memory-registrar.js';

const DOMAIN = 'example.com';

function users(n: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 1; i <= n; i++) out[`user${i}`] = 'pw';
  return out;
}

function setup(overrides: Partial<LoadRunSettings> = {}, options: { refuse?: Set<number>; nonceLifetime?: number } = {}) {
  const clock = new FakeClock();
  const registrar = new MemoryRegistrar({ domain: DOMAIN, users: users(50), clock, ...(options.nonceLifetime ? { nonceLifetime: options.nonceLifetime } : {}) });
  const settings: LoadRunSettings = {
    target: 'wss://127.0.0.1:8443/sip',
    transport: 'wss',
    users: 10,
    rate: 5,
    holdSeconds: 0,
    durationSeconds: 600,
    expires: 600,
    keepalive: 'none',
    keepaliveIntervalSeconds: 30,
    userName: (i) => `user${i + 1}`,
    domain: DOMAIN,
    password: 'pw',
    transactionTimeoutMs: 32_000,
    maxPending: 1000,
    unregister: false,
    userAgent: 'test',
    ...overrides,
  };
  const connectedAt: number[] = [];
  const run = new LoadRun(settings, {
    clock,
    random: () => 0.5,
    connect: async (i): Promise<ClientConnection> => {
      connectedAt.push(clock.now());
      if (options.refuse?.has(i)) throw new Error('connection refused (nothing listens there?)');
      return registrar.connect();
    },
  });
  /** Move the fake clock in 100 ms steps, letting promises and the registrar's answers run. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  };
  const advance = async (ms: number): Promise<void> => {
    await settle();
    for (let t = 0; t < ms; t += 100) {
      clock.advance(Math.min(100, ms - t));
      await settle();
    }
  };
  return { clock, registrar, run, advance, connectedAt };
}

describe('LoadRun', () => {
  it('connects and registers at the rate, then reports rate and latency', async () => {
    const { run, advance, registrar, connectedAt } = setup({ users: 10, rate: 5 });
    const done = run.run();
    await advance(3000);
    const report = await done;
    // 5/s: one at once, then every 200 ms
    assert.deepEqual(connectedAt, [0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800]);
    assert.equal(report.connections.opened, 10);
    assert.equal(report.registrations.ok, 10);
    assert.equal(report.registrations.challenges, 10);
    assert.equal(report.registrations.latency.count, 10);
    assert.ok(Math.abs(report.registrationRate! - 10 / 1.8) < 0.01, String(report.registrationRate));
    assert.equal(report.stoppedBy, 'completed');
    assert.ok(report.success);
    assert.ok(registrar.flows.every((f) => !f.open), 'every flow is closed at the end');
  });

  it('holds: refreshes before expiry, keepalives, then unregisters', async () => {
    const { run, advance, registrar } = setup({ users: 4, rate: 100, holdSeconds: 40, expires: 20, keepalive: 'ping', keepaliveIntervalSeconds: 10, unregister: true });
    const done = run.run();
    await advance(1000);
    assert.equal(run.progress().phase, 'hold');
    assert.equal(registrar.bound, 4);
    await advance(41_000);
    const report = await done;
    // granted 20 s, refreshed at 85 % (17 s): twice in 40 s each
    assert.equal(report.refreshes.ok, 8);
    assert.equal(report.refreshes.failed.total, 0);
    assert.equal(report.hold.heldAtStart, 4);
    assert.equal(report.hold.heldAtEnd, 4);
    assert.equal(report.hold.minHeld, 4);
    assert.ok(report.keepalive.sent >= 12 && report.keepalive.sent <= 20, String(report.keepalive.sent));
    assert.equal(report.keepalive.pongs, report.keepalive.sent);
    assert.equal(report.unregistrations.ok, 4);
    assert.equal(registrar.bound, 0);
    // refreshes reuse the nonce: one challenge per user in all
    assert.equal(report.registrations.challenges, 4);
    assert.ok(report.success, report.toText());
  });

  it('stale nonces during the hold are answered silently', async () => {
    const { run, advance } = setup({ users: 2, rate: 100, holdSeconds: 40, expires: 20 }, { nonceLifetime: 10 });
    const done = run.run();
    await advance(42_000);
    const report = await done;
    assert.equal(report.refreshes.ok, 4);
    assert.equal(report.registrations.staleChallenges, 4);
    assert.ok(report.success, report.toText());
  });

  it('counts failed connections and registrations by reason, in words', async () => {
    const { run, advance, registrar } = setup({ users: 6, rate: 100 }, { refuse: new Set([1, 4]) });
    registrar.script = ['auth'];
    const done = run.run();
    await advance(200);
    registrar.flows[0]!.script = [{ status: 403 }];
    await advance(1000);
    const report = await done;
    assert.equal(report.connections.failed.total, 2);
    assert.deepEqual(report.connections.failed.toJSON(), { 'connection refused (nothing listens there?)': 2 });
    assert.equal(report.registrations.ok + report.registrations.failed.total, 4);
    assert.equal(report.success, false);
    assert.match(report.toText(), /2 × connection failed: connection refused/);
  });

  it('a flow lost during the hold lowers held and is reported', async () => {
    const { run, advance, registrar } = setup({ users: 3, rate: 100, holdSeconds: 10 });
    const done = run.run();
    await advance(2000);
    registrar.flows[1]!.drop('closed by the server (WebSocket close 1001)');
    await advance(9000);
    const report = await done;
    assert.equal(report.hold.heldAtStart, 3);
    assert.equal(report.hold.heldAtEnd, 2);
    assert.equal(report.hold.minHeld, 2);
    assert.deepEqual(report.connections.lost.toJSON(), { 'closed by the server (WebSocket close 1001)': 1 });
    assert.equal(report.success, false);
  });

  it('a keepalive unanswered for 10 s fails the flow (RFC 5626 §4.4.1)', async () => {
    const { run, advance, registrar } = setup({ users: 2, rate: 100, holdSeconds: 30, keepalive: 'ping', keepaliveIntervalSeconds: 5 });
    const done = run.run();
    await advance(500);
    registrar.flows[0]!.pong = false;
    await advance(31_000);
    const report = await done;
    assert.equal(report.keepalive.timeouts, 1);
    assert.equal(report.hold.heldAtEnd, 1);
    assert.deepEqual(report.connections.lost.toJSON(), { 'keepalive unanswered within 10 s': 1 });
  });

  it('the duration cap ends a run whose server never answers, with timeouts reported', async () => {
    const { run, advance, registrar } = setup({ users: 3, rate: 100, durationSeconds: 20, holdSeconds: 0, transactionTimeoutMs: 5000 });
    registrar.script = ['silent'];
    const done = run.run();
    await advance(21_000);
    const report = await done;
    assert.deepEqual(report.registrations.failed.toJSON(), { 'timeout (no final response in 5 s)': 3 });
    assert.equal(report.stoppedBy, 'completed');

    const capped = setup({ users: 3, rate: 100, durationSeconds: 5, holdSeconds: 0 });
    capped.registrar.script = ['silent'];
    const done2 = capped.run.run();
    await capped.advance(6000);
    const r2 = await done2;
    assert.equal(r2.stoppedBy, 'duration cap reached');
    assert.ok(r2.elapsedSeconds <= 5.2, String(r2.elapsedSeconds));
    assert.ok(capped.registrar.flows.every((f) => !f.open));
  });

  it('maxPending bounds users connecting or registering at once', async () => {
    const { run, advance, registrar } = setup({ users: 8, rate: 1000, maxPending: 3, transactionTimeoutMs: 3000 });
    registrar.script = ['silent'];
    const done = run.run();
    await advance(500);
    assert.equal(registrar.flows.length, 3);
    await advance(3600);
    // the first three timed out (ticks at 3 and 4 s): three more went
    assert.equal(registrar.flows.length, 6);
    run.stop('interrupted');
    const report = await done;
    assert.equal(report.stoppedBy, 'interrupted');
    assert.equal(report.success, false);
  });
});
