// TraceOps over real trace files (written by the SIP core's TraceFileSink), and the API's trace
// routes over it on a bare fastify (api-plugin.ts adds auth and the OpsError handler; the test
// installs an error handler of the same contract: status and `{ error, field }`).
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { OpsError, type Ladder, type Operations, type Page, type TraceSummary } from '../../api/operations.js';
import { traceRoutes } from '../../api/routes/traces.js';
import type { TraceReportJson } from '../../routing/trace-recorder.js';
import { TraceFileSink, traceDirName } from '../../routing/trace-store.js';
import { configFromObject } from '../config.js';
import { createTraceOps } from './trace-ops.js';

const ALICE = 'udp:127.0.0.1:5070';
const BOB = 'udp:127.0.0.1:5062';

function report(callId: string, seq: number, method: string, at: string, sent: Array<[number, string, string]>, responses: Array<[number, string, string]> = []): TraceReportJson {
  const m = ([t, peer, line]: [number, string, string]): { t: number; peer: string; message: string } => ({ t, peer, message: `${line}\r\nCall-ID: ${callId}\r\n\r\n` });
  return {
    format: 'parley-trace/1', callId, seq, method, cseq: seq, at, core: 0, script: { version: 1, source: 'builtin:default' },
    received: m([0, ALICE, `${method} sip:bob@example.com SIP/2.0`]), steps: [], sent: sent.map(m), responses: responses.map(m), durationMs: 1,
  };
}

const until = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
};

describe('TraceOps and GET /api/v1/traces…', () => {
  let dataDir: string;
  let app: FastifyInstance;
  const CALL = 'TRACE-1/x@host';
  const OLD = 'TRACE-0@host';

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-trace-ops-'));
    const sink = new TraceFileSink(join(dataDir, 'traces'));
    let written = 0;
    const write = (r: TraceReportJson): void => {
      sink.nextSeq(r.callId);
      sink.write(r);
      written++;
    };
    write(report(OLD, 1, 'OPTIONS', '2026-01-01T00:00:00.000Z', [[0.2, ALICE, 'SIP/2.0 200 OK']]));
    write(report(CALL, 1, 'INVITE', '2026-01-01T00:01:00.000Z', [[0.1, ALICE, 'SIP/2.0 100 Trying'], [0.3, BOB, 'INVITE sip:bob@127.0.0.1:5062 SIP/2.0'], [9, ALICE, 'SIP/2.0 180 Ringing'], [20, ALICE, 'SIP/2.0 200 OK']], [[8, BOB, 'SIP/2.0 180 Ringing'], [19, BOB, 'SIP/2.0 200 OK']]));
    write(report(CALL, 2, 'ACK', '2026-01-01T00:01:00.030Z', [[0.2, BOB, 'ACK sip:bob@127.0.0.1:5062 SIP/2.0']]));
    write(report(CALL, 3, 'BYE', '2026-01-01T00:01:02.000Z', [[0.2, BOB, 'BYE sip:bob@127.0.0.1:5062 SIP/2.0'], [3, ALICE, 'SIP/2.0 200 OK']], [[2.8, BOB, 'SIP/2.0 200 OK']]));
    const { readdirSync } = await import('node:fs');
    const count = (): number => readdirSync(join(dataDir, 'traces')).flatMap((d) => readdirSync(join(dataDir, 'traces', d))).length;
    await until(() => count() === written);
    // the older call's files are older
    const past = new Date(Date.now() - 60_000);
    await utimes(join(dataDir, 'traces', traceDirName(OLD), '0001-OPTIONS.json'), past, past);

    const traces = createTraceOps({ config: configFromObject({ dataDir }) });
    app = Fastify();
    app.setErrorHandler((e, _req, reply) => {
      if (e instanceof OpsError) return reply.code(e.status).send({ error: e.message, ...(e.field === undefined ? {} : { field: e.field }) });
      const status = (e as { statusCode?: number }).statusCode ?? 500;
      return reply.code(status).send({ error: (e as Error).message });
    });
    await app.register(traceRoutes, { prefix: '/api/v1', ops: () => ({ traces }) as unknown as Operations });
    await app.ready();
  });

  after(async () => {
    await app?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lists traced calls newest first, paged', async () => {
    const all = await app.inject({ method: 'GET', url: '/api/v1/traces' });
    assert.equal(all.statusCode, 200, all.body);
    const page = all.json<Page<TraceSummary>>();
    assert.deepEqual(page.items.map((c) => [c.callId, c.requests]), [[CALL, 3], [OLD, 1]]);
    assert.deepEqual([page.total, page.offset, page.limit], [2, 0, 100]);
    assert.ok(!Number.isNaN(Date.parse(page.items[0]!.modified)));

    const second = (await app.inject({ method: 'GET', url: '/api/v1/traces?offset=1&limit=1' })).json<Page<TraceSummary>>();
    assert.deepEqual(second.items.map((c) => c.callId), [OLD]);
    assert.deepEqual([second.total, second.offset, second.limit], [2, 1, 1]);

    for (const q of ['limit=0', 'limit=1001', 'offset=-1', 'limit=ten']) {
      const bad = await app.inject({ method: 'GET', url: `/api/v1/traces?${q}` });
      assert.equal(bad.statusCode, 400, `${q}: ${bad.body}`);
    }
  });

  it('gets a call\'s reports in order; an unknown call is 404', async () => {
    const got = await app.inject({ method: 'GET', url: `/api/v1/traces/${encodeURIComponent(CALL)}` });
    assert.equal(got.statusCode, 200, got.body);
    const reports = got.json<TraceReportJson[]>();
    assert.deepEqual(reports.map((r) => `${r.seq} ${r.method}`), ['1 INVITE', '2 ACK', '3 BYE']);
    assert.equal(reports[0]!.sent.length, 4, 'the whole report, not only the schema\'s named fields');

    const none = await app.inject({ method: 'GET', url: '/api/v1/traces/no-such-call' });
    assert.equal(none.statusCode, 404);
    assert.deepEqual(none.json(), { error: 'no trace of call no-such-call', field: 'callId' });
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/traces/no-such-call/ladder' })).statusCode, 404);
  });

  it('the ladder: caller, parley, callee; INVITE/100/180/200/ACK/BYE/200 between the right columns', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/traces/${encodeURIComponent(CALL)}/ladder` });
    assert.equal(res.statusCode, 200, res.body);
    const ladder = res.json<Ladder>();
    assert.equal(ladder.callId, CALL);
    assert.deepEqual(ladder.participants, [ALICE, 'parley', BOB]);
    const name = (p: string): string => (p === ALICE ? 'alice' : p === BOB ? 'bob' : p);
    assert.deepEqual(ladder.arrows.map((a) => `${name(a.from)}>${name(a.to)} ${a.label}`), [
      'alice>parley INVITE', 'parley>alice 100 Trying', 'parley>bob INVITE', 'bob>parley 180 Ringing', 'parley>alice 180 Ringing', 'bob>parley 200 OK', 'parley>alice 200 OK',
      'alice>parley ACK', 'parley>bob ACK', 'alice>parley BYE', 'parley>bob BYE', 'bob>parley 200 OK', 'parley>alice 200 OK',
    ]);
    assert.equal(ladder.arrows[0]!.t, 0);
    assert.equal(ladder.arrows.at(-1)!.t, 2003);
    assert.match(ladder.arrows[2]!.message, /^INVITE sip:bob@127\.0\.0\.1:5062 SIP\/2\.0\r\nCall-ID: /);
  });

  it('no traces directory yet: an empty list', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'parley-trace-ops-'));
    try {
      const ops = createTraceOps({ config: configFromObject({ dataDir: empty }) });
      assert.deepEqual(await ops.list(), { items: [], total: 0, offset: 0, limit: 100 });
      await assert.rejects(ops.ladder('x'), (e: unknown) => e instanceof OpsError && e.status === 404);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
