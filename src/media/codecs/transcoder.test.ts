import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CodecSpec } from '../side.js';
import { g711Decode, g711Encode } from './g711.js';
import { readRtpHeader, writeRtpHeader } from './rtp-header.js';
import { db, goertzel, rms, sine, strongest } from './testdata/audio.js';
import { canTranscode, createTranscoder, type Transcoder } from './transcoder.js';

const PCMU: CodecSpec = { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 };
const PCMA: CodecSpec = { pt: 8, name: 'PCMA', clockRate: 8000, channels: 1 };
const OPUS: CodecSpec = { pt: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' };
const G722: CodecSpec = { pt: 9, name: 'G722', clockRate: 8000, channels: 1 };
const TE: CodecSpec = { pt: 101, name: 'telephone-event', clockRate: 8000, channels: 1 };

function rtp(pt: number, seq: number, ts: number, payload: Uint8Array, marker = false, ssrc = 0x11223344): Buffer {
  const p = writeRtpHeader(pt, marker, seq, ts, ssrc, payload.length);
  p.set(payload, 12);
  return p;
}

/** PCMU packets (20 ms each) of `pcm`, from sequence `seq0` and timestamp `ts0`. */
function pcmuPackets(pcm: Int16Array, seq0 = 1000, ts0 = 4_000_000): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i + 160 <= pcm.length; i += 160) {
    const codes = new Uint8Array(160);
    g711Encode('PCMU', pcm.subarray(i, i + 160), codes);
    out.push(rtp(0, (seq0 + i / 160) & 0xffff, (ts0 + i) >>> 0, codes, i === 0));
  }
  return out;
}

function decodePcmu(packets: Buffer[]): Int16Array {
  const pcm = new Int16Array(packets.length * 160);
  packets.forEach((p, i) => {
    const h = readRtpHeader(p)!;
    g711Decode('PCMU', p.subarray(h.payloadStart, h.payloadEnd), pcm.subarray(i * 160));
  });
  return pcm;
}

function run(t: Transcoder, packets: Buffer[]): Buffer[] {
  return packets.flatMap((p) => t.transcode(p));
}

describe('createTranscoder', () => {
  it('supports opus ↔ PCMU, opus ↔ PCMA and PCMU ↔ PCMA, and nothing else', () => {
    for (const [a, b] of [[OPUS, PCMU], [PCMU, OPUS], [OPUS, PCMA], [PCMA, OPUS], [PCMU, PCMA], [PCMA, PCMU]] as const) {
      const t = createTranscoder(a, b);
      assert.ok(t, `${a.name} → ${b.name}`);
      assert.ok(canTranscode(a, b));
      t.close();
    }
    for (const [a, b] of [[PCMU, PCMU], [OPUS, OPUS], [G722, PCMU], [PCMU, G722], [TE, PCMU], [{ ...PCMU, clockRate: 16000 }, OPUS]] as const) {
      assert.equal(createTranscoder(a, b), undefined, `${a.name} → ${b.name}`);
      assert.equal(canTranscode(a, b), false);
    }
  });
});

for (const opusRate of [8000, 48000] as const) describe(`Transcoder PCMU → opus → PCMU, Opus at ${opusRate} Hz`, () => {
  it('keeps a 440 Hz tone’s frequency and its level within 3 dB', () => {
    const up = createTranscoder(PCMU, OPUS, { opusRate })!;
    const down = createTranscoder(OPUS, PCMU, { opusRate })!;
    const input = sine(440, 8000, 8000, 8000); // 1 s
    const opus = run(up, pcmuPackets(input));
    assert.equal(opus.length, 50);
    const back = run(down, opus);
    assert.equal(back.length, 50);
    const pcm = decodePcmu(back);
    const from = 1600; // past the codec's and the filters' start-up
    assert.equal(strongest(pcm, 8000, [300, 350, 400, 440, 500, 600, 880, 1000], from), 440);
    const level = db(rms(pcm, from) / rms(input, from));
    assert.ok(Math.abs(level) < 3, `level ${level.toFixed(2)} dB`);
    assert.ok(db(goertzel(pcm, 440, 8000, from) / 8000) > -3);
    up.close();
    down.close();
  });

  it('keeps silence silent', () => {
    const up = createTranscoder(PCMU, OPUS, { opusRate })!;
    const down = createTranscoder(OPUS, PCMU, { opusRate })!;
    const pcm = decodePcmu(run(down, run(up, pcmuPackets(new Int16Array(8000)))));
    assert.ok(rms(pcm) < 10, `rms ${rms(pcm)}`);
    up.close();
    down.close();
  });

  it('writes its own stream: own SSRC, continuous sequence numbers, 960 / 160 per 20 ms, the marker kept', () => {
    const up = createTranscoder(PCMU, OPUS, { opusRate })!;
    const opus = run(up, pcmuPackets(sine(440, 8000, 1600)));
    const hs = opus.map((p) => readRtpHeader(p)!);
    assert.equal(hs.length, 10);
    for (let i = 0; i < hs.length; i++) {
      assert.equal(hs[i]!.payloadType, 111);
      assert.equal(hs[i]!.ssrc, up.ssrc);
      assert.notEqual(hs[i]!.ssrc, 0x11223344);
      assert.equal(hs[i]!.marker, i === 0);
      if (i > 0) {
        assert.equal(hs[i]!.sequence, (hs[i - 1]!.sequence + 1) & 0xffff);
        assert.equal(hs[i]!.timestamp, (hs[i - 1]!.timestamp + 960) >>> 0);
      }
    }
    assert.equal(hs[0]!.timestamp, up.timestampFor(4_000_000));
    const down = createTranscoder(OPUS, PCMU, { opusRate })!;
    const back = run(down, opus).map((p) => readRtpHeader(p)!);
    for (let i = 1; i < back.length; i++) assert.equal(back[i]!.timestamp, (back[i - 1]!.timestamp + 160) >>> 0);
    assert.equal(back[0]!.marker, true);
    up.close();
    down.close();
  });

  it('carries a gap in the input’s timestamps over as the same gap in the output’s, across a wrap', () => {
    const up = createTranscoder(PCMU, OPUS, { opusRate })!;
    const tone = sine(440, 8000, 800);
    // 5 packets, then silence suppression for 1 s (8000 units, sequence numbers continuous), then 5 more
    const first = pcmuPackets(tone, 65533, 0xffffff00);
    const second = pcmuPackets(tone, 65538, (0xffffff00 + 800 + 8000) >>> 0);
    const out = run(up, [...first, ...second]).map((p) => readRtpHeader(p)!);
    assert.equal(out.length, 10);
    assert.equal((out[5]!.timestamp - out[4]!.timestamp) >>> 0, 960 + 8000 * 6);
    for (let i = 1; i < 10; i++) assert.equal(out[i]!.sequence, (out[i - 1]!.sequence + 1) & 0xffff);
    up.close();
  });

  it('passes over packets of other payload types without taking them for lost ones, and drops what is not RTP', () => {
    const down = createTranscoder(OPUS, PCMU, { opusRate })!;
    const up = createTranscoder(PCMU, OPUS, { opusRate })!;
    const opus = run(up, pcmuPackets(sine(440, 8000, 800))).map((p, i) => {
      const copy = Buffer.from(p);
      copy.writeUInt16BE(i * 2, 2); // leave every other sequence number to a DTMF packet
      return copy;
    });
    let out = 0;
    for (let i = 0; i < opus.length; i++) {
      out += down.transcode(opus[i]!).length;
      const dtmf = rtp(101, i * 2 + 1, 0, Uint8Array.of(1, 0x0a, 0, 160));
      assert.deepEqual(down.transcode(dtmf), []);
      assert.deepEqual(down.transcode(rtp(13, 0, 0, Uint8Array.of(40))), []);
    }
    assert.equal(out, 5); // no concealment frames: nothing was lost
    assert.deepEqual(down.transcode(Buffer.from('not rtp at all')), []);
    assert.deepEqual(down.transcode(Buffer.alloc(0)), []);
    assert.deepEqual(down.transcode(rtp(111, 100, 0, Uint8Array.of(0x03, 0x00))), []); // invalid Opus
    down.close();
    up.close();
    assert.deepEqual(down.transcode(opus[0]!), []);
  });

  it('conceals lost Opus packets: the PCMU side gets a frame for each, on the timeline, and the tone goes on', () => {
    const up = createTranscoder(PCMU, OPUS, { opusRate })!;
    const down = createTranscoder(OPUS, PCMU, { opusRate })!;
    const opus = run(up, pcmuPackets(sine(440, 8000, 8000, 8000)));
    const kept = opus.filter((_, i) => i !== 30 && i !== 31);
    const out = run(down, kept);
    assert.equal(out.length, 50);
    const hs = out.map((p) => readRtpHeader(p)!);
    for (let i = 1; i < hs.length; i++) {
      assert.equal(hs[i]!.timestamp, (hs[i - 1]!.timestamp + 160) >>> 0);
      assert.equal(hs[i]!.sequence, (hs[i - 1]!.sequence + 1) & 0xffff);
    }
    const pcm = decodePcmu(out);
    assert.ok(rms(pcm, 30 * 160, 32 * 160) > 1000, 'the concealed frames are not silence');
    assert.equal(strongest(pcm, 8000, [300, 440, 600, 1000], 33 * 160), 440);
    up.close();
    down.close();
  });
});

describe('Transcoder when the input starts over', () => {
  it('takes a new SSRC with sequence numbers and timestamps of its own, and goes on on its own stream', () => {
    for (const [from, to, step] of [[PCMU, OPUS, 960], [PCMU, PCMA, 160]] as const) {
      const t = createTranscoder(from, to)!;
      const before = run(t, pcmuPackets(sine(440, 8000, 800), 30000, 1_000_000)).map((p) => readRtpHeader(p)!);
      // the new stream's sequence numbers lie "behind" the old ones, its timestamps elsewhere
      const restarted = pcmuPackets(sine(440, 8000, 800), 20000, 5).map((p) => {
        p.writeUInt32BE(0x55667788, 8);
        return p;
      });
      const after = run(t, restarted).map((p) => readRtpHeader(p)!);
      assert.equal(after.length, 5, `${from.name} → ${to.name}`);
      const last = before[before.length - 1]!;
      assert.equal(after[0]!.ssrc, last.ssrc);
      assert.equal(after[0]!.sequence, (last.sequence + 1) & 0xffff);
      assert.equal(after[0]!.timestamp, (last.timestamp + step) >>> 0);
      t.close();
    }
  });

  it('drops a late or repeated packet, and takes a far jump in sequence numbers as a restart, not as loss', () => {
    const t = createTranscoder(PCMU, PCMA)!;
    const packets = pcmuPackets(sine(440, 8000, 1600), 100, 0);
    assert.equal(run(t, packets.slice(0, 5)).length, 5);
    assert.deepEqual(t.transcode(packets[3]!), []); // late
    assert.deepEqual(t.transcode(packets[4]!), []); // repeated
    const back = Buffer.from(packets[5]!);
    back.writeUInt16BE((100 + 5 - 20000) & 0xffff, 2); // far behind: the sender started over
    assert.equal(t.transcode(back).length, 1);
    const next = Buffer.from(packets[6]!);
    next.writeUInt16BE((100 + 6 - 20000) & 0xffff, 2);
    assert.equal(t.transcode(next).length, 1);
    const ahead = Buffer.from(packets[7]!);
    ahead.writeUInt16BE((100 + 7 + 20000) & 0xffff, 2);
    assert.equal(t.transcode(ahead).length, 1);
    t.close();
  });
});

describe('Transcoder on bad input', () => {
  it('never throws: random bytes, random RTP payloads of every size up to a jumbo datagram, for every pair and both Opus rates', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (const opusRate of [8000, 48000] as const) {
      for (const [a, b] of [[OPUS, PCMU], [PCMU, OPUS], [OPUS, PCMA], [PCMA, OPUS], [PCMU, PCMA]] as const) {
        const t = createTranscoder(a, b, { opusRate })!;
        for (let i = 0; i < 300; i++) {
          const size = i === 299 ? 65_000 : Math.floor(rand() * (i % 10 === 0 ? 4000 : 400));
          const payload = Uint8Array.from({ length: size }, () => Math.floor(rand() * 256));
          t.transcode(rtp(a.pt, i, i * 960, payload, false));
          t.transcode(Buffer.from(payload.subarray(0, 40)));
        }
        t.close();
      }
    }
  });
});

describe('Transcoder PCMA ↔ PCMU', () => {
  it('round-trips a tone, one packet out for each in, with the input’s packet time', () => {
    const toA = createTranscoder(PCMU, PCMA)!;
    const toU = createTranscoder(PCMA, PCMU)!;
    const input = sine(440, 8000, 1600, 10000);
    const packets = pcmuPackets(input);
    const a = run(toA, packets);
    assert.equal(a.length, packets.length);
    assert.ok(a.every((p) => readRtpHeader(p)!.payloadType === 8 && p.length === 172));
    const back = decodePcmu(run(toU, a));
    const noise = new Int16Array(back.length);
    for (let i = 0; i < back.length; i++) noise[i] = back[i]! - input[i]!;
    assert.ok(db(rms(input) / rms(noise)) > 30);
    const hs = a.map((p) => readRtpHeader(p)!);
    assert.equal(hs[1]!.timestamp, (hs[0]!.timestamp + 160) >>> 0);
    assert.equal(hs[0]!.timestamp, toA.timestampFor(4_000_000));
    toA.close();
    toU.close();
  });
});
