import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packetKind } from './demux.js';

describe('packetKind (RFC 7983 §7)', () => {
  it('maps every first byte to its range', () => {
    const expected = (b: number): string =>
      b <= 3 ? 'stun' : b >= 16 && b <= 19 ? 'zrtp' : b >= 20 && b <= 63 ? 'dtls' : b >= 64 && b <= 79 ? 'turn-channel' : b >= 128 && b <= 191 ? 'rtp' : 'unknown';
    for (let b = 0; b < 256; b++) assert.equal(packetKind(b), expected(b), `byte ${b}`);
    assert.equal(packetKind(0x16), 'dtls'); // a DTLS handshake record (content type 22)
    assert.equal(packetKind(0x13), 'zrtp');
    assert.equal(packetKind(0x14), 'dtls'); // the boundary: 16..19 ZRTP, 20..63 DTLS
    assert.equal(packetKind(0x40), 'turn-channel');
    assert.equal(packetKind(0x80), 'rtp');
    assert.equal(packetKind(0x0d), 'unknown'); // CR of a SIP CRLF keepalive
  });
});
