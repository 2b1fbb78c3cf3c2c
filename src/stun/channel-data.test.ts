import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildChannelData, parseChannelData } from './channel-data.js';
import { hex } from './testdata/rfc5769.js';

describe('ChannelData (RFC 8656 §12.4, §12.5)', () => {
  it('builds padded (stream) and unpadded (datagram) forms and parses both', () => {
    const data = Uint8Array.of(1, 2, 3, 4, 5);
    const padded = buildChannelData(0x4000, data, true);
    assert.equal(Buffer.from(padded).toString('hex'), '40000005' + '0102030405000000');
    const bare = buildChannelData(0x4fff, data, false);
    assert.equal(Buffer.from(bare).toString('hex'), '4fff0005' + '0102030405');
    for (const [bytes, channel] of [[padded, 0x4000], [bare, 0x4fff]] as const) {
      const r = parseChannelData(bytes);
      assert.ok(r.ok);
      assert.equal(r.value.channel, channel);
      assert.deepEqual([...r.value.data], [...data]);
      assert.equal(r.value.data.buffer, bytes.buffer); // a view
    }
    const empty = parseChannelData(hex('40010000'));
    assert.ok(empty.ok && empty.value.data.length === 0);
  });

  const bad: Record<string, [string, number]> = {
    'shorter than the header': ['4000', 2],
    'channel 0x3fff (STUN range)': ['3fff0000', 0],
    'channel 0x5000 (reserved)': ['50000000', 0],
    'length past the datagram': ['40000008 01020304', 2],
  };
  for (const [name, [bytes, offset]] of Object.entries(bad)) {
    it(`refuses ${name}, naming the offset`, () => {
      const r = parseChannelData(hex(bytes));
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error.offset, offset, r.error.reason);
    });
  }

  it('refuses to build an invalid channel or oversize data', () => {
    assert.throws(() => buildChannelData(0x3fff, new Uint8Array(1), false), TypeError);
    assert.throws(() => buildChannelData(0x4000, new Uint8Array(65536), false), TypeError);
  });
});
