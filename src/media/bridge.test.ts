import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bridge } from './bridge.js';
import type { Leg } from './leg.js';

/** A leg that records what the bridge sends it; `deliver` plays a packet from its side. */
function fakeLeg(): Leg & { rtp: Buffer[]; rtcp: Buffer[] } {
  const leg = {
    rtp: [] as Buffer[],
    rtcp: [] as Buffer[],
    onRtp: undefined as ((p: Buffer) => void) | undefined,
    onRtcp: undefined as ((p: Buffer) => void) | undefined,
    sendRtp(p: Buffer) {
      leg.rtp.push(Buffer.from(p));
    },
    sendRtcp(p: Buffer) {
      leg.rtcp.push(Buffer.from(p));
    },
    local: { address: '127.0.0.1', port: 1, rtcpPort: 1 },
    lastReceived: 0,
    ready: true,
    stats: () => ({ packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, dropped: 0 }),
    close() {},
  };
  return leg;
}

function rtp(pt: number, ssrc: number, seq = 1): Buffer {
  const b = Buffer.alloc(12 + 160, 0x55);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

/** A compound RTCP packet: an SR of `ssrc` (28 bytes, no report block) then an SDES chunk of it. */
function senderReport(ssrc: number): Buffer {
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = 200;
  sr.writeUInt16BE(6, 2);
  sr.writeUInt32BE(ssrc, 4);
  const sdes = Buffer.alloc(12);
  sdes[0] = 0x81;
  sdes[1] = 202;
  sdes.writeUInt16BE(2, 2);
  sdes.writeUInt32BE(ssrc, 4);
  return Buffer.concat([sr, sdes]);
}

const PASS = { kind: 'pass' as const, aToB: new Map([[0, 0]]), bToA: new Map([[0, 0]]) };

describe('Bridge', () => {
  it('writes Parley\'s own SSRC for a side into what it sends there, and leaves the other side alone', () => {
    const browser = fakeLeg();
    const phone = fakeLeg();
    new Bridge(browser, phone, PASS, { a: 'sendrecv', b: 'sendrecv' }, undefined, { a: 0xabcdef01 });
    phone.onRtp!(rtp(0, 0x11111111, 7));
    browser.onRtp!(rtp(0, 0x22222222, 9));
    assert.equal(browser.rtp[0]!.readUInt32BE(8), 0xabcdef01, 'towards the browser: Parley\'s SSRC');
    assert.equal(browser.rtp[0]!.readUInt16BE(2), 7, 'sequence number kept');
    assert.equal(phone.rtp[0]!.readUInt32BE(8), 0x22222222, 'towards the phone: the sender SSRC kept');
    phone.onRtcp!(senderReport(0x11111111));
    const sent = browser.rtcp[0]!;
    assert.equal(sent.readUInt32BE(4), 0xabcdef01, 'the sender report names Parley\'s SSRC');
    assert.equal(sent.readUInt32BE(32), 0x11111111, 'the SDES chunk is left as it came');
  });

  it('without announced SSRCs passes packets as they came', () => {
    const a = fakeLeg();
    const b = fakeLeg();
    new Bridge(a, b, PASS, { a: 'sendrecv', b: 'sendrecv' });
    a.onRtp!(rtp(0, 0x33333333));
    assert.equal(b.rtp[0]!.readUInt32BE(8), 0x33333333);
  });

  it('sends nothing to a side that does not receive (hold), until it does again', () => {
    const a = fakeLeg();
    const b = fakeLeg();
    const bridge = new Bridge(a, b, PASS, { a: 'sendrecv', b: 'sendonly' });
    a.onRtp!(rtp(0, 1));
    assert.equal(b.rtp.length, 0);
    bridge.setDirections({ a: 'sendrecv', b: 'sendrecv' });
    a.onRtp!(rtp(0, 1, 2));
    assert.equal(b.rtp.length, 1);
    assert.equal(bridge.counters.dropped, 1);
  });
});
