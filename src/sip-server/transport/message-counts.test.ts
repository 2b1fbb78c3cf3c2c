import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createResponse, type SipRequest } from '../../sip/index.js';
import { COUNTED_METHODS, methodIndex, SipMessageCounts } from './message-counts.js';
import { MessagePath } from './message-path.js';
import type { Flow } from './flow.js';

const FLOW: Flow = { transport: 'udp', remoteAddress: '192.0.2.7', remotePort: 5062, localAddress: '127.0.0.1', localPort: 5060 };

function register(branch: string, method = 'REGISTER'): string {
  return [
    `${method} sip:example.com SIP/2.0`,
    `Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK${branch}`,
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:alice@example.com>',
    'Call-ID: counts-1@example.com',
    `CSeq: 1 ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('SipMessageCounts', () => {
  it('names every RFC method and puts any other under "other"', () => {
    for (const [i, m] of COUNTED_METHODS.entries()) if (m !== 'other') assert.equal(methodIndex(m), i);
    assert.equal(COUNTED_METHODS[methodIndex('FROBNICATE')], 'other');
    // methods are case-sensitive (RFC 3261 §7.1): `invite` is not INVITE
    assert.equal(COUNTED_METHODS[methodIndex('invite')], 'other');
  });

  it('counts by direction, method and status class, and lists only what was counted', () => {
    const c = new SipMessageCounts();
    c.request('in', 'INVITE');
    c.request('in', 'INVITE');
    c.request('out', 'BYE');
    c.response('out', 'INVITE', 180);
    c.response('out', 'INVITE', 200);
    c.response('in', 'BYE', 481);
    c.response('in', 'BYE', 99); // not a status: not counted
    assert.deepEqual([...c.entries()], [
      { kind: 'request', direction: 'in', method: 'INVITE', value: 2 },
      { kind: 'request', direction: 'out', method: 'BYE', value: 1 },
      { kind: 'response', direction: 'in', method: 'BYE', class: '4xx', value: 1 },
      { kind: 'response', direction: 'out', method: 'INVITE', class: '1xx', value: 1 },
      { kind: 'response', direction: 'out', method: 'INVITE', class: '2xx', value: 1 },
    ]);
    assert.equal(c.total('request', 'in'), 2);
    assert.equal(c.total('response', 'out'), 2);
  });
});

describe('MessagePath counts what crosses it', () => {
  it('received requests, sent responses and their retransmissions; malformed input is not counted', () => {
    const sends: Uint8Array[] = [];
    const path = new MessagePath({ wire: { sendBytes: (b) => sends.push(b), sendToTarget: (b) => sends.push(b) }, limits: { maxMessageSize: 65535, maxHeaders: 256 } });
    let received: SipRequest | undefined;
    path.delegate = { onMessage: (m) => (received = m as SipRequest), onParseError: () => {} };
    path.receiveDatagram(new TextEncoder().encode(register('1')), FLOW);
    path.receiveDatagram(new TextEncoder().encode(register('2', 'PING')), FLOW);
    path.receiveDatagram(new TextEncoder().encode('REGISTER nonsense\r\n\r\n'), FLOW);
    assert.ok(received);
    const sent = path.sendResponse(createResponse(received, 401), FLOW, assert.fail);
    assert.ok(sent);
    path.resendResponse(sent, assert.fail);
    assert.equal(sends.length, 2);
    // the 401 answers the PING (the last request handed up): its CSeq method is counted, as `other`
    assert.deepEqual([...path.counts.entries()], [
      { kind: 'request', direction: 'in', method: 'REGISTER', value: 1 },
      { kind: 'request', direction: 'in', method: 'other', value: 1 },
      { kind: 'response', direction: 'out', method: 'other', class: '4xx', value: 2 },
    ]);
  });
});
