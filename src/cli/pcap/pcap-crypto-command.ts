// `parley pcap crypto FILE`: per call, each SDP's SDES a=crypto (tag, suite, key and salt,
// lifetime, MKI) and DTLS-SRTP a=fingerprint / a=setup, from the capture's SIP
// (src/capture: sip-capture.ts, sip-calls.ts, media-hints.ts, sdes-keys.ts).
import { Command } from 'commander';
import { callMedia } from '../../capture/media-hints.js';
import { sdpSecurity, type SdpSecurityReport } from '../../capture/sdes-keys.js';
import { SipCalls } from '../../capture/sip-calls.js';
import { readSipMessages } from '../../capture/sip-capture.js';
import { commandOutput, processHooks } from '../command-hooks.js';
import { PCAP_EXIT, type PcapIo, withCaptureInput } from './capture-input.js';

/** 0: read (whether or not there were keys); 1: a file that cannot be read whole; 2: bad usage. */
export const PCAP_CRYPTO_EXIT = { ok: PCAP_EXIT.ok, error: PCAP_EXIT.failed, usage: PCAP_EXIT.usage } as const;

export interface CallCryptoReport {
  readonly callId: string;
  readonly from: string;
  readonly to: string;
  readonly state: string;
  readonly sdps: readonly SdpSecurityReport[];
}

const HELP_AFTER = `
For each call (an INVITE dialog, grouped by Call-ID), each SDP offer and answer in capture order
with, per media line: SDES a=crypto lines (RFC 4568: tag, suite, key||salt as base64 with the key
and salt in hex, lifetime, MKI value:length) and DTLS-SRTP a=fingerprint and a=setup (RFC 5763;
DTLS keys are not in a capture: they need the endpoints' key log). An SDES key protects what the
writer of its SDP sends: \`parley pcap decrypt\` uses them so.

Examples:
  parley pcap crypto call.pcapng
  parley pcap crypto call.pcap --json`;

export function pcapCryptoCommand(): Command {
  const io: PcapIo = { stdout: process.stdout, stderr: process.stderr };
  return commandOutput(new Command('crypto'), io, processHooks({}).exit, PCAP_CRYPTO_EXIT.usage)
    .description("Each call's SRTP keying from the capture's SDP: SDES a=crypto offers and answers (suite, key, lifetime, MKI) and DTLS fingerprints.")
    .argument('<file>', 'a pcap or pcapng file ("-" for stdin)')
    .option('--json', 'print JSON (no progress bar)')
    .addHelpText('after', HELP_AFTER)
    .action(async (file: string, opts: { json?: boolean }) => {
      process.exitCode = await runPcapCrypto(file, opts.json === true, io);
    });
}

export async function runPcapCrypto(file: string, json: boolean, io: PcapIo): Promise<number> {
  const calls = new SipCalls();
  const read = await withCaptureInput(file, io, { json }, (input) => readSipMessages(input.chunks(), (m) => calls.add(m)));
  if (!read.ok) {
    io.stderr.write(`parley pcap crypto: ${read.error}\n`);
    return PCAP_CRYPTO_EXIT.error;
  }
  const result = read.value;
  const reports: CallCryptoReport[] = calls
    .list()
    .filter((c) => c.method === 'INVITE')
    .map((c) => ({ callId: c.callId, from: c.from, to: c.to, state: c.state, sdps: sdpSecurity(callMedia(c).sdps) }));
  const error = result.error?.message;
  if (json) io.stdout.write(JSON.stringify({ file, calls: reports, ...(error === undefined ? {} : { error }) }, null, 2) + '\n');
  else io.stdout.write(formatCrypto(reports));
  if (error !== undefined) {
    if (!json) io.stderr.write(`parley pcap crypto: ${file}: ${error}\n`);
    return PCAP_CRYPTO_EXIT.error;
  }
  return PCAP_CRYPTO_EXIT.ok;
}

export function formatCrypto(calls: readonly CallCryptoReport[]): string {
  if (calls.length === 0) return 'no calls (INVITE dialogs) in the capture\n';
  const lines: string[] = [];
  for (const c of calls) {
    lines.push(`${c.callId}  ${c.from} -> ${c.to}  (${c.state})`);
    if (c.sdps.length === 0) lines.push('  no SDP');
    for (const s of c.sdps) {
      lines.push(`  ${s.role.padEnd(6)} ${s.carriedBy} ${s.src}:${s.srcPort} -> ${s.dst}:${s.dstPort}`);
      for (const m of s.media) {
        lines.push(`    ${m.media} ${m.address}:${m.port} ${m.proto}`);
        for (const k of m.crypto) {
          if (k.keys.length === 0) lines.push(`      a=crypto:${k.tag} ${k.suite} ${k.keyParams}  (${k.problem})`);
          for (const key of k.keys) {
            const extra = [key.lifetime === undefined ? '' : `lifetime ${key.lifetime}`, key.mki === undefined ? '' : `MKI ${key.mki}:${key.mkiLength}`].filter((x) => x !== '');
            lines.push(`      a=crypto:${k.tag} ${k.suite} ${key.keySalt}${extra.length > 0 ? `  ${extra.join(', ')}` : ''}`);
          }
          if (k.sessionParams.length > 0) lines.push(`        session parameters: ${k.sessionParams.join(' ')}`);
        }
        if (m.fingerprint !== undefined) lines.push(`      a=fingerprint:${m.fingerprint}  a=setup:${m.setup ?? '-'}  (${m.note})`);
        if (m.crypto.length === 0 && m.fingerprint === undefined) lines.push('      no a=crypto, no a=fingerprint: plain RTP');
      }
    }
  }
  return lines.join('\n') + '\n';
}
