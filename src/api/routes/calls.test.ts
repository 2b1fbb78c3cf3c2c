/**
 * The calls routes on a bare fastify (the API plugin with its auth and error handler is another
 * file's): the error handler here maps OpsError as the plugin does, `{ error, field? }`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { OpsError, type CallOps, type CallView, type Operations } from '../operations.js';
import { callRoutes } from './calls.js';

const CALL: CallView = {
  callId: 'abc@host',
  state: 'answered',
  caller: { uri: 'sip:alice@example.com', contact: 'sip:alice@192.0.2.1', source: 'udp:192.0.2.1:5060', tag: 'a1' },
  callee: { uri: 'sip:bob@example.com', tag: 'b1' },
  startedAt: '2026-12-07T08:00:00.000Z',
  answeredAt: '2026-12-07T08:00:02.000Z',
  duration: 30,
  talkTime: 28,
  media: true,
  core: 1,
};

async function app(calls: Partial<CallOps>, seen: unknown[] = [], scopes: Record<string, unknown> = {}): Promise<FastifyInstance> {
  const f = Fastify();
  f.addHook('onRoute', (r) => {
    if (r.method !== 'HEAD') scopes[`${String(r.method)} ${r.url}`] = r.config?.scope;
  });
  f.setErrorHandler((e: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    if (e instanceof OpsError) return reply.code(e.status).send({ error: e.message, ...(e.field === undefined ? {} : { field: e.field }) });
    return reply.code(e.statusCode ?? 500).send({ error: e.message });
  });
  const ops = { calls: { ...calls, list: async (q: object) => (seen.push({ ...q }), calls.list!(q as never)) } } as unknown as Operations;
  await f.register(callRoutes, { prefix: '/api/v1', ops: () => ops });
  return f;
}

describe('/api/v1/calls', () => {
  it('GET lists a page, with search, offset and limit as numbers; every route has its scope', async () => {
    const seen: unknown[] = [];
    const scopes: Record<string, unknown> = {};
    const f = await app({ list: async () => ({ items: [CALL], total: 1, offset: 5, limit: 10 }) }, seen, scopes);
    const r = await f.inject({ method: 'GET', url: '/api/v1/calls?search=alice&offset=5&limit=10' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { items: [CALL], total: 1, offset: 5, limit: 10 });
    assert.deepEqual(seen, [{ search: 'alice', offset: 5, limit: 10 }]);
    assert.deepEqual(scopes, { 'GET /api/v1/calls': 'read', 'GET /api/v1/calls/:callId': 'read', 'DELETE /api/v1/calls/:callId': 'write' });
  });

  it('GET with a limit out of range or not a number is 400', async () => {
    const f = await app({ list: async () => ({ items: [], total: 0, offset: 0, limit: 100 }) });
    assert.equal((await f.inject({ method: 'GET', url: '/api/v1/calls?limit=5000' })).statusCode, 400);
    assert.equal((await f.inject({ method: 'GET', url: '/api/v1/calls?limit=x' })).statusCode, 400);
  });

  it('GET /calls/:callId: the call (Call-ID escaped in the path), 404 for none', async () => {
    const f = await app({ get: async (id) => (id === CALL.callId ? CALL : Promise.reject(new OpsError(404, `no call ${id}`, 'callId'))) });
    const r = await f.inject({ method: 'GET', url: `/api/v1/calls/${encodeURIComponent(CALL.callId)}` });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), CALL);
    const none = await f.inject({ method: 'GET', url: '/api/v1/calls/nope' });
    assert.equal(none.statusCode, 404);
    assert.deepEqual(none.json(), { error: 'no call nope', field: 'callId' });
  });

  it('DELETE /calls/:callId hangs up: 204; 404 for none', async () => {
    const hung: string[] = [];
    const f = await app({ hangup: async (id) => (id === 'x' ? void hung.push(id) : Promise.reject(new OpsError(404, `no call ${id}`, 'callId'))) });
    const r = await f.inject({ method: 'DELETE', url: '/api/v1/calls/x' });
    assert.equal(r.statusCode, 204);
    assert.equal(r.body, '');
    assert.deepEqual(hung, ['x']);
    assert.equal((await f.inject({ method: 'DELETE', url: '/api/v1/calls/y' })).statusCode, 404);
  });
});
