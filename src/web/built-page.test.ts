import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { ownOriginCsp, registerBuiltPage } from './built-page.js';

describe('a built page (registerBuiltPage)', () => {
  let app: FastifyInstance;
  let root: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'parley-built-page-'));
    await writeFile(join(root, 'index.html'), '<!doctype html><title>Demo</title>');
    await writeFile(join(root, 'demo.js'), 'console.log("demo");');
    await writeFile(join(root, '.secret'), 'not served');
    app = Fastify();
    await registerBuiltPage(app, { name: 'demo', root, title: 'The demo page', csp: ownOriginCsp("media-src 'self'"), headers: [['X-Demo', 'yes']] });
    await registerBuiltPage(app, { name: 'unbuilt', root: join(root, 'nowhere'), title: 'The unbuilt page', csp: ownOriginCsp() });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await rm(root, { recursive: true, force: true });
  });

  it('serves index.html at /<name>, /<name>/ and /<name>/index.html with the CSP, the common headers and its own', async () => {
    for (const url of ['/demo', '/demo/', '/demo/index.html']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 200, url);
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
      assert.match(r.body, /<title>Demo<\/title>/);
      assert.equal(r.headers['content-security-policy'], "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; media-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['cache-control'], 'no-cache');
      assert.equal(r.headers['x-demo'], 'yes');
    }
  });

  it('serves its other files, revalidated, and no dot file nor anything outside its folder', async () => {
    const js = await app.inject({ url: '/demo/demo.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /javascript/);
    assert.equal(js.headers['cache-control'], 'no-cache');
    assert.equal(js.headers['x-content-type-options'], 'nosniff');
    assert.ok(js.headers.etag);
    assert.notEqual((await app.inject({ url: '/demo/.secret' })).statusCode, 200);
    assert.equal((await app.inject({ url: '/demo/%2e%2e/built-page.test.ts' })).statusCode, 404);
  });

  it('answers 503 naming the missing file when the page is not built', async () => {
    const r = await app.inject({ url: '/unbuilt' });
    assert.equal(r.statusCode, 503);
    assert.equal(r.body, `The unbuilt page is not built (${join(root, 'nowhere', 'index.html')} is missing): run "npm run build".\n`);
  });
});
