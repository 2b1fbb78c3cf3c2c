// The REST API of a running Parley (issue 18), over HTTP on its loopback listener: tokens made by
// `parley token create` (as an operator does), subscribers created, changed and removed, 1000
// imported with NDJSON progress, a phone registered by sipp and listed, then unregistered through
// the API (a later call to it gets Parley's 480), the same 401 for an unknown and a wrong token,
// a token revoked by the CLI refused at the next request, /readyz, and the OpenAPI 3.1 document.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiToken } from './support/api-token.js';
import { call, registerPhone } from './support/calls.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { flow } from './support/sip-trace.js';
import { skipWithoutSipp } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret1' };
const BOB = { user: 'bob', password: 'secret2' };
const DOMAIN = '127.0.0.1';
const NONCE_SECRET = 'a-nonce-secret-of-the-test-0123456789';
const pool = portPool(import.meta.url);

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('REST API of a running Parley', { skip: skipWithoutSipp(), timeout: 180_000 }, () => {
  let parley: ParleyServer;
  let base: string;
  let admin: string;
  let write: string;
  let read: string;

  /** One request, bounded to 15 s. */
  async function api(method: string, path: string, o: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...(o.token === undefined ? {} : { authorization: `Bearer ${o.token}` }), ...o.headers };
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const r = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(15_000) });
    const text = await r.text();
    return { status: r.status, headers: r.headers, text, json: () => JSON.parse(text) };
  }

  before(async () => {
    // two SIP workers: an unregister must reach every core's replica of the registrations
    parley = await ParleyServer.start({ pool, transports: ['udp'], webSockets: { ws: 'auth' }, workers: 2, subscribers: [ALICE, BOB], config: { auth: { nonceSecret: NONCE_SECRET } } });
    base = `http://${parley.host}:${parley.webPorts.ws}`;
    admin = apiToken(parley.dataDir, 'admin');
    write = apiToken(parley.dataDir, 'write');
    read = apiToken(parley.dataDir, 'read');
  });
  after(() => stopCleanly(parley));

  it('/readyz: 200 without a token, every SIP worker answering', async () => {
    const r = await api('GET', '/readyz');
    assert.equal(r.status, 200, r.text);
    const report = r.json();
    assert.equal(report.ready, true);
    assert.deepEqual(report.checks.find((c: { name: string }) => c.name === 'sip-cores'), { name: 'sip-cores', ok: true, detail: '2 of 2 answered' });
  });

  it('the same 401 for no token, an unknown id and a wrong secret', async () => {
    const id = admin.slice(3, 15);
    const wrongSecret = `pk_${id}_${read.slice(16)}`;
    const unknownId = `pk_ffffffffffff_${admin.slice(16)}`;
    const answers = [await api('GET', '/api/v1/subscribers'), await api('GET', '/api/v1/subscribers', { token: unknownId }), await api('GET', '/api/v1/subscribers', { token: wrongSecret })];
    for (const r of answers) {
      assert.equal(r.status, 401);
      assert.equal(r.text, answers[0]!.text);
    }
    // RFC 6750 §3.1: no error code without credentials; invalid_token for both bad ones, alike
    assert.equal(answers[0]!.headers.get('www-authenticate'), 'Bearer realm="parley"');
    assert.equal(answers[1]!.headers.get('www-authenticate'), 'Bearer realm="parley", error="invalid_token"');
    assert.equal(answers[2]!.headers.get('www-authenticate'), answers[1]!.headers.get('www-authenticate'));
    assert.equal((await api('GET', '/api/v1/subscribers', { token: read })).status, 200);
  });

  it('subscribers: create (201, then 409), read, change, remove (204, then 404); read tokens cannot write', async () => {
    const carol = { username: 'carol', domain: DOMAIN, password: 'pw-carol' };
    assert.equal((await api('POST', '/api/v1/subscribers', { token: read, body: carol })).status, 403);
    const created = await api('POST', '/api/v1/subscribers', { token: write, body: carol });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json().username, 'carol');
    assert.equal((await api('POST', '/api/v1/subscribers', { token: write, body: carol })).status, 409);
    const got = await api('GET', `/api/v1/subscribers/carol@${DOMAIN}`, { token: read });
    assert.deepEqual([got.status, got.json().admin], [200, false]);
    const changed = await api('PATCH', `/api/v1/subscribers/carol@${DOMAIN}`, { token: write, body: { admin: true } });
    assert.deepEqual([changed.status, changed.json().admin], [200, true]);
    // an admin subscriber logs in to the dashboard's session
    const session = await api('POST', '/api/v1/session', { body: { username: 'carol', domain: DOMAIN, password: 'pw-carol' } });
    assert.equal(session.status, 200, session.text);
    assert.equal((await api('GET', '/api/v1/tokens', { token: session.json().token })).status, 200);
    const missing = await api('POST', '/api/v1/subscribers', { token: write, body: { username: 'dave', domain: DOMAIN } });
    assert.deepEqual([missing.status, missing.json().field], [400, 'password']);
    assert.equal((await api('DELETE', `/api/v1/subscribers/carol@${DOMAIN}`, { token: write })).status, 204);
    assert.equal((await api('GET', `/api/v1/subscribers/carol@${DOMAIN}`, { token: read })).status, 404);
  });

  it('imports 1000 subscribers with NDJSON progress lines, all counted after', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ username: `bulk${i}`, domain: 'bulk.example.com', password: `pw${i}` }));
    const r = await api('POST', '/api/v1/subscribers/import', { token: write, body: items, headers: { accept: 'application/x-ndjson' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('content-type'), 'application/x-ndjson');
    const lines = r.text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    assert.deepEqual(lines[0], { done: 0, total: 1000 });
    assert.ok(lines.some((l) => l.done === 1000 && l.total === 1000), r.text);
    assert.deepEqual(lines.at(-1), { imported: 1000 });
    const list = await api('GET', '/api/v1/subscribers?domain=bulk.example.com&limit=10&offset=990', { token: read });
    assert.equal(list.json().total, 1000);
    assert.equal(list.json().items.length, 10);
    const again = await api('POST', '/api/v1/subscribers/import', { token: write, body: [{ username: 'fresh', domain: DOMAIN, password: 'p' }, items[5]] });
    assert.deepEqual([again.status, again.json().field], [409, '[1].username']);
    assert.equal((await api('GET', `/api/v1/subscribers/fresh@${DOMAIN}`, { token: read })).status, 404, 'all or nothing');
  });

  it('a REGISTER from sipp is listed under its AOR; DELETE unregisters it, and a call to it gets 480', async () => {
    const phone = await registerPhone(parley, BOB);
    const listed = await api('GET', `/api/v1/bindings?aor=bob@${DOMAIN}`, { token: read });
    assert.equal(listed.status, 200, listed.text);
    const page = listed.json();
    assert.equal(page.total, 1, listed.text);
    assert.equal(page.items[0].aor, `bob@${DOMAIN}`);
    assert.ok(page.items[0].contact.includes(`:${phone.endpoint.port}`), listed.text);
    assert.equal(page.items[0].source, `udp:127.0.0.1:${phone.endpoint.port}`);
    assert.ok(page.items[0].expiresIn > 3000);

    assert.equal((await api('DELETE', `/api/v1/bindings/bob@${DOMAIN}`, { token: read })).status, 403);
    const removed = await api('DELETE', `/api/v1/bindings/bob@${DOMAIN}`, { token: write });
    assert.deepEqual([removed.status, removed.json()], [200, { removed: 1 }], removed.text);
    assert.equal((await api('GET', `/api/v1/bindings?aor=bob@${DOMAIN}`, { token: read })).json().total, 0);
    assert.equal((await api('DELETE', `/api/v1/bindings/bob@${DOMAIN}`, { token: write })).status, 404);
    // both workers forgot it: calls hash to either by Call-ID, so try a few
    for (let i = 0; i < 4; i++) {
      const uac = await call(parley, 'call-unavailable.xml', { caller: ALICE, callee: 'bob', callId: `api-unreg-${i}-${process.pid}@127.0.0.1` });
      assert.equal(uac.code, 0, `call ${i}: ${uac.describe()}`);
      assert.deepEqual(flow(uac.trace).slice(-2), ['< 480', '> ACK'], uac.describe());
    }
  });

  it('a token revoked by `parley token revoke` is refused at the next request', async () => {
    const token = apiToken(parley.dataDir, 'read', 'short-lived');
    assert.equal((await api('GET', '/api/v1/status', { token })).status, 200);
    const r = await parley.cli(['token', 'revoke', token.slice(3, 15), '--data-dir', parley.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await api('GET', '/api/v1/status', { token })).status, 401);
  });

  it('status and the configuration (admin only, secrets redacted)', async () => {
    const status = await api('GET', '/api/v1/status', { token: read });
    assert.equal(status.status, 200, status.text);
    assert.equal(status.json().workers, 2);
    assert.ok(status.json().listeners.includes(`udp:127.0.0.1:${parley.port}`), status.text);
    assert.equal((await api('GET', '/api/v1/config', { token: write })).status, 403);
    const config = await api('GET', '/api/v1/config', { token: admin });
    assert.equal(config.status, 200);
    assert.equal(config.json().auth.nonceSecret, '[redacted]');
    assert.ok(!config.text.includes(NONCE_SECRET));
  });

  it('the OpenAPI 3.1 document names every route with its responses', async () => {
    const r = await api('GET', '/api/openapi.json');
    assert.equal(r.status, 200);
    const doc = r.json();
    assert.equal(doc.openapi, '3.1.0');
    for (const [path, method] of [
      ['/api/v1/subscribers', 'get'],
      ['/api/v1/subscribers', 'post'],
      ['/api/v1/subscribers/{address}', 'patch'],
      ['/api/v1/subscribers/import', 'post'],
      ['/api/v1/bindings', 'get'],
      ['/api/v1/bindings/{aor}', 'delete'],
      ['/api/v1/tokens', 'post'],
      ['/api/v1/session', 'post'],
      ['/api/v1/status', 'get'],
      ['/readyz', 'get'],
    ]) {
      const op = doc.paths[path!]?.[method!];
      assert.ok(op, `${method} ${path}`);
      assert.ok(Object.keys(op.responses).length > 0, `${method} ${path} has responses`);
    }
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, { responses?: object }>>)) {
      for (const [m, op] of Object.entries(methods)) assert.ok(op.responses !== undefined && Object.keys(op.responses).length > 0, `${m} ${path}`);
    }
    assert.equal((await api('GET', '/api/docs/')).status, 200);
  });

  it('Parley logged an audit line per write and no error', () => {
    const audit = parley.logs.filter((l) => l.module === 'audit');
    assert.ok(audit.some((l) => l.method === 'DELETE' && l.path === `/api/v1/bindings/bob@${DOMAIN}` && l.status === 200 && l.token === 'test-write'), JSON.stringify(audit));
    assert.equal(parley.alive, true);
    assert.deepEqual(parley.logs.filter((l) => (l.level ?? 0) >= 50), []);
    // answers the API gives on purpose (401, 404, 409) are not failures of the web server
    assert.deepEqual(parley.logs.filter((l) => l.msg === 'HTTP request failed'), []);
  });
});
