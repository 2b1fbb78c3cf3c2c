/**
 * Reads a pcap or pcapng file fed in chunks of any size (a file stream, a pipe), handing out each
 * packet record as soon as its last byte is in. Memory stays constant: at most one unfinished
 * record or block is kept between chunks (bounded by the limits), never the file.
 *
 * The first four bytes tell the format: a pcap magic in either byte order, or the pcapng Section
 * Header Block type. Records are views of the pushed chunk when they lie whole in it, else of a
 * fresh buffer holding the one record that spans chunks; a view stays valid until the next `push`.
 *
 * Never throws on the file's bytes: `push` and `end` return a CaptureError naming the byte offset
 * and what was expected; after an error the reader takes no more input.
 */
import { err, ok, type Result } from '../lib/result.js';
import { captureError, hex32, type CaptureError } from './capture-error.js';
import { DEFAULT_MAX_BLOCK, DEFAULT_MAX_CAPTURED, type CaptureFormat, type CaptureRecord, type FormatStep } from './capture-record.js';
import { isPcapMagic, PcapFile } from './pcap-file.js';
import { PCAPNG_SECTION_HEADER, PcapngFile } from './pcapng-file.js';

export interface CaptureReaderOptions {
  /** The most captured bytes one record may hold (default 262,144, Wireshark's largest snapshot length). */
  readonly maxCaptured?: number;
  /** The largest pcapng block (default 16 MiB). */
  readonly maxBlock?: number;
}

export interface CaptureSummary {
  readonly format: 'pcap' | 'pcapng';
  readonly records: number;
  readonly bytes: number;
}

const EMPTY = new Uint8Array(0);

export class CaptureReader {
  private format: CaptureFormat | undefined;
  /** The unfinished unit (file header, record or block) carried over from earlier chunks. */
  private carry: Uint8Array = EMPTY;
  /** What the carried unit still lacks, from the last step over it. */
  private carryNeed: Extract<FormatStep, { kind: 'need' }> | undefined;
  /** File offset of the first byte not yet used (the start of the carried unit). */
  private offset = 0;
  private failure: CaptureError | undefined;
  private records = 0;
  private readonly maxCaptured: number;
  private readonly maxBlock: number;
  private readonly deliver: (record: CaptureRecord) => void;

  constructor(onRecord: (record: CaptureRecord) => void, options: CaptureReaderOptions = {}) {
    this.maxCaptured = options.maxCaptured ?? DEFAULT_MAX_CAPTURED;
    this.maxBlock = options.maxBlock ?? DEFAULT_MAX_BLOCK;
    this.deliver = (record) => {
      this.records++;
      onRecord(record);
    };
  }

  /** 'pcap' or 'pcapng' once the first four bytes are in. */
  get formatName(): 'pcap' | 'pcapng' | undefined {
    return this.format?.name;
  }

  /** Bytes kept between chunks: the unfinished record or block, never more than one. */
  get pendingBytes(): number {
    return this.carry.length;
  }

  /** The next chunk of the file. */
  push(chunk: Uint8Array): Result<void, CaptureError> {
    if (this.failure !== undefined) return err(this.failure);
    let pos = 0;
    // First finish the unit carried over: take from the chunk just the bytes it still needs.
    while (this.carry.length > 0 && pos < chunk.length) {
      const need = this.carryNeed?.need ?? 4;
      const take = Math.min(need - this.carry.length, chunk.length - pos);
      const joined = new Uint8Array(this.carry.length + take);
      joined.set(this.carry);
      joined.set(chunk.subarray(pos, pos + take), this.carry.length);
      pos += take;
      this.carry = joined;
      if (joined.length < need) return ok(undefined);
      const step = this.step(joined, 0, joined.length);
      if (step.kind === 'error') return this.fail(step.error);
      if (step.kind === 'need') {
        this.carryNeed = step;
        continue;
      }
      // The carried unit asked for exactly its size, so it is used whole.
      this.offset += step.used;
      this.carry = EMPTY;
      this.carryNeed = undefined;
    }
    while (pos < chunk.length) {
      const step = this.step(chunk, pos, chunk.length);
      if (step.kind === 'error') return this.fail(step.error);
      if (step.kind === 'need') {
        // Copied: the chunk belongs to the caller, who may reuse it.
        this.carry = chunk.slice(pos);
        this.carryNeed = step;
        return ok(undefined);
      }
      pos += step.used;
      this.offset += step.used;
    }
    return ok(undefined);
  }

  /** The file has ended: an error if it ended inside a unit (or held nothing). */
  end(): Result<CaptureSummary, CaptureError> {
    if (this.failure !== undefined) return err(this.failure);
    if (this.carry.length > 0) {
      const n = this.carryNeed!;
      const left = this.carry.length;
      const message = n.said
        ? `truncated ${n.what} at offset ${this.offset}: header says ${n.need} bytes, ${left} left`
        : `truncated ${n.what} at offset ${this.offset}: ${n.need} bytes expected, ${left} left`;
      return this.fail(captureError('truncated', this.offset, message));
    }
    if (this.format === undefined) return this.fail(captureError('not-a-capture', 0, 'not a pcap or pcapng file: the file is empty'));
    return ok({ format: this.format.name, records: this.records, bytes: this.offset });
  }

  private fail(error: CaptureError): { readonly ok: false; readonly error: CaptureError } {
    this.failure = error;
    this.carry = EMPTY;
    return err(error);
  }

  private step(buf: Uint8Array, pos: number, end: number): FormatStep {
    if (this.format === undefined) {
      if (end - pos < 4) return { kind: 'need', need: 4, what: 'magic number', said: false };
      const magic = ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 0;
      if (isPcapMagic(magic)) this.format = new PcapFile(this.deliver, this.maxCaptured);
      else if (magic === PCAPNG_SECTION_HEADER) this.format = new PcapngFile(this.deliver, this.maxCaptured, this.maxBlock);
      else {
        return {
          kind: 'error',
          error: captureError('not-a-capture', this.offset, `not a pcap or pcapng file: magic ${hex32(magic)} at offset 0, expected 0xa1b2c3d4 or 0xa1b23c4d (pcap, either byte order) or 0x0a0d0d0a (pcapng)`),
        };
      }
    }
    return this.format.step(buf, pos, end, this.offset);
  }
}

/** Reads a whole capture from an async source of chunks (a file's read stream, stdin). */
export async function readCapture(
  source: AsyncIterable<Uint8Array>,
  onRecord: (record: CaptureRecord) => void,
  options?: CaptureReaderOptions,
): Promise<Result<CaptureSummary, CaptureError>> {
  const reader = new CaptureReader(onRecord, options);
  for await (const chunk of source) {
    const r = reader.push(chunk);
    if (!r.ok) return r;
  }
  return reader.end();
}
