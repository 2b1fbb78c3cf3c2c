import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import type { Operations } from '../../api/operations.js';
import { interimMetricsPlugin } from './interim-metrics-plugin.js';

const ops = (() => ({ metrics: { prometheus: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'parley_registrations 0\n' }) } })) as unknown as () => Operations;

describe('interim /metrics (until the API plugin mounts it)', () => {
  it('answers loopback sources with metrics.allowLoopback, 401 to others and with allowLoopback false', async () => {
    for (const [allow, remoteAddress, status] of [[true, '127.0.0.1', 200], [true, '::1', 200], [true, '192.0.2.1', 401], [false, '127.0.0.1', 401]] as const) {
      const f = Fastify();
      await f.register(interimMetricsPlugin(ops, allow));
      const r = await f.inject({ url: '/metrics', remoteAddress });
      assert.equal(r.statusCode, status, `${remoteAddress}, allowLoopback ${allow}`);
      if (status === 200) assert.equal(r.body, 'parley_registrations 0\n');
      await f.close();
    }
  });

  it('steps aside when /metrics is there already', async () => {
    const f = Fastify();
    await f.register(async (app) => {
      app.get('/metrics', async () => 'the API plugin');
    });
    await f.register(interimMetricsPlugin(ops, true));
    assert.equal((await f.inject({ url: '/metrics' })).body, 'the API plugin');
    await f.close();
  });
});
