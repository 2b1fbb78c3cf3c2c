import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StunAttr } from './attribute-types.js';
import { StunMessageBuilder } from './builder.js';
import { buildChannelData } from './channel-data.js';
import { parseStunMessage, StunMethod } from './message.js';
import { RFC5766_MAX_CHANNEL_NUMBER, StunStreamFramer } from './stream-framer.js';
import { hex, SAMPLE_IPV6_RESPONSE, SAMPLE_REQUEST } from './testdata/rfc5769.js';

type Frame = string; // 'stun:<hex>' or 'cd:<channel>:<hex>'

function collector(): { framer: StunStreamFramer; frames: Frame[] } {
  const frames: Frame[] = [];
  const framer = new StunStreamFramer({
    onStun: (bytes) => frames.push(`stun:${Buffer.from(bytes).toString('hex')}`),
    onChannelData: (channel, data) => frames.push(`cd:${channel.toString(16)}:${Buffer.from(data).toString('hex')}`),
  });
  return { framer, frames };
}

const bigData = new Uint8Array(60_000).map((_, i) => i & 0xff);
const send = new StunMessageBuilder(StunMethod.Send, 'indication', hex('0102030405060708090a0b0c'))
  .addXorAddress(StunAttr.XOR_PEER_ADDRESS, { family: 4, address: '192.0.2.7', port: 5004 })
  .add(StunAttr.DATA, bigData)
  .build();
const STREAM_PARTS = [
  SAMPLE_REQUEST,
  buildChannelData(0x4000, Uint8Array.of(1, 2, 3), true),
  buildChannelData(0x4fff, new Uint8Array(0), true),
  SAMPLE_IPV6_RESPONSE,
  buildChannelData(0x4123, bigData.subarray(0, 1001), true),
  send,
  buildChannelData(0x4001, Uint8Array.of(9, 9, 9, 9), true),
];
const STREAM = Uint8Array.from(STREAM_PARTS.flatMap((p) => [...p]));
const EXPECTED: Frame[] = [
  `stun:${Buffer.from(SAMPLE_REQUEST).toString('hex')}`,
  'cd:4000:010203',
  'cd:4fff:',
  `stun:${Buffer.from(SAMPLE_IPV6_RESPONSE).toString('hex')}`,
  `cd:4123:${Buffer.from(bigData.subarray(0, 1001)).toString('hex')}`,
  `stun:${Buffer.from(send).toString('hex')}`,
  'cd:4001:09090909',
];

describe('StunStreamFramer (RFC 8656 §12.5 over TCP/TLS)', () => {
  it('splits a stream given whole', () => {
    const { framer, frames } = collector();
    assert.equal(framer.push(STREAM), undefined);
    assert.deepEqual(frames, EXPECTED);
    assert.equal(framer.pending, 0);
    assert.equal(framer.copiedBytes, 0); // whole frames in a chunk are views of it
  });

  it('gives the same frames however the stream is cut (every cut in two, and random cuts)', () => {
    const small = Uint8Array.from([...STREAM_PARTS[0]!, ...STREAM_PARTS[1]!, ...STREAM_PARTS[2]!, ...STREAM_PARTS[3]!]);
    for (let cut = 1; cut < small.length; cut++) {
      const { framer, frames } = collector();
      framer.push(small.subarray(0, cut));
      framer.push(small.subarray(cut));
      assert.deepEqual(frames, EXPECTED.slice(0, 4), `cut at ${cut}`);
    }
    let x = 12345;
    for (let round = 0; round < 30; round++) {
      const { framer, frames } = collector();
      let pos = 0;
      while (pos < STREAM.length) {
        x = (x * 1103515245 + 12345) >>> 0;
        const n = 1 + (x % (round % 2 === 0 ? 64 : 20_000));
        assert.equal(framer.push(STREAM.subarray(pos, pos + n)), undefined);
        pos += n;
      }
      assert.deepEqual(frames, EXPECTED, `round ${round}`);
    }
  });

  it('is linear: a 60 kB message fed one byte at a time is copied at most twice', () => {
    const { framer, frames } = collector();
    for (let i = 0; i < STREAM.length; i++) framer.push(STREAM.subarray(i, i + 1));
    assert.deepEqual(frames, EXPECTED);
    assert.ok(framer.copiedBytes <= 2 * STREAM.length, `${framer.copiedBytes} bytes copied for ${STREAM.length}`);
  });

  it('hands out views that later pushes do not overwrite', () => {
    const views: Uint8Array[] = [];
    const framer = new StunStreamFramer({ onStun: (b) => views.push(b), onChannelData: (_c, d) => views.push(d) });
    const a = buildChannelData(0x4000, Uint8Array.of(1, 1, 1, 1), true);
    const b = buildChannelData(0x4000, Uint8Array.of(2, 2, 2, 2), true);
    const c = buildChannelData(0x4000, Uint8Array.of(3, 3, 3, 3), true);
    framer.push(a.subarray(0, 3)); // pending
    framer.push(Uint8Array.from([...a.subarray(3), ...b.subarray(0, 5)])); // a from the buffer, b pending
    framer.push(Uint8Array.from([...b.subarray(5), ...c.subarray(0, 2)]));
    framer.push(c.subarray(2));
    assert.deepEqual(views.map((v) => [...v]), [[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]]);
  });

  const bad: Record<string, { bytes: Uint8Array; offset: number }> = {
    'a first byte of 0x80 (RTP)': { bytes: hex('80000000'), offset: 0 },
    'a first byte of 0xc0': { bytes: hex('c0000000'), offset: 0 },
    'STUN without the magic cookie': { bytes: hex('00010000 2112a443 00000000 00000000 00000000'), offset: 4 },
    'STUN length not a multiple of 4': { bytes: hex('00010002 2112a442 00000000 00000000 00000000'), offset: 2 },
    'a channel number of 0x5000': { bytes: hex('50000000'), offset: 0 },
  };
  for (const [name, c] of Object.entries(bad)) {
    it(`fails on ${name} after good frames, naming the offset in the stream, and stays failed`, () => {
      const { framer, frames } = collector();
      const good = buildChannelData(0x4000, Uint8Array.of(7), true); // 8 bytes
      assert.equal(framer.push(good.subarray(0, 6)), undefined);
      const e = framer.push(Uint8Array.from([...good.subarray(6), ...c.bytes]));
      assert.equal(e?.offset, 8 + c.offset, e?.reason);
      assert.deepEqual(frames, ['cd:4000:07']);
      assert.equal(framer.push(good), e);
      assert.equal(frames.length, 1);
      // the same in the fast path (nothing pending)
      const fresh = collector();
      assert.equal(fresh.framer.push(Uint8Array.from([...good, ...c.bytes]))?.offset, 8 + c.offset);
    });
  }

  it('with maxChannel 0x7fff (RFC 5766), frames channels 0x5000-0x7fff the strict framer fails on', () => {
    const frames: string[] = [];
    const framer = new StunStreamFramer(
      { onStun: () => frames.push('stun'), onChannelData: (channel, data) => frames.push(`cd:${channel.toString(16)}:${Buffer.from(data).toString('hex')}`) },
      { maxChannel: RFC5766_MAX_CHANNEL_NUMBER },
    );
    // (buildChannelData keeps to RFC 8656's range: the frames by hand, padded to 4)
    const stream = hex('50000001 01000000 7fff0002 02030000 40000001 04000000');
    // whole, then byte by byte: the same frames
    assert.equal(framer.push(stream), undefined);
    for (const b of stream) assert.equal(framer.push(Uint8Array.of(b)), undefined);
    assert.deepEqual(frames, ['cd:5000:01', 'cd:7fff:0203', 'cd:4000:04', 'cd:5000:01', 'cd:7fff:0203', 'cd:4000:04']);
    // the strict framer (the default) fails on the first
    const strict = collector();
    assert.equal(strict.framer.push(stream)?.offset, 0);
    // a maxChannel between: 0x5000 passes, 0x7fff fails at its offset (8)
    const mid = new StunStreamFramer({ onStun: () => {}, onChannelData: () => {} }, { maxChannel: 0x5fff });
    assert.equal(mid.push(stream)?.offset, 8);
    assert.throws(() => new StunStreamFramer({ onStun: () => {}, onChannelData: () => {} }, { maxChannel: 0x8000 }), /maxChannel/);
    assert.throws(() => new StunStreamFramer({ onStun: () => {}, onChannelData: () => {} }, { maxChannel: 0x3fff }), /maxChannel/);
  });

  it('delivers STUN messages that parse', () => {
    const { framer } = collector();
    const got: boolean[] = [];
    const f2 = new StunStreamFramer({ onStun: (b) => got.push(parseStunMessage(b).ok), onChannelData: () => {} });
    f2.push(STREAM);
    assert.deepEqual(got, [true, true, true]);
    assert.equal(framer.error, undefined);
  });
});
