import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AudioDecoderFactory, type PcmSink, RtpAudio } from './rtp-audio.js';
import type { RtpStreamId } from './rtp-streams.js';

/** A decoder that makes each payload octet one sample of its value × 100 (G.711-like: 8 kHz, 1 octet a sample). */
const octets: AudioDecoderFactory = (format) =>
  format.name === 'g711U' || format.name === 'g722'
    ? {
        sampleRate: format.name === 'g722' ? 16000 : 8000,
        decode: (payload) => Int16Array.from(format.name === 'g722' ? [...payload].flatMap((b) => [b * 100, b * 100]) : [...payload].map((b) => b * 100)),
      }
    : undefined;

/** A sink in memory. */
class MemorySink implements PcmSink {
  readonly samples: number[] = [];
  write(at: number, pcm: Int16Array): boolean {
    for (let i = 0; i < pcm.length; i++) this.samples[at + i] = pcm[i]!;
    return true;
  }
  /** The samples, unwritten ones as 0. */
  get pcm(): number[] {
    return Array.from(this.samples, (v) => v ?? 0);
  }
}

function rtp(pt: number, seq: number, ts: number, ssrc: number, payload: number[], opts: { padding?: number } = {}): Uint8Array {
  const pad = opts.padding ?? 0;
  const b = new Uint8Array(12 + payload.length + pad);
  b[0] = 0x80 | (pad > 0 ? 0x20 : 0);
  b[1] = pt;
  new DataView(b.buffer).setUint16(2, seq & 0xffff);
  new DataView(b.buffer).setUint32(4, ts >>> 0);
  new DataView(b.buffer).setUint32(8, ssrc);
  b.set(payload, 12);
  if (pad > 0) b[b.length - 1] = pad;
  return b;
}

const MS = 1_000_000n;
const T0 = 1_700_000_000_000n * MS;

function setup(select?: (id: RtpStreamId) => boolean) {
  const sinks = new Map<number, MemorySink>();
  const audio = new RtpAudio({
    decoders: octets,
    select,
    openSink: (id) => {
      const s = new MemorySink();
      sinks.set(id.ssrc, s);
      return s;
    },
  });
  const send = (time: bigint, datagram: Uint8Array, from = 4000) =>
    audio.add({ time, src: '10.0.0.1', srcPort: from, dst: '10.0.0.2', dstPort: 5000, payload: datagram });
  return { audio, sinks, send };
}

describe('RtpAudio', () => {
  it('puts each packet where its timestamp says: a lost packet is silence, a late one lands in its place', () => {
    const { audio, sinks, send } = setup();
    send(T0, rtp(0, 1, 1000, 7, [1, 1]));
    // seq 2 (timestamp 1002) is lost; seq 4 comes before seq 3
    send(T0 + 1n * MS, rtp(0, 4, 1006, 7, [4, 4]));
    send(T0 + 2n * MS, rtp(0, 3, 1004, 7, [3, 3]));
    assert.deepEqual(sinks.get(7)!.pcm, [100, 100, 0, 0, 300, 300, 400, 400]);
    const [r] = audio.reports();
    assert.equal(r!.codec, 'g711U');
    assert.equal(r!.samples, 8);
    assert.equal(r!.decodedPackets, 3);
    assert.equal(r!.startTime, T0);
  });

  it('skips telephone events and comfort noise, names what it cannot decode, and reads past padding', () => {
    const { audio, sinks, send } = setup();
    send(T0, rtp(0, 1, 0, 9, [1, 2], { padding: 3 }));
    send(T0, rtp(13, 2, 2, 9, [40])); // comfort noise (RFC 3389)
    send(T0, rtp(18, 3, 2, 9, [1, 2, 3])); // G.729: no decoder
    send(T0, rtp(18, 4, 5, 9, [1, 2, 3]));
    send(T0, rtp(101, 5, 2, 9, [1, 0, 0, 160])); // no format known for a dynamic type
    assert.deepEqual(sinks.get(9)!.pcm, [100, 200]);
    const [r] = audio.reports();
    assert.equal(r!.comfortNoisePackets, 1);
    assert.deepEqual(r!.undecodable, { g729: 2, 'payload type 101': 1 });
  });

  it('skips telephone-event when the format says so (SDP), and keeps streams apart by SSRC', () => {
    const sinks = new Map<number, MemorySink>();
    const audio = new RtpAudio({
      decoders: octets,
      formatOf: (_id, pt) => (pt === 101 ? { name: 'telephone-event', clockRate: 8000 } : undefined),
      openSink: (id) => {
        const s = new MemorySink();
        sinks.set(id.ssrc, s);
        return s;
      },
    });
    const add = (d: Uint8Array) => audio.add({ time: T0, src: 'a', srcPort: 1, dst: 'b', dstPort: 2, payload: d });
    add(rtp(0, 1, 0, 1, [5]));
    add(rtp(101, 2, 0, 1, [1, 0, 0, 160]));
    add(rtp(0, 1, 0, 2, [6]));
    assert.deepEqual(audio.reports().map((r) => [r.ssrc, r.telephoneEventPackets, r.decodedPackets]), [[1, 1, 1], [2, 0, 1]]);
    assert.deepEqual(sinks.get(2)!.pcm, [600]);
  });

  it('follows the timestamp across its 32-bit wrap', () => {
    const { sinks, send } = setup();
    send(T0, rtp(0, 1, 0xffff_fffe, 3, [1, 1]));
    send(T0 + 1n * MS, rtp(0, 2, 0, 3, [2, 2]));
    assert.deepEqual(sinks.get(3)!.pcm, [100, 100, 200, 200]);
  });

  it('scales G.722’s 8 kHz timestamps to its 16 kHz samples (RFC 3551 §4.5.2)', () => {
    const { sinks, send } = setup();
    send(T0, rtp(9, 1, 0, 5, [1]));
    send(T0 + 1n * MS, rtp(9, 3, 2, 5, [3])); // one lost octet: two 16 kHz samples of silence
    assert.deepEqual(sinks.get(5)!.pcm, [100, 100, 0, 0, 300, 300]);
  });

  it('places a packet by capture time when its timestamp jumps far away, and leaves out duplicates and packets before the start', () => {
    const { audio, sinks, send } = setup();
    send(T0, rtp(0, 1, 50_000, 4, [1]));
    send(T0, rtp(0, 1, 50_000, 4, [1])); // a duplicate: left out
    // 30,000 ticks back (3.75 s) 1 ms later: more than 2 s from the capture time, so placed by it (sample 8)
    send(T0 + 1n * MS, rtp(0, 2, 20_000, 4, [2]));
    send(T0 + 2n * MS, rtp(0, 3, 20_008, 4, [3])); // from the new anchor: 8 + 8
    send(T0 + 3n * MS, rtp(0, 4, 19_988, 4, [9])); // 20 ticks before the new anchor's 8: before the start, left out
    const r = audio.reports()[0]!;
    assert.equal(r.timestampJumps, 1);
    assert.deepEqual(sinks.get(4)!.pcm, [100, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0, 300]);
    assert.equal(r.skippedPackets, 2);
    assert.equal(r.decodedPackets, 3);
  });

  it('keeps only the selected streams', () => {
    const { audio, sinks, send } = setup((id) => id.ssrc === 2);
    send(T0, rtp(0, 1, 0, 1, [1]));
    send(T0, rtp(0, 1, 0, 2, [2]));
    assert.deepEqual([...sinks.keys()], [2]);
    assert.deepEqual(audio.reports().map((r) => r.ssrc), [2]);
  });
});
