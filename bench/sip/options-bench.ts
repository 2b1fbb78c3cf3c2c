/**
 * OPTIONS benchmark: OPTIONS requests per second answered over UDP, Parley against Kamailio in
 * the same run, measured with sipp the way shared/bench/kamailio/run.sh measures (see README.md).
 *
 *   npm run build && node --import tsx bench/sip/options-bench.ts            (~3-4 min)
 *   npm run build && node --import tsx bench/sip/options-bench.ts --quick    (~1.5 min)
 *
 * For each server it finds the highest sipp rate (-r) at which a constant-rate step ends with
 * 0 failed calls, every call completed, and an achieved rate >= 95 % of the offered one:
 * a calibration (rate doubled until the first failure) gives a [pass, fail] bracket, then a
 * bisection narrows it. Parley's and Kamailio's steps alternate, each step against a freshly
 * started server (after a short warm-up), with the server pinned to one CPU and sipp to another.
 * Everything runs on 127.0.0.1, on ports 26000-26999; every sipp is bounded by -m and -timeout;
 * every process started here is stopped by its PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { appendFileSync, closeSync, copyFileSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// ------------------------------------------------------------------ options --

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const argv = process.argv.slice(2);

function flag(name: string): boolean {
  return argv.includes(`--${name}`);
}
function option(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

if (flag('help') || flag('h')) {
  console.log(`usage: node --import tsx bench/sip/options-bench.ts [options]   (build first: npm run build)

  --quick              short run (~1.5 min): 4-s steps, 15 % precision, no re-run of the bracket
  --step SECS          length of a measured step (default 10; quick 4)
  --cal-step SECS      length of a calibration step (default 5; quick 4)
  --precision PCT      stop bisecting when (fail - pass) / fail <= PCT (default 8; quick 15)
  --start RATE         first calibration rate, OPTIONS/s (default 3000)
  --only NAME          parley or kamailio
  --at RATE            no search: one --step-long step at RATE per server (e.g. --at 6000 --step 45)
  --sustain SECS       afterwards, re-run each server's best passing rate for SECS seconds (off by
                       default; > 40 shows Parley's steady state: its UDP transactions live 32 s)
  --server-cpus LIST   taskset CPU list for the server (default 0)
  --sipp-cpus LIST     taskset CPU list for sipp (default 1)
  --no-pin             no taskset
  --kamailio-cfg FILE  (default ../shared/bench/kamailio/kamailio.cfg beside the repository,
                       or $KAMAILIO_CFG)
  --out DIR            results directory (default /tmp/parley-bench/options-<time>)`);
  process.exit(0);
}

const quick = flag('quick');
const num = (name: string, dflt: number): number => {
  const v = option(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) die(`--${name} needs a positive number, not "${v}"`);
  return n;
};
const cfg = {
  stepSecs: num('step', quick ? 4 : 10),
  calStepSecs: num('cal-step', quick ? 4 : 5),
  precisionPct: num('precision', quick ? 15 : 8),
  startRate: num('start', 3000),
  /** Re-run the calibration's passing rate with a full-length step before bisecting (run.sh does). */
  rerunLow: !quick,
  warmupSecs: quick ? 1 : 1.5,
  sustainSecs: option('sustain') === undefined ? 0 : num('sustain', 0),
  atRate: option('at') === undefined ? 0 : num('at', 0),
  maxCalSteps: 8,
  maxSearchSteps: 8,
  minAchievedPct: 95,
  recvTimeoutMs: 5000,
};
const pin = !flag('no-pin') && cpus().length >= 2 && spawnSync('taskset', ['-V']).error === undefined;
const serverCpus = option('server-cpus') ?? '0';
const sippCpus = option('sipp-cpus') ?? '1';
const only = option('only');
const kamailioCfg = resolve(option('kamailio-cfg') ?? process.env.KAMAILIO_CFG ?? join(REPO, '../shared/bench/kamailio/kamailio.cfg'));
const outDir = resolve(option('out') ?? `/tmp/parley-bench/options-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
const SCENARIO = join(HERE, 'scenarios/options.xml');
const BUILT_CLI = join(REPO, 'dist/cli/main.js');
const KAMAILIO = existsSync('/usr/sbin/kamailio') ? '/usr/sbin/kamailio' : 'kamailio';
const HOST = '127.0.0.1';

function die(msg: string): never {
  console.error(`options-bench: ${msg}`);
  process.exit(2);
}
function log(msg: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------- prerequisites --

if (spawnSync('sipp', ['-v']).error !== undefined) die('sipp is not installed (apt-get install sip-tester)');
if (only !== 'kamailio' && !existsSync(BUILT_CLI)) die(`${BUILT_CLI} is missing: run "npm run build" first`);
if (only !== 'parley') {
  if (spawnSync(KAMAILIO, ['-v']).error !== undefined) die('kamailio is not installed (apt-get install kamailio), or use --only parley');
  if (!existsSync(kamailioCfg)) die(`no Kamailio configuration at ${kamailioCfg} (--kamailio-cfg FILE)`);
}
if (only !== undefined && only !== 'parley' && only !== 'kamailio') die('--only takes parley or kamailio');
mkdirSync(outDir, { recursive: true });

/**
 * A copy of dist/ taken at start-up, run for every Parley step: others may rebuild dist/ while the
 * benchmark runs, and every step must run the same build. node_modules is linked, not copied.
 */
function snapshotParley(): string {
  const dir = join(outDir, 'parley-build');
  cpSync(join(REPO, 'dist'), join(dir, 'dist'), { recursive: true });
  copyFileSync(join(REPO, 'package.json'), join(dir, 'package.json'));
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return join(dir, 'dist/cli/main.js');
}
const PARLEY_CLI = only === 'kamailio' ? BUILT_CLI : snapshotParley();
/** The commit Parley was built from (and whether src/ had local changes then). */
const gitRev = ((): string => {
  const rev = spawnSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['-C', REPO, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).stdout.trim() !== '';
  return rev === '' ? 'unknown commit' : `${rev}${dirty ? ' + uncommitted src changes' : ''}`;
})();

// ---------------------------------------------------------------------- ports --

const PORT_FIRST = 26000;
const PORT_LAST = 26999;
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

/** `count` consecutive ports free for UDP and TCP on 127.0.0.1, in 26000-26999. */
async function portBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const start = PORT_FIRST + Math.floor(Math.random() * (PORT_LAST - PORT_FIRST + 1 - count));
    let ok = true;
    for (let p = start; p < start + count && ok; p++) ok = !taken.has(p) && (await portFree(p));
    if (!ok) continue;
    for (let p = start; p < start + count; p++) taken.add(p);
    return start;
  }
  die(`no ${count} free consecutive ports in ${PORT_FIRST}-${PORT_LAST}`);
}

// ------------------------------------------------------------------ /proc --

/** The PIDs of `root` and all its descendants (from /proc/PID/stat ppid). */
function processTree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch {
      /* gone */
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, pp] of parent) if (pp === out[i]) out.push(pid);
  return out;
}

/** On-CPU nanoseconds of every thread of the given processes (/proc/PID/task/TID/schedstat). */
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
        /* thread gone */
      }
    }
  }
  return ns;
}

/** Proportional set size of the processes, MB (shared memory split among its users). */
function pssMb(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      /* gone or not readable */
    }
  }
  return kb / 1024;
}

/** System-wide UDP datagrams dropped because a socket's receive buffer was full (/proc/net/snmp). */
function udpRcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = (lines[0] ?? '').split(/\s+/);
  const values = (lines[1] ?? '').split(/\s+/);
  const i = names.indexOf('RcvbufErrors');
  return i < 0 ? NaN : Number(values[i]);
}

/** [steal, total, busy] jiffies from /proc/stat (all CPUs): busy = everything but idle and iowait. */
function stealJiffies(): [number, number, number] {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return [f[7] ?? 0, total, total - (f[3] ?? 0) - (f[4] ?? 0)];
}
/** Clock ticks per second of /proc/stat (USER_HZ). */
const USER_HZ = 100;

// ------------------------------------------------------------------ processes --

function pinned(cpusList: string, cmd: string, args: string[]): [string, string[]] {
  return pin ? ['taskset', ['-c', cpusList, cmd, ...args]] : [cmd, args];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to `pid`, wait up to `graceMs`, then SIGKILL; then the same for `others` still alive. */
async function stopPids(child: ChildProcess, others: readonly number[] = [], graceMs = 5000): Promise<void> {
  const pid = child.pid;
  if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    process.kill(pid, 'SIGTERM');
    const inTime = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!inTime) {
      log(`  PID ${pid} did not stop on SIGTERM; SIGKILL`);
      process.kill(pid, 'SIGKILL');
      await exited;
    }
  }
  await sleep(300);
  for (const p of others) {
    if (p === pid || !alive(p)) continue;
    // only processes we started: children of the server, still carrying its command name
    let comm = '';
    try {
      comm = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (comm === 'kamailio') process.kill(p, 'SIGKILL');
  }
}

/** Running child processes, stopped by PID if the benchmark is interrupted. */
const running = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}
function emergencyStop(): void {
  for (const c of running) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
}
process.on('SIGINT', () => {
  emergencyStop();
  process.exit(130);
});
process.on('SIGTERM', () => {
  emergencyStop();
  process.exit(143);
});
process.on('exit', emergencyStop);

// ------------------------------------------------------------------------ sipp --

interface SippRun {
  readonly code: number | null;
  readonly wallSecs: number;
  readonly cpuPct: number;
  readonly stats: Record<string, string>;
}

/** sipp's last -trace_stat line as name -> value. */
function readStats(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const lines = readFileSync(file, 'latin1').trim().split('\n');
  if (lines.length < 2) return {};
  const names = lines[0]!.split(';');
  const values = lines[lines.length - 1]!.split(';');
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? '']));
}

/** "HH:MM:SS:mmmmmm" (sipp's ResponseTime format) -> ms. */
function sippMs(v: string | undefined): number {
  const m = /^(\d+):(\d+):(\d+):(\d+)$/.exec(v ?? '');
  if (!m) return NaN;
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]) / 1000;
}

/** One bounded sipp UAC run (-m calls, -timeout) at `rate`; returns its exit code, wall time, CPU and stats. */
async function sipp(target: number, sippPorts: number, rate: number, calls: number, tag: string, extra: string[] = []): Promise<SippRun> {
  const stf = join(outDir, `${tag}.csv`);
  const args = [
    `${HOST}:${target}`, '-sf', SCENARIO, '-t', 'u1', '-i', HOST, '-bind_local',
    '-p', String(sippPorts), '-cp', String(sippPorts + 1), '-mp', String(sippPorts + 2),
    '-r', String(rate), '-m', String(calls), '-l', String(Math.ceil(rate * 3 + 100)),
    '-recv_timeout', String(cfg.recvTimeoutMs), '-timeout', `${Math.ceil(calls / rate) * 3 + 20}s`, '-nostdin',
    '-trace_stat', '-stf', stf, '-fd', '3600', '-trace_err', '-error_file', join(outDir, `${tag}.err`), '-max_log_size', '2000000',
    ...extra,
  ];
  const [cmd, full] = pinned(sippCpus, 'sipp', args);
  const t0 = process.hrtime.bigint();
  const child = track(spawn(cmd, full, { cwd: outDir, stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // sipp's CPU: sampled while it runs (its /proc entry is gone once it has exited)
  let cpu = 0;
  const sampler = setInterval(() => {
    if (child.pid !== undefined) {
      const v = cpuNs([child.pid]);
      if (v > 0) cpu = v;
    }
  }, 200);
  const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
  clearInterval(sampler);
  const wallSecs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (stderr.trim() !== '') writeFileSync(join(outDir, `${tag}.stderr`), stderr);
  return { code, wallSecs, cpuPct: (cpu / 1e9 / wallSecs) * 100, stats: readStats(stf) };
}

// ------------------------------------------------------------------- servers --

interface RunningServer {
  readonly pids: () => number[];
  stop(): Promise<void>;
}

interface ServerUnderTest {
  readonly name: 'parley' | 'kamailio';
  readonly port: number;
  readonly sippPorts: number;
  start(tag: string): Promise<RunningServer>;
  describe(): string;
}

async function waitReady(server: ServerUnderTest, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    // readiness probe: one OPTIONS answered 200 (like run.sh's probe)
    const probe = spawnSync('sipp', [
      `${HOST}:${server.port}`, '-sf', SCENARIO, '-t', 'u1', '-i', HOST, '-bind_local',
      '-p', String(server.sippPorts), '-cp', String(server.sippPorts + 1), '-mp', String(server.sippPorts + 2),
      '-m', '1', '-nostdin', '-timeout', '3s', '-timeout_error', '-recv_timeout', '1000',
    ], { cwd: outDir, timeout: 10_000, stdio: 'ignore' });
    if (probe.status === 0) return;
    await sleep(200);
  }
  const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
  throw new Error(`${server.name} did not answer OPTIONS within 15 s; its output (${logFile}):\n${tail}`);
}

async function parleyServer(): Promise<ServerUnderTest> {
  const port = await portBlock(1);
  const sippPorts = await portBlock(5);
  const self: ServerUnderTest = {
    name: 'parley',
    port,
    sippPorts,
    describe: () => `Parley ${JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version} at ${gitRev} (dist/ copied at start; node ${process.version}), udp:${HOST}:${port}`,
    async start(tag) {
      const dataDir = join(outDir, `${tag}.parley-data`);
      const logFile = join(outDir, `${tag}.parley.log`);
      const fd = openSync(logFile, 'w');
      const [cmd, args] = pinned(serverCpus, process.execPath, [PARLEY_CLI, 'serve', '--listen', `udp:${HOST}:${port}`, '--data-dir', dataDir, '--log-level', 'warn']);
      const child = track(spawn(cmd, args, { cwd: outDir, stdio: ['ignore', fd, fd] }));
      closeSync(fd);
      try {
        await waitReady(self, child, logFile);
      } catch (e) {
        await stopPids(child);
        throw e;
      }
      return { pids: () => (child.pid === undefined ? [] : processTree(child.pid)), stop: () => stopPids(child) };
    },
  };
  return self;
}

async function kamailioServer(): Promise<ServerUnderTest> {
  const port = await portBlock(3); // SIP_PORT, AUTH_PORT, WS_PORT of kamailio.cfg
  const sippPorts = await portBlock(5);
  const runDir = join(outDir, 'kamailio-run');
  mkdirSync(runDir, { recursive: true });
  const version = spawnSync(KAMAILIO, ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0]?.split(/\s+/)[2] ?? '?';
  const self: ServerUnderTest = {
    name: 'kamailio',
    port,
    sippPorts,
    describe: () => `Kamailio ${version} (${kamailioCfg}; -n 2 -N 2 -m 1024 -M 16), udp:${HOST}:${port}`,
    async start(tag) {
      const logFile = join(outDir, `${tag}.kamailio.log`);
      const fd = openSync(logFile, 'w');
      // the same flags as shared/bench/kamailio/run.sh, on this benchmark's own ports
      const [cmd, args] = pinned(serverCpus, KAMAILIO, [
        '-f', kamailioCfg, '-DD', '-E', '-Y', runDir, '-P', join(runDir, 'kamailio.pid'),
        '-m', '1024', '-M', '16', '-n', '2', '-N', '2',
        '-A', `SIP_PORT=${port}`, '-A', `AUTH_PORT=${port + 1}`, '-A', `WS_PORT=${port + 2}`,
        '-A', `CTL_SOCKET="unix:${join(runDir, 'kamailio_ctl')}"`,
      ]);
      const child = track(spawn(cmd, args, { cwd: runDir, stdio: ['ignore', fd, fd] }));
      closeSync(fd);
      try {
        await waitReady(self, child, logFile);
      } catch (e) {
        await stopPids(child, child.pid === undefined ? [] : processTree(child.pid));
        throw e;
      }
      let tree: number[] = [];
      return {
        pids: () => (tree = child.pid === undefined ? [] : processTree(child.pid)),
        stop: () => stopPids(child, tree.length > 0 ? tree : child.pid === undefined ? [] : processTree(child.pid)),
      };
    },
  };
  return self;
}

// ----------------------------------------------------------------------- steps --

type Phase = 'cal' | 'search' | 'sustain';

interface Step {
  readonly server: string;
  readonly phase: Phase;
  readonly no: number;
  readonly offered: number;
  readonly secs: number;
  readonly calls: number;
  readonly ok: number;
  readonly failed: number;
  readonly retrans: number;
  readonly rtMs: number;
  readonly wallSecs: number;
  readonly achieved: number;
  readonly serverCpuPct: number;
  readonly sippCpuPct: number;
  readonly serverMemMb: number;
  readonly stealPct: number;
  /** CPU used by everything but the server and sipp over the step, % of one CPU (other load). */
  readonly otherCpuPct: number;
  /** UDP receive-buffer drops over the step, whole machine (sipp's socket included). */
  readonly rcvbufDrops: number;
  readonly pass: boolean;
}

const steps: Step[] = [];
const TSV = join(outDir, 'steps.tsv');
writeFileSync(TSV, 'server\tphase\tstep\toffered\tsecs\tcalls\tok\tfailed\tretrans\trt_avg_ms\twall_s\tachieved\tserver_cpu_pct\tsipp_cpu_pct\tserver_pss_mb\tsteal_pct\tother_cpu_pct\tudp_rcvbuf_drops\tpass\n');

async function runStep(server: ServerUnderTest, phase: Phase, rate: number, secs: number): Promise<Step> {
  const no = steps.length + 1;
  const tag = `${String(no).padStart(3, '0')}-${server.name}-${phase}-r${rate}`;
  const calls = Math.round(rate * secs);
  const srv = await server.start(tag);
  let step: Step;
  try {
    // warm-up (JIT for Parley; the same for Kamailio): a short run at a rate well below the step's
    const wRate = Math.max(100, Math.min(2000, Math.round(rate / 2)));
    const warm = await sipp(server.port, server.sippPorts, wRate, Math.round(wRate * cfg.warmupSecs), `${tag}.warmup`);
    if (warm.code !== 0) log(`  (warm-up at ${wRate}/s ended with sipp exit ${warm.code})`);
    await sleep(300);

    const pids = srv.pids();
    const c0 = cpuNs(pids);
    const s0 = stealJiffies();
    const d0 = udpRcvbufErrors();
    const r = await sipp(server.port, server.sippPorts, rate, calls, tag);
    const c1 = cpuNs(srv.pids());
    const s1 = stealJiffies();
    const d1 = udpRcvbufErrors();
    const mem = pssMb(srv.pids());
    const ok = Number(r.stats['SuccessfulCall(C)'] ?? 0);
    const failed = Number(r.stats['FailedCall(C)'] ?? calls);
    const achieved = ok / r.wallSecs;
    step = {
      server: server.name, phase, no, offered: rate, secs, calls, ok, failed,
      retrans: Number(r.stats['Retransmissions(C)'] ?? NaN),
      rtMs: sippMs(r.stats['ResponseTime1(C)']),
      wallSecs: r.wallSecs, achieved,
      serverCpuPct: ((c1 - c0) / 1e9 / r.wallSecs) * 100,
      sippCpuPct: r.cpuPct,
      serverMemMb: mem,
      stealPct: s1[1] > s0[1] ? ((s1[0] - s0[0]) / (s1[1] - s0[1])) * 100 : 0,
      otherCpuPct: Math.max(0, ((s1[2] - s0[2]) / USER_HZ / r.wallSecs) * 100 - ((c1 - c0) / 1e9 / r.wallSecs) * 100 - r.cpuPct),
      rcvbufDrops: d1 - d0,
      pass: r.code === 0 && failed === 0 && ok === calls && achieved * 100 >= rate * cfg.minAchievedPct,
    };
  } finally {
    await srv.stop();
  }
  steps.push(step);
  appendFileSync(TSV, [step.server, step.phase, step.no, step.offered, step.secs, step.calls, step.ok, step.failed, step.retrans, fmt(step.rtMs, 1), fmt(step.wallSecs, 2), fmt(step.achieved, 0), fmt(step.serverCpuPct, 1), fmt(step.sippCpuPct, 1), fmt(step.serverMemMb, 0), fmt(step.stealPct, 1), fmt(step.otherCpuPct, 0), step.rcvbufDrops, step.pass ? 1 : 0].join('\t') + '\n');
  log(`  ${server.name.padEnd(8)} ${phase.padEnd(6)} r=${rate}/s ${secs}s -> achieved ${fmt(step.achieved, 0)}/s ok=${step.ok} failed=${step.failed} retrans=${step.retrans} rt=${fmt(step.rtMs, 1)}ms server_cpu=${fmt(step.serverCpuPct, 0)}% sipp_cpu=${fmt(step.sippCpuPct, 0)}% pss=${fmt(step.serverMemMb, 0)}MB rcvbuf_drops=${step.rcvbufDrops} other_cpu=${fmt(step.otherCpuPct, 0)}% steal=${fmt(step.stealPct, 1)}% ${step.pass ? 'PASS' : 'FAIL'}`);
  await sleep(500);
  return step;
}

function fmt(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'NA';
}

/** Round a rate to a step that reads well: 10s below 1000, 50s below 10,000, then 250s. */
function roundRate(r: number): number {
  const q = r < 1000 ? 10 : r < 10_000 ? 50 : 250;
  return Math.max(q, Math.round(r / q) * q);
}

// ---------------------------------------------------------------------- search --

/**
 * The rate search of one server, one step at a time so that two servers' steps can alternate.
 * Calibration: double from the start rate (halve if it fails) until a pass/fail bracket;
 * search: (re-run the passing end with a full-length step, walking down 20 % while it fails,
 * then) bisect until (fail - pass) / fail <= precision.
 */
class RateSearch {
  private phase: 'cal' | 'search' | 'done' = 'cal';
  private rate: number;
  private lo = 0;
  private hi = 0;
  private calSteps = 0;
  private searchSteps = 0;
  best: Step | undefined;
  calBest: Step | undefined;

  constructor(readonly server: ServerUnderTest) {
    this.rate = cfg.startRate;
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  forceDone(best: Step | undefined): void {
    this.phase = 'done';
    this.best = best;
  }

  next(): { rate: number; secs: number; phase: 'cal' | 'search' } | undefined {
    if (this.phase === 'done') return undefined;
    return { rate: this.rate, secs: this.phase === 'cal' ? cfg.calStepSecs : cfg.stepSecs, phase: this.phase };
  }

  record(s: Step): void {
    if (this.phase === 'cal') {
      this.calSteps++;
      if (s.pass) {
        this.lo = s.offered;
        this.calBest = s;
        if (this.hi > 0) return this.startSearch();
        this.rate = roundRate(s.offered * 2);
      } else {
        this.hi = s.offered;
        if (this.lo > 0) return this.startSearch();
        this.rate = roundRate(s.offered / 2);
        if (this.rate < 100) return this.finish();
      }
      if (this.calSteps >= cfg.maxCalSteps) this.startSearch();
      return;
    }
    this.searchSteps++;
    if (s.pass) {
      this.lo = s.offered;
      if (this.best === undefined || s.achieved > this.best.achieved || s.offered > this.best.offered) this.best = s;
    } else {
      this.hi = s.offered;
    }
    this.chooseNext(s.pass);
  }

  private startSearch(): void {
    log(`${this.server.name}: calibration bracket: pass ${this.lo}/s, fail ${this.hi || 'none'}`);
    if (this.lo === 0) return this.finish();
    if (this.hi === 0) this.hi = this.lo * 2;
    this.phase = 'search';
    if (cfg.rerunLow) {
      this.rate = this.lo; // re-run the passing end with a full-length step first
      this.lo = 0;
    } else {
      this.best = this.calBest; // quick: the calibration's pass counts
      this.chooseNext(true);
    }
  }

  private chooseNext(lastPassed: boolean): void {
    if (this.searchSteps >= cfg.maxSearchSteps) return this.finish();
    if (this.lo === 0) {
      // the re-run of the bracket's low end failed: walk down
      this.rate = roundRate(this.rate * 0.8);
      if (this.rate < 100) return this.finish();
      return;
    }
    if ((this.hi - this.lo) * 100 <= this.hi * cfg.precisionPct) return this.finish();
    const next = roundRate((this.lo + this.hi) / 2);
    if (next <= this.lo || next >= this.hi) return this.finish();
    this.rate = next;
    void lastPassed;
  }

  private finish(): void {
    this.phase = 'done';
    log(`${this.server.name}: done: ${this.best ? `best passing step ${this.best.offered}/s (achieved ${fmt(this.best.achieved, 0)}/s)` : 'no passing step'}`);
  }
}

// ------------------------------------------------------------------------ main --

async function main(): Promise<void> {
  const t0 = Date.now();
  const servers: ServerUnderTest[] = [];
  if (only !== 'kamailio') servers.push(await parleyServer());
  if (only !== 'parley') servers.push(await kamailioServer());
  const sippVersion = /v\d[\w.-]*/.exec(spawnSync('sipp', ['-v'], { encoding: 'utf8' }).stdout)?.[0] ?? '?';
  log(`results in ${outDir}`);
  log(`sipp ${sippVersion}; ${pin ? `server on CPU ${serverCpus}, sipp on CPU ${sippCpus}` : 'no CPU pinning'}; steps ${cfg.stepSecs}s (calibration ${cfg.calStepSecs}s), precision ${cfg.precisionPct}%, start ${cfg.startRate}/s${quick ? ', quick' : ''}`);
  for (const s of servers) log(`  ${s.describe()}`);

  const searches = servers.map((s) => new RateSearch(s));
  if (cfg.atRate > 0) {
    // a fixed rate instead of a search: one step per server, interleaved
    for (const search of searches) {
      const st = await runStep(search.server, 'sustain', cfg.atRate, cfg.stepSecs);
      search.forceDone(st.pass ? st : undefined);
    }
  }
  // alternate the servers step by step, so that both see the same machine over the run
  while (searches.some((s) => !s.done)) {
    for (const search of searches) {
      const n = search.next();
      if (n === undefined) continue;
      search.record(await runStep(search.server, n.phase, n.rate, n.secs));
    }
  }
  const sustained = new Map<string, Step>();
  if (cfg.sustainSecs > 0) {
    for (const search of searches) {
      if (search.best === undefined) continue;
      log(`${search.server.name}: sustain: ${search.best.offered}/s for ${cfg.sustainSecs}s`);
      sustained.set(search.server.name, await runStep(search.server, 'sustain', search.best.offered, cfg.sustainSecs));
    }
  }

  // ---------------------------------------------------------------- report --
  const lines: string[] = [];
  const say = (l = ''): void => {
    lines.push(l);
  };
  say(`# OPTIONS over UDP, sipp ${sippVersion}, ${new Date().toISOString()}; ${cpus().length} CPUs (${cpus()[0]?.model.trim()}); ${pin ? `server pinned to CPU ${serverCpus}, sipp to CPU ${sippCpus}` : 'not pinned'}`);
  say(`# pass = 0 failed, all calls completed, achieved >= ${cfg.minAchievedPct}% of offered; steps of ${cfg.stepSecs}s (calibration ${cfg.calStepSecs}s), each against a freshly started server after a ${cfg.warmupSecs}s warm-up`);
  for (const s of servers) say(`# ${s.describe()}`);
  say();
  say('steps (in the order run):');
  say(`${'server'.padEnd(9)}${'phase'.padEnd(7)}${'offered/s'.padStart(10)}${'achieved/s'.padStart(11)}${'failed'.padStart(8)}${'retrans'.padStart(9)}${'rt ms'.padStart(8)}${'server CPU%'.padStart(12)}${'sipp CPU%'.padStart(10)}${'PSS MB'.padStart(8)}${'drops'.padStart(8)}${'other CPU%'.padStart(11)}  result`);
  for (const st of steps) {
    say(`${st.server.padEnd(9)}${st.phase.padEnd(7)}${String(st.offered).padStart(10)}${fmt(st.achieved, 0).padStart(11)}${String(st.failed).padStart(8)}${String(st.retrans).padStart(9)}${fmt(st.rtMs, 1).padStart(8)}${fmt(st.serverCpuPct, 0).padStart(12)}${fmt(st.sippCpuPct, 0).padStart(10)}${fmt(st.serverMemMb, 0).padStart(8)}${String(st.rcvbufDrops).padStart(8)}${fmt(st.otherCpuPct, 0).padStart(11)}  ${st.pass ? 'pass' : 'FAIL'}`);
  }
  say();
  say(cfg.atRate > 0 ? `at ${cfg.atRate}/s:` : 'highest passing rate:');
  say(`${'server'.padEnd(9)}${'offered/s'.padStart(10)}${'achieved/s'.padStart(11)}${'server CPU%'.padStart(12)}${'sipp CPU%'.padStart(10)}${'rt ms'.padStart(8)}${'retrans'.padStart(9)}${'lowest fail/s'.padStart(15)}`);
  const bestOf = new Map<string, Step | undefined>();
  for (const search of searches) {
    const b = search.best;
    bestOf.set(search.server.name, b);
    const fails = steps.filter((s) => s.server === search.server.name && !s.pass).map((s) => s.offered);
    const lowestFail = fails.length > 0 ? String(Math.min(...fails)) : '-';
    say(b === undefined
      ? `${search.server.name.padEnd(9)}${'none'.padStart(10)}${''.padStart(11)}${''.padStart(12)}${''.padStart(10)}${''.padStart(8)}${''.padStart(9)}${lowestFail.padStart(15)}`
      : `${search.server.name.padEnd(9)}${String(b.offered).padStart(10)}${fmt(b.achieved, 0).padStart(11)}${fmt(b.serverCpuPct, 0).padStart(12)}${fmt(b.sippCpuPct, 0).padStart(10)}${fmt(b.rtMs, 1).padStart(8)}${String(b.retrans).padStart(9)}${lowestFail.padStart(15)}`);
  }
  const p = bestOf.get('parley');
  const k = bestOf.get('kamailio');
  say();
  if (p !== undefined && k !== undefined) {
    if (cfg.atRate > 0) say(`(--at: both ran the same offered rate, so compare CPU and memory, not the rates)`);
    else say(`ratio parley/kamailio (achieved OPTIONS/s at the highest passing rate): ${(p.achieved / k.achieved).toFixed(2)}`);
    const pPerCpu = p.achieved / (p.serverCpuPct / 100);
    const kPerCpu = k.achieved / (k.serverCpuPct / 100);
    say(`per CPU-second of the server: parley ${fmt(pPerCpu, 0)}/s, kamailio ${fmt(kPerCpu, 0)}/s (ratio ${(pPerCpu / kPerCpu).toFixed(2)})`);
  } else if (servers.length === 2) {
    say('ratio: n/a (a server had no passing step)');
  }
  for (const [name, st] of sustained) {
    say(`sustained ${name}: ${st.offered}/s for ${st.secs}s -> achieved ${fmt(st.achieved, 0)}/s, failed ${st.failed}, retrans ${st.retrans}, server CPU ${fmt(st.serverCpuPct, 0)}%, PSS ${fmt(st.serverMemMb, 0)} MB: ${st.pass ? 'pass' : 'FAIL'}`);
  }
  const busy = steps.filter((st) => st.otherCpuPct > 15);
  if (busy.length > 0) say(`WARNING: other processes used > 15% of a CPU during ${busy.length} step(s) (column "other CPU%"): figures are disturbed`);
  const sippMax = Math.max(...steps.filter((s) => s.pass).map((s) => s.sippCpuPct), 0);
  if (sippMax > 85) say(`WARNING: sipp used ${fmt(sippMax, 0)}% of a CPU in a passing step: the generator may be the limit`);
  say(`total time ${((Date.now() - t0) / 1000).toFixed(0)} s; per-step data: ${TSV}`);
  writeFileSync(join(outDir, 'summary.txt'), lines.join('\n') + '\n');
  console.log(lines.join('\n'));
}

main().catch((e: unknown) => {
  emergencyStop();
  console.error(`options-bench: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
