// `parley pcap split FILE --out DIR [--json]`: one pcap per call, holding the call's SIP and its
// media (the endpoints its SDP announced), each frame as captured (same bytes, same link type,
// same time), and one more file, no-call.pcap, with every other frame, so that nothing is lost:
// the files' frames add up to the capture's.
//
// Two passes: the first reads the SIP (src/capture's readers: calls, the records that carried
// each call's messages, the media endpoints of their SDP); the second hands each record to the
// file of its call. SIP over TCP or WebSocket: the record that completes a message goes with the
// call; the connection's other segments (handshake, bare ACKs, the first parts of a message cut
// across segments) go to no-call.pcap, as do IP fragments but the last of a datagram.
// Output is pcap (nanosecond times) whatever the input: a call's link type is that of its first
// frame, and a frame of another link type (a pcapng file with interfaces of different kinds) is
// left out and counted.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { pcapFileHeader, pcapRecord } from '../../pcap/pcap-writer.js';
import { PacketDecoder } from '../../pcap/index.js';
import { readCaptureCalls } from './capture-calls.js';
import { commandOutput, processHooks } from '../command-hooks.js';
import { type CaptureInput, captureProblem, PCAP_EXIT, type PcapIo, quietIo, withCaptureInput } from './capture-input.js';
import { recordTime } from './capture-time.js';
import { fileSafe } from './file-safe.js';

export interface SplitFileResult {
  readonly file: string;
  readonly linkType: number;
  readonly packets: number;
  /** Frames of another link type than the file's, left out. */
  readonly otherLinkType: number;
}

export interface SplitReport {
  readonly capture: string;
  readonly out: string;
  readonly packets: number;
  readonly calls: ReadonlyArray<SplitFileResult & { readonly callId: string; readonly sipPackets: number; readonly mediaPackets: number }>;
  /** Frames of no call, in no-call.pcap (absent when there were none). */
  readonly noCall: SplitFileResult | undefined;
}

/** Flush a file's buffered records past this size, and every file's past the total. */
const FILE_BUFFER = 256 * 1024;
const TOTAL_BUFFER = 32 * 1024 * 1024;

/** pcap files written by appends, each buffered a little (thousands of calls: no file handle each). */
class PcapFileSet {
  private readonly files = new Map<string, { path: string; linkType: number; chunks: Uint8Array[]; bytes: number; packets: number; other: number }>();
  private buffered = 0;

  /** Appends one frame to `name` (created with `linkType` at its first frame); false when its link type differs. */
  write(name: string, path: string, linkType: number, time: bigint, frame: Uint8Array, originalLength: number): boolean {
    let f = this.files.get(name);
    if (f === undefined) {
      writeFileSync(path, pcapFileHeader(linkType));
      f = { path, linkType, chunks: [], bytes: 0, packets: 0, other: 0 };
      this.files.set(name, f);
    }
    if (linkType !== f.linkType) {
      f.other++;
      return false;
    }
    const record = pcapRecord(time, frame, originalLength);
    f.chunks.push(record);
    f.bytes += record.length;
    f.packets++;
    this.buffered += record.length;
    if (f.bytes >= FILE_BUFFER) this.flushOne(f);
    if (this.buffered >= TOTAL_BUFFER) this.flush();
    return true;
  }

  flush(): void {
    for (const f of this.files.values()) this.flushOne(f);
  }

  result(name: string): SplitFileResult | undefined {
    const f = this.files.get(name);
    return f === undefined ? undefined : { file: f.path, linkType: f.linkType, packets: f.packets, otherLinkType: f.other };
  }

  private flushOne(f: { path: string; chunks: Uint8Array[]; bytes: number }): void {
    if (f.chunks.length === 0) return;
    appendFileSync(f.path, Buffer.concat(f.chunks));
    this.buffered -= f.bytes;
    f.chunks = [];
    f.bytes = 0;
  }
}

const NO_CALL = 'no-call';

export interface SplitOptions {
  readonly out: string;
  /** Where a progress bar may be drawn (the rule of capture-input.ts); none without. */
  readonly io?: PcapIo;
  readonly json?: boolean;
}

/** Writes one pcap per call into `options.out`; resolves to the report or the error message ("FILE: what"). */
export async function pcapSplit(file: string, options: SplitOptions): Promise<{ ok: true; value: SplitReport } | { ok: false; error: string }> {
  const r = await withCaptureInput(file, options.io ?? quietIo(), { json: options.io === undefined || options.json === true }, (input) => splitOf(file, input, options));
  return r.ok ? r.value : r;
}

async function splitOf(file: string, input: CaptureInput, options: SplitOptions): Promise<{ ok: true; value: SplitReport } | { ok: false; error: string }> {
  const sip = await readCaptureCalls(input);
  if (!sip.ok) return { ok: false, error: captureProblem(file, sip.error) };
  const { calls, index, sipRecords } = sip.value;
  mkdirSync(options.out, { recursive: true });
  // file names: the Call-ID made safe, made unique
  const names = new Map<string, string>();
  const taken = new Set([NO_CALL]);
  for (const c of calls) {
    const base = fileSafe(c.callId);
    let name = base;
    for (let k = 2; taken.has(name); k++) name = `${base}-${k}`;
    taken.add(name);
    names.set(c.callId, name);
  }
  const files = new PcapFileSet();
  const sipCount = new Map<string, number>();
  const mediaCount = new Map<string, number>();
  let packets = 0;
  const put = (name: string, record: { linkType: number; data: Uint8Array; originalLength: number }, time: bigint): void => {
    files.write(name, join(options.out, `${name}.pcap`), record.linkType, time, record.data, record.originalLength);
  };
  const decoder = new PacketDecoder();
  const read = await input.records(
    (record) => {
      const decoded = decoder.decode(record);
      packets++;
      const time = recordTime(record);
      const sipCalls = sipRecords.get(record.offset);
      if (sipCalls !== undefined) {
        // a frame that carried SIP of several calls (TCP) goes to each
        for (const id of sipCalls) {
          put(names.get(id)!, record, time);
          sipCount.set(id, (sipCount.get(id) ?? 0) + 1);
        }
        return;
      }
      if (decoded.kind === 'segment' && decoded.segment.protocol === 'udp') {
        const s = decoded.segment;
        const match = index.callOf(s.src, s.srcPort, s.dst, s.dstPort, time);
        if (match !== undefined && names.has(match.callId)) {
          put(names.get(match.callId)!, record, time);
          mediaCount.set(match.callId, (mediaCount.get(match.callId) ?? 0) + 1);
          return;
        }
      }
      put(NO_CALL, record, time);
    },
  );
  files.flush();
  if (!read.ok) return { ok: false, error: captureProblem(file, read.error) };
  return {
    ok: true,
    value: {
      capture: file,
      out: options.out,
      packets,
      calls: calls
        .filter((c) => files.result(names.get(c.callId)!) !== undefined)
        .map((c) => ({ callId: c.callId, ...files.result(names.get(c.callId)!)!, sipPackets: sipCount.get(c.callId) ?? 0, mediaPackets: mediaCount.get(c.callId) ?? 0 })),
      noCall: files.result(NO_CALL),
    },
  };
}

export function formatSplitReport(r: SplitReport): string {
  const lines = r.calls.map((c) => `${c.file}  ${c.packets} packets (SIP ${c.sipPackets}, media ${c.mediaPackets})  Call-ID ${c.callId}${c.otherLinkType > 0 ? `  (${c.otherLinkType} frames of another link type left out)` : ''}`);
  if (r.noCall !== undefined) lines.push(`${r.noCall.file}  ${r.noCall.packets} packets of no call${r.noCall.otherLinkType > 0 ? `  (${r.noCall.otherLinkType} frames of another link type left out)` : ''}`);
  lines.push(`${r.packets} packets read, ${r.calls.length} call${r.calls.length === 1 ? '' : 's'}`);
  return lines.join('\n');
}

export function splitCommand(): Command {
  const io: PcapIo = { stdout: process.stdout, stderr: process.stderr };
  return commandOutput(new Command('split'), io, processHooks({}).exit, PCAP_EXIT.usage)
    .description('Write one pcap per call (its SIP and the media its SDP announced, frames as captured) and no-call.pcap with the rest.')
    .argument('<file>', 'a pcap or pcapng file')
    .requiredOption('--out <dir>', 'the directory for the pcap files (created if missing)')
    .option('--json', 'print the report as JSON (no progress bar)')
    .action(async (file: string, opts: { out: string; json?: boolean }) => {
      const r = await pcapSplit(file, { out: opts.out, io, json: opts.json === true });
      if (!r.ok) {
        console.error(`parley pcap split: ${r.error}`);
        process.exitCode = 1;
        return;
      }
      console.log(opts.json ? JSON.stringify(r.value, null, 2) : formatSplitReport(r.value));
    });
}
