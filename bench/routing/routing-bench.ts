/**
 * Routing scripts, measured with sipp (README.md beside this file):
 *
 *   1. calls/s through Parley's default routing script, against the same calls through Kamailio
 *      (the shared harness's configuration and scenarios) and, with --baseline, through a build
 *      of Parley from before routing became a script (its built-in DefaultHandler);
 *   2. the cost of a reload: sipp at a steady call rate while the script is reloaded every second,
 *      INVITE→200 times with and without reloads, and how long each reload took.
 *
 *   npm run build && node --import tsx bench/routing/routing-bench.ts --quick
 *   node --import tsx bench/routing/routing-bench.ts --baseline /tmp/parley-baseline/dist/cli/main.js
 *   node --import tsx bench/routing/routing-bench.ts --only reload --reload-rate 300
 *
 * Loopback ports 30000-30499 only; every sipp run is bounded (-m, -timeout); every process is
 * stopped by its PID. The server runs on CPU 0, sipp on CPU 1 (taskset), Parley with one SIP core.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  appendFileSync, closeSync, copyFileSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
if (flag('help')) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
  console.log(`options: --quick  --benches call,call_auth  --servers script,builtin,kamailio  --baseline CLI  --only calls|reload
         --step SECS  --reload-rate CPS  --reload-secs SECS  --no-pin  --out DIR`);
  process.exit(0);
}
const quick = flag('quick');
const cfg = {
  stepSecs: Number(option('step') ?? (quick ? 6 : 10)),
  precision: quick ? 0.12 : 0.08,
  maxSteps: quick ? 7 : 10,
  start: { call: 400, call_auth: 300 } as Record<string, number>,
  reloadRate: Number(option('reload-rate') ?? 200),
  reloadSecs: Number(option('reload-secs') ?? (quick ? 12 : 20)),
  users: 1000,
};
const benches = (option('benches') ?? 'call,call_auth').split(',');
const only = option('only');
const baseline = option('baseline');
const serverNames = (option('servers') ?? `script,${baseline ? 'builtin,' : ''}kamailio`).split(',');
const pin = !flag('no-pin') && cpus().length >= 2 && spawnSync('taskset', ['-V']).error === undefined;
const HOST = '127.0.0.1';
const HARNESS = resolve(REPO, '../shared/bench/kamailio');
const SCN = join(HARNESS, 'scenarios');
const KAMAILIO_CFG = join(HARNESS, 'kamailio.cfg');
const outDir = resolve(option('out') ?? `/tmp/parley-bench/routing-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);

const log = (msg: string): void => void process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const die = (msg: string): never => {
  log(`routing-bench: ${msg}`);
  process.exit(1);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

if (spawnSync('sipp', ['-v']).error !== undefined) die('sipp is not installed (apt-get install sip-tester)');
if (!existsSync(join(REPO, 'dist/cli/main.js'))) die('dist/ is missing: npm run build');
if (serverNames.includes('kamailio') && spawnSync('kamailio', ['-v']).error !== undefined) die('kamailio is not installed (or --servers script)');
if (serverNames.includes('builtin') && (baseline === undefined || !existsSync(baseline))) die('--baseline CLI (dist/cli/main.js of a Parley built before routing scripts) is needed for the builtin server');
mkdirSync(outDir, { recursive: true });

/** dist/ copied at start: others may rebuild it while this runs. */
function snapshot(): string {
  const dir = join(outDir, 'parley-build');
  cpSync(join(REPO, 'dist'), join(dir, 'dist'), { recursive: true });
  copyFileSync(join(REPO, 'package.json'), join(dir, 'package.json'));
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return join(dir, 'dist/cli/main.js');
}
const PARLEY = snapshot();
const rev = spawnSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();

// ----------------------------------------------------------------------- ports --

const PORT_FIRST = 30000;
const PORT_LAST = 30499;
const taken = new Set<number>();
async function portFree(port: number): Promise<boolean> {
  const udp = await new Promise<boolean>((res) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      res(false);
    });
    s.bind(port, HOST, () => s.close(() => res(true)));
  });
  if (!udp) return false;
  return new Promise<boolean>((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen({ port, host: HOST, exclusive: true }, () => srv.close(() => res(true)));
  });
}
async function portBlock(count: number): Promise<number> {
  for (let start = PORT_FIRST; start + count - 1 <= PORT_LAST; start++) {
    let ok = true;
    for (let p = start; p < start + count && ok; p++) ok = !taken.has(p) && (await portFree(p));
    if (!ok) continue;
    for (let p = start; p < start + count; p++) taken.add(p);
    return start;
  }
  return die(`no ${count} free consecutive ports in ${PORT_FIRST}-${PORT_LAST}`);
}

// ---------------------------------------------------------------- processes --

function processTree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, pp] of parent) if (pp === out[i]) out.push(pid);
  return out;
}

function cpuNs(pids: readonly number[]): number {
  let ns = 0;
  for (const pid of pids) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        /* gone */
      }
    }
  }
  return ns;
}

const pinned = (cpuList: string, cmd: string, args: string[]): [string, string[]] => (pin ? ['taskset', ['-c', cpuList, cmd, ...args]] : [cmd, args]);
const running = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}
function emergencyStop(): void {
  for (const c of running) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
}
process.on('SIGINT', () => (emergencyStop(), process.exit(130)));
process.on('SIGTERM', () => (emergencyStop(), process.exit(143)));
process.on('exit', emergencyStop);

async function stop(child: ChildProcess, tree: readonly number[] = [], signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    process.kill(child.pid, signal);
    if (!(await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]))) {
      process.kill(child.pid, 'SIGKILL');
      await exited;
    }
  }
  for (const p of tree) {
    if (p === child.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'kamailio') process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

// ------------------------------------------------------------------------ sipp --

function readStats(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const lines = readFileSync(file, 'latin1').trim().split('\n');
  if (lines.length < 2) return {};
  const names = lines[0]!.split(';');
  const values = lines[lines.length - 1]!.split(';');
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? '']));
}

/** sipp with every port of its own from the block at `base` (-p base, -cp base+1, -mp base+2; it also binds base+4). */
function sipp(base: number, args: string[], tag: string): ChildProcess {
  const full = [...args, '-i', HOST, '-bind_local', '-p', String(base), '-cp', String(base + 1), '-mp', String(base + 2), '-nostdin'];
  const [cmd, a] = pinned('1', 'sipp', full);
  const fd = openSync(join(outDir, `${tag}.sipp.out`), 'w');
  const child = track(spawn(cmd, a, { cwd: outDir, stdio: ['ignore', fd, fd] }));
  closeSync(fd);
  return child;
}
const exitOf = (c: ChildProcess): Promise<number | null> => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve(c.exitCode) : new Promise((res) => c.once('exit', (code) => res(code))));

// --------------------------------------------------------------------- servers --

interface Running {
  readonly child: ChildProcess;
  readonly dataDir?: string;
  pids(): number[];
  stop(): Promise<void>;
}

interface Server {
  readonly name: string;
  readonly port: number;
  readonly authPort: number;
  readonly describe: string;
  start(tag: string, extra?: string[]): Promise<Running>;
}

const USERS_CSV = join(outDir, 'callers.csv');
writeFileSync(USERS_CSV, 'SEQUENTIAL\n' + Array.from({ length: cfg.users }, (_, i) => {
  const u = `user${String(i + 1).padStart(6, '0')}`;
  return `${u};[authentication username=${u} password=benchpass];`;
}).join('\n') + '\n');

/** Answered an OPTIONS? (the readiness probe of the shared harness) */
async function probe(port: number, base: number): Promise<boolean> {
  const p = sipp(base, [`${HOST}:${port}`, '-sf', join(SCN, 'options.xml'), '-t', 'u1', '-m', '1', '-timeout', '3s', '-timeout_error', '-recv_timeout', '1000'], 'probe');
  return (await exitOf(p)) === 0;
}

async function waitReady(port: number, sippBase: number, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && child.exitCode === null) {
    if (await probe(port, sippBase)) return;
    await sleep(200);
  }
  throw new Error(`${what} did not answer OPTIONS on ${port}`);
}

async function parleyServer(name: string, cli: string, probeBase: number): Promise<Server> {
  const port = await portBlock(2);
  const dataDir = join(outDir, `${name}-data`);
  // subscribers: the callers and the callees (uas1 …), password benchpass, as the harness has them
  const csv = join(outDir, `${name}-users.csv`);
  writeFileSync(csv, [...Array.from({ length: cfg.users }, (_, i) => `user${String(i + 1).padStart(6, '0')}@${HOST},benchpass`), ...Array.from({ length: 400 }, (_, i) => `uas${i}@${HOST},benchpass`)].join('\n') + '\n');
  const r = spawnSync(process.execPath, [cli, 'user', 'import', csv, '--data-dir', dataDir], { encoding: 'utf8' });
  if (r.status !== 0) die(`user import for ${name} failed: ${r.stderr}`);
  return {
    name,
    port,
    authPort: port + 1,
    describe: `${name}: ${cli}`,
    async start(tag, extra = []) {
      const logFile = join(outDir, `${tag}.log`);
      const fd = openSync(logFile, 'w');
      const profile = option('profile');
      const [cmd, args] = pinned('0', process.execPath, [...(profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(profile, tag)]), cli, 'serve', '--listen', `udp:${HOST}:${port};noauth`, `udp:${HOST}:${port + 1}`, '--data-dir', dataDir, '--log-level', 'warn', '--workers', pin ? '0' : 'auto', ...extra]);
      const child = track(spawn(cmd, args, { cwd: outDir, stdio: ['ignore', fd, fd] }));
      closeSync(fd);
      await waitReady(port, probeBase, child, name);
      return { child, dataDir, pids: () => (child.pid === undefined ? [] : processTree(child.pid)), stop: () => stop(child) };
    },
  };
}

async function kamailioServer(probeBase: number): Promise<Server> {
  const port = await portBlock(3);
  const runDir = join(outDir, 'kamailio-run');
  mkdirSync(runDir, { recursive: true });
  const version = spawnSync('kamailio', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0]?.split(/\s+/)[2] ?? '?';
  return {
    name: 'kamailio',
    port,
    authPort: port + 1,
    describe: `kamailio ${version} (${KAMAILIO_CFG}, -n 2 -N 2 -m 1024 -M 16)`,
    async start(tag) {
      const fd = openSync(join(outDir, `${tag}.log`), 'w');
      const [cmd, args] = pinned('0', 'kamailio', [
        '-f', KAMAILIO_CFG, '-DD', '-E', '-Y', runDir, '-P', join(runDir, 'kamailio.pid'), '-m', '1024', '-M', '16', '-n', '2', '-N', '2',
        '-A', `SIP_PORT=${port}`, '-A', `AUTH_PORT=${port + 1}`, '-A', `WS_PORT=${port + 2}`, '-A', `CTL_SOCKET="unix:${join(runDir, 'kamailio_ctl')}"`,
      ]);
      const child = track(spawn(cmd, args, { cwd: runDir, stdio: ['ignore', fd, fd] }));
      closeSync(fd);
      await waitReady(port, probeBase, child, 'kamailio');
      let tree: number[] = [];
      return {
        child,
        pids: () => (tree = child.pid === undefined ? [] : processTree(child.pid)),
        stop: () => stop(child, tree.length > 0 ? tree : child.pid === undefined ? [] : processTree(child.pid)),
      };
    },
  };
}

// ------------------------------------------------------------------ one step --

interface Step {
  readonly server: string;
  readonly bench: string;
  readonly offered: number;
  readonly achieved: number;
  readonly ok: number;
  readonly failed: number;
  readonly pass: boolean;
  readonly serverCpu: number;
  readonly rtMs: number;
}
const steps: Step[] = [];
let stepNo = 0;
let uasBase = 0;
let uacBase = 0;

/** One constant-rate run as the shared harness does it: register a fresh callee, start it, call it at `rate` for stepSecs. */
async function runStep(server: Server, bench: string, rate: number): Promise<Step> {
  stepNo++;
  const tag = `${server.name}-${bench}-${String(stepNo).padStart(3, '0')}-r${rate}`;
  const calls = rate * cfg.stepSecs;
  const auth = bench === 'call_auth';
  const port = auth ? server.authPort : server.port;
  const callee = `uas${stepNo % 400}`;
  const running = await server.start(tag);
  try {
    const calleeCsv = join(outDir, `${tag}.callee.csv`);
    writeFileSync(calleeCsv, `SEQUENTIAL\n${callee};[authentication username=${callee} password=benchpass];\n`);
    const reg = sipp(uasBase, [`${HOST}:${port}`, '-sf', join(SCN, auth ? 'register_auth.xml' : 'register.xml'), '-inf', calleeCsv, '-t', 'u1', '-m', '1', '-timeout', '5s', '-timeout_error', '-recv_timeout', '3000'], `${tag}.reg`);
    if ((await exitOf(reg)) !== 0) throw new Error(`callee registration failed (${tag})`);
    const uas = sipp(uasBase, ['-sf', join(SCN, 'uas.xml'), '-t', 'u1', '-d', '0', '-m', String(calls), '-timeout', `${cfg.stepSecs * 3 + 30}s`], `${tag}.uas`);
    await sleep(300);
    const pids = running.pids();
    const c0 = cpuNs(pids);
    const t0 = process.hrtime.bigint();
    const stf = join(outDir, `${tag}.csv`);
    const uac = sipp(uacBase, [
      `${HOST}:${port}`, '-sf', join(SCN, auth ? 'uac_auth.xml' : 'uac.xml'), '-inf', USERS_CSV, '-s', callee, '-t', 'u1',
      '-r', String(rate), '-m', String(calls), '-l', String(rate * 3 + 100), '-d', '0', '-recv_timeout', '5000', '-timeout', `${cfg.stepSecs * 3 + 20}s`,
      '-trace_stat', '-stf', stf, '-fd', '3600',
    ], tag);
    const code = await exitOf(uac);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = (cpuNs(running.pids()) - c0) / 1e9 / wall;
    for (let i = 0; i < 50 && uas.exitCode === null; i++) await sleep(100);
    await stop(uas, [], 'SIGKILL');
    const s = readStats(stf);
    const ok = Number(s['SuccessfulCall(C)'] ?? 0);
    const failed = Number(s['FailedCall(C)'] ?? calls);
    const achieved = ok / wall;
    const rt = /^(\d+):(\d+):(\d+):(\d+)$/.exec(s['ResponseTime1(C)'] ?? '');
    const rtMs = rt ? ((Number(rt[1]) * 60 + Number(rt[2])) * 60 + Number(rt[3])) * 1000 + Number(rt[4]) / 1000 : NaN;
    const pass = code === 0 && failed === 0 && ok === calls && achieved >= 0.95 * rate;
    const step: Step = { server: server.name, bench, offered: rate, achieved, ok, failed, pass, serverCpu: cpu * 100, rtMs };
    steps.push(step);
    appendFileSync(join(outDir, 'steps.tsv'), `${tag}\t${rate}\t${achieved.toFixed(1)}\t${ok}\t${failed}\t${pass}\t${step.serverCpu.toFixed(1)}\t${rtMs}\n`);
    log(`  ${server.name} ${bench} ${rate}/s: ${pass ? 'pass' : 'FAIL'} (achieved ${achieved.toFixed(0)}/s, ${failed} failed, server CPU ${step.serverCpu.toFixed(0)} %)`);
    return step;
  } finally {
    await running.stop();
  }
}

const roundRate = (r: number): number => (r < 1000 ? Math.round(r / 10) * 10 : Math.round(r / 50) * 50);

/**
 * One server's search for its highest passing rate: calibrate (double from the start rate until a
 * failure, halve after a first failure), then bisect the [pass, fail] bracket to the precision.
 */
class Search {
  pass: Step | undefined;
  private failRate: number | undefined;
  private n = 0;
  done = false;
  rate: number;

  constructor(
    readonly server: Server,
    readonly bench: string,
  ) {
    this.rate = cfg.start[bench] ?? 300;
  }

  record(s: Step): void {
    this.n++;
    if (s.pass) this.pass = s;
    else this.failRate = s.offered;
    if (this.failRate === undefined) this.rate *= 2;
    else if (this.pass === undefined) this.rate = roundRate(this.rate / 2);
    else if ((this.failRate - this.pass.offered) / this.failRate <= cfg.precision) this.done = true;
    else {
      this.rate = roundRate((this.pass.offered + this.failRate) / 2);
      if (this.rate === this.pass.offered || this.rate === this.failRate) this.done = true;
    }
    if (this.n >= cfg.maxSteps || this.rate < 20) this.done = true;
  }
}

/** The searches of every server, one step of each in turn (P, B, K, P, B, K …): drifts of a shared machine hit them all. */
async function interleaved(servers: readonly Server[], bench: string): Promise<Map<string, Step | undefined>> {
  const searches = servers.map((server) => new Search(server, bench));
  while (searches.some((x) => !x.done)) {
    for (const x of searches) if (!x.done) x.record(await runStep(x.server, bench, x.rate));
  }
  return new Map(searches.map((x) => [x.server.name, x.pass]));
}

// --------------------------------------------------------------- reload cost --

interface ReloadPhase {
  readonly rtd: number[];
  readonly failed: number;
  readonly reloads: Array<{ at: number; ms: number; serverMs: number; version: number }>;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** sipp's -trace_rtt file: one line per call, response time of rtd 1 in ms. */
function readRtt(dir: string, prefix: string): number[] {
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('_rtt.csv'));
  const out: number[] = [];
  for (const f of files) {
    for (const line of readFileSync(join(dir, f), 'latin1').split('\n').slice(1)) {
      const cols = line.split(';');
      const v = Number(cols[1]);
      if (cols.length >= 2 && Number.isFinite(v)) out.push(v);
    }
  }
  return out;
}

async function reloadCost(): Promise<{ quiet: ReloadPhase; reloading: ReloadPhase }> {
  const server = await parleyServer('reload', PARLEY, await portBlock(5));
  const script = join(outDir, 'routes.ts');
  const base = readFileSync(join(REPO, 'src/routing/scripts/default.ts'), 'utf8');
  let revision = 0;
  const write = (): void => writeFileSync(script, `${base}\nexport const revision = ${++revision};\n`);
  write();
  const { sendControl } = (await import(pathToFileURL(join(dirname(PARLEY), '../app/control-socket.js')).href)) as typeof import('../../src/app/control-socket.js');
  const phase = async (reloads: boolean): Promise<ReloadPhase> => {
    stepNo++;
    const tag = `reload-${reloads ? 'with' : 'without'}-${stepNo}`;
    const running = await server.start(tag, ['--script', script, '--config', writeConfig()]);
    const calls = cfg.reloadRate * cfg.reloadSecs;
    const callee = `uas${stepNo % 400}`;
    const calleeCsv = join(outDir, `${tag}.callee.csv`);
    writeFileSync(calleeCsv, `SEQUENTIAL\n${callee};x;\n`);
    try {
      const reg = sipp(uasBase, [`${HOST}:${server.port}`, '-sf', join(SCN, 'register.xml'), '-inf', calleeCsv, '-t', 'u1', '-m', '1', '-timeout', '5s', '-timeout_error'], `${tag}.reg`);
      if ((await exitOf(reg)) !== 0) throw new Error('callee registration failed');
      const uas = sipp(uasBase, ['-sf', join(SCN, 'uas.xml'), '-t', 'u1', '-d', '0', '-m', String(calls), '-timeout', `${cfg.reloadSecs * 3 + 30}s`], `${tag}.uas`);
      await sleep(300);
      const rttDir = join(outDir, tag);
      mkdirSync(rttDir, { recursive: true });
      const stf = join(rttDir, 'stats.csv');
      const uac = sipp(uacBase, [
        `${HOST}:${server.port}`, '-sf', join(SCN, 'uac.xml'), '-inf', USERS_CSV, '-s', callee, '-t', 'u1', '-r', String(cfg.reloadRate), '-m', String(calls),
        '-d', '0', '-recv_timeout', '5000', '-timeout', `${cfg.reloadSecs * 3 + 20}s`, '-trace_rtt', '-rtt_freq', '1', '-trace_stat', '-stf', stf, '-fd', '3600',
      ], tag);
      // sipp writes its rtt file in its working directory: the output directory, named after the scenario and its PID
      const done: Array<{ at: number; ms: number; serverMs: number; version: number }> = [];
      if (reloads) {
        await sleep(1000);
        while (uac.exitCode === null && done.length < cfg.reloadSecs - 2) {
          write();
          const t0 = performance.now();
          const answer = (await sendControl(running.dataDir!, { cmd: 'reload' })) as { ok: boolean; version: number; ms: number; error?: { message: string } };
          if (!answer.ok) throw new Error(`reload refused: ${answer.error?.message}`);
          done.push({ at: Date.now(), ms: performance.now() - t0, serverMs: answer.ms, version: answer.version });
          await sleep(1000);
        }
      }
      await exitOf(uac);
      await stop(uas, [], 'SIGKILL');
      const s = readStats(stf);
      const rtd = readRtt(outDir, `uac_${uac.pid}_`).sort((a, b) => a - b);
      return { rtd, failed: Number(s['FailedCall(C)'] ?? NaN), reloads: done };
    } finally {
      await running.stop();
    }
  };
  const quiet = await phase(false);
  const reloading = await phase(true);
  return { quiet, reloading };
}

function writeConfig(): string {
  const file = join(outDir, 'reload-config.json');
  writeFileSync(file, JSON.stringify({ routing: { watch: false } }));
  return file;
}

// ------------------------------------------------------------------------- main --

async function main(): Promise<void> {
  uasBase = await portBlock(5);
  uacBase = await portBlock(5);
  const probeBase = await portBlock(5);
  log(`routing-bench: Parley ${rev} (dist copied to ${PARLEY}); ${pin ? 'server on CPU 0, sipp on CPU 1, Parley --workers 0' : 'not pinned, Parley --workers auto'}; steps ${cfg.stepSecs} s; results in ${outDir}`);
  const lines: string[] = [];
  if (only !== 'reload' && option('ab') === undefined) {
    const servers: Server[] = [];
    for (const name of serverNames) {
      if (name === 'script') servers.push(await parleyServer('script', PARLEY, probeBase));
      else if (name === 'builtin') servers.push(await parleyServer('builtin', baseline!, probeBase));
      else if (name === 'kamailio') servers.push(await kamailioServer(probeBase));
      else die(`unknown server ${name}`);
    }
    const best = new Map<string, Step | undefined>();
    for (const bench of benches) {
      log(`${bench}: ${servers.map((x) => x.name).join(', ')}, steps interleaved`);
      for (const [name, step] of await interleaved(servers, bench)) best.set(`${name}/${bench}`, step);
    }
    lines.push('bench      server     best passing step: offered → achieved calls/s   server CPU %   calls per CPU-second');
    for (const bench of benches) {
      for (const server of servers) {
        const s = best.get(`${server.name}/${bench}`);
        lines.push(`${bench.padEnd(10)} ${server.name.padEnd(10)} ${s ? `${String(s.offered).padStart(6)} → ${s.achieved.toFixed(0).padStart(6)}` : '  none'}                        ${s ? s.serverCpu.toFixed(0).padStart(4) : '   -'}         ${s ? (s.achieved / (s.serverCpu / 100)).toFixed(0).padStart(6) : '-'}`);
      }
      const ratio = (a: string, b: string): string => {
        const x = best.get(`${a}/${bench}`);
        const y = best.get(`${b}/${bench}`);
        if (!x || !y) return '';
        return `${a}/${b}: ${(x.achieved / y.achieved).toFixed(2)} (per CPU-second ${(x.achieved / x.serverCpu / (y.achieved / y.serverCpu)).toFixed(2)})`;
      };
      for (const [a, b] of [['script', 'kamailio'], ['builtin', 'kamailio'], ['script', 'builtin']] as const) {
        if (serverNames.includes(a) && serverNames.includes(b)) lines.push(`  ${bench} ratio ${ratio(a, b)}`);
      }
    }
  }
  const ab = option('ab');
  if (ab !== undefined) {
    // the same rate through each server, round after round: CPU per call, medians (steadier than the pass/fail search on a shared machine)
    const [rateText, roundsText] = ab.split(',');
    const rate = Number(rateText);
    const rounds = Number(roundsText ?? 3);
    const servers: Server[] = [];
    for (const name of serverNames) {
      if (name === 'script') servers.push(await parleyServer('script', PARLEY, probeBase));
      else if (name === 'builtin') servers.push(await parleyServer('builtin', baseline!, probeBase));
      else if (name === 'kamailio') servers.push(await kamailioServer(probeBase));
    }
    for (const bench of benches) {
      const perCall = new Map<string, number[]>();
      for (let round = 0; round < rounds; round++) {
        for (const server of servers) {
          const st = await runStep(server, bench, rate);
          if (st.pass) perCall.set(server.name, [...(perCall.get(server.name) ?? []), (st.serverCpu / 100 / st.achieved) * 1e6]);
        }
      }
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
      lines.push(`${bench} at ${rate} calls/s, ${rounds} rounds: server CPU µs per call (median of passing rounds)`);
      for (const server of servers) lines.push(`  ${server.name.padEnd(10)} ${median(perCall.get(server.name) ?? []).toFixed(0).padStart(6)} µs  (${(perCall.get(server.name) ?? []).map((x) => x.toFixed(0)).join(', ')})`);
      const m = (n: string): number => median(perCall.get(n) ?? []);
      if (serverNames.includes('script') && serverNames.includes('builtin')) lines.push(`  script/builtin CPU per call: ${(m('script') / m('builtin')).toFixed(3)}`);
      if (serverNames.includes('script') && serverNames.includes('kamailio')) lines.push(`  script/kamailio CPU per call: ${(m('script') / m('kamailio')).toFixed(3)}`);
    }
  }
  if (only !== 'calls' && ab === undefined) {
    log(`reload cost: ${cfg.reloadRate} calls/s for ${cfg.reloadSecs} s without, then with a reload every second`);
    const { quiet, reloading } = await reloadCost();
    const fmt = (p: ReloadPhase): string =>
      `${p.rtd.length} calls, ${p.failed} failed; INVITE→200 ms p50 ${percentile(p.rtd, 50).toFixed(1)}, p99 ${percentile(p.rtd, 99).toFixed(1)}, p99.9 ${percentile(p.rtd, 99.9).toFixed(1)}, max ${(p.rtd.at(-1) ?? NaN).toFixed(1)}`;
    const server = reloading.reloads.map((r) => r.serverMs).sort((a, b) => a - b);
    lines.push(`reload cost at ${cfg.reloadRate} calls/s (default script, esbuild compile + load + switch on every core):`);
    lines.push(`  without reloads: ${fmt(quiet)}`);
    lines.push(`  with ${reloading.reloads.length} reloads (1/s): ${fmt(reloading)}`);
    lines.push(`  reload time in the server (compile, load, switch): p50 ${percentile(server, 50).toFixed(0)} ms, max ${(server.at(-1) ?? NaN).toFixed(0)} ms; versions ${reloading.reloads[0]?.version}…${reloading.reloads.at(-1)?.version}`);
  }
  const summary = [`# routing-bench ${new Date().toISOString()} Parley ${rev}${quick ? ' --quick' : ''}`, ...lines].join('\n');
  writeFileSync(join(outDir, 'summary.txt'), summary + '\n');
  console.log(summary);
}

await main();
