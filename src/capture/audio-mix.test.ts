import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupByEndpoints, planMix } from './audio-mix.js';
import type { AudioTrackReport } from './rtp-audio.js';

function track(ssrc: number, startMs: number | undefined, rate = 8000, samples = 800, codec = 'g711U'): AudioTrackReport {
  return {
    src: 'a', srcPort: 1, dst: 'b', dstPort: 2, ssrc, firstTime: 0n, codec, sampleRate: startMs === undefined ? undefined : rate,
    startTime: startMs === undefined ? undefined : 1_000_000_000_000n + BigInt(startMs) * 1_000_000n, samples: startMs === undefined ? 0 : samples,
    decodedPackets: 1, telephoneEventPackets: 0, comfortNoisePackets: 0, undecodable: {}, skippedPackets: 0, timestampJumps: 0,
  };
}

describe('planMix', () => {
  it('aligns the streams on their first packet’s capture time, from the earliest', () => {
    const r = planMix([track(1, 250), track(2, 100), track(3, undefined)]);
    assert.ok(r.ok);
    assert.equal(r.value.sampleRate, 8000);
    assert.deepEqual(r.value.inputs.map((i) => [i.track.ssrc, i.offset]), [[1, 1200], [2, 0]]);
  });

  it('refuses streams of different sample rates, naming them', () => {
    const r = planMix([track(1, 0), track(2, 0, 16000, 800, 'g722')]);
    assert.ok(!r.ok);
    assert.match(r.error, /different sample rates \(g711U at 8000 Hz, g722 at 16000 Hz\)/);
    assert.ok(!planMix([track(1, undefined)]).ok);
  });
});

describe('groupByEndpoints', () => {
  it('puts a stream and the one coming back between the same two ports in one group', () => {
    const s = (src: string, srcPort: number, dst: string, dstPort: number, ssrc: number) => ({ src, srcPort, dst, dstPort, ssrc });
    const groups = groupByEndpoints([s('10.0.0.1', 4000, '10.0.0.2', 5000, 1), s('10.0.0.3', 4000, '10.0.0.2', 5000, 2), s('10.0.0.2', 5000, '10.0.0.1', 4000, 3)]);
    assert.deepEqual(groups.map((g) => g.map((x) => x.ssrc)), [[1, 3], [2]]);
  });
});
