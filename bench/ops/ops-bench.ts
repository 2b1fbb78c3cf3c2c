/**
 * What operating Parley costs (issue 18; bench/ops/README.md):
 *
 *   1. REST latency with a big data set: p50/p99/max of `GET /api/v1/subscribers?search=…&limit=50`,
 *      `GET /api/v1/bindings?search=…&limit=50` and `GET /api/v1/bindings?aor=…` with --subscribers
 *      subscribers and --bindings bindings loaded (N requests each, one at a time);
 *   2. `/metrics`: the time of one scrape (p50/p99 over --scrapes scrapes) and its size;
 *   3. SIP REGISTER under load (sipp at --rate for --seconds, bounded by -m and -timeout) with
 *      nothing attached, then with the dashboard's polling pattern (stats every 3 s, the tables
 *      every 5 s, the last hour of history every 60 s, the event stream on a WebSocket) and a
 *      Prometheus-like scraper (`/metrics` every second) attached; alternated (A B A B …,
 *      --rounds), Parley's CPU time per 1000 REGISTER and the achieved rate of each. The cost is
 *      the difference of CPU per REGISTER, with/without (goal: under 5 %).
 *
 *   npm run bench:ops                                   # 100,000 subscribers and bindings, 2000 REGISTER/s
 *   npm run bench:ops -- --subscribers 1000 --bindings 1000 --requests 50 --scrapes 20 --seconds 5 --rounds 1   # smoke run
 *   npm run bench:ops -- --help
 *
 * Loopback only: Parley on 127.0.0.1 (SIP UDP `;noauth`, the API on plain HTTP, allowed on
 * loopback), sipp from 127.0.0.1. Every request loop is bounded in count, every sipp run by -m
 * and -timeout, every wait by a deadline. Parley runs from dist/ (`npm run build` first; the npm
 * script does) with an admin token from `parley token create` (the API's tokens). Bindings are
 * written into the SQLite binding store before the start (the server loads them as it loads its
 * own after a restart): registering 100,000 with sipp would take minutes and measure the
 * registrar, not the API.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { FEED_TYPES } from '../../web/dashboard/events.js';
import { SqliteDatabase } from '../../src/store/sqlite/sqlite-database.js';
import { SqliteBindingStore } from '../../src/store/sqlite/sqlite-binding-store.js';
import type { ContactBinding } from '../../src/store/binding-store.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const CLI = join(REPO, 'dist/cli/main.js');
const SCENARIO = join(HERE, 'register.xml');
const HOST = '127.0.0.1';
const DOMAIN = '127.0.0.1';

const { values: opt } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '100000' },
    bindings: { type: 'string', default: '100000' },
    requests: { type: 'string', default: '1000' },
    scrapes: { type: 'string', default: '100' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '2' },
    'all-events': { type: 'boolean', default: false },
    workers: { type: 'string', default: 'auto' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(`npm run bench:ops -- [options]
  --subscribers N   subscribers loaded (default 100000)
  --bindings N      bindings loaded, one per subscriber from the first (default 100000)
  --requests N      requests per REST query (default 1000)
  --scrapes N       /metrics scrapes timed (default 100)
  --rate R          REGISTER/s offered by sipp (default 2000)
  --seconds S       length of each REGISTER run (default 20)
  --rounds K        without/with pairs (default 2)
  --all-events      the attached event stream takes every type (the dashboard leaves out registration.refreshed)
  --workers W       parley serve --workers (default auto)
  --out DIR         where results go (default /tmp/parley-bench/ops-<time>)
  --keep            keep the data directory`);
  process.exit(0);
}
const num = (name: string, v: string | undefined, min: number, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) die(`--${name} must be an integer ${min}-${max}`);
  return n;
};
const cfg = {
  subscribers: num('subscribers', opt.subscribers, 1, 1_000_000),
  bindings: num('bindings', opt.bindings, 0, 1_000_000),
  requests: num('requests', opt.requests, 1, 100_000),
  scrapes: num('scrapes', opt.scrapes, 1, 10_000),
  rate: num('rate', opt.rate, 1, 50_000),
  seconds: num('seconds', opt.seconds, 1, 600),
  rounds: num('rounds', opt.rounds, 0, 20),
};
if (cfg.bindings > cfg.subscribers) die('--bindings cannot exceed --subscribers (one binding per subscriber)');
const outDir = resolve(opt.out ?? `/tmp/parley-bench/ops-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
mkdirSync(outDir, { recursive: true });

function die(message: string): never {
  console.error(`ops-bench: ${message}`);
  process.exit(1);
}
function log(line: string): void {
  console.error(line);
}
if (!existsSync(CLI)) die(`${CLI} is missing: npm run build`);
if (spawnSync('sipp', ['-v']).error !== undefined) die('sipp is not installed (apt-get install sip-tester)');

// ------------------------------------------------------------------------ helpers --

/** A port free for both UDP and TCP on 127.0.0.1 (asked from the kernel). */
async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise<number>((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen(0, HOST, () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    const udpFree = await new Promise<boolean>((res) => {
      const u = createSocket('udp4');
      u.once('error', () => res(false));
      u.bind(port, HOST, () => u.close(() => res(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port');
}

/** On-CPU nanoseconds of every thread of `pid` (/proc/PID/task/TID/schedstat). */
function cpuNs(pid: number): number {
  let ns = 0;
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

interface Timing {
  readonly name: string;
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly statuses: Record<string, number>;
  readonly bytes: number;
}

const children: ChildProcess[] = [];
function track<T extends ChildProcess>(c: T): T {
  children.push(c);
  return c;
}
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.pid !== undefined) c.kill('SIGKILL');
});
for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => process.exit(130));

// ------------------------------------------------------------------------- setup --

const work = await mkdtemp(join(tmpdir(), 'parley-ops-bench-'));
const dataDir = join(work, 'data');
const user = (i: number): string => `user${String(i).padStart(6, '0')}`;

log(`== ${cfg.subscribers} subscribers (parley user import), ${cfg.bindings} bindings (SQLite binding store)`);
{
  const csv = join(work, 'subscribers.csv');
  const lines: string[] = [];
  for (let i = 1; i <= cfg.subscribers; i++) lines.push(`${user(i)}@${DOMAIN},benchpass`);
  writeFileSync(csv, lines.join('\n') + '\n');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'user', 'import', csv, '--data-dir', dataDir], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) die(`parley user import: ${r.stderr || r.stdout}`);
  log(`   imported in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const db = SqliteDatabase.open(dataDir);
  const store = new SqliteBindingStore(db);
  const now = Date.now();
  for (let from = 1; from <= cfg.bindings; from += 10_000) {
    const save: ContactBinding[] = [];
    for (let i = from; i < Math.min(from + 10_000, cfg.bindings + 1); i++) {
      const port = 10_000 + (i % 50_000);
      save.push({
        aor: `${user(i)}@${DOMAIN}`,
        contact: `<sip:${user(i)}@192.0.2.${1 + (i % 250)}:${port}>`,
        expires: now + 86_400_000,
        q: 1,
        callId: `bench-${i}`,
        cseq: 1,
        path: [],
        received: { transport: 'udp', address: `192.0.2.${1 + (i % 250)}`, port },
        sendTo: 'source',
        node: 'bench',
        userAgent: 'ops-bench',
        updatedAt: now,
      });
    }
    await store.apply({ save, remove: [] });
  }
  db.close();
}

// an admin token (the API's `parley token create`); without it the API answers 401 and the
// REST figures say so
let token: string | undefined;
{
  const r = spawnSync(process.execPath, [CLI, 'token', 'create', '--data-dir', dataDir, '--name', 'ops-bench', '--scope', 'admin', '--json'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) token = (JSON.parse(r.stdout) as { token: string }).token;
  else log(`   no API token (parley token create: ${(r.stderr || r.stdout).trim().split('\n')[0]}): API requests go without one`);
}
const auth: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };

// ------------------------------------------------------------------------ server --

const sipPort = await freePort();
const httpPort = await freePort();
const configFile = join(work, 'parley.json');
writeFileSync(configFile, JSON.stringify({ turn: { enabled: false }, media: { enabled: false }, routing: { watch: false } }));
const serverLog = join(outDir, 'parley.log');
const parley = track(
  spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--listen', `udp:${HOST}:${sipPort};noauth`, `http:${HOST}:${httpPort}`, '--data-dir', dataDir, '--log-level', 'warn', '--workers', opt.workers === 'auto' ? 'auto' : String(num('workers', opt.workers, 0, 64))], {
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
  }),
);
let serverOutput = '';
parley.stdout!.on('data', (d: Buffer) => (serverOutput += d.toString()));
parley.stderr!.on('data', (d: Buffer) => (serverOutput += d.toString()));
{
  const deadline = Date.now() + 120_000;
  while (!serverOutput.includes('Parley is listening') && parley.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (!serverOutput.includes('Parley is listening')) die(`Parley did not start:\n${serverOutput.slice(-3000)}`);
}
const base = `http://${HOST}:${httpPort}`;
log(`== Parley pid ${parley.pid}: SIP udp ${HOST}:${sipPort} (noauth), API ${base}`);

async function get(path: string): Promise<{ status: number; bytes: number }> {
  const r = await fetch(base + path, { headers: auth, signal: AbortSignal.timeout(30_000) });
  const body = await r.arrayBuffer();
  return { status: r.status, bytes: body.byteLength };
}

/** `n` requests one after the other, each timed. */
async function timed(name: string, n: number, path: (i: number) => string): Promise<Timing> {
  const times: number[] = [];
  const statuses: Record<string, number> = {};
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    let status: string;
    try {
      const r = await get(path(i));
      status = String(r.status);
      bytes += r.bytes;
    } catch (e) {
      status = (e as Error).name;
    }
    times.push(performance.now() - t0);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  times.sort((a, b) => a - b);
  return { name, n, p50: quantile(times, 0.5), p99: quantile(times, 0.99), max: times[times.length - 1]!, statuses, bytes: bytes / n };
}

// a random subscriber of those with bindings, the same sequence every run
let seed = 7;
const pick = (range: number): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return 1 + (seed % range);
};

// ------------------------------------------------------------------------- REST --

log('== REST latency');
const withBindings = Math.max(1, cfg.bindings);
// warm-up: the routes compile their schemas, V8 its code
await timed('warm-up', Math.min(50, cfg.requests), (i) => `/api/v1/subscribers?search=${user(pick(cfg.subscribers))}&limit=50&offset=${i % 2}`);
const rest: Timing[] = [
  // a prefix of ten users (user01234 → user012340-user012349): a search that matches a few
  await timed('GET /api/v1/subscribers?search=…&limit=50', cfg.requests, () => `/api/v1/subscribers?search=${user(pick(cfg.subscribers)).slice(0, -1)}&limit=50`),
  await timed('GET /api/v1/bindings?search=…&limit=50', cfg.requests, () => `/api/v1/bindings?search=${user(pick(withBindings)).slice(0, -1)}&limit=50`),
  await timed('GET /api/v1/bindings?aor=…', cfg.requests, () => `/api/v1/bindings?aor=${encodeURIComponent(`${user(pick(withBindings))}@${DOMAIN}`)}`),
  await timed('GET /api/v1/subscribers?limit=50 (first page, total counted)', cfg.requests, () => '/api/v1/subscribers?limit=50'),
];

log('== /metrics');
const scrape = await timed('GET /metrics', cfg.scrapes, () => '/metrics');

// --------------------------------------------------------------------- REGISTER --

interface RegisterRun {
  readonly attached: boolean;
  readonly ok: number;
  readonly failed: number;
  readonly wallSecs: number;
  readonly achieved: number;
  /** Parley's CPU (every thread), ms per 1000 REGISTER answered. */
  readonly cpuMsPer1000: number;
  /** Parley's CPU, % of one core over the run. */
  readonly cpuPct: number;
  readonly sippCode: number | null;
  /** What the attached clients did (requests, failures, events received). */
  readonly clients?: string;
}

const sippPort = await freePort();
const usersCsv = join(work, 'register-users.csv');
{
  const lines = ['SEQUENTIAL'];
  for (let i = 1; i <= cfg.subscribers; i++) lines.push(user(i));
  writeFileSync(usersCsv, lines.join('\n') + '\n');
}

/** sipp's last -trace_stat line as name → value. */
function readStats(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const lines = readFileSync(file, 'latin1').trim().split('\n');
  if (lines.length < 2) return {};
  const names = lines[0]!.split(';');
  const values = lines[lines.length - 1]!.split(';');
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? '']));
}

async function sipp(tag: string, rate: number, calls: number): Promise<{ code: number | null; ok: number; failed: number; wallSecs: number }> {
  const stf = join(outDir, `${tag}.csv`);
  const args = [
    `${HOST}:${sipPort}`, '-sf', SCENARIO, '-inf', usersCsv, '-t', 'u1', '-i', HOST, '-p', String(sippPort),
    '-r', String(rate), '-m', String(calls), '-l', String(Math.ceil(rate * 3 + 100)),
    '-recv_timeout', '5000', '-timeout', `${Math.ceil(calls / rate) * 3 + 20}s`, '-nostdin',
    '-trace_stat', '-stf', stf, '-fd', '3600',
  ];
  const t0 = performance.now();
  const child = track(spawn('sipp', args, { cwd: outDir, stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
  const wallSecs = (performance.now() - t0) / 1000;
  if (stderr.trim() !== '') writeFileSync(join(outDir, `${tag}.stderr`), stderr);
  const s = readStats(stf);
  return { code, ok: Number(s['SuccessfulCall(C)'] ?? 0), failed: Number(s['FailedCall(C)'] ?? 0), wallSecs };
}

/**
 * The dashboard's pattern (web/dashboard/dashboard.ts): stats every 3 s, the overview's tables
 * every 5 s, the last hour once and every 60 s, the event stream on a WebSocket; and a scraper
 * of /metrics every second. Returns the stop, which says what they did.
 */
function attach(): () => Promise<string> {
  const counts = { requests: 0, failures: 0, events: 0, scrapes: 0 };
  const inFlight = new Set<Promise<unknown>>();
  const call = (path: string, kind: 'requests' | 'scrapes'): void => {
    const p = get(path).then(
      (r) => {
        counts[kind]++;
        if (r.status !== 200) counts.failures++;
      },
      () => counts.failures++,
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const timers = [
    setInterval(() => call('/metrics', 'scrapes'), 1000),
    setInterval(() => call('/api/v1/stats', 'requests'), 3000),
    setInterval(() => {
      call('/api/v1/calls?limit=1', 'requests');
      call('/api/v1/bindings?limit=200', 'requests');
    }, 5000),
    setInterval(() => call('/api/v1/stats/history', 'requests'), 60_000),
  ];
  call('/api/v1/stats/history', 'requests');
  // the dashboard's feed (web/dashboard/api.ts): every type but registration.refreshed; --all-events: every one
  const types = opt['all-events'] === true ? '' : `types=${FEED_TYPES.join(',')}`;
  const query = [types, token === undefined ? '' : `token=${encodeURIComponent(token)}`].filter((q) => q !== '').join('&');
  const ws = new WebSocket(`ws://${HOST}:${httpPort}/api/v1/events${query === '' ? '' : `?${query}`}`);
  let wsState = 'connecting';
  ws.on('open', () => (wsState = 'open'));
  ws.on('message', () => counts.events++);
  ws.on('error', (e) => (wsState = `error (${e.message})`));
  ws.on('close', (code) => (wsState = wsState === 'open' ? `closed ${code}` : wsState));
  return async () => {
    for (const t of timers) clearInterval(t);
    ws.close();
    await Promise.allSettled([...inFlight]);
    return `${counts.scrapes} scrapes, ${counts.requests} API requests, ${counts.failures} not 200, ${counts.events} events (WebSocket ${wsState})`;
  };
}

async function registerRun(tag: string, attached: boolean): Promise<RegisterRun> {
  const detach = attached ? attach() : undefined;
  // the clients' first requests are in before the load starts
  if (attached) await new Promise((r) => setTimeout(r, 1500));
  const cpu0 = cpuNs(parley.pid!);
  const r = await sipp(tag, cfg.rate, cfg.rate * cfg.seconds);
  const cpuMs = (cpuNs(parley.pid!) - cpu0) / 1e6;
  const clients = await detach?.();
  return {
    attached,
    ok: r.ok,
    failed: r.failed,
    wallSecs: r.wallSecs,
    achieved: r.ok / r.wallSecs,
    cpuMsPer1000: r.ok > 0 ? (cpuMs / r.ok) * 1000 : NaN,
    cpuPct: (cpuMs / 10) / r.wallSecs,
    sippCode: r.code,
    ...(clients === undefined ? {} : { clients }),
  };
}

const runs: RegisterRun[] = [];
if (cfg.rounds > 0) {
  log(`== REGISTER at ${cfg.rate}/s for ${cfg.seconds} s: without / with the dashboard and a scraper, ${cfg.rounds} round(s)`);
  // warm-up (JIT, the registrar's first writes), not counted
  await sipp('warm-up', Math.min(cfg.rate, 1000), Math.min(cfg.rate, 1000) * 2);
  for (let k = 0; k < cfg.rounds; k++) {
    for (const attached of [false, true]) {
      const r = await registerRun(`register-${k + 1}-${attached ? 'with' : 'without'}`, attached);
      runs.push(r);
      log(`   round ${k + 1} ${attached ? 'with   ' : 'without'}: ${r.ok} ok, ${r.failed} failed, ${r.achieved.toFixed(0)}/s, Parley CPU ${r.cpuPct.toFixed(0)} % = ${r.cpuMsPer1000.toFixed(1)} ms per 1000${r.clients === undefined ? '' : ` (${r.clients})`}`);
    }
  }
}

// ------------------------------------------------------------------------ report --

parley.kill('SIGTERM');
await new Promise<void>((res) => {
  const t = setTimeout(() => {
    parley.kill('SIGKILL');
    res();
  }, 15_000);
  parley.once('exit', () => {
    clearTimeout(t);
    res();
  });
});
writeFileSync(serverLog, serverOutput);

const rev = spawnSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '—');
const statusText = (s: Record<string, number>): string => Object.entries(s).map(([k, v]) => `${k}×${v}`).join(' ');
const lines = [
  `ops-bench ${new Date().toISOString()} commit ${rev}: ${cfg.subscribers} subscribers, ${cfg.bindings} bindings, workers ${opt.workers}`,
  '',
  '| request | n | p50 ms | p99 ms | max ms | answers | bytes/answer |',
  '|---|---|---|---|---|---|---|',
  ...[...rest, scrape].map((t) => `| \`${t.name}\` | ${t.n} | ${ms(t.p50)} | ${ms(t.p99)} | ${ms(t.max)} | ${statusText(t.statuses)} | ${Math.round(t.bytes)} |`),
];
if (runs.length > 0) {
  const avg = (attached: boolean, f: (r: RegisterRun) => number): number => {
    const xs = runs.filter((r) => r.attached === attached).map(f);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const without = avg(false, (r) => r.cpuMsPer1000);
  const withA = avg(true, (r) => r.cpuMsPer1000);
  // runs alternate without, with: the drift of a shared machine between two neighbours is smallest
  const pairs: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) pairs.push(((runs[i + 1]!.cpuMsPer1000 - runs[i]!.cpuMsPer1000) / runs[i]!.cpuMsPer1000) * 100);
  const median = (xs: readonly number[]): number => {
    const o = [...xs].sort((a, b) => a - b);
    return o.length === 0 ? NaN : o.length % 2 === 1 ? o[(o.length - 1) / 2]! : (o[o.length / 2 - 1]! + o[o.length / 2]!) / 2;
  };
  lines.push(
    '',
    `REGISTER at ${cfg.rate}/s for ${cfg.seconds} s (sipp, no auth), ${cfg.rounds} round(s):`,
    '',
    '| attached | ok | failed | achieved/s | Parley CPU % | CPU ms per 1000 REGISTER | clients |',
    '|---|---|---|---|---|---|---|',
    ...runs.map((r) => `| ${r.attached ? 'dashboard + scraper' : 'nothing'} | ${r.ok} | ${r.failed} | ${r.achieved.toFixed(0)} | ${r.cpuPct.toFixed(0)} | ${r.cpuMsPer1000.toFixed(1)} | ${r.clients ?? ''} |`),
    '',
    `cost of attaching: ${(((withA - without) / without) * 100).toFixed(1)} % CPU per REGISTER (${without.toFixed(1)} → ${withA.toFixed(1)} ms per 1000), achieved ${avg(false, (r) => r.achieved).toFixed(0)} → ${avg(true, (r) => r.achieved).toFixed(0)} REGISTER/s`,
    `each round's own difference (with against the without just before it): ${pairs.map((d) => `${d >= 0 ? '+' : ''}${d.toFixed(1)} %`).join(', ')}; median ${median(pairs).toFixed(1)} %`,
  );
}
const notOk = [...rest, scrape].filter((t) => Object.keys(t.statuses).some((k) => k !== '200'));
if (notOk.length > 0) lines.push('', `NOT MEASURED: ${notOk.map((t) => t.name).join(', ')} answered other than 200 (a route not in this build, or no token): the figures above time the refusal, not the work`);
const report = lines.join('\n');
writeFileSync(join(outDir, 'summary.md'), report + '\n');
console.log(report);
log(`\nresults in ${outDir}`);
if (!opt.keep) await rm(work, { recursive: true, force: true });
else log(`data directory kept: ${dataDir}`);
