/**
 * Seeded truncations, byte flips and extensions of valid packets: decodeHep never throws, a failed
 * decode names an offset inside the input, and what decodes re-encodes to a packet that decodes
 * to the same fields. Random streams through the framer: nothing throws. The seed is printed in
 * every failure, so that it can be replayed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prng } from '../../test/support/prng.js';
import { decodeHep } from './decode.js';
import { encodeHep } from './encode.js';
import { HepStreamFramer } from './stream-framer.js';

const enc = new TextEncoder();
const SEEDS = [
  encodeHep({
    ipFamily: 2, ipProtocol: 17, sourceIpv4: '192.0.2.1', destinationIpv4: '192.0.2.2', sourcePort: 5060, destinationPort: 5060,
    timeSeconds: 1_700_000_000, timeMicroseconds: 5, protocolType: 1, captureAgentId: 2001, authKey: 'secret', correlationId: 'cid@h',
    payload: enc.encode('OPTIONS sip:alice@example.com SIP/2.0\r\nCall-ID: cid@h\r\nContent-Length: 0\r\n\r\n'),
  }),
  encodeHep({ ipFamily: 10, sourceIpv6: '2001:db8::1', destinationIpv6: '::1', vlanId: 3, nodeName: 'n', keepAliveTimer: 9 }),
  encodeHep({ compressedPayload: Uint8Array.of(1, 2, 3), otherChunks: [{ vendorId: 0, type: 0x20, value: Uint8Array.of(4) }], vendorChunks: [{ vendorId: 9, type: 9, value: Uint8Array.of(5, 6) }] }),
  encodeHep({}),
];

describe('fuzz: decodeHep on damaged packets', () => {
  it('never throws, and names an offset inside the input (20 000 inputs)', () => {
    const seed = 0x4e95eed;
    const random = prng(seed);
    const int = (n: number): number => Math.floor(random() * n);
    let decoded = 0;
    for (let i = 0; i < 20_000; i++) {
      const base = SEEDS[int(SEEDS.length)]!;
      let bytes = base.slice(0, int(4) === 0 ? int(base.length + 1) : base.length);
      const flips = int(4);
      for (let f = 0; f < flips && bytes.length > 0; f++) bytes[int(bytes.length)] = int(256);
      if (int(8) === 0) bytes = Uint8Array.from([...bytes, ...bytes.subarray(0, int(bytes.length + 1))]);
      // keep the total length right half of the time, so that chunks are reached
      if (bytes.length >= 6 && int(2) === 0) {
        bytes[4] = bytes.length >> 8;
        bytes[5] = bytes.length & 0xff;
      }
      const r = decodeHep(bytes);
      if (!r.ok) {
        assert.ok(r.error.offset >= 0 && r.error.offset <= bytes.length, `seed ${seed} input ${i}: offset ${r.error.offset} of ${bytes.length}`);
        continue;
      }
      decoded++;
      const again = decodeHep(encodeHep(r.value));
      assert.ok(again.ok, `seed ${seed} input ${i}`);
      // text chunks are read as UTF-8: a flipped byte may change them once, then they are stable
      assert.deepEqual(decodeHep(encodeHep(again.value)), again, `seed ${seed} input ${i}`);
    }
    assert.ok(decoded > 2000, `only ${decoded} inputs decoded: the fuzz would not reach the chunks`);
  });
});

describe('fuzz: the stream framer on random streams', () => {
  it('never throws, cut at random (2 000 streams)', () => {
    const seed = 0xf1a3e;
    const random = prng(seed);
    const int = (n: number): number => Math.floor(random() * n);
    for (let i = 0; i < 2000; i++) {
      const parts: number[] = [];
      for (let k = int(4); k > 0; k--) parts.push(...SEEDS[int(SEEDS.length)]!);
      const stream = Uint8Array.from([...parts, ...Array.from({ length: int(40) }, () => int(256))]);
      for (let f = int(3); f > 0 && stream.length > 0; f--) stream[int(stream.length)] = int(256);
      const framer = new HepStreamFramer((b) => void decodeHep(b));
      let pos = 0;
      while (pos < stream.length) {
        const n = 1 + int(64);
        const e = framer.push(stream.subarray(pos, pos + n));
        if (e) assert.ok(e.offset >= 0 && e.offset <= stream.length, `seed ${seed} stream ${i}: offset ${e.offset} of ${stream.length}`);
        pos += n;
      }
    }
  });
});
