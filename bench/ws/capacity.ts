/**
 * WebSocket capacity: how many registered SIP-over-WebSocket clients one server holds, and the
 * memory each costs. `parley load` opens N connections, registers N users with digest auth at a
 * rate and holds them; the server's resident memory is sampled before the connections and while
 * all N are held. Parley (WSS, and plain WS) and Kamailio (plain WS, the shared benchmark
 * configuration) are measured in the same run, one after the other. See README.md.
 *
 *   npm run bench:ws                                       # 10,000 users, all three servers
 *   npm run build && node --import tsx bench/ws/capacity.ts --users 2000 --hold 20
 *   node --import tsx bench/ws/capacity.ts --help
 *
 * Loopback only, ports 29500-29999. Every process started here is stopped by its PID; the load
 * tool is bounded by its own --duration and by a watchdog here.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const argv = process.argv.slice(2);

const option = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
};

if (argv.includes('--help') || argv.includes('-h')) {
  console.log(`usage: node --import tsx bench/ws/capacity.ts [options]   (build first: npm run build; npm run bench:ws does)

  --users N            connections = registered users per server (default 10000)
  --rate R             new connections and registrations per second (default 150)
  --hold SECS          how long all users stay registered after the last one (default 60)
  --servers LIST       comma-separated, in this order: parley-wss, parley-ws, kamailio-ws
                       (default all three)
  --kamailio-cfg FILE  (default ../shared/bench/kamailio/kamailio.cfg beside the repository, or $KAMAILIO_CFG)
  --out DIR            results directory (default /tmp/parley-bench/ws-capacity-<time>)`);
  process.exit(0);
}

function die(message: string): never {
  process.stderr.write(`capacity: ${message}\n`);
  process.exit(1);
}

const num = (name: string, dflt: number): number => {
  const v = option(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) die(`--${name} needs a positive number, not "${v}"`);
  return n;
};
const USERS = Math.round(num('users', 10_000));
const RATE = num('rate', 150);
const HOLD = num('hold', 60);
const SERVERS = (option('servers') ?? 'parley-wss,parley-ws,kamailio-ws').split(',').map((s) => s.trim());
for (const s of SERVERS) if (!['parley-wss', 'parley-ws', 'kamailio-ws'].includes(s)) die(`unknown server "${s}" in --servers`);
const KAMAILIO_CFG = option('kamailio-cfg') ?? process.env.KAMAILIO_CFG ?? resolve(REPO, '../shared/bench/kamailio/kamailio.cfg');
const OUT = option('out') ?? `/tmp/parley-bench/ws-capacity-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`;
const HOST = '127.0.0.1';
const PASSWORD = 'benchpass';
/** Ports: Parley WSS/WS, then Kamailio's SIP, AUTH and WS ports. All in 29500-29999. */
const PORTS = { parleyWss: 29510, parleyWs: 29511, kamSip: 29520, kamAuth: 29521, kamWs: 29522 };

mkdirSync(OUT, { recursive: true });
const LOG = join(OUT, 'run.log');
function say(line: string): void {
  const text = `${new Date().toISOString().slice(11, 19)} ${line}`;
  process.stderr.write(text + '\n');
  writeFileSync(LOG, text + '\n', { flag: 'a' });
}

// ------------------------------------------------------------------ processes --

/** Run through sh with the soft open-files limit raised to the hard one (a connection is a descriptor). */
function spawnWithFds(command: string, args: readonly string[], opts: { cwd?: string; out: string }): ChildProcess {
  const fdOut = openOut(opts.out);
  return spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', command, ...args], {
    cwd: opts.cwd ?? REPO,
    stdio: ['ignore', fdOut, fdOut],
  });
}

function openOut(path: string): number {
  return openSync(path, 'a');
}

/** SIGTERM to `pid`, SIGKILL after `graceMs` if it is still there. */
async function stopPid(pid: number | undefined, graceMs = 8000): Promise<void> {
  if (pid === undefined || !alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let waited = 0; waited < graceMs && alive(pid); waited += 100) await sleep(100);
  if (alive(pid)) {
    say(`pid ${pid} did not stop on SIGTERM: SIGKILL`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(state);
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

function tree(pid: number): number[] {
  return [pid, ...childrenOf(pid).flatMap(tree)];
}

/** VmRSS and Pss in KiB, summed over `pids`. */
function memoryOf(pids: readonly number[]): { rssKiB: number; pssKiB: number } {
  let rss = 0;
  let pss = 0;
  for (const p of pids) {
    try {
      rss += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      pss += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited
    }
  }
  return { rssKiB: rss, pssKiB: pss };
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds (user + system) used so far by `pids`. */
function cpuOf(pids: readonly number[]): number {
  let ticks = 0;
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields 14 and 15 of stat (utime, stime) are 12 and 13 after "state"
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited
    }
  }
  return ticks / CLK_TCK;
}

/** Established TCP connections whose local port is `port` (the server's side), counted by ss. */
function established(port: number): number {
  const r = spawnSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 10_000 });
  if (r.status !== 0) return -1;
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: HOST, port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

// ------------------------------------------------------------------ servers --

interface Server {
  readonly name: string;
  readonly target: string;
  readonly domain: string;
  readonly port: number;
  /** Every PID whose memory counts (Kamailio: main and children). */
  pids(): number[];
  stop(): Promise<void>;
  /** Extra figures (Kamailio: shared memory in use). */
  extra?(): Promise<Record<string, number>>;
  describe: string;
}

/** A copy of dist/ taken at start: others may rebuild dist/ while this runs. */
function parleyCopy(): string {
  const dir = join(OUT, 'parley');
  if (!existsSync(join(dir, 'dist/cli/main.js'))) {
    mkdirSync(dir, { recursive: true });
    cpSync(join(REPO, 'dist'), join(dir, 'dist'), { recursive: true });
    copyFileSync(join(REPO, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  }
  return join(dir, 'dist/cli/main.js');
}

const gitRev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).stdout.trim() || 'unknown';

async function startParley(kind: 'wss' | 'ws'): Promise<Server> {
  const cli = parleyCopy();
  const dataDir = join(OUT, `parley-${kind}-data`);
  mkdirSync(dataDir, { recursive: true });
  const csv = join(OUT, 'parley-users.csv');
  if (!existsSync(csv)) {
    const lines: string[] = [];
    for (let i = 1; i <= USERS; i++) lines.push(`user${String(i).padStart(6, '0')}@${HOST},${PASSWORD}`);
    writeFileSync(csv, lines.join('\n') + '\n');
  }
  const imp = spawnSync(process.execPath, [cli, 'user', 'import', csv, '--data-dir', dataDir], { encoding: 'utf8', timeout: 120_000 });
  if (imp.status !== 0) die(`parley user import failed: ${imp.stdout}${imp.stderr}`);
  say(`parley: ${imp.stdout.trim()}`);
  const port = kind === 'wss' ? PORTS.parleyWss : PORTS.parleyWs;
  if (await accepts(port)) die(`port ${port} is in use`);
  // room for every connection from one address, none of it kept for authenticated sources (the
  // capacity measured is the whole table's); the rest are the defaults
  const config = { sip: { limits: { maxConnections: USERS + 1000, maxConnectionsPerSource: USERS + 1000, authenticatedReserve: 0 } }, log: { level: 'info', statsInterval: 10 } };
  const configFile = join(dataDir, 'bench.json');
  writeFileSync(configFile, JSON.stringify(config));
  const logFile = join(OUT, `parley-${kind}.log`);
  const child = spawnWithFds(process.execPath, [cli, 'serve', '--config', configFile, '--data-dir', dataDir, '--listen', `${kind}:${HOST}:${port}`], { out: logFile });
  const pid = child.pid!;
  for (let i = 0; i < 150; i++) {
    if (existsSync(logFile) && readFileSync(logFile, 'utf8').includes('"msg":"Parley is ready"')) break;
    if (!alive(pid)) die(`Parley exited; see ${logFile}`);
    await sleep(100);
  }
  if (!readFileSync(logFile, 'utf8').includes('"msg":"Parley is ready"')) {
    await stopPid(pid);
    die(`Parley not ready within 15 s; see ${logFile}`);
  }
  return {
    name: `parley-${kind}`,
    target: `${kind}://${HOST}:${port}/sip`,
    domain: `${HOST}:${port}`,
    port,
    pids: () => [pid],
    stop: () => stopPid(pid),
    describe: `Parley ${gitRev} (dist/ copied at start; node ${process.version}), ${kind}:${HOST}:${port}, one process, log level info`,
  };
}

async function startKamailio(): Promise<Server> {
  if (!existsSync(KAMAILIO_CFG)) die(`no Kamailio configuration at ${KAMAILIO_CFG} (--kamailio-cfg)`);
  for (const p of [PORTS.kamSip, PORTS.kamAuth, PORTS.kamWs]) if (await accepts(p)) die(`port ${p} is in use`);
  // the shared configuration caps TCP connections (WebSockets included) at 4096: a copy with that
  // one line raised, everything else as shared
  const original = readFileSync(KAMAILIO_CFG, 'utf8');
  const raised = original.replace(/^tcp_max_connections=\d+/m, `tcp_max_connections=${USERS + 1000}`);
  if (raised === original) die(`no tcp_max_connections line to raise in ${KAMAILIO_CFG}`);
  const dir = join(OUT, 'kamailio');
  mkdirSync(dir, { recursive: true });
  const cfgFile = join(dir, 'kamailio.cfg');
  writeFileSync(cfgFile, raised);
  const ctl = join(dir, 'ctl');
  const args = [
    '-f', cfgFile, '-DD', '-E', '-Y', dir, '-P', join(dir, 'kamailio.pid'),
    // run.sh's sizes but 2 GiB of shared memory (reserved, touched only as used): every WebSocket
    // connection lives in shared memory, 10,000 of them need more than the harness's 1 GiB
    '-m', '2048', '-M', '16', '-n', '2', '-N', '2',
    '-A', `SIP_PORT=${PORTS.kamSip}`, '-A', `AUTH_PORT=${PORTS.kamAuth}`, '-A', `WS_PORT=${PORTS.kamWs}`,
    '-A', `CTL_SOCKET="unix:${ctl}"`, '-A', 'WITH_AUTH',
  ];
  const logFile = join(OUT, 'kamailio.log');
  const child = spawnWithFds('kamailio', args, { out: logFile });
  // sh execs kamailio: the child's PID is Kamailio's main process
  const pid = child.pid!;
  for (let i = 0; i < 100 && !(await accepts(PORTS.kamWs)); i++) {
    if (!alive(pid)) die(`kamailio exited; see ${logFile}`);
    await sleep(100);
  }
  if (!(await accepts(PORTS.kamWs))) {
    await stopPid(pid);
    die(`kamailio not listening on ${PORTS.kamWs}; see ${logFile}`);
  }
  const version = spawnSync('kamailio', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0]?.replace(/^version:\s*/, '') ?? '?';
  let children: number[] = [];
  return {
    name: 'kamailio-ws',
    target: `ws://${HOST}:${PORTS.kamWs}`,
    domain: `${HOST}:${PORTS.kamWs}`,
    port: PORTS.kamWs,
    pids: () => {
      const t = tree(pid);
      children = t.slice(1);
      return t;
    },
    stop: async () => {
      // closing 10,000 connections takes Kamailio's TCP main process a while
      await stopPid(pid, 30_000);
      await sleep(300);
      for (const c of children) if (alive(c) && readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'kamailio') process.kill(c, 'SIGKILL');
    },
    extra: async () => {
      const r = spawnSync('kamcmd', ['-s', `unix:${ctl}`, 'core.shmmem'], { encoding: 'utf8', timeout: 10_000 });
      const used = Number(/real_used:\s*(\d+)/.exec(r.stdout)?.[1] ?? NaN);
      return { shmRealUsedKiB: Math.round(used / 1024) };
    },
    describe: `${version}, shared cfg with tcp_max_connections=${USERS + 1000}, -m 2048 -M 16 -n 2 -N 2 -A WITH_AUTH, ws:${HOST}:${PORTS.kamWs}`,
  };
}

// ------------------------------------------------------------------ one measurement --

interface Sample {
  readonly t: number;
  /** CPU seconds used so far by the server and by the load tool. */
  readonly cpu: number;
  readonly clientCpu: number;
  readonly rssKiB: number;
  readonly pssKiB: number;
  readonly established: number;
  readonly clientRssKiB: number;
  readonly extra: Record<string, number>;
}

interface Result {
  readonly server: Server;
  readonly idle: Sample;
  readonly held: Sample | undefined;
  readonly heldSamples: number;
  readonly maxEstablished: number;
  readonly peakRssKiB: number;
  /** CPU % of one core over the ramp (first sample with the tool running to the first with all N established). */
  readonly rampCpuPct: number | undefined;
  readonly rampClientCpuPct: number | undefined;
  readonly report: Record<string, any> | undefined;
  readonly toolExit: number | null;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
};

async function sample(server: Server, t0: number, clientPid: number | undefined): Promise<Sample> {
  const m = memoryOf(server.pids());
  return {
    t: (Date.now() - t0) / 1000,
    cpu: cpuOf(server.pids()),
    clientCpu: clientPid === undefined ? 0 : cpuOf([clientPid]),
    ...m,
    established: established(server.port),
    clientRssKiB: clientPid === undefined ? 0 : memoryOf([clientPid]).rssKiB,
    extra: (await server.extra?.()) ?? {},
  };
}

async function measure(server: Server): Promise<Result> {
  const t0 = Date.now();
  // idle: after start-up, before any connection (three samples, the median)
  await sleep(3000);
  const idles: Sample[] = [];
  for (let i = 0; i < 3; i++) {
    idles.push(await sample(server, t0, undefined));
    await sleep(1000);
  }
  const idle = idles.sort((a, b) => a.rssKiB - b.rssKiB)[1]!;
  say(`${server.name}: idle RSS ${mib(idle.rssKiB)} (PSS ${mib(idle.pssKiB)}), ${idle.established} connections`);

  const reportFile = join(OUT, `${server.name}-report.json`);
  const args = [
    parleyCopy(), 'load', '--target', server.target, '--users', String(USERS), '--rate', String(RATE), '--hold', String(HOLD),
    // MD5 for all: Kamailio's configuration offers only MD5 (Parley offers both)
    '--password', PASSWORD, '--algorithm', 'MD5', '--domain', server.domain, '--json', ...(server.target.startsWith('wss:') ? ['--insecure'] : []),
  ];
  const toolLog = join(OUT, `${server.name}-load.stderr`);
  const tool = spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@" > "$REPORT" 2>> "$TOOLLOG"', 'sh', process.execPath, ...args], {
    cwd: REPO,
    env: { ...process.env, REPORT: reportFile, TOOLLOG: toolLog },
    stdio: 'ignore',
  });
  const toolPid = tool.pid!;
  let toolExit: number | null = null;
  const exited = new Promise<void>((res) => tool.once('exit', (code) => ((toolExit = code), res())));
  // the tool's own cap is twice the ramp + hold + 120 s; the watchdog allows a little more
  const watchdogMs = (2 * Math.ceil(USERS / RATE) + HOLD + 180) * 1000;
  const watchdog = setTimeout(() => void stopPid(toolPid, 2000), watchdogMs);
  say(`${server.name}: parley load --users ${USERS} --rate ${RATE} --hold ${HOLD} → ${server.target} (pid ${toolPid})`);

  const samples: Sample[] = [];
  let done = false;
  void exited.then(() => (done = true));
  let lastSay = 0;
  while (!done) {
    const s = await sample(server, t0, toolPid);
    samples.push(s);
    if (s.t - lastSay >= 10) {
      lastSay = s.t;
      say(`${server.name}: t=${s.t.toFixed(0)} s, ${s.established} established, CPU ${s.cpu.toFixed(1)} s (tool ${s.clientCpu.toFixed(1)} s), RSS ${mib(s.rssKiB)} (PSS ${mib(s.pssKiB)}), load tool RSS ${mib(s.clientRssKiB)}`);
    }
    await Promise.race([exited, sleep(1000)]);
  }
  clearTimeout(watchdog);
  writeFileSync(join(OUT, `${server.name}-samples.tsv`), ['t_s\tcpu_s\tclient_cpu_s\trss_kib\tpss_kib\testablished\tclient_rss_kib\textra', ...samples.map((s) => `${s.t}\t${s.cpu}\t${s.clientCpu}\t${s.rssKiB}\t${s.pssKiB}\t${s.established}\t${s.clientRssKiB}\t${JSON.stringify(s.extra)}`)].join('\n') + '\n');

  // held: every sample in which all USERS connections were established; the figure is the
  // median of the second half of them (the first ones still carry the ramp's garbage)
  const held = samples.filter((s) => s.established >= USERS);
  const late = held.slice(Math.floor(held.length / 2));
  const heldSample =
    late.length === 0
      ? undefined
      : {
          t: median(late.map((s) => s.t)),
          cpu: median(late.map((s) => s.cpu)),
          clientCpu: median(late.map((s) => s.clientCpu)),
          rssKiB: median(late.map((s) => s.rssKiB)),
          pssKiB: median(late.map((s) => s.pssKiB)),
          established: median(late.map((s) => s.established)),
          clientRssKiB: median(late.map((s) => s.clientRssKiB)),
          extra: Object.fromEntries(Object.keys(late[0]!.extra).map((k) => [k, median(late.map((s) => s.extra[k]!))])),
        };
  const first = samples[0];
  const full = held[0];
  const span = first && full ? full.t - first.t : 0;
  const rampCpuPct = span > 0 ? ((full!.cpu - first!.cpu) / span) * 100 : undefined;
  const rampClientCpuPct = span > 0 ? ((full!.clientCpu - first!.clientCpu) / span) * 100 : undefined;
  let report: Record<string, any> | undefined;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8')) as Record<string, any>;
  } catch {
    report = undefined;
  }
  return {
    server,
    idle,
    held: heldSample,
    heldSamples: held.length,
    maxEstablished: Math.max(0, ...samples.map((s) => s.established)),
    peakRssKiB: Math.max(0, ...samples.map((s) => s.rssKiB)),
    rampCpuPct,
    rampClientCpuPct,
    report,
    toolExit,
  };
}

// ------------------------------------------------------------------ main --

function mib(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

const limit = spawnSync('/bin/sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
if (limit !== 'unlimited' && Number(limit) < USERS + 200) die(`the hard open-files limit is ${limit}: ${USERS} connections need more (raise it as root: /etc/security/limits.conf nofile)`);
if (!existsSync(join(REPO, 'dist/cli/main.js'))) die('dist/ is missing: npm run build first (npm run bench:ws does)');

say(`results in ${OUT}`);
say(`${USERS} users, ${RATE}/s, hold ${HOLD} s; servers: ${SERVERS.join(', ')}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${mib(totalmem() / 1024)} RAM, node ${process.version}`);
const results: Result[] = [];
for (const name of SERVERS) {
  const server = name === 'kamailio-ws' ? await startKamailio() : await startParley(name === 'parley-wss' ? 'wss' : 'ws');
  say(`${server.name}: ${server.describe}`);
  try {
    results.push(await measure(server));
  } finally {
    await server.stop();
  }
  await sleep(2000);
}

// ------------------------------------------------------------------ summary --

const rows: Array<[string, ...string[]]> = [];
const col = (f: (r: Result) => string): string[] => results.map(f);
const perConn = (kib: number | undefined): string => (kib === undefined || !Number.isFinite(kib) ? '-' : `${kib.toFixed(1)} KiB`);
const rep = (r: Result): Record<string, any> => r.report ?? {};
const lat = (r: Result, key: string): string => {
  const l = rep(r)[key]?.latencyMs;
  return l ? `${l.p50} / ${l.p90} / ${l.p99} / ${l.max} ms` : '-';
};
rows.push(['', ...col((r) => r.server.name)]);
rows.push(['held connections (ss, all N at once)', ...col((r) => `${r.maxEstablished} of ${USERS}${r.heldSamples > 0 ? ` (${r.heldSamples} samples)` : ''}`)]);
rows.push(['registered / failed (tool)', ...col((r) => `${rep(r).registrations?.ok ?? '-'} / ${rep(r).registrations?.failed ?? '-'}`)]);
rows.push(['held at end of hold (tool)', ...col((r) => `${rep(r).hold?.heldAtEnd ?? '-'}`)]);
rows.push(['registrations per second', ...col((r) => `${rep(r).registrations?.perSecond ?? '-'}/s (offered ${RATE}/s)`)]);
rows.push(['CPU during the ramp: server / load tool', ...col((r) => (r.rampCpuPct === undefined ? '-' : `${r.rampCpuPct.toFixed(0)} % / ${r.rampClientCpuPct!.toFixed(0)} % of one core`))]);
rows.push(['REGISTER latency p50/p90/p99/max', ...col((r) => lat(r, 'registrations'))]);
rows.push(['connect latency p50/p90/p99/max', ...col((r) => lat(r, 'connections'))]);
rows.push(['RSS idle', ...col((r) => mib(r.idle.rssKiB))]);
rows.push(['RSS held', ...col((r) => (r.held ? mib(r.held.rssKiB) : '-'))]);
rows.push(['RSS (held - idle) / N', ...col((r) => perConn(r.held ? (r.held.rssKiB - r.idle.rssKiB) / USERS : undefined))]);
rows.push(['RSS held / N', ...col((r) => perConn(r.held ? r.held.rssKiB / USERS : undefined))]);
rows.push(['PSS idle / held', ...col((r) => (r.held ? `${mib(r.idle.pssKiB)} / ${mib(r.held.pssKiB)}` : '-'))]);
rows.push(['PSS (held - idle) / N', ...col((r) => perConn(r.held ? (r.held.pssKiB - r.idle.pssKiB) / USERS : undefined))]);
rows.push(['shared memory used (held - idle) / N', ...col((r) => (r.held?.extra.shmRealUsedKiB !== undefined ? perConn((r.held.extra.shmRealUsedKiB - r.idle.extra.shmRealUsedKiB!) / USERS) : '-'))]);
rows.push(['peak RSS', ...col((r) => mib(r.peakRssKiB))]);
rows.push(['load tool RSS held / N', ...col((r) => perConn(r.held ? r.held.clientRssKiB / USERS : undefined))]);
rows.push(['load tool exit', ...col((r) => String(r.toolExit))]);
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
const table = rows.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
const header = [
  `# ws capacity ${new Date().toISOString()}: ${USERS} users, ${RATE}/s, hold ${HOLD} s, ${cpus().length} CPUs, node ${process.version}`,
  ...results.map((r) => `# ${r.server.name}: ${r.server.describe}`),
  '# RSS = VmRSS (Kamailio: summed over its processes, so shared memory counts once per process that touched it);',
  '# PSS = proportional set size (shared pages split among the processes that map them): for Kamailio, the honest sum.',
  '# "held" = median of the second half of the 1-s samples in which ss saw all N connections established on the server port.',
];
const summary = [...header, table].join('\n') + '\n';
writeFileSync(join(OUT, 'summary.txt'), summary);
process.stdout.write(summary);
const errors = results.flatMap((r) => (rep(r).errors as string[] | undefined)?.map((e) => `${r.server.name}: ${e}`) ?? []);
if (errors.length > 0) process.stdout.write(`errors reported by the load tool:\n${errors.slice(0, 20).map((e) => `  ${e}`).join('\n')}\n`);
say(`done; per-second samples and reports in ${OUT}`);
