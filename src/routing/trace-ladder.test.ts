import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arrowLabel, buildLadder } from './trace-ladder.js';
import type { TraceMessage, TraceReportJson } from './trace-recorder.js';

const ALICE = 'udp:198.51.100.1:5070';
const BOB = 'udp:198.51.100.7:5062';

const msg = (t: number, peer: string, line: string): TraceMessage => ({ t, peer, message: `${line}\r\nCall-ID: c1\r\n\r\n` });

function report(seq: number, method: string, at: string, received: TraceMessage, sent: TraceMessage[], responses: TraceMessage[] = []): TraceReportJson {
  return {
    format: 'parley-trace/1', callId: 'c1', seq, method, cseq: seq, at, core: 0,
    script: { version: 1, source: 'builtin:default' },
    received, steps: [], sent, responses, durationMs: 1,
  };
}

/** alice calls bob through Parley: INVITE, 100, 180, 200, ACK, BYE, 200, as the recorder splits them in reports. */
function basicCall(): TraceReportJson[] {
  return [
    report(1, 'INVITE', '2026-01-01T00:00:00.000Z', msg(0, ALICE, 'INVITE sip:bob@example.com SIP/2.0'), [
      msg(0.5, ALICE, 'SIP/2.0 100 Trying'),
      msg(1, BOB, 'INVITE sip:bob@198.51.100.7:5062 SIP/2.0'),
      msg(30.2, ALICE, 'SIP/2.0 180 Ringing'),
      msg(1000.4, ALICE, 'SIP/2.0 200 OK'),
    ], [
      msg(30, BOB, 'SIP/2.0 180 Ringing'),
      msg(1000.2, BOB, 'SIP/2.0 200 OK'),
    ]),
    // the ACK's report starts 1.01 s after the INVITE's
    report(2, 'ACK', '2026-01-01T00:00:01.010Z', msg(0, ALICE, 'ACK sip:bob@198.51.100.7:5062 SIP/2.0'), [msg(0.3, BOB, 'ACK sip:bob@198.51.100.7:5062 SIP/2.0')]),
    report(3, 'BYE', '2026-01-01T00:00:03.000Z', msg(0, ALICE, 'BYE sip:bob@198.51.100.7:5062 SIP/2.0'), [
      msg(0.4, BOB, 'BYE sip:bob@198.51.100.7:5062 SIP/2.0'),
      msg(2.5, ALICE, 'SIP/2.0 200 OK'),
    ], [msg(2.2, BOB, 'SIP/2.0 200 OK')]),
  ];
}

const line = (a: { from: string; to: string; label: string }): string => `${a.from} -> ${a.to} ${a.label}`;

describe('the ladder of a traced call', () => {
  it('labels a request by its method and a response by its status and reason', () => {
    assert.equal(arrowLabel('INVITE sip:bob@example.com SIP/2.0\r\nVia: x\r\n\r\n'), 'INVITE');
    assert.equal(arrowLabel('SIP/2.0 180 Ringing\r\n\r\n'), '180 Ringing');
    assert.equal(arrowLabel('SIP/2.0 407 Proxy Authentication Required\r\n'), '407 Proxy Authentication Required');
    assert.equal(arrowLabel('SIP/2.0 200\r\n'), '200');
    assert.equal(arrowLabel('OPTIONS'), 'OPTIONS');
  });

  it('columns: the caller, parley, then the other peers as they appear; arrows in time order across reports', () => {
    const ladder = buildLadder('c1', basicCall());
    assert.equal(ladder.callId, 'c1');
    assert.deepEqual(ladder.participants, [ALICE, 'parley', BOB]);
    assert.deepEqual(ladder.arrows.map(line), [
      `${ALICE} -> parley INVITE`,
      `parley -> ${ALICE} 100 Trying`,
      `parley -> ${BOB} INVITE`,
      `${BOB} -> parley 180 Ringing`,
      `parley -> ${ALICE} 180 Ringing`,
      `${BOB} -> parley 200 OK`,
      `parley -> ${ALICE} 200 OK`,
      `${ALICE} -> parley ACK`,
      `parley -> ${BOB} ACK`,
      `${ALICE} -> parley BYE`,
      `parley -> ${BOB} BYE`,
      `${BOB} -> parley 200 OK`,
      `parley -> ${ALICE} 200 OK`,
    ]);
    // ms since the first message, from each report's start time plus its offsets
    assert.deepEqual(ladder.arrows.map((a) => a.t), [0, 0.5, 1, 30, 30.2, 1000.2, 1000.4, 1010, 1010.3, 3000, 3000.4, 3002.2, 3002.5]);
    assert.ok(ladder.arrows[2]!.message.startsWith('INVITE sip:bob@198.51.100.7:5062 SIP/2.0\r\n'));
  });

  it('draws a message found in two reports once, and a retransmission again', () => {
    const [invite, ack, bye] = basicCall();
    // a CANCEL report that also recorded the INVITE's 180 (1 ms apart on the wall clocks), and the caller's INVITE sent again 500 ms later
    const cancel = report(4, 'CANCEL', '2026-01-01T00:00:00.020Z', msg(0, ALICE, 'CANCEL sip:bob@example.com SIP/2.0'), [msg(11.2, ALICE, 'SIP/2.0 180 Ringing')]);
    const retransmitted = report(5, 'INVITE', '2026-01-01T00:00:00.500Z', msg(0, ALICE, 'INVITE sip:bob@example.com SIP/2.0'), []);
    const ladder = buildLadder('c1', [invite!, cancel, retransmitted, ack!, bye!]);
    const labels = ladder.arrows.map(line);
    assert.equal(labels.filter((l) => l === `parley -> ${ALICE} 180 Ringing`).length, 1, labels.join('\n'));
    assert.equal(labels.filter((l) => l === `${ALICE} -> parley INVITE`).length, 2, labels.join('\n'));
    assert.equal(labels.length, 13 + 2);
  });

  it('orders messages of two reports less than 1 ms apart by their precise start (atMs), not the whole ms of `at`', () => {
    // the INVITE arrives at …00.0008, its 407 goes 0.3 ms later (…00.0011); the ACK for it comes
    // 0.2 ms after that (…00.0013): by the whole ms of `at` the ACK would be drawn before the 407
    const invite = { ...report(1, 'INVITE', '2026-01-01T00:00:00.000Z', msg(0, ALICE, 'INVITE sip:bob@example.com SIP/2.0'), [msg(0.3, ALICE, 'SIP/2.0 407 Proxy Authentication Required')]), atMs: Date.UTC(2026, 0, 1) + 0.8 };
    const ack = { ...report(2, 'ACK', '2026-01-01T00:00:00.001Z', msg(0, ALICE, 'ACK sip:bob@example.com SIP/2.0'), []), atMs: Date.UTC(2026, 0, 1) + 1.3 };
    const ladder = buildLadder('c1', [ack, invite]);
    assert.deepEqual(ladder.arrows.map(line), [
      `${ALICE} -> parley INVITE`,
      `parley -> ${ALICE} 407 Proxy Authentication Required`,
      `${ALICE} -> parley ACK`,
    ]);
    assert.deepEqual(ladder.arrows.map((a) => a.t), [0, 0.3, 0.5]);
  });

  it('takes one column per peer whatever the case of its transport; no reports, only parley', () => {
    const [invite] = basicCall();
    const upper = report(2, 'ACK', '2026-01-01T00:00:01.010Z', msg(0, ALICE.toUpperCase(), 'ACK sip:bob@198.51.100.7:5062 SIP/2.0'), []);
    assert.deepEqual(buildLadder('c1', [invite!, upper]).participants, [ALICE, 'parley', BOB]);
    assert.deepEqual(buildLadder('none', []), { callId: 'none', participants: ['parley'], arrows: [] });
  });
});
