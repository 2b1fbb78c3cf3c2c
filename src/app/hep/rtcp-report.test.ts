import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rtcpReport } from './rtcp-report.js';

/** An SR with one report block, then an SDES with a CNAME (RFC 3550 §6.4.1, §6.5), built by hand. */
function compound(): Uint8Array {
  const sr = Buffer.alloc(52);
  sr[0] = 0x81; // V=2, RC=1
  sr[1] = 200;
  sr.writeUInt16BE(52 / 4 - 1, 2);
  sr.writeUInt32BE(0x11223344, 4); // SSRC of sender
  sr.writeUInt32BE(3_900_000_000, 8); // NTP seconds
  sr.writeUInt32BE(0x80000000, 12); // NTP fraction
  sr.writeUInt32BE(160_000, 16); // RTP timestamp
  sr.writeUInt32BE(1000, 20); // packets
  sr.writeUInt32BE(160_000, 24); // octets
  sr.writeUInt32BE(0xaabbccdd, 28); // source SSRC
  sr[32] = 25; // fraction lost
  sr.writeUIntBE(0xfffffe, 33, 3); // cumulative lost: -2
  sr.writeUInt32BE(70_000, 36);
  sr.writeUInt32BE(123, 40);
  sr.writeUInt32BE(0x12345678, 44);
  sr.writeUInt32BE(65536, 48);
  const sdes = Buffer.alloc(16);
  sdes[0] = 0x81;
  sdes[1] = 202;
  sdes.writeUInt16BE(3, 2);
  sdes.writeUInt32BE(0x11223344, 4);
  sdes[8] = 1; // CNAME
  sdes[9] = 3;
  sdes.write('abc', 10);
  return Buffer.concat([sr, sdes]);
}

describe('rtcpReport (Homer\'s JSON for HEP type 5)', () => {
  it('reads an SR with a report block and the SDES SSRC', () => {
    assert.deepEqual(rtcpReport(compound()), {
      ssrc: 0x11223344, type: 200, report_count: 1,
      sender_information: { ntp_timestamp_sec: 3_900_000_000, ntp_timestamp_usec: 0x80000000, rtp_timestamp: 160_000, packets: 1000, octets: 160_000 },
      report_blocks: [{ source_ssrc: 0xaabbccdd, fraction_lost: 25, packets_lost: -2, highest_seq_no: 70_000, ia_jitter: 123, lsr: 0x12345678, dlsr: 65536 }],
      sdes_ssrc: 0x11223344,
    });
  });

  it('reads an RR without blocks; undefined for what is not RTCP; never throws on cut packets', () => {
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 9]);
    assert.equal(rtcpReport(rr)?.ssrc, 9);
    assert.equal(rtcpReport(Buffer.from('not rtcp at all')), undefined);
    const c = compound();
    for (let n = 0; n < c.length; n++) rtcpReport(c.subarray(0, n));
    assert.equal(rtcpReport(c.subarray(0, 51)), undefined, 'an SR cut short is not read');
  });
});
