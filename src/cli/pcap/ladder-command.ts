// `parley pcap ladder FILE CALL-ID`: a call's SIP messages as a ladder, in the terminal (like
// sngrep) and as a self-contained HTML page with an SVG (--html OUT).
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import type { CapturedSipMessage } from '../../capture/sip-capture.js';
import { buildLadder, ladderHtml, ladderText } from '../../capture/sip-ladder.js';
import { commandOutput, processHooks, runCommand } from '../command-hooks.js';
import { PCAP_EXIT, type PcapCommandOptions } from './calls-command.js';
import { readSipMessages } from '../../capture/sip-capture.js';
import { type PcapIo, withCaptureInput } from './capture-input.js';
import { isoNs } from './capture-time.js';

interface LadderOptions {
  readonly html?: string;
  readonly json?: boolean;
}

const HELP_AFTER = `
Draws the SIP messages of one Call-ID (as "parley pcap calls" lists them): a column per address
and port, an arrow per message with its method or status, "(SDP)" when it carries a body, and on
the left the capture time (UTC) and the seconds since the first message. Several Call-IDs may be
given separated by commas (the two legs of a B2BUA). --html writes a page that opens without a
network: the ladder as SVG (hover an arrow for its message) and every message in full.`;

export function ladderCommand(options: PcapCommandOptions = {}): Command {
  const io: PcapIo = { stdout: options.stdout ?? process.stdout, stderr: options.stderr ?? process.stderr };
  const { setExitCode, exit } = processHooks(options);
  return commandOutput(new Command('ladder'), io, exit, PCAP_EXIT.usage)
    .description("a call's SIP message ladder, in the terminal (like sngrep) and as HTML/SVG")
    .argument('<file>', 'pcap or pcapng file')
    .argument('<call-id>', 'the Call-ID (several separated by commas)')
    .option('--html <out>', 'also write the ladder as a self-contained HTML page with an SVG')
    .option('--json', 'print the ladder as JSON (columns and messages)')
    .addHelpText('after', HELP_AFTER)
    .action(async (file: string, callId: string, o: LadderOptions) => {
      setExitCode(await runLadder(file, callId, o, io));
    });
}

async function runLadder(file: string, callIdArg: string, o: LadderOptions, io: PcapIo): Promise<number> {
  const wanted = new Set(callIdArg.split(',').map((s) => s.trim()).filter((s) => s !== ''));
  const messages: CapturedSipMessage[] = [];
  const read = await withCaptureInput(file, io, { json: o.json === true }, (input) =>
    readSipMessages(input.chunks(), (m) => {
      if (wanted.has(m.message.callId)) messages.push(m);
    }),
  );
  if (!read.ok) {
    io.stderr.write(`parley pcap ladder: ${read.error}\n`);
    return PCAP_EXIT.failed;
  }
  const error = read.value.error;
  if (messages.length === 0) {
    io.stderr.write(`parley pcap ladder: no SIP message with Call-ID ${[...wanted].join(', ')} in ${file} (parley pcap calls ${file} lists them)\n`);
    if (error !== undefined) io.stderr.write(`parley pcap ladder: ${file}: ${error.message}\n`);
    return PCAP_EXIT.failed;
  }
  const ladder = buildLadder(messages);
  if (o.json === true) {
    const out = {
      file,
      callIds: ladder.callIds,
      columns: ladder.columns,
      messages: ladder.steps.map((s) => ({ ...s, time: isoNs(s.time), from: ladder.columns[s.from]!.label, to: ladder.columns[s.to]!.label })),
      error: error === undefined ? undefined : { offset: error.offset, message: error.message },
    };
    io.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else {
    io.stdout.write(ladderText(ladder) + '\n');
  }
  if (o.html !== undefined) {
    try {
      writeFileSync(o.html, ladderHtml(ladder, `SIP ladder: ${ladder.callIds.join(', ')}`));
    } catch (e) {
      io.stderr.write(`parley pcap ladder: cannot write ${o.html}: ${(e as Error).message}\n`);
      return PCAP_EXIT.failed;
    }
    if (o.json !== true) io.stderr.write(`wrote ${o.html}\n`);
  }
  if (error !== undefined) {
    io.stderr.write(`parley pcap ladder: ${file}: ${error.message}\n`);
    return PCAP_EXIT.failed;
  }
  return PCAP_EXIT.ok;
}

/** `parley pcap ladder <args…>` with the given streams (tests): resolves to the exit status. */
export async function runPcapLadder(args: readonly string[], io: PcapIo): Promise<number> {
  return runCommand('ladder', args, io, PCAP_EXIT.usage, (hooks) => ladderCommand({ ...io, ...hooks }));
}
