import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePortBlock } from './ports.js';
import { startTlsBridge, type TlsBridge } from './tls-bridge.js';

export const SCENARIOS = resolve(dirname(fileURLToPath(import.meta.url)), '../scenarios');

export interface SippInfo {
  readonly installed: boolean;
  /** e.g. "v3.6.1-SCTP-PCAP-RTPSTREAM" */
  readonly version?: string;
  /** Built with OpenSSL, so `-t l1` works (Debian's sip-tester 3.6.1 is not). */
  readonly tls: boolean;
}

let cached: SippInfo | undefined;

/** Whether sipp is on PATH, its version and whether it can speak TLS itself. */
export function sippInfo(): SippInfo {
  if (cached !== undefined) return cached;
  const r = spawnSync('sipp', ['-v'], { encoding: 'utf8', timeout: 5000 });
  if (r.error !== undefined) {
    cached = { installed: false, tls: false };
  } else {
    const version = /\bv\d+\.\d+[^\s]*/.exec(`${r.stdout}${r.stderr}`)?.[0];
    cached = { installed: true, ...(version === undefined ? {} : { version }), tls: /-TLS\b/.test(version ?? '') };
  }
  return cached;
}

export const SIPP_MISSING = 'sipp is not installed (Debian package sip-tester: apt-get install sip-tester)';

/**
 * The `skip` option for a suite that needs sipp: a reason to skip when sipp is missing on a
 * developer's machine, but never in CI (CI=true), where the suite must run and fail loudly
 * because CI installs sip-tester.
 */
export function skipWithoutSipp(): string | false {
  if (sippInfo().installed) return false;
  return process.env.CI ? false : `${SIPP_MISSING}; skipped outside CI`;
}

export type SippTransport = 'udp' | 'tcp' | 'tls';

export interface SippOptions {
  /** Scenario file: a name in test/interop/scenarios or a path. */
  readonly scenario: string;
  readonly host: string;
  readonly port: number;
  readonly transport: SippTransport;
  /** -m: calls to run before sipp exits (the run is always bounded). */
  readonly calls: number;
  /** -timeout: the whole run's bound, in seconds (with -timeout_error, reaching it fails). */
  readonly timeoutSecs?: number;
  /** -recv_timeout, ms (default 5000): a call waiting longer for a message fails. */
  readonly recvTimeoutMs?: number;
  /** -r: calls per second (sipp's default is 10). */
  readonly rate?: number;
  /**
   * -key NAME VALUE pairs for [NAME] in the scenario. Always set: [via_transport] (UDP, TCP or
   * TLS: what the Via must say, also when sipp talks TCP to the TLS relay) and [sut_host],
   * [sut_port] (the server's own address for Request-URIs; sipp's [remote_port] would name the
   * relay).
   */
  readonly keys?: Readonly<Record<string, string>>;
  readonly extraArgs?: readonly string[];
}

/** One message from sipp's -trace_msg file. */
export interface SippTraceEntry {
  readonly direction: 'sent' | 'received';
  /** As sipp names it: UDP, TCP, TLS. */
  readonly transport: string;
  readonly time: string;
  /** The message, CRLF normalised to LF, trailing blank lines removed. */
  readonly text: string;
  readonly startLine: string;
  /** Responses: the status code. */
  readonly status?: number;
  /** Requests: the method. */
  readonly method?: string;
}

export interface SippResult {
  /** sipp's exit code: 0 = every call succeeded; 1 = at least one failed; 97/99 = aborted/error. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Contents of the -error_file (unexpected messages, timeouts...). */
  readonly errors: string;
  readonly trace: readonly SippTraceEntry[];
  readonly args: readonly string[];
  /** The TLS bridge used when sipp cannot speak TLS itself. */
  readonly tlsBridge?: TlsBridge;
  /** A one-paragraph summary for assertion messages. */
  describe(): string;
}

/** Value of the first header `name` (full name, case-insensitive) of a traced message. */
export function header(entry: SippTraceEntry | string, name: string): string | undefined {
  return headers(entry, name)[0];
}

/** Every value of the header `name` (one per header line, not split at commas). */
export function headers(entry: SippTraceEntry | string, name: string): string[] {
  const text = (typeof entry === 'string' ? entry : entry.text).replace(/\r\n/g, '\n');
  // unfold continuation lines (RFC 3261 §7.3.1) before splitting the head into fields
  const head = (text.split('\n\n')[0] ?? '').replace(/\n[ \t]+/g, ' ');
  const out: string[] = [];
  const want = name.toLowerCase();
  for (const line of head.split('\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0 && line.slice(0, i).trim().toLowerCase() === want) out.push(line.slice(i + 1).trim());
  }
  return out;
}

/** The tag parameter of a To/From value. */
export function tagOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : /;\s*tag\s*=\s*([^;,\s>]+)/i.exec(value)?.[1];
}

/** Parse a -trace_msg file. */
export function parseSippTrace(content: string): SippTraceEntry[] {
  const entries: SippTraceEntry[] = [];
  const chunks = content.replace(/\r\n/g, '\n').split(/^-{20,}[ \t]*(.*)$/m);
  // split with a capture group: [before, time1, body1, time2, body2, ...]
  for (let i = 1; i + 1 < chunks.length; i += 2) {
    const time = chunks[i]!.trim();
    const body = chunks[i + 1]!.replace(/^\n/, '');
    const m = /^(\w+) message (sent|received)[^\n]*\n/.exec(body);
    if (m === null) continue;
    const text = body.slice(m[0].length).replace(/^\n+/, '').replace(/\n+$/, '');
    const startLine = text.split('\n')[0] ?? '';
    const status = /^SIP\/2\.0 (\d{3})\b/.exec(startLine);
    const method = /^([A-Za-z]+) \S+ SIP\/2\.0$/.exec(startLine);
    entries.push({
      direction: m[2] as 'sent' | 'received',
      transport: m[1]!,
      time,
      text,
      startLine,
      ...(status ? { status: Number(status[1]) } : {}),
      ...(method ? { method: method[1] } : {}),
    });
  }
  return entries;
}

/**
 * Run one bounded sipp: -m calls, -timeout with -timeout_error, -recv_timeout, loopback
 * addresses, every port from the interop range (-p SIP, -cp control, -mp media), messages traced
 * with -trace_msg. A TLS run uses `-t l1` when sipp has TLS; otherwise sipp speaks TCP to a
 * local TLS bridge (see tls-bridge.ts) and its Via says TLS. A watchdog SIGKILLs sipp (by pid)
 * if it outlives its own -timeout by 10 s.
 */
export async function runSipp(o: SippOptions): Promise<SippResult> {
  const info = sippInfo();
  if (!info.installed) throw new Error(SIPP_MISSING);
  const dir = await mkdtemp(join(tmpdir(), 'parley-sipp-'));
  const base = await freePortBlock(5); // -p base, -cp base+1, -mp base+2 (sipp also binds base+4)
  const timeoutSecs = o.timeoutSecs ?? 30;
  const messageFile = join(dir, 'messages.log');
  const errorFile = join(dir, 'errors.log');
  const scenario = o.scenario.includes('/') ? o.scenario : join(SCENARIOS, o.scenario);

  let bridge: TlsBridge | undefined;
  let target = `${o.host}:${o.port}`;
  let t = o.transport === 'udp' ? 'u1' : o.transport === 'tcp' ? 't1' : 'l1';
  const tlsArgs: string[] = [];
  if (o.transport === 'tls') {
    if (info.tls) {
      tlsArgs.push(...(await sippTlsCredentials(dir)));
    } else {
      bridge = await startTlsBridge({ host: o.host, port: o.port });
      target = `127.0.0.1:${bridge.port}`;
      t = 't1';
    }
  }
  // [sut_host]:[sut_port] is the server itself, also when sipp's [remote_port] is the TLS relay's
  const keys = { via_transport: o.transport.toUpperCase(), sut_host: o.host, sut_port: String(o.port), ...o.keys };
  const args = [
    target, '-sf', scenario, '-t', t,
    '-i', '127.0.0.1', '-bind_local', '-p', String(base), '-cp', String(base + 1), '-mp', String(base + 2),
    '-m', String(o.calls), '-timeout', `${timeoutSecs}s`, '-timeout_error', '-recv_timeout', String(o.recvTimeoutMs ?? 5000),
    '-nostdin', '-trace_msg', '-message_file', messageFile, '-trace_err', '-error_file', errorFile,
    ...(o.rate === undefined ? [] : ['-r', String(o.rate)]),
    ...Object.entries(keys).flatMap(([k, v]) => ['-key', k, v]),
    ...tlsArgs,
    ...(o.extraArgs ?? []),
  ];
  let stdout = '';
  let stderr = '';
  let code: number | null = null;
  let signal: NodeJS.Signals | null = null;
  try {
    const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('latin1')));
    const watchdog = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    }, (timeoutSecs + 10) * 1000);
    [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res, rej) => {
      child.once('error', rej);
      child.once('close', (c, s) => res([c, s]));
    });
    clearTimeout(watchdog);
  } finally {
    await bridge?.stop();
  }
  const trace = parseSippTrace(await readFile(messageFile, 'latin1').catch(() => ''));
  const errors = await readFile(errorFile, 'latin1').catch(() => '');
  if (!process.env.PARLEY_KEEP_SIPP_FILES) await rm(dir, { recursive: true, force: true });
  const result: SippResult = {
    code, signal, stdout, stderr, errors, trace, args,
    ...(bridge === undefined ? {} : { tlsBridge: bridge }),
    describe: () =>
      [
        `sipp ${args.join(' ')}`,
        `exit ${code}${signal ? ` (${signal})` : ''}`,
        errors.trim() ? `errors:\n${errors.trim().slice(-2000)}` : '',
        stderr.trim() ? `stderr:\n${stderr.trim().slice(-1000)}` : '',
        `trace: ${trace.map((e) => `${e.direction === 'sent' ? '>' : '<'} ${e.startLine}`).join(' | ')}`,
      ].filter(Boolean).join('\n'),
  };
  return result;
}

/** A throwaway self-signed certificate and key for a TLS-capable sipp (-tls_cert/-tls_key). */
async function sippTlsCredentials(dir: string): Promise<string[]> {
  const cert = join(dir, 'sipp-cert.pem');
  const key = join(dir, 'sipp-key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=sipp.invalid'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl could not make a certificate for sipp: ${r.error?.message ?? r.stderr}`);
  return ['-tls_cert', cert, '-tls_key', key];
}
