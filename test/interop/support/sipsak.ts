// Debian's sipsak (0.9.8.1) as a registering client of the interop suites: one bounded run of its
// usrloc mode (`-U`): REGISTER with a Contact of the test's choosing (`-C`), answer the 401 with
// the password (`-a`), exit 0 on a 200. Its exit code is the verdict (0: 2xx; 2: a 401/407 to the
// request that already carried credentials, "authorization failed", or an algorithm it does not
// know; see sipsak(1)), and `-vvv` prints every message sent and received (`messages()`).
//
// Three things of sipsak 0.9.8.1 that every run works around (none of them Parley's):
// - the registrar's port goes in `-r`, never in the URI: sipsak appends `:port` to the domain
//   in a buffer one byte short for a five-digit port (`snprintf(backup, strlen(domain)+6, …)`),
//   so `sip:alice@127.0.0.1:32700` becomes the domain `127.0.0.1:3270`;
// - the digest username goes in `-u`: usrloc mode appends `@` to the user of the URI (to build
//   `user@domain`), and the Authorization then carries `username="alice@"`;
// - over TLS it must not negotiate TLS 1.3: its first read after the handshake fails ("nothing
//   received, select returned error", exit 2; most likely on the NewSessionTicket that Node's
//   OpenSSL sends in TLS 1.3, which its receive path takes for an error), while TLS 1.2 works.
//   So sipsak is limited to TLS 1.2 through GnuTLS's own configuration
//   (`GNUTLS_SYSTEM_PRIORITY_FILE`: `disabled-version = tls1.3`). It does not refuse a server
//   whose certificate its CA file (`--tls-ca-cert`) does not vouch for: what is tested is SIP
//   over TLS, not sipsak's certificate checks.
// It sends from another port than the one it binds (`-l`) unless `--symmetric` is given: the
// runs here give it, as a phone sends and receives on one port.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnBounded } from './child.js';
import type { ParleyTransport } from './parley.js';
import { parseSipTrace, type TracedMessage } from './client-trace.js';

export const SIPSAK_MISSING = 'sipsak is not installed (Debian package sipsak: apt-get install sipsak)';

/** Is Debian's sipsak installed? */
export function sipsakInstalled(): boolean {
  const r = spawnSync('sipsak', ['-V'], { encoding: 'utf8', timeout: 5000 });
  return r.error === undefined && /sipsak \d/.test(`${r.stdout}${r.stderr}`);
}

/** The `skip` option of a suite that needs sipsak: skipped without it, except in CI (which installs it). */
export function skipWithoutSipsak(): string | false {
  if (sipsakInstalled()) return false;
  return process.env.CI ? false : `${SIPSAK_MISSING}; skipped outside CI`;
}

export interface SipsakRegisterOptions {
  /** Parley's address, port and transport. */
  readonly registrar: { readonly host: string; readonly port: number; readonly transport: ParleyTransport };
  /** The account: user and password (domain 127.0.0.1 unless given). */
  readonly user: string;
  readonly password: string;
  readonly domain?: string;
  /** sipsak's local port (`-l`): the one it sends from (`--symmetric`), and the Contact's unless `contactPort`. */
  readonly localPort: number;
  /**
   * The Contact's port when it is not `localPort`: over TCP sipsak cannot bind a port again while
   * its last connection from there is in TIME_WAIT, so a second run names the first Contact from another port.
   */
  readonly contactPort?: number;
  /** `Expires` (`-x`): 0 removes the binding. */
  readonly expires: number;
  /** PEM file of the CA for TLS (`--tls-ca-cert`). */
  readonly cafile?: string;
  /** The watchdog: SIGKILL after this long (default 20 s). */
  readonly timeoutMs?: number;
}

export interface SipsakResult {
  /** sipsak's exit code: 0 when the REGISTER got a 2xx. */
  readonly code: number | null;
  readonly output: string;
  /** The Contact it registered. */
  readonly contact: string;
  /** Every SIP message it printed (`-vvv`), requests and responses in order. */
  readonly messages: TracedMessage[];
  /** Its command line and output, for failure messages. */
  describe(): string;
}

/** One `sipsak -U` run: REGISTER `contact` for the account, answering a digest challenge. */
export async function sipsakRegister(o: SipsakRegisterOptions): Promise<SipsakResult> {
  const { host, port, transport } = o.registrar;
  const domain = o.domain ?? '127.0.0.1';
  const contact = `sip:${o.user}@127.0.0.1:${o.contactPort ?? o.localPort}${transport === 'udp' ? '' : `;transport=${transport}`}`;
  const dir = await mkdtemp(join(tmpdir(), 'parley-sipsak-'));
  try {
    const args = [
      '-U', // usrloc mode: register, nothing else (no -I/-M)
      '-i', // no warning about the Via it does not insert twice
      '-s', `sip:${o.user}@${domain}`,
      '-r', String(port),
      '-E', transport,
      '-u', o.user,
      '-a', o.password,
      '-C', contact,
      '-x', String(o.expires),
      '-l', String(o.localPort),
      '--symmetric',
      '-H', '127.0.0.1',
      '-vvv',
      ...(o.cafile === undefined ? [] : ['--tls-ca-cert', o.cafile]),
    ];
    let command = 'sipsak';
    let argv = args;
    if (transport === 'tls') {
      const priorities = join(dir, 'gnutls.config');
      await writeFile(priorities, '[overrides]\ndisabled-version = tls1.3\n');
      // env(1) execs sipsak: the PID the watchdog kills is sipsak's
      command = 'env';
      argv = [`GNUTLS_SYSTEM_PRIORITY_FILE=${priorities}`, 'sipsak', ...args];
    }
    const r = await spawnBounded(command, argv, { cwd: dir, timeoutMs: o.timeoutMs ?? 20_000 }).done;
    const output = `${r.stdout}${r.stderr}`;
    return {
      code: r.code,
      output,
      contact,
      messages: parseMessages(output),
      describe: () => `--- sipsak ${argv.join(' ')} (exit ${r.code ?? r.signal})\n${output.length > 12_000 ? `…${output.slice(-12_000)}` : output}`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The SIP messages of sipsak's `-vvv` output. It prints a request it sends and the response it
 * receives (after "request:"/"response:"/"received:" lines); a request it retransmits or
 * reprints appears again, so callers count distinct CSeq numbers, not messages.
 */
function parseMessages(output: string): TracedMessage[] {
  return parseSipTrace(output);
}
