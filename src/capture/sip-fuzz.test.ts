/**
 * Damaged traffic never makes the SIP side of `parley pcap` throw, and what it holds stays
 * bounded: valid SIP over UDP, TCP and WebSocket with random bytes changed, segments dropped,
 * duplicated and reordered at random sequence numbers (a seeded generator: a failure is
 * reproducible), every message that comes out grouped into calls, laddered and its SDP read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TransportSegment } from '../pcap/index.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../pcap/index.js';
import { seededRandom } from '../lib/testdata/seeded-random.js';
import { callMedia } from './media-hints.js';
import { SipCalls } from './sip-calls.js';
import { SipCapture } from './sip-capture.js';
import { buildLadder, ladderHtml, ladderText } from './sip-ladder.js';
import { ANSWER, OFFER, sipInvite, sipRequest, sipResponse, wsFrame } from './testdata/frames.js';

const ENDS = { src: '192.0.2.1', srcPort: 40000, dst: '192.0.2.2', dstPort: 5060 };

function segment(protocol: 'udp' | 'tcp', payload: Uint8Array, seq = 0, flags = TCP_ACK, ends = ENDS): TransportSegment {
  return { protocol, ipVersion: 4, ...ends, payload, tcp: protocol === 'tcp' ? { seq, ack: 0, flags, window: 1 } : undefined, vlanIds: [], truncated: false, reassembled: false };
}

function damage(b: Uint8Array, random: () => number): Uint8Array {
  const out = new Uint8Array(b);
  const n = Math.floor(random() * 4);
  for (let i = 0; i < n && out.length > 0; i++) out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
  return random() < 0.2 ? out.subarray(0, Math.floor(random() * out.length)) : out;
}

describe('SIP in damaged captures', () => {
  it('never throws; holds a bounded amount; what comes out is read through', () => {
    const random = seededRandom(0x5eed);
    const calls = new SipCalls();
    const capture = new SipCapture((m) => calls.add(m), { tcp: { maxHeldPerFlow: 4096, maxHeldTotal: 16384, maxFlows: 8 } });
    const messages = [sipInvite('f', OFFER), sipResponse('f', 180, 'Ringing'), sipResponse('f', 200, 'OK', 'INVITE', 1, ANSWER), sipRequest('BYE', 'f', 2), sipRequest('ACK', 'f', 1, ';tag=b1', ANSWER)];
    const ws = Buffer.concat([
      Buffer.from('GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n'),
      ...messages.map((m) => wsFrame(1, m, true, [1, 2, 3, 4])),
      wsFrame(1, messages[0]!.slice(0, 40), false),
      wsFrame(9, ''),
      wsFrame(0, messages[0]!.slice(40)),
    ]);
    let time = 0n;
    let maxHeld = 0;
    let maxFlows = 0;
    for (let round = 0; round < 400; round++) {
      time += BigInt(Math.floor(random() * 5e9));
      const text = messages[Math.floor(random() * messages.length)]!;
      capture.add(segment('udp', damage(Buffer.from(text), random)), time, round);
      // a TCP stream (SIP or WebSocket) cut at random places, sent out of order, with losses
      const stream = random() < 0.5 ? Buffer.from(messages.join('')) : ws;
      const port = 40000 + Math.floor(random() * 12);
      const ends = { ...ENDS, srcPort: port };
      const isn = Math.floor(random() * 2 ** 32);
      const pieces: [number, Uint8Array][] = [];
      for (let at = 0; at < stream.length; ) {
        const len = 1 + Math.floor(random() * 300);
        pieces.push([at, damage(stream.subarray(at, at + len), random)]);
        at += len;
      }
      if (random() < 0.5) capture.add(segment('tcp', new Uint8Array(0), isn, TCP_SYN, ends), time, round);
      for (let k = 0; k < pieces.length; k++) {
        const i = random() < 0.3 ? Math.floor(random() * pieces.length) : k;
        if (random() < 0.05) continue;
        const [at, bytes] = pieces[i]!;
        capture.add(segment('tcp', bytes, (isn + 1 + at) >>> 0, random() < 0.02 ? TCP_RST : TCP_ACK, ends), time, round);
        maxHeld = Math.max(maxHeld, capture.tcpHeld.bytes);
        maxFlows = Math.max(maxFlows, capture.tcpHeld.flows);
      }
      if (random() < 0.5) capture.add(segment('tcp', new Uint8Array(0), (isn + 1 + stream.length) >>> 0, TCP_FIN | TCP_ACK, ends), time, round);
    }
    capture.finish();
    assert.ok(maxHeld > 0 && maxHeld <= 16384, `held ${maxHeld} bytes`);
    assert.ok(maxFlows <= 8, `${maxFlows} flows`);
    assert.deepEqual(capture.tcpHeld, { bytes: 0, flows: 0 });
    assert.ok(capture.counts.messages > 100, `${capture.counts.messages} messages`);
    assert.ok(capture.counts.malformed > 0);
    for (const call of calls.list()) {
      callMedia(call);
      const ladder = buildLadder(call.messages);
      ladderText(ladder);
      ladderHtml(ladder, call.callId);
    }
  });
});
