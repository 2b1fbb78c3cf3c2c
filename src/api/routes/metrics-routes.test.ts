import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { OpsError, type Operations, type StatsSnapshot } from '../operations.js';
import type { ApiRoutes } from '../api-routes.js';
import { metricsRoutes } from './metrics.js';
import { statsRoutes } from './stats.js';
import { turnRoutes } from './turn.js';
import { mediaRoutes } from './media.js';

const SNAPSHOT: StatsSnapshot = {
  time: 1, requests: 2, responses: 3, transactions: 0, registrations: 1, calls: 0, callsAnswered: 0, authFailures: 0, blockedSources: 0,
  connections: 0, turnAllocations: 0, turnBytes: 0, mediaSessions: 0, mediaPackets: 0,
};

/** The operations these routes call, and what they were asked. */
function fakeOps(asked: unknown[]): Operations {
  return {
    metrics: {
      prometheus: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'parley_registrations 1\n' }),
      stats: async () => SNAPSHOT,
      history: () => [SNAPSHOT, { ...SNAPSHOT, time: 2 }],
    },
    turn: {
      enabled: true,
      allocations: async () => [{ username: '1700000000:alice', client: '127.0.0.1:40000', relayed: '127.0.0.1:50000', expiresIn: 500, permissions: 1, channels: 0, bytesToPeer: 10, bytesToClient: 20 }],
      credentials: (user: string, ttl?: number) => {
        asked.push({ user, ttl });
        if (user === 'nobody') throw new OpsError(503, 'TURN is not running');
        return { username: `99:${user}`, password: 'x', ttl: ttl ?? 86400, uris: ['turn:127.0.0.1:3478?transport=udp'] };
      },
    },
    media: { enabled: false, sessions: async () => [] },
  } as unknown as Operations;
}

/** A bare fastify with these route groups (the API plugin's auth and error handling are not here). */
async function app(groups: { root?: ApiRoutes[]; v1?: ApiRoutes[] }, asked: unknown[] = []): Promise<FastifyInstance> {
  const f = Fastify();
  f.setErrorHandler((e, _req, reply) => {
    if (e instanceof OpsError) return reply.code(e.status).send({ error: e.message });
    return reply.code((e as { statusCode?: number }).statusCode ?? 500).send({ error: (e as Error).message });
  });
  const ops = () => fakeOps(asked);
  for (const g of groups.root ?? []) await f.register(g, { ops });
  for (const g of groups.v1 ?? []) await f.register(g, { prefix: '/api/v1', ops });
  await f.ready();
  return f;
}

describe('metrics, stats, TURN and media routes', () => {
  it('GET /metrics: the text exposition with its content type; scope read, anonymous from loopback by default', async () => {
    const f = await app({ root: [metricsRoutes] });
    const r = await f.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(r.body, 'parley_registrations 1\n');
    await f.close();
  });

  it('the route carries its scope and the loopback flag (metrics.allowLoopback: false turns it off)', async () => {
    for (const allow of [undefined, false] as const) {
      const f = Fastify();
      const seen: unknown[] = [];
      f.addHook('onRoute', (r) => {
        if (r.method === 'GET') seen.push({ url: r.url, config: r.config });
      });
      await f.register(metricsRoutes, { ops: () => fakeOps([]), ...(allow === undefined ? {} : { metricsAllowLoopback: allow }) });
      await f.ready();
      assert.deepEqual(seen.filter((s) => (s as { url: string }).url === '/metrics').map((s) => (s as { config: unknown }).config), [{ scope: 'read', loopbackAnonymous: allow ?? true }]);
      await f.close();
    }
  });

  it('GET /api/v1/stats and /stats/history', async () => {
    const f = await app({ v1: [statsRoutes] });
    assert.deepEqual((await f.inject({ url: '/api/v1/stats' })).json(), SNAPSHOT);
    const h = (await f.inject({ url: '/api/v1/stats/history' })).json();
    assert.equal(h.intervalSeconds, 10);
    assert.deepEqual(h.samples.map((s: StatsSnapshot) => s.time), [1, 2]);
    await f.close();
  });

  it('GET /api/v1/turn/allocations; POST /api/v1/turn/credentials checks its body (400 naming the field) and passes OpsError on', async () => {
    const asked: unknown[] = [];
    const f = await app({ v1: [turnRoutes] }, asked);
    const list = (await f.inject({ url: '/api/v1/turn/allocations' })).json();
    assert.equal(list.enabled, true);
    assert.equal(list.items[0].bytesToClient, 20);
    const ok = await f.inject({ method: 'POST', url: '/api/v1/turn/credentials', payload: { user: 'alice', ttl: 600 } });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { username: '99:alice', password: 'x', ttl: 600, uris: ['turn:127.0.0.1:3478?transport=udp'] });
    for (const [payload, field] of [[{}, 'user'], [{ user: 'a:b' }, 'user'], [{ user: 'alice', ttl: 5 }, 'ttl']] as const) {
      const bad = await f.inject({ method: 'POST', url: '/api/v1/turn/credentials', payload });
      assert.equal(bad.statusCode, 400, JSON.stringify(payload));
      assert.match(bad.json().error, new RegExp(field), JSON.stringify(payload));
    }
    assert.equal((await f.inject({ method: 'POST', url: '/api/v1/turn/credentials', payload: { user: 'nobody' } })).statusCode, 503);
    assert.deepEqual(asked, [{ user: 'alice', ttl: 600 }, { user: 'nobody', ttl: undefined }]);
    await f.close();
  });

  it('GET /api/v1/media/sessions', async () => {
    const f = await app({ v1: [mediaRoutes] });
    assert.deepEqual((await f.inject({ url: '/api/v1/media/sessions' })).json(), { enabled: false, items: [] });
    await f.close();
  });
});
