// Reading the SIP of a capture file for `parley pcap calls` and `parley pcap ladder`: the file
// streamed (constant memory besides what the caller keeps), a progress bar on stderr when both
// outputs are terminals and the file is big, and the reader's error (offset, what was expected).
import { createReadStream, statSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { readSipMessages, type CapturedSipMessage, type SipCaptureResult } from '../../capture/sip-capture.js';

export interface PcapIo {
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
}

/** Files at least this big get a progress bar (on a terminal). */
export const PROGRESS_MIN_BYTES = 8 * 1024 * 1024;

export type ReadSipFile = { readonly ok: true; readonly result: SipCaptureResult } | { readonly ok: false; readonly message: string };

export async function readSipFile(file: string, io: PcapIo, quiet: boolean, onMessage: (m: CapturedSipMessage) => void): Promise<ReadSipFile> {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return { ok: false, message: `${file}: not a file` };
    size = st.size;
  } catch (e) {
    return { ok: false, message: `${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}` };
  }
  const showBar = !quiet && io.stdout.isTTY === true && io.stderr.isTTY === true && size >= PROGRESS_MIN_BYTES;
  const bar = showBar
    ? new cliProgress.SingleBar(
        { format: 'reading [{bar}] {percentage}% | {mb}/{totalMb} MB | {messages} SIP messages | eta {eta_formatted}', stream: io.stderr, hideCursor: true, barsize: 30, fps: 4, etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let messages = 0;
  bar?.start(size, 0, { mb: '0', totalMb: (size / 1e6).toFixed(0), messages });
  try {
    const result = await readSipMessages(
      createReadStream(file, { highWaterMark: 1024 * 1024 }),
      (m) => {
        messages++;
        onMessage(m);
      },
      { onProgress: bar === undefined ? undefined : (read) => bar.update(read, { mb: (read / 1e6).toFixed(0), messages }) },
    );
    return { ok: true, result };
  } catch (e) {
    // the file could not be read (a directory, permissions, an I/O error): not the capture's fault
    return { ok: false, message: `${file}: ${(e as Error).message}` };
  } finally {
    bar?.stop();
  }
}

/** A capture time as UTC date and time to the millisecond: 2026-12-07 11:45:38.123. */
export function formatTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The time of day only (UTC): 11:45:38.123. */
export function formatTimeOfDay(ns: bigint): string {
  return formatTime(ns).slice(11);
}

/** ISO 8601 with nanoseconds, for JSON: 2026-12-07T11:45:38.123456789Z. */
export function isoNs(ns: bigint): string {
  const s = new Date(Number(ns / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
  return `${s}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
}
