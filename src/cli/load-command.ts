import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { ClientConnection } from '../load/client-connection.js';
import { fdLimitProblem, readFdLimit, type FdLimit } from '../load/fd-limit.js';
import { LoadRun, type LoadProgress } from '../load/load-run.js';
import { LOAD_DEFAULTS, LoadUsageError, parseLoadOptions, type LoadOptions, type RawLoadOptions } from '../load/load-options.js';
import { nonLoopbackReason, type AddressLookup } from '../load/loopback.js';
import { UdpSipConnection } from '../load/udp-sip-connection.js';
import { WsSipConnection } from '../load/ws-sip-connection.js';
import { commandOutput, processHooks, runCommand, type CommandHooks } from './command-hooks.js';

/** The streams and hooks `parley load` uses (the process's own, or a test's). */
export interface LoadCommandIo {
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
}

/** setExitCode receives the exit status when the run is over. */
export interface LoadCommandOptions extends Partial<LoadCommandIo>, CommandHooks {
  /** Opens user i's flow (tests); default a WebSocket connection to the target. */
  readonly connect?: (options: LoadOptions, index: number) => Promise<ClientConnection>;
  /** Resolves host names for the loopback check (tests). */
  readonly lookup?: AddressLookup;
  /** The open-files limit (tests); default read from /proc/self/limits. */
  readonly fdLimit?: () => FdLimit | undefined;
  /** Handle SIGINT (default true; tests turn it off). */
  readonly handleSignals?: boolean;
}

/** Every user registered (and held): 0. Something failed: 1. Bad usage: 2. Interrupted: 130. */
export const LOAD_EXIT = { ok: 0, failures: 1, usage: 2, interrupted: 130 } as const;

const USAGE_LINE = 'Usage: parley load --target ws[s]://HOST:PORT/PATH [options]';

const HELP_AFTER = `
What it does: opens one SIP WebSocket connection (RFC 7118, subprotocol "sip") per user, at
--rate per second (at most --max-pending connecting or registering at once), registers each user
(REGISTER sip:DOMAIN, Contact <sip:USER@RANDOM.invalid;transport=ws>;+sip.instance;reg-id=1,
digest authentication with qop=auth, MD5 or SHA-256, when challenged), then keeps them registered
for --hold seconds: re-registration before expiry (nonce reused with the next nc; stale=TRUE
handled), a keepalive per user every --keepalive-interval seconds. Then it closes the connections
(after unregistering with --unregister) and reports: connections opened/failed/lost,
registrations ok/failed by status, registrations per second, latency percentiles (p50, p90, p99,
max), errors in words. A progress bar is drawn on stderr when stdout and stderr are terminals
(never with --json).

Users: --user-pattern and --first make the names (user%06d from 1: user000001, user000002, ...),
all in --domain (default: the target's host:port, which Kamailio's "uri==myself" accepts), with
one password (--password or --password-file, first line). Import the same users into Parley with
"parley user import" (CSV user@domain,password).

UDP (--target udp://HOST:PORT): one socket per user, Via and Contact with its address and port,
retransmissions as RFC 3261 §17.1.2.2 (Timer E from 500 ms to 4 s), no keepalive.

Safety: the target must be a loopback address (127.0.0.0/8, ::1, or a name resolving only to
them) unless --allow-remote: a load tool should not hammer a machine on the network by a typo.
Every run is bounded: --users connections, --duration seconds in all (default: twice the ramp
time + --hold + 120 s).

Open files: each connection is one file descriptor; the run checks the limit first and stops
with the command to raise it. For 10,000 users:  ulimit -n 20000  (as root beyond the hard
limit: /etc/security/limits.conf "nofile", or LimitNOFILE= in a systemd unit).

Examples:
  parley load --target wss://127.0.0.1:8443/sip --insecure --users 100 --rate 50 --password benchpass
  parley load --target ws://127.0.0.1:8070 --users 50 --password benchpass --domain 127.0.0.1:8070
  parley load --target wss://127.0.0.1:8443/sip --insecure --users 10000 --rate 500 \\
               --user-pattern 'user%06d' --first 1 --password-file pw.txt --hold 120 --json > run.json
  parley load --target wss://localhost:8443/sip --insecure --users 1 --hold 5m --expires 60 --keepalive crlf
  parley load --transport udp --target 127.0.0.1:5060 --users 1000 --rate 500 --password benchpass

Exit status: 0 every user registered (and stayed registered through the hold); 1 some connection
or registration failed, or a connection was lost; 2 bad usage; 130 interrupted (Ctrl-C; the
report of what was done is still printed).`;

/**
 * `parley load`: SIP over WebSocket registration load (see HELP_AFTER). Register it with
 * `program.addCommand(loadCommand())`; tests pass their own streams, hooks and connections.
 */
export function loadCommand(options: LoadCommandOptions = {}): Command {
  const io: LoadCommandIo = { stdout: options.stdout ?? process.stdout, stderr: options.stderr ?? process.stderr };
  const { setExitCode, exit } = processHooks(options);

  const cmd = commandOutput(new Command('load'), io, exit, LOAD_EXIT.usage)
    .usage('--target ws[s]://HOST:PORT/PATH [options]')
    .description('Register many SIP users over WebSocket (WSS) at a given rate, hold them, and report rates, latencies and failures.')
    .showHelpAfterError(`${USAGE_LINE}\n(run "parley load --help" for every option and examples)`)
    .option('-t, --target <url>', 'the SIP WebSocket server: wss://HOST:PORT/PATH or ws://HOST:PORT/PATH (or a SIP server over UDP: udp://HOST:PORT)')
    .addOption(new Option('--transport <name>', 'wss, ws or udp: the scheme of a --target given as HOST:PORT').choices(['wss', 'ws', 'udp']))
    .option('-u, --users <n>', 'users (connections) to register', String(LOAD_DEFAULTS.users))
    .option('-r, --rate <per-second>', 'new connections and registrations per second (e.g. 200 or 200/s)', String(LOAD_DEFAULTS.rate))
    .option('--user-pattern <pattern>', 'user names: one %d, with optional zero padding', LOAD_DEFAULTS.userPattern)
    .option('--first <n>', 'number of the first user', String(LOAD_DEFAULTS.first))
    .option('-d, --domain <host[:port]>', "domain of the users and of the Request-URI (default: the target's host:port)")
    .option('-p, --password <password>', 'password of every user (visible in the process list: prefer --password-file)')
    .option('--password-file <file>', 'read the password from the first line of a file')
    .addOption(new Option('--algorithm <name>', 'answer only digest challenges of this algorithm (default: the first one offered)').choices(['MD5', 'SHA-256']))
    .option('--hold <seconds>', 'keep everyone registered this long after the last registration (90, 90s, 15m, 1h)', String(LOAD_DEFAULTS.hold))
    .option('--duration <seconds>', 'cap on the whole run (default: twice the ramp time + hold + 120 s)')
    .option('--expires <seconds>', 'registration time asked for; re-registration at 80-90 % of the time granted', String(LOAD_DEFAULTS.expires))
    .addOption(new Option('--keepalive <kind>', 'keepalive on each connection (default ping; none over UDP)').choices(['ping', 'crlf', 'none']))
    .option('--keepalive-interval <seconds>', 'seconds between keepalives of one connection', String(LOAD_DEFAULTS.keepaliveInterval))
    .option('--timeout <seconds>', 'wait for a final response (and for a connection to open)', String(LOAD_DEFAULTS.timeout))
    .option('--max-pending <n>', 'most users connecting or registering at once', String(LOAD_DEFAULTS.maxPending))
    .option('--unregister', 'remove the registrations (Expires: 0) before closing')
    .option('-k, --insecure', "accept a TLS certificate that does not verify (Parley's development certificate)")
    .option('--allow-remote', 'allow a target that is not a loopback address')
    .option('--json', 'print the report as JSON (no progress bar)')
    .addHelpText('after', HELP_AFTER)
    .action(async (raw: RawLoadOptions) => {
      setExitCode(await runLoad(raw, cmd, io, options));
    });
  return cmd;
}

/** Parse, check, run, report. Returns the exit status. */
async function runLoad(raw: RawLoadOptions, cmd: Command, io: LoadCommandIo, hooks: LoadCommandOptions): Promise<number> {
  let o: LoadOptions;
  try {
    o = parseLoadOptions(raw);
  } catch (e) {
    if (e instanceof LoadUsageError) cmd.error(`parley load: ${e.message}`, { exitCode: LOAD_EXIT.usage, code: 'parley.load.usage' });
    throw e;
  }
  if (!o.allowRemote) {
    const why = await nonLoopbackReason(o.host, hooks.lookup);
    if (why !== undefined) {
      cmd.error(`parley load: refusing --target ${o.target}: ${why}. Load goes to loopback addresses only unless --allow-remote.`, {
        exitCode: LOAD_EXIT.usage,
        code: 'parley.load.remote',
      });
    }
  }
  const fdProblem = fdLimitProblem(o.users, (hooks.fdLimit ?? readFdLimit)());
  if (fdProblem !== undefined) {
    io.stderr.write(`parley load: ${fdProblem}\n`);
    return LOAD_EXIT.usage;
  }

  const connect =
    hooks.connect ??
    ((opts: LoadOptions): Promise<ClientConnection> =>
      opts.transport === 'udp'
        ? UdpSipConnection.open({ host: opts.host, port: opts.port })
        : WsSipConnection.open({ url: opts.target, insecure: opts.insecure, timeoutMs: opts.timeoutSeconds * 1000 }));
  const run = new LoadRun(
    {
      target: o.target,
      transport: o.transport,
      users: o.users,
      rate: o.rate,
      holdSeconds: o.holdSeconds,
      durationSeconds: o.durationSeconds,
      expires: o.expires,
      keepalive: o.keepalive,
      keepaliveIntervalSeconds: o.keepaliveIntervalSeconds,
      userName: (i) => o.userPattern.format(o.first + i),
      domain: o.domain,
      password: o.password,
      ...(o.algorithm ? { algorithm: o.algorithm } : {}),
      transactionTimeoutMs: o.timeoutSeconds * 1000,
      maxPending: o.maxPending,
      unregister: o.unregister,
      userAgent: `Parley-load/${version()}`,
    },
    { connect: (i) => connect(o, i), clock: REF_CLOCK },
  );

  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      io.stderr.write('\nparley load: interrupted; closing the connections (Ctrl-C again to quit at once)\n');
      run.stop('interrupted');
    } else process.exit(LOAD_EXIT.interrupted);
  };
  const signals = hooks.handleSignals ?? true;
  if (signals) process.on('SIGINT', onSigint);
  const bar = !o.json && io.stdout.isTTY === true && io.stderr.isTTY === true ? new ProgressDisplay(io.stderr, () => run.progress()) : undefined;
  let report;
  try {
    bar?.start();
    report = await run.run();
  } finally {
    bar?.stop();
    if (signals) process.off('SIGINT', onSigint);
  }
  io.stdout.write(o.json ? JSON.stringify(report.toJSON(), null, 2) + '\n' : report.toText());
  if (report.stoppedBy === 'interrupted') return LOAD_EXIT.interrupted;
  return report.success ? LOAD_EXIT.ok : LOAD_EXIT.failures;
}

/**
 * Timers that keep the process alive (the library's systemClock unrefs its timers, so that a
 * server's SIP timers never hold a shutdown up): a load run's hold must not end early because
 * every connection failed.
 */
const REF_CLOCK: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (h) => clearTimeout(h as unknown as ReturnType<typeof setTimeout>),
};

/** The bar on stderr: the ramp (users done of all), then the hold (seconds left). */
class ProgressDisplay {
  private bar: cliProgress.SingleBar | undefined;
  private phase: LoadProgress['phase'] | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly progress: () => LoadProgress,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.update(), 250);
    this.update();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.update();
    this.bar?.stop();
    this.bar = undefined;
  }

  private update(): void {
    const p = this.progress();
    if (p.phase !== this.phase) {
      this.bar?.stop();
      this.bar = undefined;
      this.phase = p.phase;
      const format =
        p.phase === 'ramp'
          ? 'registering [{bar}] {value}/{total} users | ok {registered} failed {failed} | {duration_formatted} eta {eta_formatted}'
          : p.phase === 'hold'
            ? 'holding     [{bar}] {value}/{total} s | held {held} | keepalives and re-registrations running'
            : p.phase === 'unregister'
              ? 'unregistering {held} users still registered'
              : '';
      if (format === '') return;
      this.bar = new cliProgress.SingleBar(
        { format, stream: this.stream, hideCursor: true, clearOnComplete: false, etaBuffer: 50, barsize: 30, fps: 4 },
        cliProgress.Presets.shades_classic,
      );
      const total = p.phase === 'hold' ? Math.max(1, Math.round(p.holdLeft)) : p.users;
      this.bar.start(total, 0, { registered: p.registered, failed: p.failed, held: p.held });
      this.holdTotal = total;
    }
    if (this.bar === undefined) return;
    const value = p.phase === 'hold' ? Math.max(0, this.holdTotal - Math.round(p.holdLeft)) : p.done;
    this.bar.update(value, { registered: p.registered, failed: p.failed, held: p.held });
  }

  private holdTotal = 0;
}

let cachedVersion: string | undefined;
function version(): string {
  if (cachedVersion === undefined) {
    try {
      cachedVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      cachedVersion = '0';
    }
  }
  return cachedVersion;
}

/**
 * Run `parley load <args…>` as the command line would, with the given streams and hooks, and
 * resolve to the exit status (tests: nothing touches process.exit or process.exitCode).
 */
export async function runLoadCommand(args: readonly string[], options: LoadCommandOptions & LoadCommandIo): Promise<number> {
  return runCommand('load', args, options, LOAD_EXIT.usage, (hooks) => loadCommand({ handleSignals: false, ...options, ...hooks }));
}
