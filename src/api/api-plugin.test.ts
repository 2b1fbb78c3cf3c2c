import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fastify, type FastifyInstance } from 'fastify';
import type { Logger } from '../lib/logger.js';
import { IN_MEMORY, SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteSubscriberStore } from '../store/sqlite/sqlite-subscriber-store.js';
import { SqliteTokenStore } from '../store/sqlite/sqlite-token-store.js';
import { subscriberOps } from '../app/ops/subscriber-ops.js';
import { tokenOps } from '../app/ops/token-ops.js';
import { apiPlugin, type ApiSettings } from './api-plugin.js';
import { OpsError, type Operations, type RegistrarOps, type ServerOps } from './operations.js';
import { API_V1_ROUTES, ROOT_ROUTES } from './routes/index.js';

/** A logger that keeps every line (bindings merged in). */
function recordingLogger(lines: Array<Record<string, unknown>>, bindings: Record<string, unknown> = {}): Logger {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void =>
      void lines.push({ level, ...bindings, ...(typeof obj === 'object' && obj !== null ? obj : { msg: obj }), ...(msg === undefined ? {} : { msg }) });
  return { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug'), child: (b) => recordingLogger(lines, { ...bindings, ...b }) };
}

/** Operations whose parts not under test answer 503, as a build without them does. */
function opsWith(parts: Partial<Operations>): Operations {
  const missing = (name: string): never =>
    new Proxy({}, {
      get: (_t, m) => () => {
        throw new OpsError(503, `${name}.${String(m)} is not available`);
      },
    }) as never;
  return new Proxy(parts as Operations, { get: (t, k: string) => (t as unknown as Record<string, unknown>)[k] ?? missing(k) });
}

describe('the API plugin', () => {
  let db: SqliteDatabase;
  let app: FastifyInstance;
  let lines: Array<Record<string, unknown>>;
  let failures: string[];
  let blocked: Set<string>;
  let changed: Array<string | undefined>;
  let unregistered: Array<[string, string | undefined]>;
  let admin: string;
  let write: string;
  let read: string;

  async function start(settings: Partial<ApiSettings> = {}): Promise<void> {
    const tokens = new SqliteTokenStore(db);
    const registrar: RegistrarOps = {
      bindings: async (q) => ({ items: [], total: 0, offset: q.offset ?? 0, limit: q.limit ?? 100 }),
      unregister: async (aor, contact) => {
        unregistered.push([aor, contact]);
        if (aor !== 'alice@example.com') throw new OpsError(404, `no bindings for ${aor}`, 'aor');
        return 1;
      },
    };
    const server: ServerOps = {
      status: async () => {
        throw new OpsError(503, 'not in this test');
      },
      ready: async () => ({ ready: true, checks: [{ name: 'store', ok: true }] }),
      config: () => ({ auth: { nonceSecret: '[redacted]' } }),
    };
    const ops = opsWith({
      subscribers: subscriberOps({ db, subscriberChanged: (u, d) => void changed.push(u === undefined ? undefined : `${u}@${d}`), config: { sip: { domains: [] } } }),
      tokens: tokenOps({ db }),
      registrar,
      server,
    });
    app = fastify();
    await app.register(
      apiPlugin({
        ops: () => ops,
        tokens,
        limiter: { isBlocked: (a) => blocked.has(a), recordFailure: (a) => void failures.push(a) },
        settings: { bodyLimit: 4096, importBodyLimit: 1 << 20, allowPlainHttp: true, corsOrigins: [], ...settings },
        log: recordingLogger(lines),
        version: '9.9.9',
        v1Routes: API_V1_ROUTES,
        rootRoutes: ROOT_ROUTES,
      }),
    );
    await app.ready();
    admin = (await tokens.create('ops-admin', 'admin')).token;
    write = (await tokens.create('crm', 'write')).token;
    read = (await tokens.create('grafana', 'read')).token;
  }

  beforeEach(() => {
    db = SqliteDatabase.open(IN_MEMORY);
    lines = [];
    failures = [];
    blocked = new Set();
    changed = [];
    unregistered = [];
  });
  afterEach(async () => {
    await app?.close();
    db.close();
  });

  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  it('401 with WWW-Authenticate: Bearer for a missing token; no failure counted for it', async () => {
    await start();
    const r = await app.inject({ method: 'GET', url: '/api/v1/subscribers' });
    assert.equal(r.statusCode, 401);
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="parley"');
    assert.ok(typeof r.json().error === 'string');
    assert.deepEqual(failures, []);
  });

  it('the same 401 (status, body, headers) for an unknown id, a wrong secret, a malformed and a revoked token; each counted', async () => {
    await start();
    const real = admin;
    const id = real.slice(3, 15);
    const secret = real.slice(16);
    const revoked = (await new SqliteTokenStore(db).create('old', 'admin')).token;
    await new SqliteTokenStore(db).revoke(revoked.slice(3, 15));
    const tries = [
      `pk_000000000000_${secret}`, // unknown id
      `pk_${id}_${read.slice(16)}`, // wrong secret
      'pk_nonsense',
      revoked,
    ];
    const answers = [];
    for (const t of tries) answers.push(await app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: bearer(t) }));
    for (const r of answers) {
      assert.equal(r.statusCode, 401);
      assert.equal(r.body, answers[0]!.body);
      assert.equal(r.headers['www-authenticate'], answers[0]!.headers['www-authenticate']);
    }
    assert.equal(answers[0]!.headers['www-authenticate'], 'Bearer realm="parley", error="invalid_token"');
    assert.equal(failures.length, tries.length);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: bearer(real) })).statusCode, 200);
  });

  it('a token in the query only for event streams (Accept: text/event-stream, or a WebSocket upgrade)', async () => {
    await start();
    assert.equal((await app.inject({ method: 'GET', url: `/api/v1/status?token=${read}` })).statusCode, 401);
    const stream = await app.inject({ method: 'GET', url: `/api/v1/status?access_token=${read}`, headers: { accept: 'text/event-stream' } });
    assert.equal(stream.statusCode, 503, 'past the hook: the server part is missing in this test');
  });

  it('403 for a token of a narrower scope: read cannot write, write cannot manage tokens', async () => {
    await start();
    const post = await app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: bearer(read), payload: { username: 'a', domain: 'example.com', password: 'pw' } });
    assert.equal(post.statusCode, 403);
    assert.match(post.json().error, /scope is read; write is needed/u);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: bearer(write) })).statusCode, 403);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: bearer(admin) })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: bearer(read) })).statusCode, 200);
  });

  it('400 naming the field: a missing property, a wrong type, a bad query value, a value the store refuses', async () => {
    await start();
    const missing = await app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: bearer(write), payload: { username: 'a', domain: 'example.com' } });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().field, 'password');
    const type = await app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: bearer(write), payload: { username: 'a', domain: 'example.com', password: 'x', admin: 'yes' } });
    assert.equal(type.statusCode, 400);
    assert.equal(type.json().field, 'admin');
    const query = await app.inject({ method: 'GET', url: '/api/v1/subscribers?limit=0', headers: bearer(read) });
    assert.equal(query.statusCode, 400);
    assert.equal(query.json().field, 'limit');
    const user = await app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: bearer(write), payload: { username: 'a b', domain: 'example.com', password: 'x' } });
    assert.equal(user.statusCode, 400);
    assert.equal(user.json().field, 'username');
    const notJson = await app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: { ...bearer(write), 'content-type': 'application/json' }, payload: '{"username":' });
    assert.equal(notJson.statusCode, 400);
  });

  it('404 for an unknown path under /api (without a token) and for a subscriber that does not exist', async () => {
    await start();
    const path = await app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    assert.equal(path.statusCode, 404);
    assert.match(path.json().error, /no such API path/u);
    const sub = await app.inject({ method: 'GET', url: '/api/v1/subscribers/nobody@example.com', headers: bearer(read) });
    assert.equal(sub.statusCode, 404);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/subscribers/nobody@example.com', headers: bearer(write) })).statusCode, 404);
  });

  it('409 for a subscriber that exists', async () => {
    await start();
    const body = { username: 'alice', domain: 'example.com', password: 'pw' };
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: bearer(write), payload: body })).statusCode, 201);
    const again = await app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: bearer(write), payload: body });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().field, 'username');
  });

  it('413 for a body over api.bodyLimit', async () => {
    await start({ bodyLimit: 1024 });
    const r = await app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: bearer(write), payload: { username: 'a', domain: 'example.com', password: 'x'.repeat(2000) } });
    assert.equal(r.statusCode, 413);
    assert.ok(typeof r.json().error === 'string');
  });

  it('415 for a body of another content type', async () => {
    await start();
    const r = await app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: { ...bearer(write), 'content-type': 'application/xml' }, payload: '<subscriber/>' });
    assert.equal(r.statusCode, 415);
    assert.ok(typeof r.json().error === 'string');
  });

  it('429 with Retry-After to a source the limiter blocks, even with a good token', async () => {
    await start();
    blocked.add('127.0.0.1');
    const r = await app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: bearer(admin) });
    assert.equal(r.statusCode, 429);
    assert.ok(r.headers['retry-after']);
  });

  it('403 over plain HTTP off loopback unless api.allowPlainHttp; public routes stay open', async () => {
    await start({ allowPlainHttp: false });
    // inject's socket has no local address: not loopback, not TLS
    const r = await app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: bearer(admin) });
    assert.equal(r.statusCode, 403);
    assert.match(r.json().error, /HTTPS/u);
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });

  it('subscribers: create, get, list with search, update, delete; every change tells the cores', async () => {
    await start();
    const created = await app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: bearer(write), payload: { username: 'alice', domain: 'Example.com', password: 'pw', admin: true } });
    assert.equal(created.statusCode, 201);
    assert.deepEqual({ ...(created.json() as object), createdAt: undefined }, { username: 'alice', domain: 'example.com', admin: true, createdAt: undefined });
    await app.inject({ method: 'POST', url: '/api/v1/subscribers', headers: bearer(write), payload: { username: 'bob', domain: 'example.com', password: 'pw' } });
    const list = (await app.inject({ method: 'GET', url: '/api/v1/subscribers?search=ali&limit=10', headers: bearer(read) })).json();
    assert.equal(list.total, 1);
    assert.equal(list.items[0].username, 'alice');
    const patched = await app.inject({ method: 'PATCH', url: '/api/v1/subscribers/bob@example.com', headers: bearer(write), payload: { admin: true, password: 'new' } });
    assert.equal(patched.statusCode, 200);
    assert.equal(patched.json().admin, true);
    const ha1 = (await new SqliteSubscriberStore(db).get('bob', 'example.com'))?.ha1Md5;
    assert.notEqual(ha1, undefined);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/subscribers/bob@example.com', headers: bearer(write) })).statusCode, 204);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/subscribers/bob@example.com', headers: bearer(read) })).statusCode, 404);
    assert.deepEqual(changed, ['alice@example.com', 'bob@example.com', 'bob@example.com', 'bob@example.com']);
  });

  it('import: JSON or CSV, all or nothing, with NDJSON progress when asked', async () => {
    await start();
    const items = Array.from({ length: 2500 }, (_, i) => ({ username: `u${i}`, domain: 'example.com', password: `p${i}` }));
    const streamed = await app.inject({ method: 'POST', url: '/api/v1/subscribers/import', headers: { ...bearer(write), accept: 'application/x-ndjson' }, payload: items });
    assert.equal(streamed.statusCode, 200);
    assert.equal(streamed.headers['content-type'], 'application/x-ndjson');
    const progress = streamed.body.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    assert.deepEqual(progress[0], { done: 0, total: 2500 });
    assert.ok(progress.some((p) => p.done !== undefined && p.done > 0 && p.done < 2500), streamed.body);
    assert.deepEqual(progress.at(-1), { imported: 2500 });
    const csv = await app.inject({ method: 'POST', url: '/api/v1/subscribers/import?domain=example.org', headers: { ...bearer(write), 'content-type': 'text/csv' }, payload: 'carol,s3cret\ndave@example.com,pw\n' });
    assert.equal(csv.statusCode, 200, csv.body);
    assert.deepEqual(csv.json(), { imported: 2 });
    assert.ok(await new SqliteSubscriberStore(db).get('carol', 'example.org'));
    // one that exists: nothing of the batch goes in
    const clash = await app.inject({ method: 'POST', url: '/api/v1/subscribers/import', headers: bearer(write), payload: [{ username: 'new1', domain: 'example.com', password: 'p' }, { username: 'u7', domain: 'example.com', password: 'p' }] });
    assert.equal(clash.statusCode, 409);
    assert.equal(clash.json().field, '[1].username');
    assert.equal(await new SqliteSubscriberStore(db).get('new1', 'example.com'), undefined);
    const badCsv = await app.inject({ method: 'POST', url: '/api/v1/subscribers/import', headers: { ...bearer(write), 'content-type': 'text/csv' }, payload: 'erin@example.com,pw\nfrank@example.com\n' });
    assert.equal(badCsv.statusCode, 400);
    assert.match(badCsv.json().error, /^line 2: /u);
  });

  it('tokens: create (shown once), list without secrets, revoke stops it at once', async () => {
    await start();
    const made = await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: bearer(admin), payload: { name: 'ci', scope: 'read' } });
    assert.equal(made.statusCode, 201);
    const { id, token } = made.json() as { id: string; token: string };
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: bearer(token) })).statusCode, 200);
    const list = await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: bearer(admin) });
    assert.ok(!list.body.includes(token.slice(16)));
    assert.ok((list.json() as Array<{ id: string }>).some((t) => t.id === id));
    assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${id}`, headers: bearer(admin) })).statusCode, 204);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: bearer(token) })).statusCode, 401);
    assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${id}`, headers: bearer(admin) })).statusCode, 404);
  });

  it('session: an admin subscriber gets a 12-hour admin token; unknown, wrong and non-admin get one 401 and count', async () => {
    await start();
    const store = new SqliteSubscriberStore(db);
    await store.add({ username: 'boss', domain: 'example.com', password: 'right', admin: true });
    await store.add({ username: 'worker', domain: 'example.com', password: 'right' });
    const ok = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'boss@example.com', password: 'right' } });
    assert.equal(ok.statusCode, 200, ok.body);
    const { token, expiresAt } = ok.json() as { token: string; expiresAt: string };
    const hours = (Date.parse(expiresAt) - Date.now()) / 3_600_000;
    assert.ok(hours > 11.9 && hours <= 12, String(hours));
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: bearer(token) })).statusCode, 200);
    // without a domain: the one domain that has the user
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'boss', password: 'right' } })).statusCode, 200);
    const refused = [];
    for (const body of [{ username: 'nobody', domain: 'example.com', password: 'right' }, { username: 'boss', domain: 'example.com', password: 'wrong' }, { username: 'worker', domain: 'example.com', password: 'right' }]) {
      refused.push(await app.inject({ method: 'POST', url: '/api/v1/session', payload: body }));
    }
    for (const r of refused) {
      assert.equal(r.statusCode, 401);
      assert.equal(r.body, refused[0]!.body);
    }
    assert.equal(failures.length, 3);
    blocked.add('127.0.0.1');
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'boss@example.com', password: 'right' } })).statusCode, 429);
  });

  it('bindings: unregister goes to the registrar; 404 when there is none', async () => {
    await start();
    const r = await app.inject({ method: 'DELETE', url: '/api/v1/bindings/alice@example.com?contact=sip%3Aalice%40192.0.2.1', headers: bearer(write) });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { removed: 1 });
    assert.deepEqual(unregistered, [['alice@example.com', 'sip:alice@192.0.2.1']]);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/bindings/bob@example.com', headers: bearer(write) })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/bindings?aor=alice@example.com', headers: bearer(read) })).statusCode, 200);
  });

  it('an audit line for every write: method, path, status, token name; none for reads', async () => {
    await start();
    await app.inject({ method: 'POST', url: '/api/v1/subscribers?x=1', headers: bearer(write), payload: { username: 'alice', domain: 'example.com', password: 'pw' } });
    await app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: bearer(read) });
    await app.inject({ method: 'DELETE', url: '/api/v1/subscribers/alice@example.com', headers: bearer(read) });
    const audit = lines.filter((l) => l.module === 'audit');
    assert.deepEqual(
      audit.map((l) => [l.method, l.path, l.status, l.token]),
      [
        ['POST', '/api/v1/subscribers', 201, 'crm'],
        ['DELETE', '/api/v1/subscribers/alice@example.com', 403, undefined],
      ],
    );
  });

  it('CORS headers only when api.cors.origins is set', async () => {
    await start();
    const off = await app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: { ...bearer(read), origin: 'https://crm.example.com' } });
    assert.equal(off.headers['access-control-allow-origin'], undefined);
    await app.close();
    await start({ corsOrigins: ['https://crm.example.com'] });
    const on = await app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: { ...bearer(read), origin: 'https://crm.example.com' } });
    assert.equal(on.headers['access-control-allow-origin'], 'https://crm.example.com');
    const preflight = await app.inject({ method: 'OPTIONS', url: '/api/v1/subscribers', headers: { origin: 'https://crm.example.com', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.statusCode, 204);
  });

  it('the OpenAPI 3.1 document lists every route with responses; the docs page and /readyz are public', async () => {
    await start();
    const r = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    assert.equal(r.statusCode, 200);
    const doc = r.json() as { openapi: string; paths: Record<string, Record<string, { responses?: object; security?: unknown[] }>>; components: { securitySchemes: object } };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok('bearer' in doc.components.securitySchemes);
    for (const [path, methods] of [
      ['/api/v1/subscribers', ['get', 'post']],
      ['/api/v1/subscribers/{address}', ['get', 'patch', 'delete']],
      ['/api/v1/subscribers/import', ['post']],
      ['/api/v1/bindings', ['get']],
      ['/api/v1/bindings/{aor}', ['delete']],
      ['/api/v1/tokens', ['get', 'post']],
      ['/api/v1/tokens/{id}', ['delete']],
      ['/api/v1/session', ['post']],
      ['/api/v1/status', ['get']],
      ['/api/v1/config', ['get']],
      ['/readyz', ['get']],
    ] as const) {
      for (const m of methods) assert.ok(doc.paths[path]?.[m]?.responses, `${m.toUpperCase()} ${path}`);
    }
    assert.deepEqual(doc.paths['/readyz']?.get?.security, []);
    assert.equal(typeof (doc as unknown as { info: { title: string } }).info.title, 'string');
    // OpenAPI 3.1 §4.8.12: a path template's every variable is a parameter "in": "path" with "required": true
    for (const [path, methods] of Object.entries(doc.paths)) {
      const variables = [...path.matchAll(/\{([^}]+)\}/gu)].map((m) => m[1]);
      for (const [m, op] of Object.entries(methods) as Array<[string, { parameters?: Array<{ name: string; in: string; required?: boolean }>; summary?: string; tags?: string[]; responses?: Record<string, unknown> }]>) {
        for (const v of variables) assert.ok(op.parameters?.some((p) => p.in === 'path' && p.name === v && p.required === true), `${m} ${path}: path parameter ${v}`);
        assert.ok(op.summary && op.tags && op.tags.length > 0, `${m} ${path}: summary and tags`);
        assert.ok(op.responses && Object.keys(op.responses).every((code) => /^[1-5]\d\d$/u.test(code)), `${m} ${path}: response codes`);
      }
    }
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/api/docs')), 'the docs page is not an operation');
    const page = await app.inject({ method: 'GET', url: '/api/docs/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /html/u);
  });
});
