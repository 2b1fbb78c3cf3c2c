/**
 * Reading a capture file for a `parley pcap` subcommand: the file in large chunks through one
 * reused buffer (constant memory, whatever the file's size), every record to `onRecord`, and a
 * progress bar (bytes read of the file's size) on stderr when it is a terminal.
 */
import { open } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import type { Result } from '../../lib/result.js';
import { CaptureReader, type CaptureError, type CaptureRecord, type CaptureSummary } from '../../pcap/index.js';

/** 4 MiB: few reads and few records spanning two chunks; the reader copies only those. */
export const CAPTURE_CHUNK_BYTES = 4 * 1024 * 1024;

export interface ReadCaptureFileOptions {
  /** Where to draw the progress bar (a terminal's stderr), or nothing. */
  readonly progress?: NodeJS.WritableStream;
  readonly chunkBytes?: number;
}

export async function readCaptureFile(
  path: string,
  onRecord: (record: CaptureRecord) => void,
  options: ReadCaptureFileOptions = {},
): Promise<Result<CaptureSummary, CaptureError>> {
  const file = await open(path, 'r');
  let bar: cliProgress.SingleBar | undefined;
  try {
    const size = (await file.stat()).size;
    if (options.progress !== undefined) {
      bar = new cliProgress.SingleBar(
        {
          format: 'reading [{bar}] {percentage}% | {read} of {size} MB | {duration_formatted} eta {eta_formatted}',
          stream: options.progress,
          hideCursor: true,
          clearOnComplete: true,
          barsize: 30,
          fps: 4,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.max(1, size), 0, { read: '0', size: megabytes(size) });
    }
    const reader = new CaptureReader(onRecord);
    const buffer = new Uint8Array(options.chunkBytes ?? CAPTURE_CHUNK_BYTES);
    let position = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      // The reader copies what it keeps between chunks, so the buffer is reused at once.
      const pushed = reader.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
      bar?.update(position, { read: megabytes(position) });
      if (!pushed.ok) return pushed;
    }
    return reader.end();
  } finally {
    bar?.stop();
    await file.close();
  }
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0);
}
