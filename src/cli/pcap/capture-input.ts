// Reading a capture file for every `parley pcap` subcommand: the file opened once (or stdin),
// read in large chunks (each pass from the start), a progress bar by bytes read on stderr when it
// is a terminal, the output is not --json and the file is big enough, and the file's error
// (CaptureError: its offset and what was expected) worded the same by every subcommand.
import { type FileHandle, open } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import type { Result } from '../../lib/result.js';
import { CaptureReader, type CaptureError, type CaptureRecord, type CaptureSummary } from '../../pcap/index.js';

/**
 * Exit status of every `parley pcap` subcommand: 0 done; 1 the file could not be read whole (no
 * such file, not a capture, damaged: what came before the fault is still printed) or held nothing
 * to do; 2 bad usage. `decrypt` adds 3: packets that failed authentication.
 */
export const PCAP_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Where a subcommand writes: its output and its messages (a terminal or not). */
export interface PcapIo {
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
}

/** Process streams for library calls that draw no bar (the caller passes json: true with them). */
export function quietIo(): PcapIo {
  return { stdout: process.stdout, stderr: process.stderr };
}

/** 4 MiB: few reads, and few records spanning two chunks (the reader copies only those). */
export const CAPTURE_CHUNK_BYTES = 4 * 1024 * 1024;

/** Files at least this big get a progress bar (on a terminal): a smaller one is read before a bar would be seen. */
export const PROGRESS_MIN_BYTES = 8 * 1024 * 1024;

/** The progress bar's rule, the same for every subcommand: stderr a terminal, not --json, a big enough file. */
export function showsProgress(io: PcapIo, json: boolean, size: number): boolean {
  return !json && io.stderr.isTTY === true && size >= PROGRESS_MIN_BYTES;
}

export interface PassOptions {
  /** What the bar says it is doing ("reading", "SIP pass", "decrypting"). */
  readonly label?: string;
  /**
   * Read every chunk into one reused buffer (the fast path). Only for consumers that keep no
   * bytes of a record after their callback returns (src/pcap's reader copies what it carries over).
   */
  readonly reuseBuffer?: boolean;
}

/** An opened capture: its size and passes over its bytes, each drawing the progress bar. */
export class CaptureInput {
  private bar: cliProgress.SingleBar | undefined;

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle | undefined,
    /** Bytes in the file; 0 for stdin (no bar). */
    readonly size: number,
    private readonly io: PcapIo,
    private readonly progress: boolean,
    private readonly chunkBytes: number,
  ) {}

  /** Opens `file` ("-" for stdin), or the message for people when it is not a file that can be read. */
  static async open(file: string, io: PcapIo, options: { readonly json: boolean; readonly chunkBytes?: number }): Promise<Result<CaptureInput, string>> {
    const chunkBytes = options.chunkBytes ?? CAPTURE_CHUNK_BYTES;
    if (file === '-') return { ok: true, value: new CaptureInput(file, undefined, 0, io, false, chunkBytes) };
    let handle: FileHandle | undefined;
    try {
      handle = await open(file, 'r');
      const st = await handle.stat();
      if (!st.isFile()) {
        await handle.close();
        return { ok: false, error: `${file}: not a file` };
      }
      return { ok: true, value: new CaptureInput(file, handle, st.size, io, showsProgress(io, options.json, st.size), chunkBytes) };
    } catch (e) {
      await handle?.close();
      return { ok: false, error: fileProblem(file, e) };
    }
  }

  async close(): Promise<void> {
    this.stopBar();
    await this.handle?.close();
  }

  /** One pass over the bytes from the start, the bar following it; stdin can be read once only. */
  async *chunks(options: PassOptions = {}): AsyncGenerator<Uint8Array> {
    const handle = this.handle;
    if (handle === undefined) {
      for await (const c of process.stdin) yield c as Buffer;
      return;
    }
    this.startBar(options.label ?? 'reading');
    try {
      const reused = options.reuseBuffer === true ? new Uint8Array(this.chunkBytes) : undefined;
      let position = 0;
      for (;;) {
        const buffer = reused ?? new Uint8Array(this.chunkBytes);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
        this.bar?.update(position, { mb: megabytes(position) });
      }
    } finally {
      this.stopBar();
    }
  }

  /** Every record of one pass to `onRecord`; the summary, or the file's error (what came before it was handed out). */
  async records(onRecord: (record: CaptureRecord) => void, options: PassOptions = {}): Promise<Result<CaptureSummary, CaptureError>> {
    const reader = new CaptureReader(onRecord);
    for await (const chunk of this.chunks(options)) {
      const pushed = reader.push(chunk);
      if (!pushed.ok) return pushed;
    }
    return reader.end();
  }

  private startBar(label: string): void {
    if (!this.progress) return;
    this.bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {mb} of {totalMb} MB | eta {eta_formatted}`, stream: this.io.stderr, hideCursor: true, clearOnComplete: true, barsize: 30, fps: 4 },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(Math.max(1, this.size), 0, { mb: '0', totalMb: megabytes(this.size) });
  }

  private stopBar(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/**
 * Opens `file`, runs `use` on it and closes it: what `use` resolves to, or the message for people
 * when the file could not be opened or read (a directory, permissions, an I/O error: not the
 * capture's fault; the capture's own errors are in what `use` returns).
 */
export async function withCaptureInput<T>(
  file: string,
  io: PcapIo,
  options: { readonly json: boolean; readonly chunkBytes?: number },
  use: (input: CaptureInput) => Promise<T>,
): Promise<Result<T, string>> {
  const opened = await CaptureInput.open(file, io, options);
  if (!opened.ok) return opened;
  try {
    return { ok: true, value: await use(opened.value) };
  } catch (e) {
    return { ok: false, error: fileProblem(file, e) };
  } finally {
    await opened.value.close();
  }
}

/** A file that cannot be read, for people: "x.pcap: no such file". */
export function fileProblem(file: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${file}: no such file`;
  if (code === 'EISDIR') return `${file}: not a file`;
  return `${file}: ${(e as Error).message}`;
}

/** The capture's own error, as every subcommand writes it: "x.pcap: truncated record at offset 40: …". */
export function captureProblem(file: string, error: CaptureError): string {
  return `${file}: ${error.message}`;
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0);
}
