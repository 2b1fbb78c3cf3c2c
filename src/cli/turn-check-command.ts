// `parley turn-check`: why ICE through a STUN/TURN server fails, step by step (src/turn-check).
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { readConfigFile, type ParleyConfig } from '../app/config.js';
import { parseIceServerUrl } from '../turn-check/ice-server-url.js';
import { runTurnCheck, type CheckReport, type CheckStep } from '../turn-check/turn-check.js';
import { makeRestCredentials } from '../turn/rest-credentials.js';

/** Every step passed: 0. A step failed: 1. Bad usage: 2. */
export const TURN_CHECK_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

interface RawOptions {
  user?: string;
  password?: string;
  passwordFile?: string;
  secret?: string;
  ttl: number;
  realm?: string;
  config?: string;
  insecure?: boolean;
  ca?: string;
  timeout: number;
  channel: boolean;
  json?: boolean;
}

const HELP_AFTER = `
What it does, as a browser's ICE agent would and as far as it gets:
  resolve the host; connect (TCP, TLS with the certificate checked against the host name);
  STUN Binding (the server-reflexive candidate); for turn:/turns: Allocate without credentials
  (the realm), Allocate with them (the relayed candidate); then this machine is its own peer:
  CreatePermission, data through the relay to a UDP socket of the check (Send indication) and
  back (Data indication), ChannelBind and ChannelData both ways, and Refresh 0 to release.
Each step prints its latency; the first that fails ends the check with the cause in words
(wrong password or unknown user, wrong realm, port blocked, relay to peer denied, TLS name
mismatch, no relay port, ...).

Credentials: --user and --password (a Parley subscriber, or a coturn user), or --user and
--secret for time-limited REST credentials (coturn's use-auth-secret, Parley's turn.restSecrets):
username "<expiry>:<user>", password base64(HMAC-SHA1(secret, username)). With --config, the URL,
the realm and the first REST secret come from Parley's configuration file.

Exit status: 0 every step passed, 1 a step failed, 2 bad usage.

Examples:
  parley turn-check stun:stun.example.net
  parley turn-check turn:turn.example.net:3478 --user alice --password secret
  parley turn-check "turn:turn.example.net?transport=tcp" --user alice --secret "$TURN_SECRET"
  parley turn-check turns:turn.example.net:5349 --user alice --password secret --json
  parley turn-check --config parley.yaml --user alice --password secret`;

export function turnCheckCommand(): Command {
  return new Command('turn-check')
    .description('Check a STUN/TURN server as a browser would use it, and say in words why ICE through it fails.')
    .argument('[url]', 'stun:, stuns:, turn: or turns: URL (RFC 7064, RFC 7065), e.g. turn:turn.example.net:3478?transport=udp')
    .option('-u, --user <name>', 'user name (with --password, or with --secret for REST credentials)')
    .option('-p, --password <password>', 'password of the long-term credentials')
    .option('--password-file <file>', 'read the password from the first line of a file')
    .option('--secret <secret>', 'REST API shared secret: make time-limited credentials for --user')
    .option('--ttl <seconds>', 'lifetime of REST credentials made with --secret', positiveInt, 600)
    .option('--realm <realm>', 'the realm you expect (a different one is pointed out)')
    .option('-c, --config <file>', "Parley's configuration file: its TURN listener, realm and first REST secret")
    .option('--insecure', 'TLS: accept any certificate (self-signed test servers)')
    .option('--ca <file>', 'TLS: trust these CA certificates (PEM) instead of the system ones')
    .option('--timeout <ms>', 'wait for relayed data and connections, ms', positiveInt, 3000)
    .option('--no-channel', 'skip the ChannelBind / ChannelData step')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', HELP_AFTER)
    .action(async (urlArg: string | undefined, opts: RawOptions, cmd: Command) => {
      const usage = (message: string): never => {
        cmd.error(`parley turn-check: ${message}`, { exitCode: TURN_CHECK_EXIT.usage });
        throw new Error(message); // not reached: cmd.error exits
      };
      let config: ParleyConfig | undefined;
      if (opts.config !== undefined) {
        try {
          config = readConfigFile(opts.config, process.env).config;
        } catch (e) {
          usage(`bad configuration: ${(e as Error).message}`);
        }
      }
      const urlText = urlArg ?? (config !== undefined ? urlFromConfig(config) : undefined);
      if (urlText === undefined) usage('give a stun:/turn: URL, or --config with a Parley configuration');
      const url = parseIceServerUrl(urlText!);
      if (!url.ok) return usage(url.error);
      let password = opts.password;
      if (opts.passwordFile !== undefined) {
        try {
          password = readFileSync(opts.passwordFile, 'utf8').split('\n')[0]!.replace(/\r$/, '');
        } catch (e) {
          usage(`cannot read --password-file: ${(e as Error).message}`);
        }
      }
      const secret = opts.secret ?? (config !== undefined && password === undefined ? config.turn.restSecrets[0] : undefined);
      if (password !== undefined && opts.secret !== undefined) usage('give --password or --secret, not both');
      if ((password !== undefined || secret !== undefined) && opts.user === undefined) usage('--user is needed with --password or --secret');
      if (opts.user !== undefined && password === undefined && secret === undefined) usage(`--user ${opts.user} needs --password, --password-file or --secret`);
      const credentials =
        opts.user === undefined
          ? undefined
          : secret !== undefined
            ? (() => {
                const c = makeRestCredentials(secret, opts.user!, opts.ttl, Math.floor(Date.now() / 1000));
                return { username: c.username, password: c.password };
              })()
            : { username: opts.user, password: password! };
      const expectedRealm = opts.realm ?? config?.turn.realm;
      const ca = opts.ca === undefined ? undefined : readFileSync(opts.ca);
      if (!opts.json) process.stdout.write(`parley turn-check ${url.value.text}${credentials ? ` as ${credentials.username}${secret !== undefined ? ' (REST credentials)' : ''}` : ''}\n`);
      const report = await runTurnCheck({
        url: url.value,
        ...(credentials ? { credentials } : {}),
        ...(secret !== undefined ? { rest: true } : {}),
        ...(expectedRealm !== undefined ? { expectedRealm } : {}),
        ...(opts.insecure === true ? { insecure: true } : {}),
        ...(ca !== undefined ? { ca } : {}),
        timeoutMs: opts.timeout,
        channel: opts.channel,
        ...(opts.json ? {} : { onStep: (s: CheckStep) => process.stdout.write(stepLine(s) + '\n') }),
      });
      if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else process.stdout.write(summary(report) + '\n');
      process.exitCode = report.ok ? TURN_CHECK_EXIT.ok : TURN_CHECK_EXIT.failed;
    });
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a positive whole number');
  return n;
}

/** The TURN URL of Parley's configuration: its first listener, or the default (UDP 3478 on the first SIP address). */
function urlFromConfig(c: ParleyConfig): string {
  const l = c.turn.listen[0];
  const host = (a: string): string => (a === '0.0.0.0' ? '127.0.0.1' : a === '::' ? '[::1]' : a.includes(':') ? `[${a}]` : a);
  if (l !== undefined) return l.transport === 'tls' ? `turns:${host(l.address)}:${l.port}` : `turn:${host(l.address)}:${l.port}?transport=${l.transport}`;
  const sip = c.sip.listen[0];
  return `turn:${host(sip?.address ?? '127.0.0.1')}:3478?transport=udp`;
}

const MARK: Readonly<Record<CheckStep['status'], string>> = { ok: 'ok  ', failed: 'FAIL', skipped: 'skip' };

/** One step, one line: mark, title, latency, what it found. */
export function stepLine(s: CheckStep): string {
  const ms = s.ms === undefined ? '' : `${s.ms} ms`;
  return `  ${MARK[s.status]}  ${s.title.padEnd(58)} ${ms.padStart(7)}  ${s.status === 'skipped' ? '' : s.detail}`.trimEnd();
}

/** The end of the text report: candidates and the verdict. */
export function summary(r: CheckReport): string {
  const lines = [`candidates: srflx ${r.candidates.srflx ?? '(none)'}, relay ${r.candidates.relay ?? '(none)'}${r.realm !== undefined ? `; realm "${r.realm}"` : ''}`];
  const failed = r.steps.find((s) => s.status === 'failed');
  lines.push(failed === undefined ? 'result: OK, every step passed' : `result: FAILED at "${failed.title}": ${failed.detail}`);
  return lines.join('\n');
}

