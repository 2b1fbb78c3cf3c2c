import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { PHONE_CSP, registerPhonePage } from './phone-page.js';

describe('phone page routes', () => {
  let app: FastifyInstance;
  let root: string;

  before(async () => {
    // a stand-in for dist/web/phone: the routes serve whatever the build put there
    root = await mkdtemp(join(tmpdir(), 'parley-phone-page-'));
    await writeFile(join(root, 'index.html'), '<!doctype html><title>Parley phone</title>');
    await writeFile(join(root, 'phone.js'), 'console.log("phone");');
    await writeFile(join(root, 'phone.css'), 'body{}');
    app = Fastify();
    await registerPhonePage(app, {
      domain: 'example.com',
      iceServers: [{ urls: ['stun:stun.example.net'] }, { urls: ['turn:turn.example.net?transport=tcp'], username: 'u', credential: 'p' }],
      root,
    });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await rm(root, { recursive: true, force: true });
  });

  it('serves the page at /phone, with or without a slash, query string untouched, with its CSP', async () => {
    for (const url of ['/phone', '/phone/', '/phone?username=alice&autoregister=1', '/phone/index.html']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 200, url);
      assert.match(r.headers['content-type'] as string, /^text\/html/);
      assert.match(r.body, /Parley phone/);
      assert.equal(r.headers['content-security-policy'], PHONE_CSP);
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
    }
  });

  it('serves the bundle and the style sheet with their types', async () => {
    const js = await app.inject({ url: '/phone/phone.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /javascript/);
    assert.equal(js.body, 'console.log("phone");');
    const css = await app.inject({ url: '/phone/phone.css' });
    assert.match(css.headers['content-type'] as string, /^text\/css/);
  });

  it('gives the page the SIP domain and the configured ICE servers', async () => {
    const r = await app.inject({ url: '/phone/config.json' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.deepEqual(r.json(), {
      domain: 'example.com',
      wsPath: '/sip',
      iceServers: [{ urls: ['stun:stun.example.net'] }, { urls: ['turn:turn.example.net?transport=tcp'], username: 'u', credential: 'p' }],
    });
  });

  it('serves nothing outside its folder', async () => {
    assert.equal((await app.inject({ url: '/phone/missing.js' })).statusCode, 404);
    const traversal = await app.inject({ url: '/phone/..%2f..%2fetc%2fpasswd' });
    assert.ok([403, 404].includes(traversal.statusCode), `a path out of the folder got ${traversal.statusCode}`);
    assert.doesNotMatch(traversal.body, /root:/);
    assert.equal((await app.inject({ url: '/phonebook' })).statusCode, 404);
  });

  it('says the page is not built when it is not', async () => {
    const bare = Fastify();
    const empty = await mkdtemp(join(tmpdir(), 'parley-phone-empty-'));
    try {
      await registerPhonePage(bare, { domain: 'example.com', iceServers: [], root: empty });
      const r = await bare.inject({ url: '/phone' });
      assert.equal(r.statusCode, 503);
      assert.match(r.body, /npm run build/);
    } finally {
      await bare.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
