/**
 * WAV files of 16-bit linear PCM, mono: the RIFF container with one `fmt ` chunk (format 1, PCM)
 * and one `data` chunk, samples little-endian (Microsoft's RIFF/WAVE "Multimedia Programming
 * Interface and Data Specifications 1.0", the format sox, ffmpeg and every player read).
 *
 * `WavFileWriter` writes samples at any position (RTP puts them where their timestamp says, in
 * any order): positions never written read back as zeros, which is how a lost packet becomes
 * silence. Memory stays constant, and at most MAX_OPEN_WAV_FILES files are open at once (the least
 * recently written is closed, and reopened when written again); the header is written last.
 * `mixWavFiles` sums finished files, each from its own offset, in fixed-size chunks.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

export const WAV_HEADER_BYTES = 44;
/** The largest data chunk RIFF's 32-bit sizes allow (minus the header). */
const MAX_DATA_BYTES = 0xffff_ffff - WAV_HEADER_BYTES;

/** The 44-byte header of a mono 16-bit PCM WAV file of `samples` samples at `sampleRate` Hz. */
export function wavHeader(sampleRate: number, samples: number): Uint8Array {
  const dataBytes = samples * 2;
  const header = new Uint8Array(WAV_HEADER_BYTES);
  const view = new DataView(header.buffer);
  const ascii = (at: number, text: string): void => {
    for (let i = 0; i < text.length; i++) header[at + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true); // the RIFF chunk's size: all that follows these 8 bytes
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size (PCM)
  view.setUint16(20, 1, true); // format tag: WAVE_FORMAT_PCM
  view.setUint16(22, 1, true); // channels
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // bytes per second
  view.setUint16(32, 2, true); // block align: channels × bytes per sample
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  return header;
}

/** Little-endian bytes of `samples` (a copy only on a big-endian machine). */
function littleEndian(samples: Int16Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i]!, true);
  return out;
}
const LITTLE_ENDIAN = new Uint8Array(Int16Array.of(1).buffer)[0] === 1;

/** At most this many writers keep their file open; the least recently written is closed and reopened when written again. */
export const MAX_OPEN_WAV_FILES = 256;
const open = new Set<WavFileWriter>();

export class WavFileWriter {
  private fd: number | undefined;
  private samples = 0;
  private closed = false;

  constructor(
    readonly path: string,
    readonly sampleRate: number,
  ) {
    writeSync(this.handle('w'), wavHeader(sampleRate, 0), 0, WAV_HEADER_BYTES, 0);
  }

  /** Samples written so far: the highest position written plus its length. */
  get length(): number {
    return this.samples;
  }

  /** Writes `pcm` from sample position `at` (≥ 0); returns false past RIFF's 4 GiB limit or once closed. */
  write(at: number, pcm: Int16Array): boolean {
    if (this.closed || at < 0 || (at + pcm.length) * 2 > MAX_DATA_BYTES) return false;
    const bytes = littleEndian(pcm);
    writeSync(this.handle('r+'), bytes, 0, bytes.length, WAV_HEADER_BYTES + at * 2);
    if (at + pcm.length > this.samples) this.samples = at + pcm.length;
    return true;
  }

  /** Writes the header with the final length and closes the file. */
  close(): void {
    if (this.closed) return;
    writeSync(this.handle('r+'), wavHeader(this.sampleRate, this.samples), 0, WAV_HEADER_BYTES, 0);
    this.closed = true;
    this.release();
  }

  /** The open file (the most recently used now), opened with `flags` if it was not. */
  private handle(flags: 'w' | 'r+'): number {
    if (this.fd !== undefined) {
      open.delete(this);
      open.add(this);
      return this.fd;
    }
    if (open.size >= MAX_OPEN_WAV_FILES) open.values().next().value!.release();
    this.fd = openSync(this.path, flags);
    open.add(this);
    return this.fd;
  }

  private release(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    open.delete(this);
  }
}

/** One finished WAV file of ours and where its first sample goes in a mix. */
export interface MixInput {
  readonly path: string;
  readonly samples: number;
  /** Position of its first sample in the mix. */
  readonly offset: number;
}

const MIX_CHUNK = 16_384;

/**
 * Sums `inputs` (same rate, written by WavFileWriter) into one file: each sample the sum of the
 * inputs there, clipped to 16 bits. Returns the mix's length in samples.
 */
export function mixWavFiles(inputs: readonly MixInput[], outPath: string, sampleRate: number): number {
  const total = Math.max(0, ...inputs.map((i) => i.offset + i.samples));
  const out = new WavFileWriter(outPath, sampleRate);
  const fds = inputs.map((i) => openSync(i.path, 'r'));
  try {
    const sum = new Int32Array(MIX_CHUNK);
    const bytes = new Uint8Array(MIX_CHUNK * 2);
    const view = new DataView(bytes.buffer);
    const pcm = new Int16Array(MIX_CHUNK);
    for (let start = 0; start < total; start += MIX_CHUNK) {
      const n = Math.min(MIX_CHUNK, total - start);
      sum.fill(0);
      inputs.forEach((input, k) => {
        // this input's samples [from, to) that fall in the chunk [start, start + n)
        const from = Math.max(start, input.offset);
        const to = Math.min(start + n, input.offset + input.samples);
        if (to <= from) return;
        const read = readSync(fds[k]!, bytes, 0, (to - from) * 2, WAV_HEADER_BYTES + (from - input.offset) * 2);
        for (let i = 0; i < read >> 1; i++) sum[from - start + i]! += view.getInt16(i * 2, true);
      });
      for (let i = 0; i < n; i++) {
        const v = sum[i]!;
        pcm[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
      out.write(start, pcm.subarray(0, n));
    }
  } finally {
    for (const fd of fds) closeSync(fd);
    out.close();
  }
  return total;
}
