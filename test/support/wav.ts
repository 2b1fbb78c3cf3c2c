// WAV files for the media suites: a tone to play into a call (baresip's aufile source), and the
// 16-bit PCM of a WAV file read back (baresip's sndfile recordings).
import { readFile, writeFile } from 'node:fs/promises';

/** Write a mono 16-bit PCM WAV of a sine tone: `hz`, `seconds` long at `rate` Hz, amplitude a third of full scale. */
export async function writeToneWav(path: string, o: { hz: number; seconds: number; rate?: number }): Promise<void> {
  const rate = o.rate ?? 8000;
  const n = Math.round(rate * o.seconds);
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(10_000 * Math.sin((2 * Math.PI * o.hz * i) / rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  await writeFile(path, Buffer.concat([header, data]));
}

/** The samples of a 16-bit PCM WAV file (first channel) and its rate; chunks other than fmt and data skipped. */
export async function readWav(path: string): Promise<{ rate: number; channels: number; samples: Int16Array }> {
  const b = await readFile(path);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new Error(`${path}: not a WAV file`);
  let rate = 0;
  let channels = 1;
  for (let off = 12; off + 8 <= b.length; ) {
    const id = b.toString('latin1', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      channels = b.readUInt16LE(body + 2);
      rate = b.readUInt32LE(body + 4);
    } else if (id === 'data') {
      const end = Math.min(b.length, body + size);
      const frames = Math.floor((end - body) / (2 * channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = b.readInt16LE(body + i * 2 * channels);
      return { rate, channels, samples };
    }
    off = body + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}
