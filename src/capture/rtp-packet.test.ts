import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readRtpPacket } from './rtp-packet.js';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('readRtpPacket', () => {
  it('reads the fixed header (RFC 3550 §5.1)', () => {
    const r = readRtpPacket(hex('80 e5 ff fe 12345678 deadbeef 0102030405'));
    assert.ok(r.ok);
    assert.deepEqual(r.value, { marker: true, payloadType: 101, sequence: 65534, timestamp: 0x12345678, ssrc: 0xdeadbeef, payloadBytes: 5 });
  });

  it('skips CSRCs and the header extension, and drops the padding', () => {
    // CC=1, X=1 (one extension word), P=1 (last octet: 3 octets of padding)
    const r = readRtpPacket(hex('b1 00 0001 00000000 00000001 aaaaaaaa bede0001 11223344 0102 000003'));
    assert.ok(r.ok);
    assert.equal(r.value.payloadBytes, 2);
  });

  it('tells what a datagram is when it is not RTP (RFC 7983 §7, RFC 5761 §4)', () => {
    const cases: Array<[string, string]> = [
      ['000100002112a442000000000000000000000000', 'stun'],
      ['10000000000000000000000000000000', 'zrtp'],
      ['16fefd00000000000000000000', 'dtls'],
      ['40000004deadbeef', 'turn-channel'],
      ['81c9000711111111', 'rtcp'], // an RR
      ['80c8000611111111000000000000000000000000', 'rtcp'], // an SR
      ['800000', 'short'],
      ['900000010000000000000000', 'short'], // X: the extension header is missing
      ['9000000100000000000000000000000200000000', 'short'], // an extension of 2 words, 1 there
      ['a000000100000000000000000000ff', 'short'], // padding longer than the packet
      ['c0000001000000000000000000', 'other'], // version 3
      ['', 'other'],
    ];
    for (const [bytes, kind] of cases) {
      const r = readRtpPacket(hex(bytes));
      assert.deepEqual(r, { ok: false, error: kind }, bytes);
    }
  });

  it('payload types 0..63 and 96..127 with and without the marker are RTP', () => {
    for (const b1 of [0x00, 0x08, 0x3f, 0x80, 0x88, 0xe0, 0x60, 0x7f, 0xff]) {
      const r = readRtpPacket(Buffer.from([0x80, b1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]));
      assert.ok(r.ok, b1.toString(16));
    }
  });
});
