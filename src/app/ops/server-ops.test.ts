import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpsError, type MetricsOps } from '../../api/operations.js';
import { configFromObject } from '../config.js';
import { IN_MEMORY, SqliteDatabase } from '../../store/sqlite/sqlite-database.js';
import type { CoreAnswer, ServerParts } from './server-parts.js';
import { redactSecrets, serverOps } from './server-ops.js';

function parts(answers: CoreAnswer[], over: Partial<ServerParts> = {}): ServerParts {
  const config = configFromObject({ auth: { nonceSecret: 'n'.repeat(20) }, turn: { enabled: false }, media: { enabled: false } });
  return {
    config,
    db: SqliteDatabase.open(IN_MEMORY),
    startedAt: Date.now() - 5000,
    workers: 2,
    listeners: [{ transport: 'udp', address: '127.0.0.1', port: 5060 }],
    scripts: { active: { version: 3, source: 'routes.ts' } },
    media: undefined,
    turn: () => undefined,
    askCores: async () => answers,
    ...over,
  } as unknown as ServerParts;
}

const noMetrics = (): MetricsOps => {
  throw new OpsError(503, 'metrics not in this build');
};

describe('ServerOps', () => {
  it('ready when the listeners, the store and every SIP core answer', async () => {
    const r = await serverOps(parts([{ core: 0, answer: { ok: true } }, { core: 1, answer: { ok: true } }]), noMetrics).ready();
    assert.equal(r.ready, true, JSON.stringify(r));
    assert.deepEqual(r.checks.map((c) => c.name), ['listeners', 'store', 'sip-cores']);
  });

  it('not ready when a SIP core does not answer, or fewer answer than there are workers', async () => {
    const failed = await serverOps(parts([{ core: 0, answer: { ok: true } }, { core: 1, error: new Error('no answer within 2000 ms') }]), noMetrics).ready();
    assert.equal(failed.ready, false);
    assert.match(failed.checks.find((c) => c.name === 'sip-cores')!.detail!, /1 of 2 answered; core 1: no answer/u);
    assert.equal((await serverOps(parts([{ core: 0, answer: { ok: true } }]), noMetrics).ready()).ready, false);
  });

  it('not ready when the store does not answer', async () => {
    const p = parts([{ core: 0, answer: {} }, { core: 1, answer: {} }]);
    p.db.close();
    const r = await serverOps(p, noMetrics).ready();
    assert.equal(r.ready, false);
    assert.equal(r.checks.find((c) => c.name === 'store')!.ok, false);
  });

  it('status: version, listeners, workers, script; zero counters when metrics are not there', async () => {
    const s = await serverOps(parts([]), noMetrics).status();
    assert.match(s.version, /^\d+\.\d+\.\d+/u);
    assert.deepEqual([s.listeners, s.workers, s.script, s.turn, s.media], [['udp:127.0.0.1:5060'], 2, { version: 3, source: 'routes.ts' }, false, false]);
    assert.ok(s.uptimeSeconds >= 4);
    assert.equal(s.counters.requests, 0);
  });

  it('config: every secret redacted, the rest as configured', () => {
    const c = serverOps(parts([]), noMetrics).config() as { auth: { nonceSecret: string; nonceLifetime: number } };
    assert.equal(c.auth.nonceSecret, '[redacted]');
    assert.equal(typeof c.auth.nonceLifetime, 'number');
  });

  it('redactSecrets: keys naming a secret, password, credential or token, at any depth, lists too', () => {
    assert.deepEqual(
      redactSecrets({ proxy: { recordRouteSecret: 'x' }, turn: { restSecrets: ['a', 'b'], restTtl: 60 }, phone: { iceServers: [{ urls: ['turn:x'], username: 'u', credential: 'c' }] }, sip: { tls: { key: '/etc/key.pem' } }, unset: { nonceSecret: undefined } }),
      { proxy: { recordRouteSecret: '[redacted]' }, turn: { restSecrets: ['[redacted]', '[redacted]'], restTtl: 60 }, phone: { iceServers: [{ urls: ['turn:x'], username: 'u', credential: '[redacted]' }] }, sip: { tls: { key: '/etc/key.pem' } }, unset: { nonceSecret: undefined } },
    );
  });
});
