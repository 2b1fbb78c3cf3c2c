/** Test signals and measurements for the codec tests: sines, levels, Goertzel, WAV files to listen to. */

/** `seconds` of a sine at `hz` and peak `amplitude`, sampled at `rate`. */
export function sine(hz: number, rate: number, samples: number, amplitude = 8000, phase = 0): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = Math.round(amplitude * Math.sin(phase + (2 * Math.PI * hz * i) / rate));
  return out;
}

export function rms(pcm: Int16Array, from = 0, to = pcm.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += pcm[i]! * pcm[i]!;
  return Math.sqrt(sum / Math.max(1, to - from));
}

export function db(ratio: number): number {
  return 20 * Math.log10(ratio);
}

/** The amplitude of the `hz` component of `pcm` (Goertzel's algorithm; a sine of peak A reads A). */
export function goertzel(pcm: Int16Array, hz: number, rate: number, from = 0, to = pcm.length): number {
  const n = to - from;
  const w = (2 * Math.PI * hz) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const s0 = pcm[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / n;
}

/** The strongest frequency among `candidates` (Hz). */
export function strongest(pcm: Int16Array, rate: number, candidates: readonly number[], from = 0, to = pcm.length): number {
  let best = candidates[0]!;
  let bestLevel = -1;
  for (const hz of candidates) {
    const level = goertzel(pcm, hz, rate, from, to);
    if (level > bestLevel) {
      bestLevel = level;
      best = hz;
    }
  }
  return best;
}

/** A 16-bit mono PCM WAV file of `pcm` (write it out to listen to what a test hears). */
export function toWav(pcm: Int16Array, rate: number): Buffer {
  const data = pcm.length * 2;
  const wav = Buffer.alloc(44 + data);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + data, 4);
  wav.write('WAVE', 8, 'ascii');
  wav.write('fmt ', 12, 'ascii');
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(data, 40);
  for (let i = 0; i < pcm.length; i++) wav.writeInt16LE(pcm[i]!, 44 + i * 2);
  return wav;
}
