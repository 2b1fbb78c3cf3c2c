import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { OPUS_FRAME, OpusCodec, opusHeapBytes } from './opus-codec.js';
import { db, goertzel, rms, sine } from './testdata/audio.js';

describe('OpusCodec (libopus in wasm)', () => {
  it('encodes and decodes 20 ms frames of a 440 Hz tone, keeping its level within 1 dB', () => {
    const codec = new OpusCodec();
    const input = sine(440, 48000, OPUS_FRAME * 50, 8000);
    const output = new Int16Array(input.length);
    const frame = new Int16Array(5760);
    for (let f = 0; f < 50; f++) {
      const packet = codec.encode(input, OPUS_FRAME, f * OPUS_FRAME);
      assert.ok(packet && packet.length > 0 && packet.length < 400);
      const n = codec.decode(packet, frame);
      assert.equal(n, OPUS_FRAME);
      output.set(frame.subarray(0, n), f * OPUS_FRAME);
    }
    codec.close();
    const from = OPUS_FRAME * 10;
    const level = goertzel(output, 440, 48000, from, output.length);
    assert.ok(Math.abs(db(level / 8000)) < 1, `level ${db(level / 8000).toFixed(2)} dB`);
  });

  it('conceals a lost packet with audio that continues the tone, and refuses a bad packet without throwing', () => {
    const codec = new OpusCodec();
    const input = sine(440, 48000, OPUS_FRAME * 20, 8000);
    const out = new Int16Array(5760);
    for (let f = 0; f < 20; f++) codec.decode(codec.encode(input, OPUS_FRAME, f * OPUS_FRAME), out);
    const n = codec.decode(undefined, out);
    assert.equal(n, OPUS_FRAME);
    assert.ok(rms(out, 0, n) > 1000, `concealed rms ${rms(out, 0, n)}`);
    assert.equal(codec.decode(undefined, out, 3 * OPUS_FRAME), 3 * OPUS_FRAME);
    // a TOC byte announcing code 3 (arbitrary frames) with a frame count of 0 is invalid (RFC 6716 §3.2.5)
    assert.equal(codec.decode(Uint8Array.of(0x03, 0x00), out), -1);
    codec.close();
    codec.close();
    assert.equal(codec.decode(undefined, out), -1);
    assert.equal(codec.encode(input), undefined);
  });

  it('decodes a stereo stream (what opus/48000/2 with stereo=1 may carry) as its mono downmix, at 48 and at 8 kHz', () => {
    // a stereo encoder from opusscript's own wrapper (a test may use it; Parley does not: see opus-codec.ts)
    const OpusScript = createRequire(import.meta.url)('opusscript') as new (rate: number, channels: number, app: number) => {
      encode(pcm: Buffer, frame: number): Buffer;
      delete(): void;
    };
    const stereo = new OpusScript(48000, 2, 2048);
    const left = sine(440, 48000, OPUS_FRAME * 20, 6000);
    const packets: Buffer[] = [];
    for (let f = 0; f < 20; f++) {
      const pcm = Buffer.alloc(OPUS_FRAME * 4);
      for (let i = 0; i < OPUS_FRAME; i++) pcm.writeInt16LE(left[f * OPUS_FRAME + i]!, i * 4); // right channel silent
      packets.push(stereo.encode(pcm, OPUS_FRAME));
    }
    stereo.delete();
    for (const rate of [48000, 8000] as const) {
      const codec = new OpusCodec({ rate });
      const out = new Int16Array(rate / 50 * 20);
      const frame = new Int16Array(5760);
      packets.forEach((p, f) => out.set(frame.subarray(0, codec.decode(p, frame)), (f * rate) / 50));
      codec.close();
      // the downmix of a tone on one channel: the tone at about half its level (−6 dB)
      const level = db(goertzel(out, 440, rate, rate / 5) / 6000);
      assert.ok(level > -9 && level < -3, `${rate}: ${level.toFixed(1)} dB`);
    }
  });

  it('frees its wasm memory on close: 1,000 codecs created and closed leave the heap as it was', () => {
    const pcm = sine(440, 48000, OPUS_FRAME);
    for (let i = 0; i < 20; i++) new OpusCodec().close();
    const before = opusHeapBytes();
    for (let i = 0; i < 1000; i++) {
      const c = new OpusCodec();
      c.encode(pcm);
      c.close();
    }
    assert.equal(opusHeapBytes(), before);
  });
});
