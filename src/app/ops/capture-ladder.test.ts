import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLadder, endpointColumn, type StoredCapture } from './capture-ladder.js';

const sip = (line: string): string => `${line}\r\nCall-ID: c1\r\nContent-Length: 0\r\n\r\n`;
const msg = (at: number, from: [string, number], to: [string, number], line: string, transport = 'udp'): StoredCapture => ({
  at,
  transport,
  sourceAddress: from[0],
  sourcePort: from[1],
  destinationAddress: to[0],
  destinationPort: to[1],
  message: sip(line),
});

const A: [string, number] = ['127.0.0.1', 5061];
const P: [string, number] = ['127.0.0.1', 5060];
const B: [string, number] = ['127.0.0.1', 5062];

describe('captureLadder', () => {
  it('a column per socket address in order of appearance, arrows in time order with labels and ms offsets', () => {
    const l = captureLadder('c1', [
      msg(1000.5, P, B, 'INVITE sip:bob@127.0.0.1:5062 SIP/2.0'),
      msg(1000, A, P, 'INVITE sip:bob@example.com SIP/2.0'),
      msg(1002.25, B, P, 'SIP/2.0 180 Ringing'),
      msg(1003, P, A, 'SIP/2.0 180 Ringing'),
    ]);
    assert.deepEqual(l.participants, ['udp:127.0.0.1:5061', 'udp:127.0.0.1:5060', 'udp:127.0.0.1:5062']);
    assert.deepEqual(
      l.arrows.map((a) => [a.t, a.from, a.to, a.label]),
      [
        [0, 'udp:127.0.0.1:5061', 'udp:127.0.0.1:5060', 'INVITE'],
        [0.5, 'udp:127.0.0.1:5060', 'udp:127.0.0.1:5062', 'INVITE'],
        [2.25, 'udp:127.0.0.1:5062', 'udp:127.0.0.1:5060', '180 Ringing'],
        [3, 'udp:127.0.0.1:5060', 'udp:127.0.0.1:5061', '180 Ringing'],
      ],
    );
    assert.equal(l.arrows[0]!.message, sip('INVITE sip:bob@example.com SIP/2.0'));
  });

  it('equal times keep the stored order; the transport is part of the column; IPv6 in brackets', () => {
    const l = captureLadder('c1', [msg(5, ['::1', 5060], ['::1', 5070], 'OPTIONS sip:x SIP/2.0', 'TCP'), msg(5, ['::1', 5070], ['::1', 5060], 'SIP/2.0 200 OK', 'TCP')]);
    assert.deepEqual(l.participants, ['tcp:[::1]:5060', 'tcp:[::1]:5070']);
    assert.deepEqual(l.arrows.map((a) => a.label), ['OPTIONS', '200 OK']);
    assert.equal(endpointColumn('UDP', '192.0.2.1', 5060), 'udp:192.0.2.1:5060');
  });

  it('no messages: no columns, no arrows', () => {
    assert.deepEqual(captureLadder('x', []), { callId: 'x', participants: [], arrows: [] });
  });
});
