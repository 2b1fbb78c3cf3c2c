import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '../sip/index.js';
import { callMedia, MediaIndex } from './media-hints.js';
import { SipCalls } from './sip-calls.js';
import type { CapturedSipMessage } from './sip-capture.js';
import { ANSWER, OFFER, sipInvite, sipRequest, sipResponse } from './testdata/frames.js';

const S = 1_000_000_000n;
let index = 0;

function msg(text: string, time: bigint, fromCaller = true): CapturedSipMessage {
  const parsed = parseMessage(text);
  if (!parsed.ok) throw parsed.error;
  const bytes = Buffer.from(text);
  const a = { src: '192.0.2.1', srcPort: 5060, dst: '192.0.2.2', dstPort: 5060 };
  const ends = fromCaller ? a : { src: a.dst, srcPort: a.dstPort, dst: a.src, dstPort: a.srcPort };
  return { ...ends, time, transport: 'udp', message: parsed.message, bytes, offset: 0, index: index++ };
}

describe('SipCalls', () => {
  it('an answered call: start, answer, end at the BYE, duration, 200', () => {
    const calls = new SipCalls();
    calls.add(msg(sipInvite('c1', OFFER), 10n * S));
    calls.add(msg(sipInvite('c1', OFFER), 10n * S + 500_000_000n)); // retransmission
    calls.add(msg(sipResponse('c1', 100, 'Trying'), 11n * S, false));
    calls.add(msg(sipResponse('c1', 200, 'OK', 'INVITE', 1, ANSWER), 13n * S, false));
    calls.add(msg(sipRequest('ACK', 'c1', 1), 13n * S + 1n));
    calls.add(msg(sipRequest('BYE', 'c1', 2), 43n * S + 250_000_000n));
    calls.add(msg(sipResponse('c1', 200, 'OK', 'BYE', 2), 44n * S, false));
    const [c] = calls.list();
    assert.equal(c!.callId, 'c1');
    assert.equal(c!.method, 'INVITE');
    assert.equal(c!.from, 'sip:alice@example.com');
    assert.equal(c!.fromDisplay, 'Alice');
    assert.equal(c!.to, 'sip:bob@example.com');
    assert.equal(c!.start, 10n * S);
    assert.equal(c!.answer, 13n * S);
    assert.equal(c!.end, 43n * S + 250_000_000n);
    assert.equal(c!.status, 200);
    assert.equal(c!.state, 'completed');
    assert.equal(c!.durationSeconds, 30.25);
    assert.equal(c!.messageCount, 7);
  });

  it('rejected, cancelled, ringing and in-call; the BYE\'s 200 is not the call\'s status', () => {
    const calls = new SipCalls();
    calls.add(msg(sipInvite('busy'), 1n));
    calls.add(msg(sipResponse('busy', 486, 'Busy Here'), 2n, false));
    calls.add(msg(sipInvite('cancel'), 3n));
    calls.add(msg(sipRequest('CANCEL', 'cancel', 1, ''), 4n));
    calls.add(msg(sipResponse('cancel', 200, 'OK', 'CANCEL'), 5n, false));
    calls.add(msg(sipResponse('cancel', 487, 'Request Terminated'), 6n, false));
    calls.add(msg(sipInvite('ringing'), 7n));
    calls.add(msg(sipResponse('ringing', 180, 'Ringing'), 8n, false));
    calls.add(msg(sipInvite('talking'), 9n));
    calls.add(msg(sipResponse('talking', 200, 'OK'), 10n, false));
    const got = calls.list().map((c) => [c.callId, c.state, c.status, c.end, c.durationSeconds]);
    assert.deepEqual(got, [
      ['busy', 'rejected', 486, 2n, undefined],
      ['cancel', 'cancelled', 487, 6n, undefined],
      ['ringing', 'calling', undefined, undefined, undefined],
      ['talking', 'in-call', 200, undefined, undefined],
    ]);
  });

  it('non-INVITE groups: flagged by method, status of the first request, no answer', () => {
    const calls = new SipCalls();
    calls.add(msg(sipRequest('REGISTER', 'r1', 1, ''), 1n));
    calls.add(msg(sipResponse('r1', 401, 'Unauthorized', 'REGISTER', 1), 2n, false));
    calls.add(msg(sipRequest('REGISTER', 'r1', 2, ''), 3n));
    calls.add(msg(sipResponse('r1', 200, 'OK', 'REGISTER', 2), 4n, false));
    calls.add(msg(sipRequest('OPTIONS', 'o1', 1, ''), 5n));
    const [r, o] = calls.list();
    assert.deepEqual([r!.method, r!.state, r!.status, r!.answer, r!.end], ['REGISTER', 'done', 401, undefined, 2n]);
    assert.deepEqual([o!.method, o!.state, o!.status], ['OPTIONS', 'pending', undefined]);
  });

  it('a capture that begins with a response: the first request names the group', () => {
    const calls = new SipCalls();
    calls.add(msg(sipResponse('late', 180, 'Ringing'), 1n, false));
    calls.add(msg(sipRequest('BYE', 'late', 2), 2n));
    assert.equal(calls.get('late')!.method, 'BYE');
  });
});

describe('callMedia', () => {
  it('offer and answer: endpoints, RTCP, payload types, crypto, direction', () => {
    const calls = new SipCalls();
    calls.add(msg(sipInvite('m1', OFFER), 1n * S));
    calls.add(msg(sipInvite('m1', OFFER), 2n * S)); // retransmitted offer
    calls.add(msg(sipResponse('m1', 200, 'OK', 'INVITE', 1, ANSWER), 3n * S, false));
    const media = callMedia(calls.get('m1')!);
    assert.deepEqual(media.sdps.map((s) => [s.role, s.carriedBy, s.src]), [['offer', 'INVITE', '192.0.2.1'], ['offer', 'INVITE', '192.0.2.1'], ['answer', '200 INVITE', '192.0.2.2']]);
    const [offer] = media.sdps[0]!.media;
    assert.equal(offer!.address, '192.0.2.1');
    assert.equal(offer!.port, 49170);
    assert.equal(offer!.rtcpPort, 49171);
    assert.equal(offer!.rtcpMux, false);
    assert.equal(offer!.direction, 'sendrecv');
    assert.deepEqual(offer!.payloadTypes.map((p) => [p.payloadType, p.name, p.clockRate]), [[0, 'PCMU', 8000], [8, 'PCMA', 8000], [101, 'telephone-event', 8000]]);
    assert.deepEqual(offer!.crypto.map((c) => [c.tag, c.suite, c.sessionParams]), [[1, 'AES_CM_128_HMAC_SHA1_80', []], [2, 'AES_CM_128_HMAC_SHA1_32', ['UNENCRYPTED_SRTCP']]]);
    assert.equal(offer!.crypto[0]!.keyParams, 'inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32');
    const [audio, video] = media.sdps[2]!.media;
    assert.deepEqual([audio!.address, audio!.port, audio!.rtcpPort, audio!.rtcpMux, audio!.direction], ['192.0.2.2', 30000, 30000, true, 'sendonly']);
    assert.equal(video!.port, 0);
    assert.equal(video!.payloadTypes[0]!.clockRate, 0); // dynamic, no rtpmap

    const idx = new MediaIndex([media]);
    assert.equal(idx.callOf('192.0.2.2', 30000, '192.0.2.1', 49170, 4n * S)?.callId, 'm1');
    assert.equal(idx.lookup('192.0.2.1', 49171)?.rtcp, true);
    assert.equal(idx.lookup('192.0.2.9', 49170), undefined);
  });

  it('an offer in the 200 (INVITE without SDP) is answered in the ACK', () => {
    const calls = new SipCalls();
    calls.add(msg(sipInvite('late'), 1n));
    calls.add(msg(sipResponse('late', 200, 'OK', 'INVITE', 1, OFFER), 2n, false));
    calls.add(msg(sipRequest('ACK', 'late', 1, ';tag=b1', ANSWER), 3n));
    assert.deepEqual(callMedia(calls.get('late')!).sdps.map((s) => [s.role, s.carriedBy]), [['offer', '200 INVITE'], ['answer', 'ACK']]);
  });
});
