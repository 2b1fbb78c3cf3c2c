/**
 * The captures routes on a bare fastify (the API plugin with its auth and error handler is another
 * file's): the error handler here maps OpsError as the plugin does, `{ error, field? }`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { OpsError, type CaptureOps, type CapturedCall, type Operations } from '../operations.js';
import { captureRoutes } from './captures.js';

const CALL: CapturedCall = {
  callId: 'c1@host',
  messages: [{ time: '2026-12-07T12:00:00.000Z', transport: 'udp', source: '127.0.0.1:5061', destination: '127.0.0.1:5060', agentId: 7, message: 'INVITE sip:b@x SIP/2.0\r\n\r\n' }],
  ladder: { callId: 'c1@host', participants: ['udp:127.0.0.1:5061', 'udp:127.0.0.1:5060'], arrows: [{ t: 0, from: 'udp:127.0.0.1:5061', to: 'udp:127.0.0.1:5060', label: 'INVITE', message: 'INVITE sip:b@x SIP/2.0\r\n\r\n' }] },
};

async function app(captures: Partial<CaptureOps>, seen: unknown[] = [], scopes: Record<string, unknown> = {}): Promise<FastifyInstance> {
  const f = Fastify();
  f.addHook('onRoute', (r) => {
    if (r.method !== 'HEAD') scopes[`${String(r.method)} ${r.url}`] = r.config?.scope;
  });
  f.setErrorHandler((e: Error & { statusCode?: number }, _req, reply) => {
    if (e instanceof OpsError) return reply.code(e.status).send({ error: e.message, ...(e.field === undefined ? {} : { field: e.field }) });
    return reply.code(e.statusCode ?? 500).send({ error: e.message });
  });
  const ops = { captures: { ...captures, list: async (q: object) => (seen.push({ ...q }), captures.list!(q as never)) } } as unknown as Operations;
  await f.register(captureRoutes, { prefix: '/api/v1', ops: () => ops });
  return f;
}

describe('/api/v1/captures', () => {
  it('GET lists a page with search, offset and limit (numbers); both routes need the read scope', async () => {
    const seen: unknown[] = [];
    const scopes: Record<string, unknown> = {};
    const item = { callId: 'c1@host', messages: 9, firstAt: '2026-12-07T12:00:00.000Z', lastAt: '2026-12-07T12:00:05.000Z', from: 'sip:alice@x', to: 'sip:bob@x', methods: ['ACK', 'BYE', 'INVITE'] };
    const f = await app({ list: async () => ({ items: [item], total: 1, offset: 5, limit: 10 }) }, seen, scopes);
    const r = await f.inject({ method: 'GET', url: '/api/v1/captures?search=c1&offset=5&limit=10' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { items: [item], total: 1, offset: 5, limit: 10 });
    assert.deepEqual(seen, [{ search: 'c1', offset: 5, limit: 10 }]);
    assert.deepEqual(scopes, { 'GET /api/v1/captures': 'read', 'GET /api/v1/captures/:callId': 'read' });
  });

  it('GET with a bad limit, an unknown parameter or an overlong search is 400', async () => {
    const f = await app({ list: async () => ({ items: [], total: 0, offset: 0, limit: 100 }) });
    assert.equal((await f.inject({ method: 'GET', url: '/api/v1/captures?limit=5000' })).statusCode, 400);
    assert.equal((await f.inject({ method: 'GET', url: '/api/v1/captures?limit=x' })).statusCode, 400);
    assert.equal((await f.inject({ method: 'GET', url: `/api/v1/captures?search=${'x'.repeat(257)}` })).statusCode, 400);
  });

  it('GET /captures/:callId: messages and ladder (Call-ID escaped in the path); 404 for none; 503 without a collector', async () => {
    const f = await app({ get: async (id) => (id === CALL.callId ? CALL : Promise.reject(new OpsError(404, `no captured call ${id}`, 'callId'))) });
    const r = await f.inject({ method: 'GET', url: `/api/v1/captures/${encodeURIComponent(CALL.callId)}` });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), CALL);
    const none = await f.inject({ method: 'GET', url: '/api/v1/captures/nope' });
    assert.equal(none.statusCode, 404);
    assert.deepEqual(none.json(), { error: 'no captured call nope', field: 'callId' });
    const off = await app({ list: () => Promise.reject(new OpsError(503, 'no HEP collector')) });
    const r503 = await off.inject({ method: 'GET', url: '/api/v1/captures' });
    assert.equal(r503.statusCode, 503);
    assert.deepEqual(r503.json(), { error: 'no HEP collector' });
  });
});
