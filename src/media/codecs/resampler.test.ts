import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Downsampler, Upsampler } from './resampler.js';
import { db, goertzel, sine } from './testdata/audio.js';

/** Run `input` through `process` in frames of `frame` samples, concatenating the output. */
function inFrames(process: (f: Int16Array, out: Int16Array) => number, input: Int16Array, frame: number, factor: number): Int16Array {
  const out = new Int16Array(Math.ceil(input.length * factor));
  const scratch = new Int16Array(Math.ceil(frame * factor) + 8);
  let at = 0;
  for (let i = 0; i < input.length; i += frame) {
    const n = process(input.subarray(i, i + frame), scratch);
    out.set(scratch.subarray(0, n), at);
    at += n;
  }
  return out.subarray(0, at);
}

describe('resampler', () => {
  it('8 → 48 kHz keeps a 1 kHz tone’s frequency and level (±0.5 dB), and puts no image at 7 kHz', () => {
    const up = new Upsampler(6);
    const input = sine(1000, 8000, 1600, 10000);
    const out = inFrames((f, o) => up.process(f, o), input, 160, 6);
    assert.equal(out.length, 9600);
    const from = 960; // past the filter's delay
    const level = goertzel(out, 1000, 48000, from, out.length);
    assert.ok(Math.abs(db(level / 10000)) < 0.5, `level ${db(level / 10000).toFixed(2)} dB`);
    // zero-stuffing leaves images at 8k ± 1k; the low-pass must have removed them
    assert.ok(db(goertzel(out, 7000, 48000, from, out.length) / 10000) < -50);
    assert.ok(db(goertzel(out, 9000, 48000, from, out.length) / 10000) < -50);
  });

  it('48 → 8 kHz keeps a 1 kHz tone and removes a 6 kHz one instead of folding it onto 2 kHz', () => {
    const down = new Downsampler(6);
    const tone = inFrames((f, o) => down.process(f, o), sine(1000, 48000, 9600, 10000), 960, 1 / 6);
    assert.equal(tone.length, 1600);
    assert.ok(Math.abs(db(goertzel(tone, 1000, 8000, 160, 1600) / 10000)) < 0.5);
    const down2 = new Downsampler(6);
    const high = inFrames((f, o) => down2.process(f, o), sine(6000, 48000, 9600, 10000), 960, 1 / 6);
    // 6 kHz sampled at 8 kHz without a filter reads as 2 kHz at full level
    assert.ok(db(goertzel(high, 2000, 8000, 160, 1600) / 10000) < -50, `alias ${db(goertzel(high, 2000, 8000, 160, 1600) / 10000).toFixed(1)} dB`);
  });

  it('16 ↔ 48 kHz (×3): a 5 kHz tone survives both ways, a 10 kHz one is removed going down', () => {
    const up = new Upsampler(3);
    const high = inFrames((f, o) => up.process(f, o), sine(5000, 16000, 3200, 10000), 320, 3);
    assert.ok(Math.abs(db(goertzel(high, 5000, 48000, 960) / 10000)) < 0.5);
    const down = new Downsampler(3);
    const low = inFrames((f, o) => down.process(f, o), high, 960, 1 / 3);
    assert.ok(Math.abs(db(goertzel(low, 5000, 16000, 640) / 10000)) < 0.5);
    const down2 = new Downsampler(3);
    const alias = inFrames((f, o) => down2.process(f, o), sine(10000, 48000, 9600, 10000), 960, 1 / 3);
    assert.ok(db(goertzel(alias, 6000, 16000, 640) / 10000) < -50); // 10 kHz folds onto 6 kHz at 16 kHz
  });

  it('frame by frame equals all at once: the history carries across frame edges', () => {
    const input = sine(440, 8000, 800, 12000);
    const whole = new Int16Array(4800);
    new Upsampler(6).process(input, whole);
    const u = new Upsampler(6);
    const framed = inFrames((f, o) => u.process(f, o), input, 160, 6);
    assert.deepEqual(Array.from(framed), Array.from(whole));

    const input48 = sine(440, 48000, 4800, 12000);
    const whole8 = new Int16Array(800);
    new Downsampler(6).process(input48, whole8);
    const d = new Downsampler(6);
    const framed8 = inFrames((f, o) => d.process(f, o), input48, 960, 1 / 6);
    assert.deepEqual(Array.from(framed8), Array.from(whole8));
  });
});

