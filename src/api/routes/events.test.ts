// GET /api/v1/events on a bare fastify (the API plugin's error handler stand-in maps OpsError),
// with a real client over loopback: SSE framing, filters, Last-Event-ID, the stream bound; the
// WebSocket at the same path with the `ws` client.
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocket } from 'ws';
import { EventHub } from '../../app/ops/event-hub.js';
import type { ParleyEvent } from '../../lib/events.js';
import { OpsError, type Operations } from '../operations.js';
import { eventRoutes, eventStreamUpgrade, sseDropped, sseMessage, StreamFeed } from './events.js';

const added = (aor: string): ParleyEvent => ({ type: 'registration.added', time: 1, aor, contact: `sip:${aor}`, expires: 60, source: 'udp:192.0.2.7:5060' });
const failed = (username: string): ParleyEvent => ({ type: 'auth.failed', time: 2, source: '192.0.2.8', username, method: 'REGISTER' });

/** Reads an SSE response's text as it comes. */
class SseReader {
  text = '';
  private waiters: Array<() => void> = [];
  constructor(readonly res: IncomingMessage) {
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      this.text += d;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  /** Wait (bounded) until `n` events (`event:` lines) have come. */
  async events(n: number): Promise<Array<{ id?: string; event?: string; data?: string }>> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const blocks = this.text.split('\n\n').filter((b) => b.split('\n').some((l) => l.startsWith('event:')));
      if (blocks.length >= n || Date.now() > deadline) {
        return blocks.map((b) => Object.fromEntries(b.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)])));
      }
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
}

describe('GET /api/v1/events', () => {
  let app: FastifyInstance;
  let hub: EventHub;
  let port: number;
  const token = 'pk_test_secret';
  const ops = (): Operations => ({ events: hub }) as unknown as Operations;
  let upgrade: ReturnType<typeof eventStreamUpgrade>;

  before(async () => {
    hub = new EventHub({ maxStreams: 3 });
    app = Fastify();
    app.setErrorHandler((e, _req, reply) => {
      if (e instanceof OpsError) return reply.code(e.status).send({ error: e.message, ...(e.field === undefined ? {} : { field: e.field }) });
      return reply.code((e as { statusCode?: number }).statusCode ?? 500).send({ error: (e as Error).message });
    });
    await app.register(eventRoutes, { prefix: '/api/v1', ops });
    upgrade = eventStreamUpgrade({ ops, authorize: (t, scope) => t === token && scope === 'read' });
    app.server.on('upgrade', (req, socket, head) => upgrade(req, socket, head, undefined as never));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  after(async () => {
    upgrade.close();
    await app.close();
  });

  const sse = (path: string, headers: Record<string, string> = {}): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers: { accept: 'text/event-stream', ...headers } }, resolve);
      req.on('error', reject);
      req.end();
    });

  it('frames each event as id/event/data, filters by type and prefix, and replays after Last-Event-ID', async () => {
    hub.publish(added('early@x')); // id 1: before the stream, replayed after Last-Event-ID 0 only
    const all = new SseReader(await sse('/api/v1/events', { 'last-event-id': '0' }));
    const regs = new SseReader(await sse('/api/v1/events?types=registration.*'));
    assert.equal(all.res.statusCode, 200);
    assert.match(String(all.res.headers['content-type']), /^text\/event-stream/);
    hub.publish(failed('mallory'));
    hub.publish(added('alice@x'));
    const a = await all.events(3);
    assert.deepEqual(
      a.map((e) => [e.id, e.event]),
      [
        ['1', 'registration.added'],
        ['2', 'auth.failed'],
        ['3', 'registration.added'],
      ],
    );
    assert.deepEqual(JSON.parse(a[1]!.data!), { id: 2, ...failed('mallory') });
    const r = await regs.events(1);
    assert.deepEqual(
      r.map((e) => [e.id, e.event]),
      [['3', 'registration.added']],
    );
    all.res.destroy();
    regs.res.destroy();
  });

  it('without Accept: text/event-stream, the kept events as JSON', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/events?types=auth.failed' });
    assert.equal(res.statusCode, 200);
    const items = (res.json() as { items: Array<{ id: number; type: string; username: string }> }).items;
    assert.ok(items.length >= 1);
    assert.ok(items.every((e) => e.type === 'auth.failed'));
    assert.equal(items.at(-1)!.username, 'mallory');
  });

  it('an unknown type is 400 naming the field', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/events?types=registration.added,nope', headers: { accept: 'text/event-stream' } });
    assert.equal(res.statusCode, 400);
    assert.equal((res.json() as { field: string }).field, 'types');
  });

  it('at most api.maxEventStreams streams: one more is 503, and a closed one frees its place', async () => {
    // wait until the streams of the first test are gone
    for (let i = 0; i < 50 && hub.openStreams > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const open = await Promise.all([1, 2, 3].map(() => sse('/api/v1/events')));
    assert.deepEqual(
      open.map((r) => r.statusCode),
      [200, 200, 200],
    );
    const refused = await sse('/api/v1/events');
    assert.equal(refused.statusCode, 503);
    refused.resume();
    open[0]!.destroy();
    for (let i = 0; i < 50 && hub.openStreams > 2; i++) await new Promise((r) => setTimeout(r, 20));
    const again = await sse('/api/v1/events');
    assert.equal(again.statusCode, 200);
    for (const r of [...open, again]) r.destroy();
  });

  it('the WebSocket: token checked (401 without), then each event as a JSON message, filtered', async () => {
    for (let i = 0; i < 50 && hub.openStreams > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const status = await new Promise<number | undefined>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/events?token=wrong`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    assert.equal(status, 401);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/events?types=auth.failed&token=${token}`);
    const got: Array<Record<string, unknown>> = [];
    ws.on('message', (m) => got.push(JSON.parse(String(m)) as Record<string, unknown>));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    hub.publish(added('bob@x'));
    hub.publish(failed('eve'));
    for (let i = 0; i < 100 && got.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(got.length, 1);
    assert.equal(got[0]!.type, 'auth.failed');
    assert.equal(got[0]!.username, 'eve');
    assert.equal(typeof got[0]!.id, 'number');
    ws.close();
  });
});

describe('SSE framing', () => {
  it('one data line of JSON, the type as event, the number as id; a dropped notice', () => {
    assert.equal(sseMessage({ id: 7, event: failed('x\ny') }), `id: 7\nevent: auth.failed\ndata: {"id":7,"type":"auth.failed","time":2,"source":"192.0.2.8","username":"x\\ny","method":"REGISTER"}\n\n`);
    assert.equal(sseDropped(3), 'event: dropped\ndata: {"dropped":3}\n\n');
  });
});

describe('StreamFeed (a slow client)', () => {
  it('writes while the socket takes them; queues (bounded) while backed up; after the drain, the count dropped, then the rest', () => {
    const written: string[] = [];
    let full = false;
    let drained: (() => void) | undefined;
    const feed = new StreamFeed(
      (x) => {
        written.push(typeof x === 'string' ? x : `#${x.id}`);
        return !full;
      },
      (count) => written.push(`dropped ${count}`),
      (then) => (drained = then),
      2,
    );
    feed.offer({ id: 1, event: failed('a') });
    full = true;
    feed.offer({ id: 2, event: failed('b') }); // written, and the socket says it is full
    for (let id = 3; id <= 7; id++) feed.offer({ id, event: failed('c') });
    assert.deepEqual(written, ['#1', '#2'], 'nothing written while backed up');
    full = false;
    drained!();
    assert.deepEqual(written, ['#1', '#2', 'dropped 3', '#6', '#7']);
    feed.offer({ id: 8, event: failed('d') });
    assert.equal(written.at(-1), '#8');
  });
});
