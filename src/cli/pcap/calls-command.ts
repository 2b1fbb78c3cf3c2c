// `parley pcap calls FILE`: the SIP calls of a capture, as sngrep's call list: From, To, Call-ID,
// start, answer, end, status, duration; --json for scripts.
import { Command } from 'commander';
import { SipCalls, type SipCall } from '../../capture/sip-calls.js';
import { commandOutput, processHooks, runCommand, type CommandHooks } from '../command-hooks.js';
import { formatTable } from '../table.js';
import { readSipMessages } from '../../capture/sip-capture.js';
import { PCAP_EXIT, type PcapIo, withCaptureInput } from './capture-input.js';
import { formatTime, formatTimeOfDay, isoNs } from './capture-time.js';

export { PCAP_EXIT };

export interface PcapCommandOptions extends Partial<PcapIo>, CommandHooks {}

interface CallsOptions {
  readonly json?: boolean;
  readonly filter?: string;
  readonly all?: boolean;
}

const HELP_AFTER = `
Lists each SIP call (dialog started by an INVITE) of a pcap or pcapng file: From, To, Call-ID,
start (first message), answer (first 2xx to the INVITE), end (BYE, or the final failure), status
(the INVITE's final response), duration (answer to end). SIP is read from UDP, TCP (reassembled)
and WebSocket (SIP over WS, RFC 7118); TLS is left opaque and counted. Times are UTC.

With --all, the other Call-IDs too (REGISTER, OPTIONS, MESSAGE, SUBSCRIBE …), flagged by their
method, with the final status of their first request. --filter keeps the rows whose From, To or
Call-ID contains the text (any case). Then: parley pcap ladder FILE CALL-ID.`;

export function callsCommand(options: PcapCommandOptions = {}): Command {
  const io: PcapIo = { stdout: options.stdout ?? process.stdout, stderr: options.stderr ?? process.stderr };
  const { setExitCode, exit } = processHooks(options);
  const cmd = commandOutput(new Command('calls'), io, exit, PCAP_EXIT.usage)
    .description('the SIP calls of a capture: From, To, Call-ID, start, answer, end, status, duration')
    .argument('<file>', 'pcap or pcapng file')
    .option('--json', 'print the calls as JSON (no progress bar)')
    .option('--filter <text>', 'only calls whose From, To or Call-ID contains the text')
    .option('--all', 'also the Call-IDs that are not INVITE dialogs (REGISTER, OPTIONS, MESSAGE …)')
    .addHelpText('after', HELP_AFTER)
    .action(async (file: string, o: CallsOptions) => {
      setExitCode(await runCalls(file, o, io));
    });
  return cmd;
}

async function runCalls(file: string, o: CallsOptions, io: PcapIo): Promise<number> {
  const calls = new SipCalls({ keepMessages: false });
  const read = await withCaptureInput(file, io, { json: o.json === true }, (input) => readSipMessages(input.chunks(), (m) => calls.add(m)));
  if (!read.ok) {
    io.stderr.write(`parley pcap calls: ${read.error}\n`);
    return PCAP_EXIT.failed;
  }
  const result = read.value;
  const needle = o.filter?.toLowerCase();
  const rows = calls.list().filter((c) => (o.all === true || c.method === 'INVITE') && (needle === undefined || matches(c, needle)));
  const counts = { ...result.sip.counts, tcp: result.sip.tcpCounts, malformedPackets: result.malformedPackets.length };
  if (o.json === true) {
    const out = {
      file,
      records: result.summary?.records,
      calls: rows.map(callJson),
      counts,
      faults: result.sip.faults.map((f) => ({ ...f, time: isoNs(f.time) })),
      error: result.error === undefined ? undefined : { offset: result.error.offset, message: result.error.message },
    };
    io.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else {
    const terminal = (io.stdout as { isTTY?: boolean }).isTTY === true;
    const headers = ['From', 'To', 'Call-ID', 'Start', 'Answer', 'End', 'Status', 'Duration', ...(o.all === true ? ['Method'] : []), 'Msgs'];
    const table = rows.map((c) => [
      party(c.from, c.fromDisplay),
      party(c.to, c.toDisplay),
      c.callId,
      formatTime(c.start),
      c.answer === undefined ? '-' : formatTimeOfDay(c.answer),
      c.end === undefined ? '-' : formatTimeOfDay(c.end),
      c.status === undefined ? c.state : `${c.status} ${c.state}`,
      c.durationSeconds === undefined ? '-' : `${c.durationSeconds.toFixed(3)}s`,
      ...(o.all === true ? [c.method] : []),
      String(c.messageCount),
    ]);
    if (rows.length > 0) io.stdout.write(formatTable(headers, table, terminal, 60) + '\n');
    const noun = o.all === true ? 'Call-IDs' : 'calls';
    const extra: string[] = [];
    if (result.sip.counts.tlsFlows > 0) extra.push(`${result.sip.counts.tlsFlows} TLS flow directions left opaque`);
    if (result.sip.counts.malformed > 0) extra.push(`${result.sip.counts.malformed} SIP messages that did not parse`);
    if (result.sip.tcpCounts.gaps > 0) extra.push(`${result.sip.tcpCounts.gaps} TCP gaps`);
    if (result.malformedPackets.length > 0) extra.push(`${result.malformedPackets.length} damaged packets`);
    io.stderr.write(`${rows.length} ${noun}, ${result.sip.counts.messages} SIP messages${extra.length > 0 ? ` (${extra.join(', ')})` : ''}\n`);
  }
  if (result.error !== undefined) {
    io.stderr.write(`parley pcap calls: ${file}: ${result.error.message}\n`);
    return PCAP_EXIT.failed;
  }
  return PCAP_EXIT.ok;
}

function matches(c: SipCall, needle: string): boolean {
  return c.from.toLowerCase().includes(needle) || c.to.toLowerCase().includes(needle) || c.callId.toLowerCase().includes(needle) || (c.fromDisplay ?? '').toLowerCase().includes(needle) || (c.toDisplay ?? '').toLowerCase().includes(needle);
}

function party(uri: string, display: string | undefined): string {
  return display === undefined ? uri : `"${display}" ${uri}`;
}

export function callJson(c: SipCall): Record<string, unknown> {
  return {
    callId: c.callId,
    method: c.method,
    from: c.from,
    fromDisplay: c.fromDisplay,
    fromTag: c.fromTag,
    to: c.to,
    toDisplay: c.toDisplay,
    start: isoNs(c.start),
    answer: c.answer === undefined ? undefined : isoNs(c.answer),
    end: c.end === undefined ? undefined : isoNs(c.end),
    status: c.status,
    reason: c.reason,
    state: c.state,
    durationSeconds: c.durationSeconds,
    messages: c.messageCount,
    transports: c.transports,
  };
}

/** `parley pcap calls <args…>` with the given streams (tests): resolves to the exit status. */
export async function runPcapCalls(args: readonly string[], io: PcapIo): Promise<number> {
  return runCommand('calls', args, io, PCAP_EXIT.usage, (hooks) => callsCommand({ ...io, ...hooks }));
}
