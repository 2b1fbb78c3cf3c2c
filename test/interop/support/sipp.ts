// Running sipp, the real SIP peer of the interop suites: is it installed (skip or fail without it),
// and one bounded run, either to its end (a UAC, a registration) or in the background (a UAS,
// which resolves once it listens). Its message trace is parsed by support/sip-trace.ts.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signalPid, spawnBounded } from './child.js';
import type { ParleyTransport } from './parley.js';
import type { PortPool } from './ports.js';
import { parseSippTrace, type SippTraceEntry } from './sip-trace.js';
import { writeInjectionFile, type Credentials } from './subscribers.js';
import { startTlsRelay, type TlsRelay } from './tls-relay.js';

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

/** What sipp speaks to Parley: one of Parley's transports. */
export type SippTransport = ParleyTransport;

/**
 * The local ports of one sipp "phone": -p port (SIP), -cp port+1 (control), -mp port+2 (media;
 * sipp also binds port+4). Reserve one to run several sipp processes one after the other from
 * the same SIP port: a REGISTER from the port a UAS will then listen on.
 */
export interface SippEndpoint {
  readonly port: number;
}

export async function reserveEndpoint(pool: PortPool): Promise<SippEndpoint> {
  return { port: await pool.block(5) };
}

export interface SippOptions {
  /** Scenario file: a name in test/interop/scenarios or a path. */
  readonly scenario: string;
  /** Parley's address (for a UAS too: sipp sends its responses back where requests came from). */
  readonly host: string;
  readonly port: number;
  readonly transport: SippTransport;
  /** The test file's pool (support/ports.ts): sipp's ports and the TLS relay's come from it. */
  readonly pool: PortPool;
  /** Local ports; a fresh endpoint from the pool when absent. */
  readonly endpoint?: SippEndpoint;
  /** -m: calls to run before sipp exits (the run is always bounded). */
  readonly calls: number;
  /** -timeout: the whole run's bound, in seconds (default 20; with -timeout_error, reaching it fails). */
  readonly timeoutSecs?: number;
  /** -recv_timeout, ms (default 5000): a call waiting longer for a message fails. */
  readonly recvTimeoutMs?: number;
  /** -r: calls per second (sipp's default is 10). */
  readonly rate?: number;
  /** Credentials for an injection file (-inf): field0 = user, field1 = [authentication ...]. */
  readonly credentials?: readonly Credentials[];
  /** -s: the user part of the Request-URI ([service]). */
  readonly service?: string;
  /** -cid_str: a fixed Call-ID (a refresh REGISTER reuses the first one's). */
  readonly callId?: string;
  /** -base_cseq: the first [cseq]. */
  readonly baseCseq?: number;
  /** -d: length of a <pause/> without milliseconds, ms. */
  readonly pauseMs?: number;
  /**
   * -key NAME VALUE pairs for [NAME] in the scenario. Always set: [via_transport] (UDP, TCP or
   * TLS: what the Via must say, also when sipp talks TCP to the TLS relay) and [sut_host],
   * [sut_port] (Parley's address, as [remote_ip]:[remote_port] are).
   */
  readonly keys?: Readonly<Record<string, string>>;
  readonly extraArgs?: readonly string[];
}

export interface SippResult {
  /** sipp's exit code: 0 = every call succeeded; 1 = at least one failed; 97/99 = aborted/error; null: killed. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Contents of the -error_file (unexpected messages, timeouts...). */
  readonly errors: string;
  readonly trace: readonly SippTraceEntry[];
  readonly args: readonly string[];
  readonly endpoint: SippEndpoint;
  /** Set when sipp had no TLS and spoke TCP to a local TLS relay. */
  readonly tlsRelay?: TlsRelay;
  /** A summary (command, exit, errors, message flow) for assertion messages. */
  describe(): string;
}

/** A sipp started in the background (a UAS waiting for calls). */
export interface SippRun {
  readonly endpoint: SippEndpoint;
  readonly pid: number;
  /** Resolves when sipp has exited. */
  readonly done: Promise<SippResult>;
}

/**
 * Start one bounded sipp: -m calls, -timeout with -timeout_error, -recv_timeout, a watchdog
 * that SIGKILLs it by pid 10 s after its own timeout; loopback addresses, every port from the
 * pool (-p SIP, -cp control, -mp media); messages traced (-trace_msg).
 * With `waitListening` (the default, for a UAS) it resolves once sipp listens on its SIP port,
 * read from /proc/net, so a call can be sent to it at once.
 * TLS: `-t l1` with an openssl certificate when sipp was built with OpenSSL; otherwise sipp
 * speaks TCP, through `-rsa`, to a local TLS relay (support/tls-relay.ts), with TLS in its Via
 * and Contact ([via_transport]) and Parley's TLS address in [remote_ip]:[remote_port].
 */
export async function startSipp(o: SippOptions, waitListening = true): Promise<SippRun> {
  const info = sippInfo();
  if (!info.installed) throw new Error(SIPP_MISSING);
  const dir = await mkdtemp(join(tmpdir(), 'parley-sipp-'));
  const endpoint = o.endpoint ?? (await reserveEndpoint(o.pool));
  const base = endpoint.port;
  const timeoutSecs = o.timeoutSecs ?? 20;
  const messageFile = join(dir, 'messages.log');
  const errorFile = join(dir, 'errors.log');
  const scenario = o.scenario.includes('/') ? o.scenario : join(SCENARIOS, o.scenario);

  let relay: TlsRelay | undefined;
  let t = o.transport === 'udp' ? 'u1' : o.transport === 'tcp' ? 't1' : 'l1';
  const tlsArgs: string[] = [];
  if (o.transport === 'tls') {
    if (info.tls) {
      tlsArgs.push(...sippTlsCredentials(dir));
    } else {
      // the scenario still names Parley ([remote_ip]:[remote_port] in the Request-URI, and in
      // the digest uri sipp computes); -rsa only changes where sipp sends: to the relay
      relay = await startTlsRelay({ host: o.host, port: o.port }, o.pool);
      tlsArgs.push('-rsa', `127.0.0.1:${relay.port}`);
      t = 't1';
    }
  }
  const inf = o.credentials === undefined ? [] : ['-inf', await writeInjectionFile(join(dir, 'credentials.csv'), o.credentials)];
  const keys = { via_transport: o.transport.toUpperCase(), sut_host: o.host, sut_port: String(o.port), ...o.keys };
  const args = [
    `${o.host}:${o.port}`, '-sf', scenario, '-t', t,
    '-i', '127.0.0.1', '-bind_local', '-p', String(base), '-cp', String(base + 1), '-mp', String(base + 2),
    '-m', String(o.calls), '-timeout', `${timeoutSecs}s`, '-timeout_error', '-recv_timeout', String(o.recvTimeoutMs ?? 5000),
    '-nostdin', '-trace_msg', '-message_file', messageFile, '-trace_err', '-error_file', errorFile,
    ...inf,
    ...(o.rate === undefined ? [] : ['-r', String(o.rate)]),
    ...(o.service === undefined ? [] : ['-s', o.service]),
    ...(o.callId === undefined ? [] : ['-cid_str', o.callId]),
    ...(o.baseCseq === undefined ? [] : ['-base_cseq', String(o.baseCseq)]),
    ...(o.pauseMs === undefined ? [] : ['-d', String(o.pauseMs)]),
    ...Object.entries(keys).flatMap(([k, v]) => ['-key', k, v]),
    ...tlsArgs,
    ...(o.extraArgs ?? []),
  ];
  const child = spawnBounded('sipp', args, { cwd: dir, timeoutMs: (timeoutSecs + 10) * 1000, encoding: 'latin1' });
  const cleanUp = async (): Promise<void> => {
    await relay?.stop();
    if (!process.env.PARLEY_KEEP_SIPP_FILES) await rm(dir, { recursive: true, force: true });
  };
  const done = child.done.then(
    async ({ code, signal, stdout, stderr }) => {
      const trace = parseSippTrace(await readFile(messageFile, 'latin1').catch(() => ''));
      const errors = await readFile(errorFile, 'latin1').catch(() => '');
      await cleanUp();
      const result: SippResult = {
        code, signal, stdout, stderr, errors, trace, args, endpoint,
        ...(relay === undefined ? {} : { tlsRelay: relay }),
        describe: () => describeRun(args, code, signal, errors, stderr, trace),
      };
      return result;
    },
    async (e: unknown) => {
      await cleanUp();
      throw e;
    },
  );
  if (child.pid === undefined) {
    await done; // rejects with the reason spawn gave
    throw new Error(`sipp could not be started: sipp ${args.join(' ')}`);
  }
  // a UAS is useful once it listens: wait for its socket (or for an early exit)
  if (waitListening) {
    const exited = done.then(() => 'exited' as const, () => 'exited' as const);
    const bound = await Promise.race([waitBound(base, o.transport === 'udp' ? 'udp' : 'tcp', 5000), exited]);
    if (bound === false) {
      signalPid(child.pid, 'SIGKILL');
      const r = await done.catch(() => undefined);
      throw new Error(`sipp did not open its SIP port ${base} within 5 s:\n${r?.describe() ?? `sipp ${args.join(' ')}`}`);
    }
  }
  return { endpoint, pid: child.pid, done };
}

/** Run one bounded sipp to its end (see startSipp). */
export async function runSipp(o: SippOptions): Promise<SippResult> {
  return (await startSipp(o, false)).done;
}

function describeRun(args: readonly string[], code: number | null, signal: NodeJS.Signals | null, errors: string, stderr: string, trace: readonly SippTraceEntry[]): string {
  return [
    `sipp ${args.join(' ')}`,
    `exit ${code}${signal ? ` (${signal})` : ''}`,
    errors.trim() ? `errors:\n${errors.trim().slice(-2500)}` : '',
    stderr.trim() ? `stderr:\n${stderr.trim().slice(-1000)}` : '',
    `flow: ${trace.map((e) => `${e.direction === 'sent' ? '>' : '<'} ${e.startLine}`).join(' | ')}`,
  ].filter(Boolean).join('\n');
}

/**
 * Wait until something listens on 127.0.0.1:port (UDP: a bound socket; TCP: LISTEN), read
 * from /proc/net so that the check never binds the port itself. Without /proc it waits 500 ms.
 */
async function waitBound(port: number, kind: 'udp' | 'tcp', timeoutMs: number): Promise<boolean> {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let table: string;
    try {
      table = await readFile(`/proc/net/${kind}`, 'utf8');
    } catch {
      await new Promise((r) => setTimeout(r, 500));
      return true;
    }
    const found = table.split('\n').some((line) => {
      const cols = line.trim().split(/\s+/);
      return cols[1] === want && (kind === 'udp' || cols[3] === '0A');
    });
    if (found) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/** A throwaway self-signed certificate and key for a TLS-capable sipp (-tls_cert / -tls_key). */
function sippTlsCredentials(dir: string): string[] {
  const cert = join(dir, 'sipp-cert.pem');
  const key = join(dir, 'sipp-key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=sipp.invalid'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl could not make a certificate for sipp: ${r.error?.message ?? r.stderr}`);
  return ['-tls_cert', cert, '-tls_key', key];
}
