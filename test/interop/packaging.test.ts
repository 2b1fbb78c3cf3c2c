// A packed Parley, installed as a user installs it: `npm pack` of this repository (its dist/, as
// `npm run build` left it), `npm install parley-x.tgz` in a new directory (dependencies from npm's
// cache, else the registry), then the installed `parley` command run on the `node` first on PATH
// (the one running this test): OPTIONS answered, GET /healthz, what operators install beside it
// (packaging/), the size of the tarball. Then the signals (docs/configuration.md, "Signals"): SIGINT and
// SIGTERM stop it; SIGHUP reloads a daemon and stops a foreground server whose terminal closed; a
// second SIGTERM during a slow stop exits at once; a daemon whose terminal went away (stdout gives
// EIO) still stops on SIGTERM. Terminals are real ones: util-linux `script` runs Parley on a
// pseudo-terminal, and SIGKILL to `script` closes it, as a closed window or a dropped ssh session
// does.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { signalPid, spawnBounded } from './support/child.js';
import { PARLEY_CLI, REPO_ROOT, type LogLine } from './support/parley.js';
import { portPool } from './support/ports.js';
import { openUdpProbe, type UdpProbe } from './support/udp-probe.js';

const pool = portPool(import.meta.url);
/** How long a stop may take here: Parley's own bound (10 s) and a margin for a loaded machine. */
const EXIT_BOUND_MS = 30_000;
const READY_BOUND_MS = 30_000;
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The environment the installed command runs in: this test's node first on PATH. */
const ENV: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };
for (const k of Object.keys(ENV)) if (k.startsWith('npm_')) delete ENV[k];

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}
const NO_PTY = has('script') && has('setsid') ? false : 'needs util-linux script and setsid';

/** A routing script: OPTIONS answered 200 with X-Version; a request for `block` keeps its SIP worker busy for 60 s. */
function routes(version: string): string {
  return `import type { RequestContext } from 'parley/routing';

export function onRequest(ctx: RequestContext): void {
  if (ctx.ruri.user === 'block') {
    const end = Date.now() + 60_000;
    while (Date.now() < end) {
      // busy: this worker does not turn its event loop
    }
    return;
  }
  ctx.reply(200, 'OK', [['X-Version', '${version}']]);
}
`;
}

function options(port: number, probePort: number, user?: string): Buffer {
  const target = `${user === undefined ? '' : `${user}@`}127.0.0.1`;
  const branch = `z9hG4bK-pack-${Math.random().toString(36).slice(2)}`;
  return Buffer.from(
    [
      `OPTIONS sip:${target}:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${probePort};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:probe@127.0.0.1>;tag=${branch.slice(-8)}`,
      `To: <sip:${target}>`,
      `Call-ID: ${branch}@127.0.0.1`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

/** The first response to an OPTIONS (resent up to 10 times, 500 ms apart), or undefined. */
async function ask(probe: UdpProbe, port: number, user?: string): Promise<string | undefined> {
  for (let i = 0; i < 10; i++) {
    const got = await probe.exchange(options(port, probe.port, user), '127.0.0.1', port, 500);
    if (got.length > 0) return got[0]!.toString();
  }
  return undefined;
}

/** Is `pid` still running? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Wait until `pid` has gone, up to `ms`: true if it did. */
async function gone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((res) => setTimeout(res, 100));
  }
  return !alive(pid);
}

async function until(what: string, ms: number, check: () => boolean | Promise<boolean>, output: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail(`${what}: not within ${ms} ms; output:\n${output()}`);
}

describe('packed and installed Parley', { timeout: 900_000 }, () => {
  let dir: string;
  let bin: string;
  let probe: UdpProbe;
  let tarballSize: { size: number; unpackedSize: number; entryCount: number };
  /** PIDs of every process started here, killed (SIGKILL) at the end should one be left. */
  const started: number[] = [];

  before(async () => {
    if (!existsSync(PARLEY_CLI)) throw new Error(`${PARLEY_CLI} is missing: run "npm run build" first (npm run test:interop does)`);
    dir = await mkdtemp(join(tmpdir(), 'parley-pack-'));
    const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO_ROOT, encoding: 'utf8', env: ENV, timeout: 120_000 })) as Array<{ filename: string; size: number; unpackedSize: number; entryCount: number }>;
    const tarball = join(dir, packed[0]!.filename);
    tarballSize = packed[0]!;
    const inst = join(dir, 'inst');
    execFileSync('mkdir', ['-p', inst]);
    await writeFile(join(inst, 'package.json'), JSON.stringify({ name: 'parley-install-test', private: true }));
    const r = await spawnBounded('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error'], { cwd: inst, timeoutMs: 600_000 }).done;
    assert.equal(r.code, 0, `npm install ${tarball}:\n${r.stdout}${r.stderr}`);
    bin = join(inst, 'node_modules', '.bin', 'parley');
    probe = await openUdpProbe(pool);
  });

  after(async () => {
    for (const pid of started) if (alive(pid)) signalPid(pid, 'SIGKILL');
    await probe?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** Run the installed `parley ARGS` to its end (bounded). */
  function run(args: readonly string[], input?: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(bin, args, { cwd: dir, env: ENV, encoding: 'utf8', timeout: 60_000, ...(input === undefined ? {} : { input }) });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('holds what an installed Parley reads: the CLI, the web page, the routing scripts, the docs', () => {
    const pkg = join(dir, 'inst', 'node_modules', 'parley');
    for (const f of ['dist/cli/main.js', 'dist/app/sip-worker.js', 'dist/app/binding-writer.js', 'dist/web/phone/index.html', 'dist/web/phone/phone.js', 'dist/web/ice/index.html', 'dist/web/ice/ice.js', 'dist/routing/index.d.ts', 'src/routing/scripts/default.ts', 'src/routing/examples/trunks.ts', 'README.md', 'docs/configuration.md']) {
      assert.ok(existsSync(join(pkg, f)), `${f} is not in the package`);
    }
    assert.ok(!existsSync(join(pkg, 'dist/cli/main.test.js')) && !existsSync(join(pkg, 'src/routing/scripts/default.test.ts')), 'tests are packed');
    assert.match(readFileSync(join(pkg, 'dist/cli/main.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });

  it('holds what operators install beside it: everything under packaging/ (systemd unit, sysusers.d, example configuration, Grafana dashboard), and the dashboard page when built', (t) => {
    const pkg = join(dir, 'inst', 'node_modules', 'parley');
    const wanted = ['packaging/systemd/parley.service', 'packaging/systemd/parley.sysusers.conf', 'packaging/systemd/parley.yaml'];
    // what the other parts of issue 18 add, once they are there: every file of packaging/, the dashboard's page
    const walk = (d: string): string[] => readdirSync(join(REPO_ROOT, d), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
    for (const f of new Set([...wanted, ...walk('packaging')])) assert.ok(existsSync(join(pkg, f)), `${f} is not in the package`);
    if (existsSync(join(REPO_ROOT, 'dist/web/dashboard/index.html'))) assert.ok(existsSync(join(pkg, 'dist/web/dashboard/index.html')), 'the dashboard page is not in the package');
    // small: no test, no source map of the tests, no bench data
    t.diagnostic(`npm pack: ${(tarballSize.size / 1e6).toFixed(2)} MB packed, ${(tarballSize.unpackedSize / 1e6).toFixed(2)} MB unpacked, ${tarballSize.entryCount} files`);
    assert.ok(tarballSize.size < 5_000_000, `the package is ${tarballSize.size} bytes`);
  });

  it('parley --help, --version, user add and user list', () => {
    const help = run(['--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /serve \[options\]/);
    assert.equal(run(['--version']).stdout.trim(), VERSION);
    const data = join(dir, 'users');
    const add = run(['user', 'add', 'alice@example.com', '--data-dir', data], 's3cret\ns3cret\n');
    assert.equal(add.status, 0, add.stdout + add.stderr);
    const list = run(['user', 'list', '--data-dir', data]);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /alice@example\.com/);
  });

  it('a Node.js older than engines.node is named, with the version needed', { skip: olderNode() === undefined ? 'no node older than engines.node on this machine' : false }, () => {
    const old = olderNode()!;
    const r = spawnSync(bin, ['--help'], { cwd: dir, env: { ...ENV, PATH: `${dirname(old)}${delimiter}${ENV.PATH}` }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /parley: needs Node\.js \d+ or later .*this is Node\.js v\d+/);
  });

  /** A server started directly (detached: a session of its own, no terminal: a daemon), its stdout read as log lines. */
  interface Daemon {
    readonly pid: number;
    readonly port: number;
    readonly logs: LogLine[];
    readonly child: ChildProcess;
    readonly exited: Promise<number | null>;
    output(): string;
  }

  async function startDaemon(name: string, extra: readonly string[] = [], httpPort?: number): Promise<Daemon> {
    const port = await pool.block(1);
    const data = join(dir, `data-${name}`);
    const listen = [`udp:127.0.0.1:${port}`, ...(httpPort === undefined ? [] : [`ws:127.0.0.1:${httpPort}`])];
    const child = spawn(bin, ['serve', '--listen', ...listen, '--data-dir', data, '--log-level', 'info', ...extra], { cwd: dir, env: ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child.pid!);
    const logs: LogLine[] = [];
    const other: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        logs.push(JSON.parse(l) as LogLine);
      } catch {
        other.push(l);
      }
    });
    createInterface({ input: child.stderr! }).on('line', (l) => other.push(l));
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    const output = (): string => [...logs.map((l) => JSON.stringify(l)), ...other].slice(-30).join('\n');
    await until('Parley is ready', READY_BOUND_MS, () => logs.some((l) => l.msg === 'Parley is ready') || child.exitCode !== null, output);
    assert.equal(child.exitCode, null, `Parley exited at start:\n${output()}`);
    return { pid: child.pid!, port, logs, child, exited, output };
  }

  /** The exit status within EXIT_BOUND_MS, or a failure (and SIGKILL). */
  async function exitOf(d: Daemon, what: string): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([d.exited, new Promise<'late'>((res) => (timer = setTimeout(() => res('late'), EXIT_BOUND_MS)))]);
    clearTimeout(timer);
    if (code === 'late') {
      signalPid(d.pid, 'SIGKILL');
      assert.fail(`${what}: Parley did not exit within ${EXIT_BOUND_MS} ms; output:\n${d.output()}`);
    }
    return code;
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`parley serve answers OPTIONS; ${signal} stops it`, async () => {
      const d = await startDaemon(signal.toLowerCase());
      assert.match((await ask(probe, d.port)) ?? 'no answer', /^SIP\/2\.0 200 /);
      signalPid(d.pid, signal);
      assert.equal(await exitOf(d, signal), 0, d.output());
      assert.ok(d.logs.some((l) => l.msg === 'shutting down' && l.signal === signal && l.action === 'stop'), d.output());
      assert.ok(d.logs.some((l) => l.msg === 'Parley stopped'), d.output());
    });
  }

  it('parley serve from the installed package answers OPTIONS and GET /healthz (plain HTTP on loopback); SIGTERM stops it', async () => {
    const httpPort = await pool.block(1);
    const d = await startDaemon('healthz', [], httpPort);
    assert.match((await ask(probe, d.port)) ?? 'no answer', /^SIP\/2\.0 200 /);
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(health.status, 200, await health.text());
    signalPid(d.pid, 'SIGTERM');
    assert.equal(await exitOf(d, 'SIGTERM'), 0, d.output());
  });

  it('a daemon reloads its routing script on SIGHUP, still answers, and SIGTERM stops it', async () => {
    const script = join(dir, 'routes.ts');
    await writeFile(script, routes('A'));
    // no watch of the file: the reload is SIGHUP's
    const config = join(dir, 'no-watch.json');
    await writeFile(config, JSON.stringify({ routing: { watch: false } }));
    const d = await startDaemon('sighup', ['--config', config, '--script', script, '--workers', '1']);
    assert.match((await ask(probe, d.port)) ?? 'no answer', /^SIP\/2\.0 200 [^]*X-Version: A/i);
    await writeFile(script, routes('B'));
    signalPid(d.pid, 'SIGHUP');
    await until('the reload', EXIT_BOUND_MS, () => d.logs.some((l) => l.msg === 'routing script reloaded' && l.script === 2 && l.trigger === 'signal'), d.output);
    assert.ok(d.logs.some((l) => l.signal === 'SIGHUP' && l.action === 'reload'), `what SIGHUP did is not logged:\n${d.output()}`);
    assert.match((await ask(probe, d.port)) ?? 'no answer', /^SIP\/2\.0 200 [^]*X-Version: B/i);
    signalPid(d.pid, 'SIGTERM');
    assert.equal(await exitOf(d, 'SIGTERM after SIGHUP'), 0, d.output());
    assert.ok(d.logs.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM'), d.output());
  });

  it('a second SIGTERM during a slow stop (a SIP worker busy in the script) exits at once, status 1', async () => {
    const script = join(dir, 'busy.ts');
    await writeFile(script, routes('busy'));
    const d = await startDaemon('second', ['--script', script, '--workers', '1']);
    assert.match((await ask(probe, d.port)) ?? 'no answer', /^SIP\/2\.0 200 /);
    // the worker's event loop stops turning: the stop waits for it (3 s, then terminates it)
    await probe.exchange(options(d.port, probe.port, 'block'), '127.0.0.1', d.port, 1000);
    signalPid(d.pid, 'SIGTERM');
    await until('shutting down', EXIT_BOUND_MS, () => d.logs.some((l) => l.msg === 'shutting down'), d.output);
    signalPid(d.pid, 'SIGTERM');
    assert.equal(await exitOf(d, 'the second SIGTERM'), 1, d.output());
    assert.ok(d.logs.some((l) => l.signal === 'SIGTERM' && l.action === 'exit'), `the forced exit is not logged:\n${d.output()}`);
  });

  /**
   * `sh -c COMMAND` on a new pseudo-terminal (util-linux script; COMMAND writes its PID, then execs
   * Parley). Resolves once PIDFILE holds the PID and `ready` says so; `close` SIGKILLs `script`,
   * which closes the terminal.
   */
  async function onTerminal(command: string, pidFile: string, ready: (terminalOutput: string) => boolean | Promise<boolean>): Promise<{ pid: number; close: () => Promise<void>; output: () => string }> {
    const term = spawn('script', ['-q', '-f', '-e', '-c', command, '/dev/null'], { cwd: dir, env: { ...ENV, SHELL: '/bin/sh' }, stdio: ['pipe', 'pipe', 'pipe'] });
    started.push(term.pid!);
    term.stdin!.on('error', () => {});
    let text = '';
    term.stdout!.on('data', (b: Buffer) => (text += b.toString()));
    term.stderr!.on('data', (b: Buffer) => (text += b.toString()));
    const termExited = new Promise<void>((res) => term.once('exit', () => res()));
    const output = (): string => text.slice(-3000);
    await until('Parley on the terminal is ready', READY_BOUND_MS, async () => existsSync(pidFile) && (await ready(text)), output);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    started.push(pid);
    return {
      pid,
      output,
      close: async () => {
        signalPid(term.pid!, 'SIGKILL');
        await termExited;
      },
    };
  }

  /** `sh` words, quoted. */
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

  it('a foreground server whose terminal closes stops, and says why (stdout to a file)', { skip: NO_PTY }, async () => {
    const port = await pool.block(1);
    const pidFile = join(dir, 'fg.pid');
    const log = join(dir, 'fg.log');
    const cmd = `echo $$ > ${q(pidFile)}; exec ${q(bin)} serve --listen udp:127.0.0.1:${port} --data-dir ${q(join(dir, 'data-fg'))} --workers 1 > ${q(log)} 2>&1`;
    const logText = async (): Promise<string> => (existsSync(log) ? readFile(log, 'utf8') : '');
    const t = await onTerminal(cmd, pidFile, async () => (await logText()).includes('"msg":"Parley is ready"'));
    assert.match((await ask(probe, port)) ?? 'no answer', /^SIP\/2\.0 200 /);
    await t.close();
    assert.ok(await gone(t.pid, EXIT_BOUND_MS), `Parley still runs after its terminal closed:\n${await logText()}`);
    const lines = (await logText()).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
    assert.ok(lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGHUP' && l.reason === 'the terminal closed'), await logText());
    assert.ok(lines.some((l) => l.msg === 'Parley stopped'), await logText());
  });

  it('a foreground server logging to its terminal stops when the terminal closes (the window of a user)', { skip: NO_PTY }, async () => {
    const port = await pool.block(1);
    const pidFile = join(dir, 'tty.pid');
    const cmd = `echo $$ > ${q(pidFile)}; exec ${q(bin)} serve --listen udp:127.0.0.1:${port} --data-dir ${q(join(dir, 'data-tty'))} --workers 1`;
    const t = await onTerminal(cmd, pidFile, (text) => text.includes('Parley is ready'));
    assert.match((await ask(probe, port)) ?? 'no answer', /^SIP\/2\.0 200 /);
    await t.close();
    if (!(await gone(t.pid, EXIT_BOUND_MS))) {
      // today's fault: a reload, then SIGINT/SIGTERM ignored
      signalPid(t.pid, 'SIGTERM');
      const stopped = await gone(t.pid, EXIT_BOUND_MS);
      assert.fail(`Parley still runs after its terminal closed${stopped ? '' : ', and SIGTERM did not stop it either'}:\n${t.output()}`);
    }
  });

  it('a daemon whose terminal went away (stdout gives EIO) reloads on SIGHUP and stops on SIGTERM', { skip: NO_PTY }, async () => {
    const port = await pool.block(1);
    const pidFile = join(dir, 'eio.pid');
    // setsid: a session of its own, without a controlling terminal, its stdout still the terminal
    const cmd = `exec setsid -w sh -c ${q(`echo $$ > ${q(pidFile)}; exec ${q(bin)} serve --listen udp:127.0.0.1:${port} --data-dir ${q(join(dir, 'data-eio'))} --workers 1`)}`;
    const t = await onTerminal(cmd, pidFile, (text) => text.includes('Parley is ready'));
    await t.close();
    // the terminal is gone, Parley is not: it never had it as its controlling terminal
    assert.match((await ask(probe, port)) ?? 'no answer', /^SIP\/2\.0 200 /, 'a daemon stops with its terminal');
    signalPid(t.pid, 'SIGHUP'); // a reload whose log line fails with EIO
    assert.match((await ask(probe, port)) ?? 'no answer', /^SIP\/2\.0 200 /, 'no answer after SIGHUP');
    signalPid(t.pid, 'SIGTERM');
    if (!(await gone(t.pid, EXIT_BOUND_MS))) {
      signalPid(t.pid, 'SIGINT');
      const stopped = await gone(t.pid, EXIT_BOUND_MS);
      assert.fail(`SIGTERM did not stop Parley${stopped ? '' : ', nor a SIGINT after it'}`);
    }
  });
});

/** A node on this machine older than engines.node asks for (the system's /usr/bin/node, say), or undefined. */
function olderNode(): string | undefined {
  const range = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines?.node;
  const needed = Number(/(\d+)/.exec(range ?? '')?.[1]);
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(candidate)) continue;
    const v = spawnSync(candidate, ['--version'], { encoding: 'utf8' }).stdout.trim();
    if (Number(/^v(\d+)/.exec(v)?.[1]) < needed) return candidate;
  }
  return undefined;
}
