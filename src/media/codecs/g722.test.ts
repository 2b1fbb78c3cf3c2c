import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { G722_SAMPLE_RATE, G722Decoder } from './g722.js';
import { goertzel } from './testdata/audio.js';

const codes = new Uint8Array(readFileSync(new URL('./testdata/g722-ffmpeg.g722', import.meta.url)));
const refBytes = readFileSync(new URL('./testdata/g722-ffmpeg.s16le', import.meta.url));
const reference = new Int16Array(refBytes.length / 2);
for (let i = 0; i < reference.length; i++) reference[i] = refBytes.readInt16LE(i * 2);

describe('G.722 decoder (64 kbit/s)', () => {
  it('decodes what FFmpeg encoded exactly as FFmpeg’s own decoder does (testdata/README.md)', () => {
    const out = new Int16Array(codes.length * 2);
    assert.equal(new G722Decoder().decode(codes, out), 16000);
    assert.equal(reference.length, 16000);
    let first = -1;
    for (let i = 0; i < out.length && first < 0; i++) if (out[i] !== reference[i]) first = i;
    assert.equal(first, -1, `first different sample: ${first} (ours ${out[first]}, FFmpeg ${reference[first]})`);
  });

  it('gives the 1 kHz tone back at its level (peak 2048) and nothing at 3 kHz', () => {
    const out = new Int16Array(codes.length * 2);
    new G722Decoder().decode(codes, out);
    // samples 1600..4800 are the tone; skip the first 20 ms of the adaptation
    const level = goertzel(out, 1000, G722_SAMPLE_RATE, 2000, 4800);
    assert.ok(Math.abs(level - 2048) < 2048 * 0.06, `1 kHz at ${level.toFixed(0)}`);
    assert.ok(goertzel(out, 3000, G722_SAMPLE_RATE, 2000, 4800) < 20);
  });

  it('keeps its state across packets: 20 ms payloads decode as the whole does', () => {
    const whole = new Int16Array(codes.length * 2);
    new G722Decoder().decode(codes, whole);
    const decoder = new G722Decoder();
    const pieces = new Int16Array(codes.length * 2);
    const frame = new Int16Array(320);
    for (let at = 0; at < codes.length; at += 160) {
      const n = decoder.decode(codes.subarray(at, at + 160), frame);
      pieces.set(frame.subarray(0, n), at * 2);
    }
    assert.deepEqual(pieces, whole);
  });

  it('decodes silence to silence from the reset state', () => {
    const out = new Int16Array(320);
    new G722Decoder().decode(codes.subarray(0, 160), out); // the file's first 20 ms: encoded zeros
    assert.ok(out.every((s) => Math.abs(s) < 8));
  });
});
