// Reading a capture file for the `parley pcap` subcommands that go through it packet by packet
// (wav, split): the file streamed in chunks through src/pcap's reader (constant memory), each
// record decoded down to UDP or TCP, and a progress bar by bytes on stderr when it is a terminal.
import { createReadStream, statSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { CaptureReader, type CaptureRecord, type CaptureSummary, PacketDecoder, type Decoded } from '../../pcap/index.js';
import type { CaptureError } from '../../pcap/index.js';
import { callMedia, MediaIndex } from '../../capture/media-hints.js';
import { type SipCall, SipCalls } from '../../capture/sip-calls.js';
import { type CapturedSipMessage, readSipMessages } from '../../capture/sip-capture.js';

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
  const bar = progressBar(options.progress, 'reading', statSync(path).size);
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

/** A progress bar by MB read, on `stream` (a terminal), or none. */
function progressBar(stream: NodeJS.WritableStream | undefined, what: string, size: number): cliProgress.SingleBar | undefined {
  if (stream === undefined) return undefined;
  const bar = new cliProgress.SingleBar(
    { format: `${what} [{bar}] {percentage}% | {value}/{total} MB | eta {eta_formatted}`, stream, hideCursor: true, fps: 4, barsize: 30 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(1, Math.round(size / 1e6)), 0);
  return bar;
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

/** The SIP side of a capture, from a first pass: its calls and where their media goes. */
export interface CaptureCalls {
  /** INVITE dialogs (calls), in the order they started. */
  readonly calls: readonly SipCall[];
  /** The media endpoints their SDP announced. */
  readonly index: MediaIndex;
  /** The Call-IDs of the calls whose SIP each record carried (or completed), by the record's file offset. */
  readonly sipRecords: ReadonlyMap<number, ReadonlySet<string>>;
}

/** First pass: the capture's SIP calls (src/capture's readers), or the file's error. */
export async function readCaptureCalls(path: string, options: ReadOptions = {}): Promise<{ ok: true; value: CaptureCalls } | { ok: false; error: CaptureError }> {
  // only the messages with a body are kept (callMedia reads their SDP): memory grows with the SDP, not the SIP
  const sip = new SipCalls({ keepMessages: false });
  const bodied = new Map<string, CapturedSipMessage[]>();
  const records = new Map<number, Set<string>>();
  const size = statSync(path).size;
  const bar = progressBar(options.progress, 'SIP pass', size);
  const r = await readSipMessages(
    createReadStream(path, { highWaterMark: 1 << 20 }),
    (m) => {
      sip.add(m);
      if (m.message.bodyLength > 0) {
        const list = bodied.get(m.message.callId);
        if (list === undefined) bodied.set(m.message.callId, [m]);
        else list.push(m);
      }
      let ids = records.get(m.offset);
      if (ids === undefined) records.set(m.offset, (ids = new Set()));
      ids.add(m.message.callId);
    },
    { onProgress: (n) => bar?.update(Math.round(n / 1e6)) },
  );
  bar?.stop();
  if (r.error !== undefined) return { ok: false, error: r.error };
  const calls = sip.list().filter((c) => c.method === 'INVITE');
  const callIds = new Set(calls.map((c) => c.callId));
  for (const [offset, ids] of records) {
    for (const id of ids) if (!callIds.has(id)) ids.delete(id);
    if (ids.size === 0) records.delete(offset);
  }
  const media = calls.map((c) => callMedia({ ...c, messages: bodied.get(c.callId) ?? [] }));
  return { ok: true, value: { calls, index: new MediaIndex(media), sipRecords: records } };
}
