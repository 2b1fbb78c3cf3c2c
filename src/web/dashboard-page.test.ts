import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { DASHBOARD_CSP, registerDashboardPage } from './dashboard-page.js';

describe('dashboard page routes', () => {
  let app: FastifyInstance;
  let root: string;

  before(async () => {
    // a stand-in for dist/web/dashboard: the routes serve whatever the build put there
    root = await mkdtemp(join(tmpdir(), 'parley-dashboard-page-'));
    await writeFile(join(root, 'index.html'), '<!doctype html><title>Parley dashboard</title>');
    await writeFile(join(root, 'dashboard.js'), 'console.log("dashboard");');
    await writeFile(join(root, 'dashboard.css'), 'body{}');
    app = Fastify();
    await registerDashboardPage(app, { root });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await rm(root, { recursive: true, force: true });
  });

  it('serves the page at /dashboard, with or without a slash, with a CSP that allows only its own origin', async () => {
    for (const url of ['/dashboard', '/dashboard/', '/dashboard/index.html', '/dashboard#traces']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 200, url);
      assert.match(r.headers['content-type'] as string, /^text\/html/);
      assert.match(r.body, /Parley dashboard/);
      assert.equal(r.headers['content-security-policy'], DASHBOARD_CSP);
      assert.equal(r.headers['x-frame-options'], 'DENY');
    }
    assert.match(DASHBOARD_CSP, /connect-src 'self'/);
    assert.doesNotMatch(DASHBOARD_CSP, /unsafe-inline|unsafe-eval/);
  });

  it('serves the bundle and style sheets with their types; nothing outside its folder', async () => {
    const js = await app.inject({ url: '/dashboard/dashboard.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /javascript/);
    assert.equal(js.body, 'console.log("dashboard");');
    assert.match((await app.inject({ url: '/dashboard/dashboard.css' })).headers['content-type'] as string, /^text\/css/);
    assert.equal((await app.inject({ url: '/dashboard/../index.html' })).statusCode, 404);
    assert.equal((await app.inject({ url: '/dashboard/missing.js' })).statusCode, 404);
  });

  it('says the page is not built rather than failing', async () => {
    const bare = Fastify();
    await registerDashboardPage(bare, { root: join(root, 'nowhere') });
    const r = await bare.inject({ url: '/dashboard' });
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /npm run build/);
    await bare.close();
  });
});
