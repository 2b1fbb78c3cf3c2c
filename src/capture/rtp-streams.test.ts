import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RtpStreams, type UdpDatagram } from './rtp-streams.js';
import { rtpPacket } from './testdata/rtp-packet.js';

function rtp(pt: number, seq: number, ts: number, ssrc: number): Uint8Array {
  return rtpPacket(pt, seq, ts, ssrc, false, new Uint8Array(20));
}

const T0 = 1_700_000_000_123_456_789n;
const path = { src: '192.0.2.1', srcPort: 4000, dst: '192.0.2.2', dstPort: 5000 };

describe('RtpStreams', () => {
  it('one stream per source, destination and SSRC, in the order they began', () => {
    const a = new RtpStreams();
    const d = (over: Partial<UdpDatagram>, seq: number, ssrc = 7): UdpDatagram => ({
      ...path,
      time: T0 + BigInt(seq) * 20_000_000n,
      payload: rtp(0, seq, seq * 160, ssrc),
      ...over,
    });
    a.add(d({}, 1));
    a.add(d({ src: '192.0.2.3' }, 1)); // another source
    a.add(d({}, 2, 8)); // another SSRC
    a.add(d({ dstPort: 5002 }, 2)); // another destination port
    a.add(d({}, 3));
    const reports = a.reports();
    assert.deepEqual(
      reports.map((r) => [r.src, r.dstPort, r.ssrc, r.packets]),
      [['192.0.2.1', 5000, 7, 2], ['192.0.2.3', 5000, 7, 1], ['192.0.2.1', 5000, 8, 1], ['192.0.2.1', 5002, 7, 1]],
    );
  });

  it('times: relative to the first datagram (or the given origin), exact to the nanosecond', () => {
    const a = new RtpStreams();
    a.add({ ...path, time: T0, payload: Buffer.from('000100002112a442000000000000000000000000', 'hex') }); // STUN first
    a.add({ ...path, time: T0 + 1_000_000_001n, payload: rtp(8, 1, 0, 1) });
    a.add({ ...path, time: T0 + 1_020_000_003n, payload: rtp(8, 2, 160, 1) });
    const [r] = a.reports();
    assert.equal(a.notRtpDatagrams, 1);
    assert.equal(r!.firstTime, T0 + 1_000_000_001n);
    assert.equal(r!.startSeconds, 1.000000001);
    assert.equal(r!.endSeconds, 1.020000003);
    assert.ok(Math.abs(r!.maxDeltaMs - 20.000002) < 1e-9); // in ms: 1 ns is 1e-6

    const b = new RtpStreams({ origin: T0 - 500_000_000n });
    b.add({ ...path, time: T0, payload: rtp(8, 1, 0, 1) });
    assert.equal(b.reports()[0]!.startSeconds, 0.5);
  });

  it('payload names and clock rates: static types, then the given map, then a per-stream answer (SDP)', () => {
    const a = new RtpStreams({
      payloadFormats: new Map([[101, { name: 'telephone-event', clockRate: 8000 }]]),
      formatOf: (id, pt) => (id.dstPort === 5002 && pt === 96 ? { name: 'opus', clockRate: 48000 } : undefined),
    });
    let t = T0;
    for (const [pt, dstPort] of [[101, 5000], [0, 5000], [13, 5000], [96, 5000], [96, 5002], [96, 5002]] as const) {
      t += 20_000_000n;
      a.add({ ...path, dstPort, time: t, payload: rtp(pt, Number(t / 20_000_000n) & 0xffff, 0, 9) });
    }
    const [first, second] = a.reports();
    assert.equal(first!.payloadNames, 'g711U, CN, RTPType-96, telephone-event'); // tshark 4.0's name of a dynamic type without rtpmap
    assert.deepEqual(first!.payloadTypes, [0, 13, 96, 101]);
    assert.equal(second!.payloadNames, 'opus');
    assert.equal(second!.clockRate, 48000);
  });
});
