// `parley pcap wav FILE --out DIR [--call CALLID] [--ssrc X] [--json]`: the audio of a capture's
// RTP streams as WAV files (16-bit PCM, mono): one per stream (a direction) and one mixed per
// call, its streams aligned on capture time. G.711 µ-law and A-law and G.722 are decoded;
// telephone events and comfort noise are skipped; other codecs are named in the report.
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { groupByEndpoints, planMix } from '../../capture/audio-mix.js';
import { type AudioTrackReport, RtpAudio } from '../../capture/rtp-audio.js';
import type { RtpStreamId } from '../../capture/rtp-streams.js';
import { mixWavFiles, WavFileWriter } from '../../capture/wav-file.js';
import { audioDecoders, DECODED_CODECS } from './audio-decoders.js';
import { PacketDecoder } from '../../pcap/index.js';
import { readCaptureCalls } from './capture-calls.js';
import { commandOutput, processHooks } from '../command-hooks.js';
import { type CaptureInput, captureProblem, PCAP_EXIT, type PcapIo, quietIo, withCaptureInput } from './capture-input.js';
import { recordTime } from './capture-time.js';
import { fileSafe } from './file-safe.js';

export interface WavOptions {
  readonly out: string;
  readonly ssrc?: number;
  readonly call?: string;
  /** Where a progress bar may be drawn (the rule of capture-input.ts); none without. */
  readonly io?: PcapIo;
  readonly json?: boolean;
}

export interface WavStreamResult extends AudioTrackReport {
  /** The stream's WAV file, when it had audio we decode. */
  readonly file: string | undefined;
  readonly seconds: number;
}

export interface WavCallResult {
  /** The call's Call-ID, or "session-N" for streams no SDP announced (grouped by their endpoints). */
  readonly call: string;
  readonly streams: readonly WavStreamResult[];
  readonly mixed: string | undefined;
  /** Why there is no mixed file, when there is none. */
  readonly mixError: string | undefined;
}

export interface WavReport {
  readonly file: string;
  readonly out: string;
  readonly calls: readonly WavCallResult[];
}

/** Parses --ssrc: 0x-prefixed hex (as tshark prints it) or decimal. */
export function parseSsrc(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  const hex = t.startsWith('0x');
  const digits = hex ? t.slice(2) : t;
  const allowed = hex ? '0123456789abcdef' : '0123456789';
  if (digits.length === 0 || digits.length > (hex ? 8 : 10) || [...digits].some((c) => !allowed.includes(c))) return undefined;
  const n = hex ? Number.parseInt(digits, 16) : Number(digits);
  return n <= 0xffff_ffff ? n : undefined;
}

function streamName(id: RtpStreamId): string {
  return fileSafe(`${id.src}_${id.srcPort}-${id.dst}_${id.dstPort}-0x${id.ssrc.toString(16).padStart(8, '0')}`);
}

/** Decodes the capture's streams into `options.out`; resolves to the report or the error message ("FILE: what"). */
export async function pcapWav(file: string, options: WavOptions): Promise<{ ok: true; value: WavReport } | { ok: false; error: string }> {
  const r = await withCaptureInput(file, options.io ?? quietIo(), { json: options.io === undefined || options.json === true }, (input) => wavOf(file, input, options));
  return r.ok ? r.value : r;
}

async function wavOf(file: string, input: CaptureInput, options: WavOptions): Promise<{ ok: true; value: WavReport } | { ok: false; error: string }> {
  mkdirSync(options.out, { recursive: true });
  const tmp = join(options.out, `.parley-wav-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  const writers = new Map<string, WavFileWriter>();
  const keyOf = (id: RtpStreamId): string => `${id.src}|${id.srcPort}|${id.dst}|${id.dstPort}|${id.ssrc}`;
  try {
    // first pass: the calls, and the media endpoints and payload types their SDP announced
    const sip = await readCaptureCalls(input);
    if (!sip.ok) return { ok: false, error: captureProblem(file, sip.error) };
    const { calls: sipCalls, index } = sip.value;
    if (options.call !== undefined && !sipCalls.some((c) => c.callId === options.call)) {
      return { ok: false, error: `${file}: no call with Call-ID ${options.call} (parley pcap calls lists them)` };
    }
    const callOf = (id: RtpStreamId, time: bigint) => index.callOf(id.src, id.srcPort, id.dst, id.dstPort, time);
    const audio = new RtpAudio({
      decoders: audioDecoders,
      select: (id, time) => (options.ssrc === undefined || id.ssrc === options.ssrc) && (options.call === undefined || callOf(id, time)?.callId === options.call),
      formatOf: (id, pt, time) => {
        const p = callOf(id, time)?.media.payloadTypes.find((f) => f.payloadType === pt);
        return p === undefined || p.name === '' ? undefined : { name: p.name, clockRate: p.clockRate };
      },
      openSink: (id, rate) => {
        const w = new WavFileWriter(join(tmp, `${writers.size}.wav`), rate);
        writers.set(keyOf(id), w);
        return w;
      },
    });
    // second pass: the RTP
    const decoder = new PacketDecoder();
    const read = await input.records(
      (record) => {
        const decoded = decoder.decode(record);
        if (decoded.kind !== 'segment' || decoded.segment.protocol !== 'udp') return;
        const s = decoded.segment;
        audio.add({ time: recordTime(record), src: s.src, srcPort: s.srcPort, dst: s.dst, dstPort: s.dstPort, payload: s.payload });
      },
    );
    for (const w of writers.values()) w.close();
    if (!read.ok) return { ok: false, error: captureProblem(file, read.error) };

    // streams by call (their SDP), the others by their endpoints
    const reports = audio.reports();
    const byCall = new Map<string, AudioTrackReport[]>();
    const loose: AudioTrackReport[] = [];
    for (const t of reports) {
      const callId = callOf(t, t.firstTime)?.callId;
      if (callId === undefined) loose.push(t);
      else {
        const list = byCall.get(callId);
        if (list === undefined) byCall.set(callId, [t]);
        else list.push(t);
      }
    }
    const groups: Array<[string, AudioTrackReport[]]> = [
      ...sipCalls.filter((c) => byCall.has(c.callId)).map((c): [string, AudioTrackReport[]] => [c.callId, byCall.get(c.callId)!]),
      ...groupByEndpoints(loose).map((g, k): [string, AudioTrackReport[]] => [`session-${k + 1}`, g]),
    ];
    const calls: WavCallResult[] = [];
    for (const [call, tracks] of groups) {
      const streams: WavStreamResult[] = tracks.map((t) => {
        const w = writers.get(keyOf(t));
        let path: string | undefined;
        if (w !== undefined && t.samples > 0) {
          path = join(options.out, `${fileSafe(call)}-${streamName(t)}.wav`);
          renameOver(w.path, path);
        }
        return { ...t, file: path, seconds: t.sampleRate ? t.samples / t.sampleRate : 0 };
      });
      const plan = planMix(tracks);
      let mixed: string | undefined;
      let mixError: string | undefined;
      if (!plan.ok) mixError = plan.error;
      else {
        mixed = join(options.out, `${fileSafe(call)}-mixed.wav`);
        mixWavFiles(
          plan.value.inputs.map(({ track, offset }) => ({ path: streams.find((s) => keyOf(s) === keyOf(track))!.file!, samples: track.samples, offset })),
          mixed,
          plan.value.sampleRate,
        );
      }
      calls.push({ call, streams, mixed, mixError });
    }
    return { ok: true, value: { file, out: options.out, calls } };
  } finally {
    for (const w of writers.values()) w.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function renameOver(from: string, to: string): void {
  rmSync(to, { force: true });
  // same directory tree: a rename, never a copy
  renameSync(from, to);
}

/** The report for people: one line per file, then what was skipped and why. */
export function formatWavReport(report: WavReport): string {
  const lines: string[] = [];
  for (const c of report.calls) {
    lines.push(`${c.call}:`);
    for (const s of c.streams) {
      const who = `${s.src}:${s.srcPort} -> ${s.dst}:${s.dstPort} SSRC 0x${s.ssrc.toString(16).padStart(8, '0')}`;
      if (s.file !== undefined) lines.push(`  ${s.file}  ${who}  ${s.codec} ${s.sampleRate} Hz ${s.seconds.toFixed(2)} s, ${s.decodedPackets} packets`);
      else lines.push(`  (no file)  ${who}: no audio we decode`);
      const notes: string[] = [];
      for (const [name, n] of Object.entries(s.undecodable)) notes.push(`${name} not decoded (${n} packets; parley decodes ${DECODED_CODECS})`);
      if (s.telephoneEventPackets > 0) notes.push(`${s.telephoneEventPackets} telephone-event packets skipped`);
      if (s.comfortNoisePackets > 0) notes.push(`${s.comfortNoisePackets} comfort noise packets skipped`);
      if (s.skippedPackets > 0) notes.push(`${s.skippedPackets} packets left out (duplicate, another sample rate, or before the stream's start)`);
      if (s.timestampJumps > 0) notes.push(`${s.timestampJumps} timestamp jumps placed by capture time`);
      for (const n of notes) lines.push(`    ${n}`);
    }
    lines.push(c.mixed !== undefined ? `  ${c.mixed}  mixed` : `  (no mixed file: ${c.mixError})`);
  }
  if (report.calls.length === 0) lines.push('no RTP streams in the capture');
  return lines.join('\n');
}

export function wavCommand(): Command {
  const io: PcapIo = { stdout: process.stdout, stderr: process.stderr };
  return commandOutput(new Command('wav'), io, processHooks({}).exit, PCAP_EXIT.usage)
    .description(`Write the audio of RTP streams as WAV files: one per direction and one mixed per call (${DECODED_CODECS}).`)
    .argument('<file>', 'a pcap or pcapng file')
    .requiredOption('--out <dir>', 'the directory for the WAV files (created if missing)')
    .option('--call <call-id>', "only this call's streams")
    .option('--ssrc <ssrc>', 'only the streams of this SSRC (0x… hex as tshark prints it, or decimal)')
    .option('--json', 'print the report as JSON (no progress bar)')
    .action(async (file: string, opts: { out: string; call?: string; ssrc?: string; json?: boolean }, cmd: Command) => {
      let ssrc: number | undefined;
      if (opts.ssrc !== undefined) {
        ssrc = parseSsrc(opts.ssrc);
        if (ssrc === undefined) cmd.error(`parley pcap wav: --ssrc ${opts.ssrc}: not an SSRC (0x… hex or decimal, 32 bits)`, { exitCode: 2 });
      }
      const r = await pcapWav(file, { out: opts.out, ssrc, call: opts.call, io, json: opts.json === true });
      if (!r.ok) {
        console.error(`parley pcap wav: ${r.error}`);
        process.exitCode = 1;
        return;
      }
      if (opts.json) console.log(JSON.stringify(r.value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2));
      else console.log(formatWavReport(r.value));
      if (!r.value.calls.some((c) => c.streams.some((s) => s.file !== undefined))) process.exitCode = 1;
    });
}
