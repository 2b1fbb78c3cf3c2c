// Traces of test calls (Kamailio's cfgt): with routing.traceCallIdPrefix set, a sipp call whose
// Call-ID starts with the prefix leaves one JSON report per request in <dataDir>/traces/, read
// back with `parley trace show`. The call goes through the default script — alice is challenged,
// authenticates and calls bob, ACK and BYE follow the Record-Route — and each report's steps are
// the actions the default script takes for that request, in order, with the messages sent. A
// call without the prefix leaves nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TraceReportJson } from '../../src/routing/trace-recorder.js';
import { assertBasicCall, call, registerPhone, startUas } from './support/calls.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { header, sent } from './support/sip-trace.js';
import { skipWithoutSipp } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret1' };
const BOB = { user: 'bob', password: 'secret2' };
const pool = portPool(import.meta.url);
const PREFIX = 'TRACE-';

/** A report's actions by handler, without the handlers' start and end marks. */
function actions(r: TraceReportJson): string[] {
  return r.steps.filter((s) => s.action !== 'start' && s.action !== 'end').map((s) => `${s.handler}.${s.action}`);
}

const firstLine = (m: { message: string }): string => m.message.split('\r\n')[0]!;

for (const workers of [0, undefined]) {
  describe(`a traced call through the default script (${workers === undefined ? 'default worker threads' : 'no worker threads'})`, { skip: skipWithoutSipp(), timeout: 120_000 }, () => {
    let parley: ParleyServer;

    before(async () => {
      parley = await ParleyServer.start({
        pool, transports: ['udp'], subscribers: [ALICE, BOB], config: { routing: { traceCallIdPrefix: PREFIX } },
        ...(workers === undefined ? {} : { workers }),
      });
      assert.equal(parley.readyLine?.traceCallIdPrefix, PREFIX);
    });
    after(() => stopCleanly(parley));

    it('one report per request, whose steps are the default script\'s, with the messages sent; parley trace show reads them', async () => {
      const bob = await registerPhone(parley, BOB);
      // an untraced call first: it must leave no trace
      const uas0 = await startUas(parley, bob.endpoint, 'uas-answer.xml');
      const plain = await call(parley, 'call-basic.xml', { caller: ALICE, callee: 'bob' });
      assertBasicCall({ parley, uac: plain, uas: await uas0.done, callee: bob.endpoint, callerTransport: 'udp', calleeTransport: 'udp' });

      const uas = await startUas(parley, bob.endpoint, 'uas-answer.xml');
      const uac = await call(parley, 'call-basic.xml', { caller: ALICE, callee: 'bob', callId: `${PREFIX}%u-%p@interop` });
      const bobRun = await uas.done;
      assertBasicCall({ parley, uac, uas: bobRun, callee: bob.endpoint, callerTransport: 'udp', calleeTransport: 'udp' });
      const callId = header(sent(uac.trace, { method: 'INVITE' })[0]!, 'Call-ID')!;
      assert.ok(callId.startsWith(PREFIX), callId);

      // the reports are written once each request's routing is over
      let reports: TraceReportJson[] = [];
      for (let i = 0; i < 40 && reports.length < 5; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const shown = await parley.cli(['trace', 'show', callId, '--json']);
        if (shown.code === 0) reports = JSON.parse(shown.stdout) as TraceReportJson[];
      }
      const summary = reports.map((r) => `#${r.seq} ${r.method}: ${actions(r).join(', ')}`).join('\n');
      assert.deepEqual(reports.map((r) => `${r.seq} ${r.method} ${r.cseq}`), ['1 INVITE 1', '2 ACK 1', '3 INVITE 2', '4 ACK 2', '5 BYE 3'], summary);
      for (const r of reports) {
        assert.equal(r.format, 'parley-trace/1');
        assert.equal(r.callId, callId);
        assert.deepEqual(r.script, { version: 1, source: 'builtin:default' });
        assert.equal(firstLine(r.received).split(' ')[0], r.method);
        const times = [...r.steps.map((s) => s.t), ...r.sent.map((m) => m.t)];
        assert.ok(times.every((t) => t >= 0 && t <= r.durationMs + 1), `times within the report: ${JSON.stringify(times)} / ${r.durationMs}`);
        assert.deepEqual(r.steps.map((s) => s.t), [...r.steps.map((s) => s.t)].sort((x, y) => x - y), 'steps in time order');
        // the precise start and the ISO one name the same ms
        assert.equal(typeof r.atMs, 'number');
        assert.equal(new Date(Math.floor(r.atMs!)).toISOString(), r.at);
      }
      // each request arrived after the one before it (the ACK for the 407 can be under 1 ms after it)
      for (let i = 1; i < reports.length; i++) assert.ok(reports[i]!.atMs! > reports[i - 1]!.atMs!, `report ${i + 1} starts after report ${i}`);
      const [invite1, ack1, invite2, ack2, bye] = reports as [TraceReportJson, TraceReportJson, TraceReportJson, TraceReportJson, TraceReportJson];

      // 1. the INVITE without credentials: challenged before any transaction (onStateless)
      assert.deepEqual(actions(invite1), ['onStateless.requireCredentials'], summary);
      assert.equal(invite1.steps.find((s) => s.action === 'requireCredentials')!.result, 407);
      assert.deepEqual(invite1.sent.map(firstLine), ['SIP/2.0 407 Proxy Authentication Required']);

      // 2. its ACK: no transaction took it; in-dialog (its To tag), not on a route of ours: dropped
      assert.deepEqual(actions(ack1), ['onInDialog.looseRoute', 'onInDialog.drop'], summary);
      assert.deepEqual(ack1.sent, []);

      // 3. the INVITE with credentials: authenticated, looked up, record-routed, relayed to bob
      assert.deepEqual(actions(invite2), [
        'onStateless.requireCredentials', 'onRequest.sanityCheck', 'onRequest.looseRoute', 'onRequest.authenticate', 'onRequest.lookup', 'onRequest.recordRoute', 'onRequest.relay',
      ], summary);
      const step = (r: TraceReportJson, a: string): unknown => r.steps.find((s) => s.action === a)?.result;
      assert.equal(step(invite2, 'requireCredentials'), false);
      assert.deepEqual(step(invite2, 'authenticate'), { ok: true, user: 'alice' });
      const contact = `sip:bob@127.0.0.1:${bob.endpoint.port};transport=UDP`;
      assert.deepEqual(step(invite2, 'lookup'), [contact]);
      assert.deepEqual(step(invite2, 'relay'), [contact]);
      const toBob = `udp:127.0.0.1:${bob.endpoint.port}`;
      assert.ok(invite2.sent.some((m) => firstLine(m) === `INVITE ${contact} SIP/2.0` && m.peer === toBob), invite2.sent.map((m) => `${firstLine(m)} → ${m.peer}`).join('\n'));
      const upstream = invite2.sent.filter((m) => m.message.startsWith('SIP/2.0')).map((m) => firstLine(m).split(' ')[1]);
      assert.deepEqual(upstream.filter((s) => s !== '100'), ['180', '200']);
      assert.deepEqual(invite2.responses.map((m) => firstLine(m).split(' ')[1]), ['180', '200']);
      const relayedAt = invite2.steps.find((s) => s.action === 'relay')!.t;
      assert.ok(invite2.sent.find((m) => m.message.startsWith('INVITE'))!.t >= relayedAt, 'the INVITE left after the relay step');

      // 4. the ACK of the 200: along our Record-Route to bob's Contact, statelessly
      const bobContact = `sip:127.0.0.1:${bob.endpoint.port};transport=UDP`;
      assert.deepEqual(actions(ack2), ['onInDialog.looseRoute', 'onInDialog.relay'], summary);
      assert.equal(step(ack2, 'looseRoute'), true);
      assert.deepEqual(ack2.sent.map((m) => `${firstLine(m)} → ${m.peer}`), [`ACK ${bobContact} SIP/2.0 → ${toBob}`]);

      // 5. the BYE: along the route, bob's 200 back to alice
      assert.deepEqual(actions(bye), ['onInDialog.sanityCheck', 'onInDialog.looseRoute', 'onInDialog.relay'], summary);
      assert.deepEqual(bye.sent.map(firstLine), [`BYE ${bobContact} SIP/2.0`, 'SIP/2.0 200 OK']);
      assert.deepEqual(bye.responses.map(firstLine), ['SIP/2.0 200 OK']);

      // the timeline for people, and the list of traced calls: only the traced call is there
      const text = await parley.cli(['trace', 'show', callId]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /#3 INVITE sip:bob@127\.0\.0\.1:\d+ SIP\/2\.0 .*script v1 builtin:default/);
      assert.match(text.stdout, /onRequest authenticate\(\) → \{"ok":true,"user":"alice"\}/);
      const list = await parley.cli(['trace', 'list']);
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual(list.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).at(-1)), [callId], 'only the traced call has a trace');
      const missing = await parley.cli(['trace', 'show', 'no-such-call']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no trace of call no-such-call/);
    });
  });
}
