// Reading a capture file for the `parley pcap` subcommands that go through it packet by packet
// (wav, split): the file streamed in chunks through src/pcap's reader (constant memory), each
// record decoded down to UDP or TCP, and a progress bar by bytes on stderr when it is a terminal.
import { createReadStream, statSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { CaptureReader, type CaptureRecord, type CaptureSummary, PacketDecoder, type Decoded } from '../../pcap/index.js';
import type { CaptureError } from '../../pcap/index.js';

export interface ReadOptions {
  /** Draw a progress bar on this stream (a terminal). */
  readonly progress?: NodeJS.WritableStream;
}

/** Capture time of a record in ns since the epoch. */
export function recordTime(record: CaptureRecord): bigint {
  return BigInt(record.seconds) * 1_000_000_000n + BigInt(record.nanoseconds);
}

/** Calls `onPacket` for every record of `path` with its decoding; resolves to the summary or the file's error. */
export async function readCaptureFile(
  path: string,
  onPacket: (record: CaptureRecord, decoded: Decoded) => void,
  options: ReadOptions = {},
): Promise<{ ok: true; value: CaptureSummary } | { ok: false; error: CaptureError }> {
  const decoder = new PacketDecoder();
  const reader = new CaptureReader((record) => onPacket(record, decoder.decode(record)));
  const size = statSync(path).size;
  const bar = options.progress
    ? new cliProgress.SingleBar(
        { format: 'reading [{bar}] {percentage}% | {value}/{total} MB | eta {eta_formatted}', stream: options.progress, hideCursor: true, fps: 4, barsize: 30 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(Math.max(1, Math.round(size / 1e6)), 0);
  let done = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      const r = reader.push(chunk as Buffer);
      if (!r.ok) return r;
      done += (chunk as Buffer).length;
      bar?.update(Math.round(done / 1e6));
    }
    return reader.end();
  } finally {
    bar?.stop();
  }
}

/** A name made safe for a file: letters, digits, '.', '-' and '_' kept, anything else '_' (at most 80). */
export function fileSafe(text: string): string {
  let out = '';
  for (const ch of text.slice(0, 80)) {
    const c = ch.charCodeAt(0);
    const keep = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || ch === '.' || ch === '-' || ch === '_';
    out += keep && ch.length === 1 ? ch : '_';
  }
  return out === '' || out === '.' || out === '..' ? '_' : out;
}
