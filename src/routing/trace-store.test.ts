import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TraceReportJson } from './trace-recorder.js';
import { formatTrace, listTraces, readTraces, traceDirName, TraceFileSink } from './trace-store.js';

function report(callId: string, seq: number, method = 'INVITE'): TraceReportJson {
  return {
    format: 'parley-trace/1', callId, seq, method, cseq: seq, at: '2026-01-01T00:00:00.000Z', core: 1,
    script: { version: 3, source: '/etc/parley/routes.ts' },
    received: { t: 0, peer: 'udp:198.51.100.1:5070', message: `${method} sip:bob@example.com SIP/2.0\r\nCall-ID: ${callId}\r\n\r\n` },
    steps: [
      { t: 0.01, handler: 'onRequest', action: 'start', vars: { trunk: null } },
      { t: 0.2, handler: 'onRequest', action: 'lookup', result: ['sip:bob@198.51.100.7:5062'] },
      { t: 0.3, handler: 'onRequest', action: 'relay', result: ['sip:bob@198.51.100.7:5062'] },
      { t: 0.31, handler: 'onRequest', action: 'end', vars: { trunk: 0 } },
    ],
    sent: [{ t: 0.4, peer: 'udp:198.51.100.7:5062', message: `${method} sip:bob@198.51.100.7:5062 SIP/2.0\r\n\r\n` }],
    responses: [{ t: 5, peer: 'udp:198.51.100.7:5062', message: 'SIP/2.0 200 OK\r\n\r\n' }],
    durationMs: 5.2,
  };
}

describe('trace files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-traces-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a Call-ID never names a path outside the traces directory', () => {
    for (const id of ['..', '../../etc/passwd', '.hidden', 'a/b', 'x'.repeat(400)]) {
      const name = traceDirName(id);
      assert.ok(!name.includes('/') && name !== '..' && !name.startsWith('.'), `${id} → ${name}`);
      assert.ok(name.length <= 180);
    }
    assert.notEqual(traceDirName('x'.repeat(400)), traceDirName('x'.repeat(401)));
  });

  it('writes one numbered file per request, keeps numbering after a restart, reads them back in order', async () => {
    const sink = new TraceFileSink(dir);
    const id = 'TEST-1/abc@host';
    assert.equal(sink.nextSeq(id), 1);
    sink.write(report(id, 1));
    assert.equal(sink.nextSeq(id), 2);
    sink.write(report(id, 2, 'BYE'));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await readdir(join(dir, traceDirName(id))), ['0001-INVITE.json', '0002-BYE.json']);
    const again = new TraceFileSink(dir);
    assert.equal(again.nextSeq(id), 3, 'a new process goes on after the files there');
    const back = await readTraces(dir, id);
    assert.deepEqual(back.map((r) => `${r.seq} ${r.method}`), ['1 INVITE', '2 BYE']);
    assert.deepEqual(JSON.parse(await readFile(join(dir, traceDirName(id), '0001-INVITE.json'), 'utf8')), report(id, 1));
    assert.deepEqual((await listTraces(dir)).map((c) => [c.callId, c.requests]), [[id, 2]]);
    assert.deepEqual(await readTraces(dir, 'no-such-call'), []);
    assert.deepEqual(await listTraces(join(dir, 'nowhere')), []);
  });

  it('formats a report as a timeline', () => {
    const text = formatTrace(report('c1', 1));
    const lines = text.split('\n');
    assert.match(lines[0]!, /^#1 INVITE sip:bob@example\.com SIP\/2\.0 {2}from udp:198\.51\.100\.1:5070 .*script v3 \/etc\/parley\/routes\.ts, core 1/);
    assert.deepEqual(lines.slice(1).map((l) => l.replace(/^\+\s*[\d.]+ ms {2}/, '')), [
      'onRequest start  vars {"trunk":null}',
      'onRequest lookup() → ["sip:bob@198.51.100.7:5062"]',
      'onRequest relay() → ["sip:bob@198.51.100.7:5062"]',
      'onRequest end  vars {"trunk":0}',
      '>> INVITE sip:bob@198.51.100.7:5062 SIP/2.0  to udp:198.51.100.7:5062',
      '<< SIP/2.0 200 OK  from udp:198.51.100.7:5062',
    ]);
  });
});
