/**
 * `parley pcap streams FILE`: the RTP streams of a capture per SSRC, tied to their call by SDP,
 * with the figures `tshark -q -z rtp,streams` prints (src/capture/capture-streams.ts).
 */
import { Command, Option } from 'commander';
import { type CaptureStreamReport, CaptureStreams, type CaptureStreamsCounts } from '../../capture/capture-streams.js';
import { fixed, formatRtpStreamsTable } from '../../capture/rtp-streams-table.js';
import { addSdpMediaEndpoints } from '../../capture/sdp-media-endpoints.js';
import { SipCapture } from '../../capture/sip-capture.js';
import { commandOutput, type CommandHooks, processHooks, runCommand } from '../command-hooks.js';
import { formatTable } from '../table.js';
import { PCAP_EXIT, type PcapIo, withCaptureInput } from './capture-input.js';
import { recordTime } from './capture-time.js';

/** Read the whole file: 0. The file is damaged or not a capture (what was read is still printed): 1. Bad usage: 2. */
export const PCAP_STREAMS_EXIT = { ok: PCAP_EXIT.ok, captureError: PCAP_EXIT.failed, usage: PCAP_EXIT.usage } as const;

interface StreamsOptions {
  readonly json?: boolean;
  readonly call?: string;
  readonly anyUdp?: boolean;
  readonly tshark?: boolean;
}

const HELP_AFTER = `
Each RTP stream (one SSRC from one address and port to another) with the Call-ID of the call
whose SDP announced its media endpoint, the codec, packets, lost packets and sequence errors,
the largest delta between packets and the jitter (RFC 3550 A.8), as "tshark -q -z rtp,streams"
computes them. As tshark does, only UDP to or from an address and port an SDP announced is
read as RTP; --any-udp reads every UDP datagram that looks like RTP (tshark's
"--enable-heuristic rtp_udp"). --tshark prints tshark's own table (same columns and order) to
diff with it. The file is read in 4 MiB chunks (constant memory); a progress bar is drawn on
stderr when it is a terminal.`;

export function pcapStreamsCommand(options: Partial<PcapIo> & CommandHooks = {}): Command {
  const io: PcapIo = { stdout: options.stdout ?? process.stdout, stderr: options.stderr ?? process.stderr };
  const hooks = processHooks(options);
  const cmd = new Command('streams')
    .description('RTP/SRTP streams per SSRC, tied to their call by SDP: codec, packets, lost, sequence errors, max delta, jitter (as tshark -z rtp,streams).')
    .argument('<file>', 'a pcap or pcapng file')
    .option('--json', 'print JSON')
    .option('--call <callid>', 'only the streams of this call (its Call-ID)')
    .option('--any-udp', 'every UDP datagram that reads as RTP, announced by SDP or not')
    .addOption(new Option('--tshark', "print tshark's rtp,streams table").conflicts('json'))
    .addHelpText('after', HELP_AFTER)
    .action(async (file: string, o: StreamsOptions) => {
      hooks.setExitCode(await runStreams(file, o, io));
    });
  return commandOutput(cmd, io, hooks.exit, PCAP_STREAMS_EXIT.usage);
}

/** Run `parley pcap streams <args…>` as the command line would (tests); resolves to the exit status. */
export async function runPcapStreamsCommand(args: readonly string[], options: Partial<PcapIo> & CommandHooks = {}): Promise<number> {
  const io: PcapIo = { stdout: options.stdout ?? process.stdout, stderr: options.stderr ?? process.stderr };
  return runCommand('streams', args, io, PCAP_STREAMS_EXIT.usage, (hooks) => pcapStreamsCommand({ ...io, ...hooks }));
}

async function runStreams(file: string, o: StreamsOptions, io: PcapIo): Promise<number> {
  // One pass: the SIP the scan hands on (TCP, and UDP that may be SIP) is read as it comes, and
  // its SDP's media endpoints make the later datagrams to and from them RTP.
  const sip = new SipCapture((message) => addSdpMediaEndpoints(analysis, message));
  const analysis: CaptureStreams = new CaptureStreams({
    anyUdp: o.anyUdp === true,
    onSegment: (segment, record) => sip.add(segment, recordTime(record), record.offset),
  });
  // the fast path: CaptureStreams and SipCapture keep no bytes of a record, so one buffer is reused
  const opened = await withCaptureInput(file, io, { json: o.json === true }, (input) => input.records((record) => analysis.add(record), { reuseBuffer: true }));
  if (!opened.ok) {
    io.stderr.write(`parley pcap streams: ${opened.error}\n`);
    return PCAP_STREAMS_EXIT.captureError;
  }
  const read = opened.value;
  const streams = analysis.reports().filter((s) => o.call === undefined || s.callId === o.call);
  if (o.json === true) {
    const body = {
      file,
      format: read.ok ? read.value.format : undefined,
      error: read.ok ? undefined : read.error,
      counts: { ...analysis.counts, sipMessages: sip.counts.messages },
      streams: streams.map(streamJson),
    };
    io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else if (o.tshark === true) {
    io.stdout.write(formatRtpStreamsTable(streams));
  } else {
    io.stdout.write(`${streamsTable(streams, io.stdout.isTTY === true)}\n`);
    io.stdout.write(summaryLine(streams.length, analysis.counts, sip.counts.messages));
  }
  if (analysis.firstMalformed !== undefined && o.json !== true) {
    io.stderr.write(`parley pcap streams: ${analysis.counts.malformed} damaged packet(s) left out; the first: ${analysis.firstMalformed}\n`);
  }
  if (!read.ok) {
    io.stderr.write(`parley pcap streams: ${file}: ${read.error.message}\n`);
    return PCAP_STREAMS_EXIT.captureError;
  }
  return PCAP_STREAMS_EXIT.ok;
}

/** A stream for --json: every figure, the times as text (nanoseconds since the epoch). */
export function streamJson(s: CaptureStreamReport): Record<string, unknown> {
  const { firstTime, lastTime, ...rest } = s;
  return { ...rest, codec: s.payloadNames, firstTimeNs: firstTime.toString(), lastTimeNs: lastTime.toString() };
}

function streamsTable(streams: readonly CaptureStreamReport[], terminal: boolean): string {
  const headers = ['Call-ID', 'Source', 'Destination', 'SSRC', 'Codec', 'Packets', 'Lost', 'Seq errors', 'Max delta ms', 'Max jitter ms', 'Mean jitter ms', 'Problems'];
  const rows = streams.map((s) => [
    s.callId ?? '-',
    endpoint(s.src, s.srcPort),
    endpoint(s.dst, s.dstPort),
    `0x${s.ssrc.toString(16).toUpperCase().padStart(8, '0')}`,
    s.payloadNames,
    String(s.packets),
    `${s.lost} (${fixed(s.lostPercent, 1)}%)`,
    String(s.sequenceErrors),
    fixed(s.maxDeltaMs, 3),
    fixed(s.maxJitterMs, 3),
    fixed(s.meanJitterMs, 3),
    s.problem ? 'X' : '',
  ]);
  return formatTable(headers, rows, terminal);
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function summaryLine(shown: number, c: CaptureStreamsCounts, sipMessages: number): string {
  return `${shown} stream(s); ${c.records} packets read, ${sipMessages} SIP messages, ${c.rtp} RTP, ${c.notRtpOnMedia} other on media ports (RTCP, STUN, …)\n`;
}
