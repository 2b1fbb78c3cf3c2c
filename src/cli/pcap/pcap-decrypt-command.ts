// `parley pcap decrypt FILE --out OUT.pcap`: the capture with its SRTP and SRTCP replaced by the
// plaintext RTP and RTCP (src/capture/decrypt-capture.ts), keys from --key or from the capture's
// SDES a=crypto lines.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Command, InvalidArgumentError } from 'commander';
import { decryptCapture, learnSdesKeys } from '../../capture/decrypt-capture.js';
import { sdesKeysOfMessage } from '../../capture/sdes-keys.js';
import { SipCapture } from '../../capture/sip-capture.js';
import { SrtpDecryptor, type DecryptKey, type DecryptStreamReport } from '../../capture/srtp-decrypt.js';
import { isSrtpSuite, parseSdesKeyParam, SRTP_SUITES } from '../../srtp/index.js';
import { commandOutput, processHooks } from '../command-hooks.js';
import { fileProblem, PCAP_EXIT, type PcapIo, withCaptureInput } from './capture-input.js';

/** 0: written, every stream that was tried decrypted; 1: a file that cannot be read whole or written; 2: bad usage; 3: written, but some packets failed authentication or no key opened a stream. */
export const PCAP_DECRYPT_EXIT = { ok: PCAP_EXIT.ok, error: PCAP_EXIT.failed, usage: PCAP_EXIT.usage, failures: 3 } as const;

export interface PcapDecryptOptions {
  readonly file: string;
  readonly out: string;
  readonly keys: readonly DecryptKey[];
  /** Also take the keys of the capture's a=crypto lines (default true). */
  readonly auto: boolean;
  readonly json: boolean;
}

/**
 * One --key: `SUITE:KEY_SALT_BASE64[|lifetime][|MKI:length][@WHICH]`, WHICH being the sender's
 * `ADDRESS:PORT` (`[IPv6]:PORT`) or `ssrc=0x1234ABCD` (or decimal). Without @, any stream.
 */
export function parseKeyOption(text: string, n: number): DecryptKey {
  const at = text.lastIndexOf('@');
  const spec = at < 0 ? text : text.slice(0, at);
  const which = at < 0 ? undefined : text.slice(at + 1);
  const colon = spec.indexOf(':');
  const suite = colon < 0 ? '' : spec.slice(0, colon);
  if (!isSrtpSuite(suite)) throw new InvalidArgumentError(`"${suite || spec}" is not a suite Parley knows (${SRTP_SUITES.join(', ')})`);
  const k = parseSdesKeyParam(suite, `inline:${spec.slice(colon + 1)}`);
  if (!k.ok) throw new InvalidArgumentError(k.error);
  const origin = `--key ${n}`;
  if (which === undefined) return { suite, master: k.value, origin };
  if (which.startsWith('ssrc=')) {
    const v = which.slice(5);
    const ssrc = v.startsWith('0x') || v.startsWith('0X') ? Number.parseInt(v.slice(2), 16) : Number(v);
    if (!Number.isInteger(ssrc) || ssrc < 0 || ssrc > 0xffffffff) throw new InvalidArgumentError(`"${which}": an SSRC is 0 to 0xffffffff`);
    return { suite, master: k.value, ssrc, origin };
  }
  const portAt = which.lastIndexOf(':');
  const host = portAt < 0 ? '' : which.slice(0, portAt);
  const address = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const port = Number(which.slice(portAt + 1));
  if (address === '' || !Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`"${which}" is not ADDRESS:PORT or ssrc=N`);
  return { suite, master: k.value, source: { address, port }, origin };
}

const HELP_AFTER = `
Keys: --key SUITE:KEY_SALT_BASE64 (as in a=crypto's inline:, with |lifetime and |MKI:length when
the packets carry an MKI), for any stream, or @ADDRESS:PORT for what that address sends (RTCP:
that port or the next), or @ssrc=0x1234ABCD for one stream. Suites: ${SRTP_SUITES.join(', ')}.
Unless --no-auto, the keys of the capture's SDES a=crypto lines are used as well: an SDP's key
protects what its writer sends from the address and port of its media line. DTLS-SRTP keys are
not in the capture (they need the endpoints' key log) and cannot be used.

The output is a pcap of raw IP (LINKTYPE_RAW): each SRTP or SRTCP datagram a key authenticates
becomes its plaintext RTP or RTCP; everything else is copied as captured (records that carry no
IP are left out). tshark reads it: tshark -r OUT.pcap -q -z rtp,streams --enable-heuristic rtp_udp

Exit status: 0 every stream a key was tried on decrypted; 1 a file that cannot be read whole
or written; 2 bad usage; 3 some packets or streams did not decrypt.

Examples:
  parley pcap decrypt call.pcapng --out plain.pcap
  parley pcap decrypt call.pcap --out plain.pcap --key AES_CM_128_HMAC_SHA1_80:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz@192.0.2.1:4000`;

export function pcapDecryptCommand(): Command {
  const keys: DecryptKey[] = [];
  const io: PcapIo = { stdout: process.stdout, stderr: process.stderr };
  return commandOutput(new Command('decrypt'), io, processHooks({}).exit, PCAP_DECRYPT_EXIT.usage)
    .description('Write the capture with its SRTP/SRTCP decrypted (keys from --key or the capture\'s a=crypto), and count per stream what decrypted and what failed authentication.')
    .argument('<file>', 'a pcap or pcapng file ("-" for stdin)')
    .requiredOption('-o, --out <file>', 'the decrypted pcap to write')
    .option('-k, --key <suite:key[@which]>', 'a key (repeat for more)', (v: string) => {
      keys.push(parseKeyOption(v, keys.length + 1));
      return keys;
    })
    .option('--no-auto', "do not use the keys of the capture's a=crypto lines")
    .option('--json', 'print the summary as JSON (no progress bar)')
    .addHelpText('after', HELP_AFTER)
    .action(async (file: string, opts: { out: string; auto: boolean; json?: boolean }) => {
      process.exitCode = await runPcapDecrypt({ file, out: opts.out, keys, auto: opts.auto, json: opts.json === true }, io);
    });
}

export interface PcapDecryptSummary {
  readonly file: string;
  readonly out: string;
  readonly records: number;
  readonly copied: number;
  readonly decrypted: number;
  readonly notIp: number;
  readonly keys: number;
  readonly streams: readonly DecryptStreamReport[];
  readonly error?: string;
}

export async function runPcapDecrypt(o: PcapDecryptOptions, io: PcapIo): Promise<number> {
  const decryptor = new SrtpDecryptor(o.keys);
  const read = await withCaptureInput(o.file, io, { json: o.json }, async (input) => {
    const sink = createWriteStream(o.out);
    let sinkFailed = false;
    const failed = new Promise<never>((_, reject) => sink.once('error', reject));
    failed.catch(() => (sinkFailed = true));
    const write = async (bytes: Uint8Array): Promise<void> => {
      if (!sink.write(bytes)) await Promise.race([once(sink, 'drain'), failed]);
    };
    // stdin: one pass, the keys learned from the SIP as it goes by; a file: a first pass for them
    const live = o.auto && o.file === '-' ? new SipCapture((m) => sdesKeysOfMessage(m).forEach((k) => decryptor.addKey(k))) : undefined;
    try {
      if (o.auto && o.file !== '-') await learnSdesKeys(input.chunks({ label: 'SDES keys' }), decryptor);
      const result = await decryptCapture(input.chunks({ label: 'decrypting' }), write, {
        decryptor,
        onSegment: live === undefined ? undefined : (s, time, offset) => live.add(s, time, offset),
      });
      sink.end();
      await Promise.race([once(sink, 'finish'), failed]);
      return { ok: true as const, result };
    } catch (e) {
      sink.destroy();
      if (sinkFailed) return { ok: false as const, error: fileProblem(o.out, e) };
      throw e;
    }
  });
  const outcome = read.ok ? read.value : read;
  if (!outcome.ok) {
    io.stderr.write(`parley pcap decrypt: ${outcome.error}\n`);
    return PCAP_DECRYPT_EXIT.error;
  }
  const { result } = outcome;
  const streams = decryptor.report();
  const summary: PcapDecryptSummary = {
    file: o.file,
    out: o.out,
    ...result.counts,
    keys: decryptor.keyCount,
    streams,
    ...(result.ok ? {} : { error: result.error.message }),
  };
  io.stdout.write(o.json ? JSON.stringify(summary, null, 2) + '\n' : formatSummary(summary));
  if (!result.ok) {
    if (!o.json) io.stderr.write(`parley pcap decrypt: ${o.file}: ${result.error.message}\n`);
    return PCAP_DECRYPT_EXIT.error;
  }
  return streams.every((s) => s.failed === 0) ? PCAP_DECRYPT_EXIT.ok : PCAP_DECRYPT_EXIT.failures;
}

function formatSummary(s: PcapDecryptSummary): string {
  const lines = [`${s.out}: ${s.records} records, ${s.decrypted} decrypted, ${s.copied} copied${s.notIp > 0 ? `, ${s.notIp} without IP left out` : ''}; ${s.keys} key${s.keys === 1 ? '' : 's'}`];
  if (s.keys === 0) lines.push('no keys: give --key, or capture the SIP with its SDES a=crypto (DTLS-SRTP keys are not in a capture)');
  if (s.streams.length > 0) {
    const head = ['kind', 'source', 'destination', 'SSRC', 'suite', 'packets', 'decrypted', 'failed', 'clear', 'key'];
    const rows = s.streams.map((r) => [
      r.kind,
      `${r.src}:${r.srcPort}`,
      `${r.dst}:${r.dstPort}`,
      `0x${r.ssrc.toString(16).padStart(8, '0')}`,
      r.suite ?? '-',
      String(r.packets),
      String(r.decrypted),
      String(r.failed),
      String(r.plain),
      r.key ?? '-',
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) lines.push(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  }
  return lines.join('\n') + '\n';
}
