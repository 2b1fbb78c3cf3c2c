/**
 * ScriptHandler: what happens when a script misbehaves (an exception answers 500 for that
 * request only and is logged with the script's stack; a SipReply answers with its status; a
 * handler that decides nothing gets 500), dumped variables, and version bookkeeping (a request
 * finishes on the version it started with, whatever became active meanwhile).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino, type Logger as PinoLogger } from 'pino';
import { LoadedScript } from './loaded-script.js';
import type { FailureContext, ReplyContext, RequestContext, StatelessContext } from './routing-api.js';
import { SipReply } from './sip-reply.js';
import { RoutingHarness } from './test-harness.js';

type Line = Record<string, unknown> & { msg: string; level: number };

function capture(): { logger: PinoLogger; lines: Line[] } {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const flushLogs = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

/** A script whose behaviour each test sets through `mode`. */
let mode = 'relay';
const script = {
  dumpVars: ['step'],
  onStateless(ctx: StatelessContext): void {
    if (ctx.header('x-test') === 'stateless-throw') throw new Error('stateless boom');
    if (ctx.header('x-test') === 'stateless-reply') throw new SipReply(403, 'Forbidden (stateless)');
  },
  async onRequest(ctx: RequestContext): Promise<void> {
    ctx.vars.step = 'request';
    switch (mode) {
      case 'throw':
        throw new TypeError('the script has a bug');
      case 'reply':
        throw new SipReply(488, 'Not Acceptable Here', [['Warning', '399 parley "no codec"']]);
      case 'nothing':
        return;
      case 'async-throw':
        await new Promise((r) => setTimeout(r, 5));
        throw new Error('late bug');
      default:
        ctx.relay('sip:198.51.100.50:5060');
    }
  },
  onResponse(ctx: ReplyContext): void {
    if (ctx.status === 183) throw new Error('response bug');
    ctx.addHeader('X-Version', String(ctx.version));
  },
  onFailure(ctx: FailureContext): void {
    ctx.vars.step = 'failure';
    if (ctx.status === 500) throw new Error('failure bug');
    if (ctx.status === 503) ctx.relay('sip:198.51.100.51:5060');
  },
};

describe('ScriptHandler: a script that throws or decides nothing', () => {
  let h: RoutingHarness;
  let log: ReturnType<typeof capture>;
  before(async () => {
    log = capture();
    h = await RoutingHarness.start({ script, logger: log.logger });
  });
  beforeEach(() => {
    mode = 'relay';
    log.lines.length = 0;
  });
  after(() => h.close());

  it('an exception in onRequest answers 500 for that request only, logged with the stack and the version', async () => {
    mode = 'throw';
    const r = await h.send(h.request('INVITE', 'sip:x@example.com', { from: 'sip:y@elsewhere.example.org' }));
    assert.equal(r.status, 500);
    await flushLogs();
    const line = log.lines.find((l) => l.msg === 'routing script threw');
    assert.ok(line, 'logged');
    assert.equal(line.script, 1);
    assert.equal(line.handler, 'onRequest');
    assert.match(String(line.err), /TypeError: the script has a bug\n\s+at .*onRequest/);
    const thrown = r.steps.find((s) => s.action === 'throw');
    assert.deepEqual(thrown?.result, { error: 'TypeError', message: 'the script has a bug' });
    mode = 'relay';
    const next = await h.send(h.request('INVITE', 'sip:x@example.com', { from: 'sip:y@elsewhere.example.org' }));
    assert.equal(next.branches.length, 1, 'the next request is routed as usual');
  });

  it('each exception is counted for the metrics (parley_routing_script_errors_total); a SipReply is an answer, not one', async () => {
    const counters = h.handler.env.counters;
    assert.ok(counters, 'the SIP core gives the handler its counters');
    const before = counters.scriptErrors;
    mode = 'throw';
    await h.send(h.request('INVITE', 'sip:x@example.com', { from: 'sip:y@elsewhere.example.org' }));
    mode = 'reply';
    await h.send(h.request('INVITE', 'sip:x@example.com', { from: 'sip:y@elsewhere.example.org' }));
    await h.send(h.request('OPTIONS', 'sip:x@example.com', { headers: [['X-Test', 'stateless-throw']] }));
    assert.equal(counters.scriptErrors - before, 2);
  });

  it('an exception after an await: 500 as well', async () => {
    mode = 'async-throw';
    const r = await h.send(h.request('MESSAGE', 'sip:x@example.com', { from: 'sip:y@elsewhere.example.org' }));
    assert.equal(r.status, 500);
  });

  it('a thrown SipReply answers with its status, reason and headers', async () => {
    mode = 'reply';
    const r = await h.send(h.request('INVITE', 'sip:x@example.com', { from: 'sip:y@elsewhere.example.org' }));
    assert.equal(r.status, 488);
    assert.equal(r.final!.reason, 'Not Acceptable Here');
    assert.equal(r.final!.get('warning'), '399 parley "no codec"');
    await flushLogs();
    assert.equal(log.lines.filter((l) => l.level >= 50).length, 0, 'a SipReply is no error');
  });

  it('a handler that neither answers, relays nor drops: 500 and a warning', async () => {
    mode = 'nothing';
    const r = await h.send(h.request('INVITE', 'sip:x@example.com', { from: 'sip:y@elsewhere.example.org' }));
    assert.equal(r.status, 500);
    await flushLogs();
    assert.ok(log.lines.some((l) => l.level === 40 && /without answering/.test(l.msg)));
  });

  it('onStateless: a SipReply answers statelessly; an exception answers 500', async () => {
    const a = await h.send(h.request('OPTIONS', 'sip:x@example.com', { headers: [['X-Test', 'stateless-reply']] }));
    assert.equal(a.status, 403);
    const b = await h.send(h.request('OPTIONS', 'sip:x@example.com', { headers: [['X-Test', 'stateless-throw']] }));
    assert.equal(b.status, 500);
  });

  it('an exception in onResponse: the response goes on unchanged, the error is logged', async () => {
    const r = await h.send(h.request('INVITE', 'sip:x@example.com', { from: 'sip:y@elsewhere.example.org' }));
    await r.respond(183);
    await r.respond(180);
    assert.deepEqual(r.replies.map((x) => x.status).filter((s) => s !== 100), [183, 180]);
    assert.equal(r.replies.find((x) => x.status === 183)!.get('x-version'), undefined);
    assert.equal(r.replies.find((x) => x.status === 180)!.get('x-version'), '1');
    await flushLogs();
    assert.ok(log.lines.some((l) => l.msg === 'routing script threw' && l.handler === 'onResponse'));
  });

  it('onFailure relays to another target; an exception there answers 500', async () => {
    const r = await h.send(h.request('INVITE', 'sip:x@example.com', { from: 'sip:y@elsewhere.example.org' }));
    await r.respond(503);
    assert.deepEqual(r.destinations, ['udp:198.51.100.50:5060', 'udp:198.51.100.51:5060']);
    await r.respond(500);
    assert.equal(r.status, 500);
    await flushLogs();
    assert.ok(log.lines.some((l) => l.msg === 'routing script threw' && l.handler === 'onFailure'));
  });

  it('dumped variables at each handler start and end', async () => {
    const r = await h.send(h.request('INVITE', 'sip:x@example.com', { from: 'sip:y@elsewhere.example.org' }));
    await r.respond(404);
    const marks = r.steps.filter((s) => s.vars !== undefined).map((s) => `${s.handler}.${s.action}=${String(s.vars!.step)}`);
    assert.deepEqual(marks, ['onRequest.start=null', 'onRequest.end=request', 'onResponse.start=request', 'onResponse.end=request', 'onFailure.start=request', 'onFailure.end=failure']);
    assert.equal(r.status, 404);
  });
});

describe('ScriptHandler: a CANCEL while onFailure is still running', () => {
  let release: () => void = () => {};
  const gate = (): Promise<void> => new Promise((r) => (release = r));
  let h: RoutingHarness;
  before(async () => {
    h = await RoutingHarness.start({
      script: {
        onRequest(ctx: RequestContext): void {
          ctx.relay('sip:198.51.100.70:5060');
        },
        async onFailure(ctx: FailureContext): Promise<void> {
          await gate();
          ctx.relay('sip:198.51.100.71:5060');
        },
      },
    });
  });
  after(() => h.close());

  it("the caller gets 487 at once; the failure route's late relay starts nothing (RFC 3261 §16.10)", async () => {
    const invite = await h.send(h.request('INVITE', 'sip:x@example.com', { from: 'sip:y@elsewhere.example.org', callId: 'cancel-in-failure' }));
    await invite.respond(180);
    await invite.respond(503, { settle: false });
    const cancel = h.request('CANCEL', 'sip:x@example.com', { callId: 'cancel-in-failure', cseq: invite.request.cseq.seq })
      .replace(/^Via: .*$/m, `Via: ${invite.request.topVia!.toString()}`)
      .replace(/^From: .*$/m, `From: ${invite.request.get('from')}`);
    const c = await h.send(cancel);
    assert.equal(c.status, 200);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(invite.status, 487);
    release();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(invite.branches.length, 1, 'no branch after the CANCEL');
    assert.deepEqual([...new Set(invite.replies.filter((x) => x.status >= 200).map((x) => x.status))], [487], 'one final answer (retransmitted until ACKed)');
  });
});

describe('ScriptHandler: versions', () => {
  const version = (n: number, target: string) => ({
    onRequest(ctx: RequestContext): void {
      ctx.addHeader('X-Routed-By', String(ctx.version));
      ctx.relay(target);
    },
    onResponse(ctx: ReplyContext): void {
      ctx.addHeader('X-Reply-By', String(ctx.version));
    },
    onFailure(ctx: FailureContext): void {
      ctx.relay(`sip:failover-v${n}@198.51.100.9${n}:5060`);
    },
  });
  let h: RoutingHarness;
  before(async () => {
    h = await RoutingHarness.start({ script: version(1, 'sip:a@198.51.100.61:5060') });
  });
  after(() => h.close());

  it('a request finishes on the version it started with; new requests take the new one', async () => {
    const early = await h.send(h.request('INVITE', 'sip:x@example.com', { from: 'sip:y@elsewhere.example.org' }));
    assert.equal(early.branches[0]!.get('x-routed-by'), '1');

    h.handler.prepare(LoadedScript.fromObject(version(2, 'sip:b@198.51.100.62:5060'), 2, 'v2'));
    const before2 = await h.send(h.request('INVITE', 'sip:x@example.com', { from: 'sip:y@elsewhere.example.org' }));
    assert.equal(before2.branches[0]!.get('x-routed-by'), '1', 'prepared is not active');
    assert.equal(h.handler.commit(2), true);
    assert.equal(h.handler.script.version, 2);

    const late = await h.send(h.request('INVITE', 'sip:x@example.com', { from: 'sip:y@elsewhere.example.org' }));
    assert.deepEqual(late.destinations, ['udp:198.51.100.62:5060']);
    assert.equal(late.branches[0]!.get('x-routed-by'), '2');

    // the early request's responses and failure route still run on version 1
    await early.respond(180);
    assert.equal(early.replies.find((x) => x.status === 180)!.get('x-reply-by'), '1');
    await early.respond(503);
    assert.deepEqual(early.destinations, ['udp:198.51.100.61:5060', 'udp:198.51.100.91:5060']);
    await late.respond(503);
    assert.deepEqual(late.destinations, ['udp:198.51.100.62:5060', 'udp:198.51.100.92:5060']);
    assert.deepEqual([...h.handler.handled.entries()], [[1, 2], [2, 1]]);
  });

  it('commit of a version that was not prepared changes nothing; abort forgets a prepared one', () => {
    assert.equal(h.handler.commit(7), false);
    h.handler.prepare(LoadedScript.fromObject(version(3, 'sip:c@198.51.100.63:5060'), 3, 'v3'));
    h.handler.abort(3);
    assert.equal(h.handler.commit(3), false);
    assert.equal(h.handler.script.version, 2);
  });
});
