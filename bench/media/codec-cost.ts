/**
 * CPU per 20 ms packet of the transcoders (src/media/codecs), each direction on its own, on one
 * thread: a 440 Hz tone with some noise, PACKETS packets per run (bounded), the best of RUNS runs,
 * in CPU time (process.cpuUsage) per packet.
 *   ./node_modules/.bin/node --import tsx bench/media/codec-cost.ts [packets] [complexity] [opus PCM rate: 8000 | 48000]
 */
import type { CodecSpec } from '../../src/media/side.js';
import { g711Encode } from '../../src/media/codecs/g711.js';
import { OPUS_BANDWIDTH } from '../../src/media/codecs/opus-codec.js';
import { Downsampler, Upsampler } from '../../src/media/codecs/resampler.js';
import { writeRtpHeader } from '../../src/media/codecs/rtp-header.js';
import { createTranscoder } from '../../src/media/codecs/transcoder.js';
import { createDtmfMapper } from '../../src/media/codecs/dtmf.js';

const PACKETS = Math.min(50_000, Number(process.argv[2] ?? 5000));
const COMPLEXITY = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const RUNS = 3;
const PCMU: CodecSpec = { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 };
const PCMA: CodecSpec = { pt: 8, name: 'PCMA', clockRate: 8000, channels: 1 };
const OPUS: CodecSpec = { pt: 111, name: 'opus', clockRate: 48000, channels: 2 };

function pcmuPackets(n: number): Buffer[] {
  const out: Buffer[] = [];
  let phase = 0;
  let seed = 1;
  const pcm = new Int16Array(160);
  for (let p = 0; p < n; p++) {
    for (let i = 0; i < 160; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      pcm[i] = Math.round(6000 * Math.sin(phase) + ((seed % 2000) - 1000));
      phase += (2 * Math.PI * 440) / 8000;
    }
    const packet = writeRtpHeader(0, p === 0, p & 0xffff, p * 160, 1, 160);
    g711Encode('PCMU', pcm, packet.subarray(12));
    out.push(packet);
  }
  return out;
}

function time(label: string, packets: Buffer[], make: () => { transcode(b: Buffer): Buffer[]; close(): void }): void {
  let best = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const t = make();
    // CPU time of this process rather than wall time: the figure holds on a shared machine
    const start = process.cpuUsage();
    for (const p of packets) t.transcode(p);
    const used = process.cpuUsage(start);
    t.close();
    best = Math.min(best, (used.user + used.system) / packets.length);
  }
  console.log(`${label.padEnd(34)} ${best.toFixed(1).padStart(7)} µs CPU per 20 ms packet`);
}

const OPUS_RATE = process.argv[4] === '48000' ? 48000 : 8000;
const opusOptions = { opusRate: OPUS_RATE, ...(COMPLEXITY === undefined ? {} : { opus: { complexity: COMPLEXITY } }) } as const;
const pcmu = pcmuPackets(PACKETS);
// What a browser sends: Opus from 48 kHz PCM, full band (the same packets for both PCM rates)
const encoder = createTranscoder(PCMU, OPUS, { opusRate: 48000, opus: { maxBandwidth: OPUS_BANDWIDTH.fullband, complexity: 9 } })!;
const opus = pcmu.flatMap((p) => encoder.transcode(p));
encoder.close();

console.log(`${PACKETS} packets, best of ${RUNS}, Opus complexity ${COMPLEXITY ?? 'default (5)'}, Opus PCM at ${OPUS_RATE} Hz, node ${process.version}`);
time(`PCMU → opus${OPUS_RATE === 48000 ? ' (×6 FIR)' : ''}`, pcmu, () => createTranscoder(PCMU, OPUS, opusOptions)!);
time(`opus → PCMU${OPUS_RATE === 48000 ? ' (÷6 FIR)' : ''}`, opus, () => createTranscoder(OPUS, PCMU, opusOptions)!);
time('PCMU → PCMA (table)', pcmu, () => createTranscoder(PCMU, PCMA)!);
const up = new Upsampler(6);
const down = new Downsampler(6);
const a = new Int16Array(160);
const b = new Int16Array(960);
time('resampler 8 → 48 kHz alone', pcmu, () => ({ transcode: () => (up.process(a, b), []), close() {} }));
time('resampler 48 → 8 kHz alone', pcmu, () => ({ transcode: () => (down.process(b, a), []), close() {} }));
const te = writeRtpHeader(101, false, 1, 1, 1, 4);
te.set([1, 10, 0, 160], 12);
const mapper = createDtmfMapper({ pt: 101, name: 'telephone-event', clockRate: 8000, channels: 1 }, { pt: 110, name: 'telephone-event', clockRate: 48000, channels: 1 })!;
time('telephone-event 8 → 48 kHz', Array(PACKETS).fill(te), () => ({ transcode: (p) => [mapper.map(p)!], close() {} }));
