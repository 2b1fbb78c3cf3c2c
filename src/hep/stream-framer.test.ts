import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prng } from '../../test/support/prng.js';
import { decodeHep } from './decode.js';
import { encodeHep } from './encode.js';
import { HepStreamFramer } from './stream-framer.js';

const enc = new TextEncoder();
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const PACKETS = [
  encodeHep({ sourceIpv4: '192.0.2.1', sourcePort: 5060, protocolType: 1, payload: enc.encode('REGISTER sip:example.com SIP/2.0\r\n\r\n') }),
  encodeHep({}), // the header alone
  encodeHep({ captureAgentId: 7, keepAliveTimer: 30 }),
  encodeHep({ payload: new Uint8Array(60_000).map((_, i) => i & 0xff) }),
  encodeHep({ sourceIpv6: '2001:db8::1', correlationId: 'x@y', vendorChunks: [{ vendorId: 3, type: 1, value: Uint8Array.of(1) }] }),
];
const STREAM = Uint8Array.from(PACKETS.flatMap((p) => [...p]));
const EXPECTED = PACKETS.map(hexOf);

function collector(): { framer: HepStreamFramer; got: string[] } {
  const got: string[] = [];
  return { framer: new HepStreamFramer((b) => got.push(hexOf(b))), got };
}

describe('HepStreamFramer (HEP over TCP: the total length frames each packet)', () => {
  it('splits a stream given whole, as views of it', () => {
    const { framer, got } = collector();
    assert.equal(framer.push(STREAM), undefined);
    assert.deepEqual(got, EXPECTED);
    assert.equal(framer.pending, 0);
    assert.equal(framer.copiedBytes, 0);
  });

  it('gives the same packets for a cut at every byte (the small packets), and for random cuts (seeded)', () => {
    const small = Uint8Array.from([...PACKETS[0]!, ...PACKETS[1]!, ...PACKETS[2]!, ...PACKETS[4]!]);
    const want = [EXPECTED[0], EXPECTED[1], EXPECTED[2], EXPECTED[4]];
    for (let cut = 0; cut <= small.length; cut++) {
      const { framer, got } = collector();
      assert.equal(framer.push(small.subarray(0, cut)), undefined);
      assert.equal(framer.push(small.subarray(cut)), undefined);
      assert.deepEqual(got, want, `cut at ${cut}`);
      assert.equal(framer.pending, 0);
    }
    const seed = 0xbeef;
    const random = prng(seed);
    for (let round = 0; round < 30; round++) {
      const { framer, got } = collector();
      let pos = 0;
      while (pos < STREAM.length) {
        const n = 1 + Math.floor(random() * (round % 2 === 0 ? 64 : 20_000));
        assert.equal(framer.push(STREAM.subarray(pos, pos + n)), undefined);
        pos += n;
      }
      assert.deepEqual(got, EXPECTED, `seed ${seed} round ${round}`);
    }
  });

  it('is linear: fed one byte at a time, each byte is copied once (and a header at most twice)', () => {
    const { framer, got } = collector();
    for (let i = 0; i < STREAM.length; i++) framer.push(STREAM.subarray(i, i + 1));
    assert.deepEqual(got, EXPECTED);
    assert.ok(framer.copiedBytes <= STREAM.length + 6 * PACKETS.length, `${framer.copiedBytes} bytes copied for ${STREAM.length}`);
  });

  it('hands out packets that later pushes do not overwrite, and that decode', () => {
    const views: Uint8Array[] = [];
    const framer = new HepStreamFramer((b) => views.push(b));
    for (let i = 0; i < STREAM.length; i += 7) framer.push(STREAM.subarray(i, i + 7));
    assert.deepEqual(views.map(hexOf), EXPECTED);
    assert.deepEqual(views.map((v) => decodeHep(v).ok), [true, true, true, true, true]);
  });

  const bad: Record<string, { bytes: Uint8Array; offset: number; reason: RegExp }> = {
    'SIP where a packet should begin': { bytes: enc.encode('OPTIONS sip:x SIP/2.0\r\n'), offset: 0, reason: /no "HEP3" magic/ },
    'HEP2': { bytes: Uint8Array.of(0x48, 0x45, 0x50, 0x32, 0, 6), offset: 0, reason: /no "HEP3" magic/ },
    'a total length of 5': { bytes: Uint8Array.of(0x48, 0x45, 0x50, 0x33, 0, 5), offset: 4, reason: /total length 5/ },
  };
  for (const [name, c] of Object.entries(bad)) {
    it(`fails on ${name} after good packets, naming the offset in the stream, and stays failed`, () => {
      const good = PACKETS[0]!;
      for (const split of [3, good.length + 2]) {
        const { framer, got } = collector();
        const all = Uint8Array.from([...good, ...c.bytes]);
        const first = framer.push(all.subarray(0, split));
        const e = first ?? framer.push(all.subarray(split));
        assert.ok(e, name);
        assert.match(e.reason, c.reason);
        assert.equal(e.offset, good.length + c.offset, `split ${split}: ${e.reason}`);
        assert.deepEqual(got, [EXPECTED[0]]);
        assert.equal(framer.push(good), e);
        assert.equal(got.length, 1);
        assert.equal(framer.error, e);
      }
    });
  }
});
