import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerIcePage } from './ice-page.js';
import { PHONE_CSP } from './phone-page.js';

describe('ICE check page routes', () => {
  let app: FastifyInstance;
  let root: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'parley-ice-page-'));
    await writeFile(join(root, 'index.html'), '<!doctype html><title>ICE check</title>');
    await writeFile(join(root, 'ice.js'), 'console.log("ice");');
    await writeFile(join(root, 'ice.css'), 'body{}');
    app = Fastify();
    await registerIcePage(app, { root });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await rm(root, { recursive: true, force: true });
  });

  it('serves the page at /ice, with or without a slash, with the CSP of the phone and no camera or microphone', async () => {
    for (const url of ['/ice', '/ice/', '/ice?user=alice', '/ice/index.html']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 200, url);
      assert.match(r.body, /ICE check/);
      assert.equal(r.headers['content-security-policy'], PHONE_CSP);
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
      assert.equal(r.headers['permissions-policy'], 'camera=(), microphone=()');
    }
  });

  it('serves its bundle and style sheet', async () => {
    const js = await app.inject({ url: '/ice/ice.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /javascript/);
    assert.match((await app.inject({ url: '/ice/ice.css' })).headers['content-type'] as string, /^text\/css/);
  });

  it('says how to build it when the build is missing', async () => {
    const bare = Fastify();
    await registerIcePage(bare, { root: join(root, 'missing') });
    const r = await bare.inject({ url: '/ice' });
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /npm run build/);
    await bare.close();
  });
});
