/**
 * /api/v1/script: the routes over a real ScriptOps and ScriptHost (no SIP cores), in a bare
 * fastify with the OpsError mapping api-plugin.ts installs: show, check (text/plain and JSON),
 * upload (activated; refused with 422 and the running version kept), rollback, reload without a
 * file (409), a body failing its schema (400), a scope on every route.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { OpsError, type Operations } from '../operations.js';
import { ScriptHost } from '../../routing/script-host.js';
import { scriptOps } from '../../app/ops/script-ops.js';
import { scriptRoutes } from './script.js';

const GOOD = (label: string): string => `import type { RequestContext } from 'parley/routing';\nexport function onRequest(ctx: RequestContext): void {\n  ctx.reply(200, '${label}');\n}\n`;
const BROKEN = `export function onRequest(ctx) {\n  ctx.reply(200,;\n}\n`;

describe('/api/v1/script routes', () => {
  let dir: string;
  let app: FastifyInstance;
  let host: ScriptHost;
  const scopes = new Map<string, string | undefined>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-script-routes-'));
    host = new ScriptHost({ outDir: join(dir, 'routing'), watch: false });
    await host.start();
    const ops = { script: scriptOps(host, dir, undefined) } as unknown as Operations;
    app = Fastify();
    app.addHook('onRoute', (r) => {
      scopes.set(`${String(r.method)} ${r.url}`, r.config?.scope);
    });
    app.setErrorHandler((e, _req, reply) => {
      if (e instanceof OpsError) return reply.code(e.status).send({ error: e.message, ...(e.field === undefined ? {} : { field: e.field }) });
      const err = e as { statusCode?: number; message: string };
      return reply.code(err.statusCode ?? 500).send({ error: err.message });
    });
    await app.register(scriptRoutes, { prefix: '/api/v1', ops: () => ops });
    await app.ready();
  });
  after(async () => {
    await app.close();
    host.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('every route has a scope: read to look, admin to check (it runs the script\'s top level) or change', () => {
    assert.deepEqual(Object.fromEntries([...scopes].filter(([k]) => !k.startsWith('HEAD'))), {
      'GET /api/v1/script': 'read',
      'POST /api/v1/script/check': 'admin',
      'PUT /api/v1/script': 'admin',
      'POST /api/v1/script/reload': 'admin',
      'POST /api/v1/script/rollback': 'admin',
    });
  });

  it('GET: the built-in default as version 1', async () => {
    const r = await app.inject({ method: 'GET', url: '/api/v1/script' });
    assert.equal(r.statusCode, 200);
    const body = r.json() as { version: number; source: string; history: unknown[] };
    assert.equal(body.version, 1);
    assert.equal(body.source, 'builtin:default');
    assert.deepEqual(body.history, []);
  });

  it('check: text/plain or {code}; a broken one is ok:false with its line and column', async () => {
    const bad = await app.inject({ method: 'POST', url: '/api/v1/script/check?name=mine.ts', headers: { 'content-type': 'text/plain' }, payload: BROKEN });
    assert.equal(bad.statusCode, 200);
    const b = bad.json() as { ok: boolean; errors: Array<{ message: string; line: number; column: number }> };
    assert.equal(b.ok, false);
    assert.equal(b.errors[0]!.line, 2);
    assert.equal(b.errors[0]!.column, 17);
    assert.match(b.errors[0]!.message, /^mine\.ts:2:17: /);
    const good = await app.inject({ method: 'POST', url: '/api/v1/script/check', payload: { code: GOOD('a') } });
    assert.deepEqual(good.json(), { ok: true, errors: [] });
    const wrong = await app.inject({ method: 'POST', url: '/api/v1/script/check', payload: { script: 'x' } });
    assert.equal(wrong.statusCode, 400);
    const empty = await app.inject({ method: 'POST', url: '/api/v1/script/check', headers: { 'content-type': 'text/plain' }, payload: '  ' });
    assert.equal(empty.statusCode, 400);
    assert.deepEqual(empty.json(), { error: 'the script is empty', field: 'script' });
  });

  it('PUT: activated as the next version and kept on disk; a broken one 422 and the running one stays; rollback; reload without a file 409', async () => {
    const up = await app.inject({ method: 'PUT', url: '/api/v1/script', headers: { 'content-type': 'text/plain' }, payload: GOOD('uploaded') });
    assert.equal(up.statusCode, 200);
    const u = up.json() as { version: number; source: string; history: Array<{ version: number }> };
    assert.equal(u.version, 2);
    assert.equal(u.source, join(dir, 'routing', 'uploaded', '1.ts'));
    assert.equal(await readFile(u.source, 'utf8'), GOOD('uploaded'));
    assert.deepEqual(u.history.map((h) => h.version), [1]);

    const refused = await app.inject({ method: 'PUT', url: '/api/v1/script', payload: { code: BROKEN } });
    assert.equal(refused.statusCode, 422);
    assert.match((refused.json() as { error: string }).error, /routing script refused: .*2\.ts:2:17: .*version 2 keeps serving/);
    assert.equal(host.active.version, 2);
    assert.deepEqual(await readdir(join(dir, 'routing', 'uploaded')), ['1.ts'], 'a refused upload is not kept');

    const back = await app.inject({ method: 'POST', url: '/api/v1/script/rollback' });
    assert.equal(back.statusCode, 200);
    assert.equal((back.json() as { source: string }).source, 'builtin:default');
    const nowhere = await app.inject({ method: 'POST', url: '/api/v1/script/rollback', payload: { version: 99 } });
    assert.equal(nowhere.statusCode, 404);
    const notInt = await app.inject({ method: 'POST', url: '/api/v1/script/rollback', payload: { version: 'x' } });
    assert.equal(notInt.statusCode, 400);
    const reload = await app.inject({ method: 'POST', url: '/api/v1/script/reload' });
    assert.equal(reload.statusCode, 409);
  });
});
