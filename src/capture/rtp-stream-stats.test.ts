import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STATIC_PAYLOAD_FORMATS, type PayloadFormat } from './payload-formats.js';
import type { RtpPacketHeader } from './rtp-packet.js';
import { RtpStreamStats } from './rtp-stream-stats.js';

const PCMU = STATIC_PAYLOAD_FORMATS.get(0)!;

interface P {
  seq: number;
  ts: number;
  at: number; // arrival, ms
  pt?: number;
  marker?: boolean;
  format?: PayloadFormat | undefined;
}

function run(packets: readonly P[]): RtpStreamStats {
  const stats = new RtpStreamStats();
  for (const p of packets) {
    const header: RtpPacketHeader = { marker: p.marker ?? false, payloadType: p.pt ?? 0, sequence: p.seq, timestamp: p.ts, ssrc: 1, payloadBytes: 160 };
    stats.add(header, p.at, 'format' in p ? p.format : PCMU);
  }
  return stats;
}

/** Packets every 20 ms, 160 timestamp units apart, with these sequence numbers. */
function bySequence(seqs: readonly number[]): P[] {
  return seqs.map((seq, i) => ({ seq, ts: 1000 + i * 160, at: i * 20 }));
}

describe('RtpStreamStats', () => {
  it('jitter as RFC 3550 A.8 computes it, by hand, in ms at 8 kHz', () => {
    // arrivals 0, 20, 45, 60 ms for timestamps 20 ms apart. A.8: D(i,j) = (Rj − Ri) − (Sj − Si),
    // J += (|D| − J)/16. D = 0, 5, −5: J = 0, 5/16 = 0.3125, (15 × 0.3125 + 5)/16 = 0.60546875.
    const f = run([
      { seq: 1, ts: 0, at: 0 },
      { seq: 2, ts: 160, at: 20 },
      { seq: 3, ts: 320, at: 45 },
      { seq: 4, ts: 480, at: 60 },
    ]).figures();
    assert.equal(f.maxJitterMs, 0.60546875);
    assert.equal(f.minJitterMs, 0);
    // the mean of the jitter after each packet but the first: (0 + 0.3125 + 0.60546875) / 3
    assert.equal(f.meanJitterMs, (0 + 0.3125 + 0.60546875) / 3);
    assert.deepEqual([f.minDeltaMs, f.meanDeltaMs, f.maxDeltaMs], [15, 20, 25]);
    assert.deepEqual([f.packets, f.expected, f.lost, f.sequenceErrors, f.problem], [4, 4, 0, 0, false]);
    assert.equal(f.clockRate, 8000);
  });

  it('a gap: lost packets, one sequence error', () => {
    const f = run(bySequence([10, 11, 13, 14])).figures();
    assert.deepEqual([f.expected, f.lost, f.lostPercent, f.sequenceErrors, f.problem], [5, 1, 20, 1, true]);
  });

  it('reordering: nothing lost, two sequence errors (the early packet and the late one)', () => {
    const f = run(bySequence([10, 11, 13, 12, 14])).figures();
    assert.deepEqual([f.expected, f.lost, f.sequenceErrors], [5, 0, 2]);
  });

  it('a duplicate: one more packet than expected, lost −1 (RFC 3550 §6.4.1)', () => {
    const f = run(bySequence([5, 6, 6, 7])).figures();
    assert.deepEqual([f.packets, f.expected, f.lost, f.sequenceErrors], [4, 3, -1, 1]);
  });

  it('the sequence number wraps at 65535: one cycle, nothing lost', () => {
    const f = run(bySequence([65533, 65534, 65535, 0, 1, 2])).figures();
    assert.deepEqual([f.cycles, f.expected, f.lost, f.sequenceErrors, f.problem], [1, 6, 0, 0, false]);
  });

  it('a wrap whose 65535 and 0 are lost is still a wrap, not 65531 late packets', () => {
    const f = run(bySequence([65533, 65534, 1, 2])).figures();
    assert.deepEqual([f.cycles, f.expected, f.lost, f.sequenceErrors], [1, 6, 2, 1]);
  });

  it('the timestamp wraps at 2^32: jitter goes on as if it had not', () => {
    const packets = [0, 1, 2, 3].map((i) => ({ seq: i, ts: (0xffffff60 + i * 160) >>> 0, at: i * 20 }));
    const f = run(packets).figures();
    assert.deepEqual([f.maxJitterMs, f.problem], [0, false]);
  });

  it('a timestamp before the first is stale: a problem, left out of delta and jitter', () => {
    const f = run([
      { seq: 1, ts: 1000, at: 0 },
      { seq: 2, ts: 1160, at: 20 },
      { seq: 0, ts: 840, at: 90 },
      { seq: 3, ts: 1320, at: 40 },
    ]).figures();
    assert.equal(f.problem, true);
    assert.equal(f.maxDeltaMs, 20);
    assert.equal(f.maxJitterMs, 0);
  });

  it('talkspurt starts (marker), comfort noise and the packet after it count in no delta', () => {
    const f = run([
      { seq: 1, ts: 0, at: 0 },
      { seq: 2, ts: 160, at: 20 },
      { seq: 3, ts: 320, at: 140, pt: 13, format: STATIC_PAYLOAD_FORMATS.get(13) }, // CN after silence
      { seq: 4, ts: 480, at: 160 }, // after CN
      { seq: 5, ts: 8000, at: 1000, marker: true }, // a new talkspurt
      { seq: 6, ts: 8160, at: 1020 },
    ]).figures();
    assert.equal(f.maxDeltaMs, 20);
    assert.equal(f.packets, 6);
  });

  it('no jitter without a clock rate: telephone events (RFC 4733 §2.2.1) and unknown formats', () => {
    const event = { name: 'telephone-event', clockRate: 8000 };
    const e = run([0, 1, 2, 3].map((i) => ({ seq: i, ts: 500, at: i * 50, pt: 101, format: event }))).figures();
    assert.deepEqual([e.minJitterMs, e.meanJitterMs, e.maxJitterMs, e.clockRate, e.maxDeltaMs], [-1, 0, 0, 0, 50]);
    const u = run([0, 1, 2].map((i) => ({ seq: i, ts: i * 960, at: i * 20 + (i === 2 ? 7 : 0), pt: 96, format: undefined }))).figures();
    assert.deepEqual([u.minJitterMs, u.maxJitterMs, u.maxDeltaMs], [-1, 0, 27]);
  });

  it('a 48 kHz dynamic type from SDP (opus): timestamps 960 per 20 ms', () => {
    const opus = { name: 'opus', clockRate: 48000 };
    const f = run([0, 1, 2, 3].map((i) => ({ seq: i, ts: i * 960, at: i * 20, pt: 111, format: opus }))).figures();
    assert.deepEqual([f.maxJitterMs, f.clockRate], [0, 48000]);
  });

  it('one packet: nothing measured', () => {
    const f = run([{ seq: 9, ts: 0, at: 0 }]).figures();
    assert.deepEqual([f.packets, f.expected, f.lost, f.minDeltaMs, f.minJitterMs, f.maxDeltaMs], [1, 1, 0, -1, -1, 0]);
  });
});
