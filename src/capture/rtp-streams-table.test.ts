import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixed, formatRtpStreamsTable } from './rtp-streams-table.js';
import { RtpStreams } from './rtp-streams.js';

describe('formatRtpStreamsTable', () => {
  it("prints tshark's columns (tshark 4.0.17 on sipp's g711a.pcap printed this header)", () => {
    const a = new RtpStreams();
    const b = Buffer.alloc(172);
    b[0] = 0x80;
    b[1] = 8;
    b.writeUInt32BE(0xdee0ee8f, 8);
    a.add({ time: 0n, src: '10.1.3.143', srcPort: 5000, dst: '10.1.6.18', dstPort: 2006, payload: b });
    const lines = formatRtpStreamsTable(a.reports()).split('\n');
    assert.equal(lines[0], '========================= RTP Streams ========================');
    assert.equal(
      lines[1],
      '   Start time      End time     Src IP addr  Port    Dest IP addr  Port       SSRC          Payload  Pkts         Lost   Min Delta(ms)  Mean Delta(ms)   Max Delta(ms)  Min Jitter(ms) Mean Jitter(ms)  Max Jitter(ms) Problems?',
    );
    assert.equal(
      lines[2],
      '     0.000000      0.000000      10.1.3.143  5000       10.1.6.18  2006 0xDEE0EE8F            g711A     1     0 (0.0%)          -1.000           0.000           0.000          -1.000           0.000           0.000 ',
    );
    assert.equal(lines[3], '==============================================================');
  });

  it('lists the stream that began last first, as tshark does', () => {
    const a = new RtpStreams();
    for (const ssrc of [1, 2, 3]) {
      const b = Buffer.alloc(12);
      b[0] = 0x80;
      b.writeUInt32BE(ssrc, 8);
      a.add({ time: BigInt(ssrc), src: '192.0.2.1', srcPort: 1, dst: '192.0.2.2', dstPort: 2, payload: b });
    }
    const rows = formatRtpStreamsTable(a.reports()).split('\n').slice(2, 5);
    assert.deepEqual(rows.map((r) => r.slice(72, 82)), ['0x00000003', '0x00000002', '0x00000001']);
  });

  it("rounds as C's printf: exact ties to even, everything else to nearest", () => {
    assert.equal(fixed(0.125, 2), '0.12'); // an exact tie (0.125 is a binary fraction)
    assert.equal(fixed(0.375, 2), '0.38');
    assert.equal(fixed(2.5, 0), '2');
    assert.equal(fixed(0.1 + 0.2, 3), '0.300');
    assert.equal(fixed(1.0005, 3), '1.000'); // 1.0005 is stored just below the tie
    assert.equal(fixed(-1, 3), '-1.000');
    assert.equal(fixed(-2.5, 1), '-2.5');
    assert.equal(fixed(12.5, 1), '12.5');
    assert.equal(fixed(-0.0625, 3), '-0.062');
  });
});
