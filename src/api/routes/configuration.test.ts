/**
 * POST /api/v1/config/reload over configurationOps, in a bare fastify with the OpsError mapping
 * api-plugin.ts installs: what a reload applied, a refused file as 422 naming the key (as `field`),
 * a server without a file as 409, admin scope.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { OpsError, type Operations } from '../operations.js';
import { configurationOps } from '../../app/ops/configuration-ops.js';
import type { ConfigReloadOutcome } from '../../app/config-reload.js';
import { configurationRoutes } from './configuration.js';

async function serve(outcome: ConfigReloadOutcome, triggers: string[], scopes: Map<string, unknown>): Promise<FastifyInstance> {
  const ops = {
    configuration: configurationOps({
      reloadConfig: async (trigger) => {
        triggers.push(trigger);
        return outcome;
      },
    }),
  } as unknown as Operations;
  const app = Fastify();
  app.addHook('onRoute', (r) => {
    scopes.set(`${String(r.method)} ${r.url}`, r.config?.scope);
  });
  app.setErrorHandler((e, _req, reply) => {
    if (e instanceof OpsError) return reply.code(e.status).send({ error: e.message, ...(e.field === undefined ? {} : { field: e.field }) });
    return reply.code(500).send({ error: (e as Error).message });
  });
  await app.register(configurationRoutes, { prefix: '/api/v1', ops: () => ops });
  await app.ready();
  return app;
}

describe('POST /api/v1/config/reload', () => {
  it('answers what was applied and what waits for a restart; admin scope; the reload is the API\'s', async () => {
    const triggers: string[] = [];
    const scopes = new Map<string, unknown>();
    const app = await serve({ ok: true, file: '/etc/parley/parley.yaml', applied: ['log.level'], restart: ['sip.listen'] }, triggers, scopes);
    const r = await app.inject({ method: 'POST', url: '/api/v1/config/reload' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { file: '/etc/parley/parley.yaml', applied: ['log.level'], restart: ['sip.listen'] });
    assert.deepEqual(triggers, ['api']);
    assert.equal(scopes.get('POST /api/v1/config/reload'), 'admin');
    await app.close();
  });

  it('a file that fails its check: 422 with file:line: key, the key as field', async () => {
    const app = await serve({ ok: false, file: 'parley.yaml', error: 'parley.yaml:2: log.level: must be one of fatal, error', key: 'log.level', line: 2 }, [], new Map());
    const r = await app.inject({ method: 'POST', url: '/api/v1/config/reload' });
    assert.equal(r.statusCode, 422);
    assert.deepEqual(r.json(), { error: 'parley.yaml:2: log.level: must be one of fatal, error', field: 'log.level' });
    await app.close();
  });

  it('a server started without a configuration file: 409', async () => {
    const app = await serve({ ok: true, file: undefined, applied: [], restart: [] }, [], new Map());
    const r = await app.inject({ method: 'POST', url: '/api/v1/config/reload' });
    assert.equal(r.statusCode, 409);
    assert.match((r.json() as { error: string }).error, /without a configuration file/);
    await app.close();
  });
});

describe('POST /api/v1/config/check', () => {
  it('a good text: ok with no errors; a bad one: each key in error with its line, as `parley config check`; admin scope', async () => {
    const scopes = new Map<string, unknown>();
    const app = await serve({ ok: true, file: undefined, applied: [], restart: [] }, [], scopes);
    const good = await app.inject({ method: 'POST', url: '/api/v1/config/check', headers: { 'content-type': 'text/plain' }, payload: 'log:\n  level: debug\n' });
    assert.equal(good.statusCode, 200);
    assert.deepEqual(good.json(), { ok: true, errors: [] });
    const bad = await app.inject({ method: 'POST', url: '/api/v1/config/check', payload: { text: 'log:\n  level: loud\nsip:\n  workers: two\n' } });
    assert.equal(bad.statusCode, 200);
    const body = bad.json() as { ok: boolean; errors: Array<{ key: string; line?: number; message: string }> };
    assert.equal(body.ok, false);
    assert.deepEqual(
      body.errors.map((e) => [e.key, e.line]),
      [
        ['log.level', 2],
        ['sip.workers', 4],
      ],
    );
    assert.match(body.errors[0]!.message, /^config:2: log\.level/);
    const syntax = await app.inject({ method: 'POST', url: '/api/v1/config/check', headers: { 'content-type': 'text/plain' }, payload: 'log: [\n' });
    assert.equal((syntax.json() as { ok: boolean }).ok, false);
    assert.equal(scopes.get('POST /api/v1/config/check'), 'admin');
    await app.close();
  });
});
