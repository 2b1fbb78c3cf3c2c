import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MAX_OPEN_WAV_FILES, mixWavFiles, WAV_HEADER_BYTES, WavFileWriter, wavHeader } from './wav-file.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-wav-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function samplesOf(path: string): number[] {
  const b = readFileSync(path);
  const out: number[] = [];
  for (let i = WAV_HEADER_BYTES; i < b.length; i += 2) out.push(b.readInt16LE(i));
  return out;
}

function write(name: string, rate: number, parts: Array<[number, number[]]>): WavFileWriter {
  const w = new WavFileWriter(join(dir, name), rate);
  for (const [at, pcm] of parts) w.write(at, Int16Array.from(pcm));
  w.close();
  return w;
}

describe('WAV files', () => {
  it('writes the RIFF header of 16-bit mono PCM', () => {
    const h = Buffer.from(wavHeader(16000, 3));
    assert.equal(h.toString('latin1', 0, 4), 'RIFF');
    assert.equal(h.readUInt32LE(4), 36 + 6);
    assert.equal(h.toString('latin1', 8, 16), 'WAVEfmt ');
    assert.deepEqual([h.readUInt32LE(16), h.readUInt16LE(20), h.readUInt16LE(22)], [16, 1, 1]);
    assert.deepEqual([h.readUInt32LE(24), h.readUInt32LE(28), h.readUInt16LE(32), h.readUInt16LE(34)], [16000, 32000, 2, 16]);
    assert.equal(h.toString('latin1', 36, 40), 'data');
    assert.equal(h.readUInt32LE(40), 6);
  });

  it('writes samples at any position, in any order; the gaps read as zeros; the header has the length', () => {
    const w = write('a.wav', 8000, [[4, [5, -6]], [0, [1, 2]]]);
    assert.equal(w.length, 6);
    assert.deepEqual(samplesOf(w.path), [1, 2, 0, 0, 5, -6]);
    assert.equal(readFileSync(w.path).readUInt32LE(40), 12);
    assert.equal(w.write(-1, Int16Array.of(1)), false);
  });

  it('mixes files from their offsets, clipping at 16 bits', () => {
    const a = write('m1.wav', 8000, [[0, [1000, 30000, -30000, 7]]]);
    const b = write('m2.wav', 8000, [[0, [5000, -10000, 3]]]);
    const out = join(dir, 'mix.wav');
    const n = mixWavFiles([{ path: a.path, samples: 4, offset: 0 }, { path: b.path, samples: 3, offset: 1 }, { path: b.path, samples: 3, offset: 6 }], out, 8000);
    assert.equal(n, 9);
    assert.deepEqual(samplesOf(out), [1000, 32767, -32768, 10, 0, 0, 5000, -10000, 3]);
    assert.equal(readFileSync(out).readUInt32LE(24), 8000);
  });

  it('mixes across its chunk boundary (16,384 samples)', () => {
    const long = Array.from({ length: 20000 }, (_v, i) => i % 100);
    const a = write('l1.wav', 8000, [[0, long]]);
    const out = join(dir, 'lmix.wav');
    mixWavFiles([{ path: a.path, samples: 20000, offset: 0 }, { path: a.path, samples: 20000, offset: 16380 }], out, 8000);
    const mixed = samplesOf(out);
    assert.equal(mixed.length, 36380);
    for (const i of [0, 16379, 16380, 16384, 19999, 20000, 36379]) {
      const expect = (i < 20000 ? long[i]! : 0) + (i >= 16380 ? long[i - 16380]! : 0);
      assert.equal(mixed[i], expect, `sample ${i}`);
    }
  });

  it(`keeps at most ${MAX_OPEN_WAV_FILES} files open: more writers than that still write every sample`, () => {
    const n = MAX_OPEN_WAV_FILES + 40;
    const writers = Array.from({ length: n }, (_v, k) => new WavFileWriter(join(dir, `many-${k}.wav`), 8000));
    for (let round = 0; round < 3; round++) writers.forEach((w, k) => w.write(round * 2, Int16Array.of(k, 1000 - k)));
    for (const w of writers) w.close();
    writers.forEach((w, k) => assert.deepEqual(samplesOf(w.path), [k, 1000 - k, k, 1000 - k, k, 1000 - k], w.path));
    assert.ok(readdirSync(dir).length >= n);
  });
});
