// Prometheus metrics of a running Parley with two SIP worker threads, scraped by a real
// Prometheus (Debian's `prometheus`, started here with a temporary configuration, scraping every
// second): sipp registers, calls and fails to authenticate; the figures Prometheus then holds for
// the SIP requests and responses are those of sipp's own traces (what sipp sent, Parley
// received; what sipp received, Parley sent), summed over both workers. `promtool check metrics`
// lints the exposition; the Grafana dashboard (packaging/grafana/parley-dashboard.json) is
// checked for shape, each of its queries by `promtool check rules` and by Prometheus itself, and
// each metric it names must be in the scrape.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeCall, registerPhone } from './support/calls.js';
import { signalPid, spawnBounded, type BoundedChild, type ChildExit } from './support/child.js';
import { PARLEY_CLI, ParleyServer, REPO_ROOT, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { header, type SippTraceEntry } from './support/sip-trace.js';
import { runSipp, skipWithoutSipp, startSipp, type SippResult } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret1' };
const BOB = { user: 'bob', password: 'secret2' };
const pool = portPool(import.meta.url);
const CALLS = 4;
const WRONG_PASSWORDS = 2;
const DASHBOARD = join(REPO_ROOT, 'packaging/grafana/parley-dashboard.json');

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, program)));
}
const skip = skipWithoutSipp() || (onPath('prometheus') && onPath('promtool') ? false : 'prometheus is not installed (Debian package prometheus)');

/** What Parley received and sent, by sipp's traces: `in`/`out` → method (+ ` class` for responses) → count. */
function expectedCounts(runs: readonly SippResult[]): { requests: Record<string, number>; responses: Record<string, number> } {
  const requests: Record<string, number> = {};
  const responses: Record<string, number> = {};
  const add = (o: Record<string, number>, k: string) => (o[k] = (o[k] ?? 0) + 1);
  for (const run of runs) {
    for (const e of run.trace as SippTraceEntry[]) {
      // sipp sent it: Parley received it
      const direction = e.direction === 'sent' ? 'in' : 'out';
      if (e.method !== undefined) add(requests, `${direction} ${e.method}`);
      else if (e.status !== undefined) add(responses, `${direction} ${header(e, 'CSeq')?.split(' ').pop()} ${Math.floor(e.status / 100)}xx`);
    }
  }
  return { requests, responses };
}

/** Prometheus's HTTP API. */
async function promApi(base: string, path: string): Promise<any> {
  const r = await fetch(`${base}${path}`);
  const body = (await r.json()) as { status: string; data: any; error?: string };
  assert.equal(body.status, 'success', `${path}: ${body.error}`);
  return body.data;
}

/** An instant query's series as `label values joined by space` → value. */
async function query(base: string, promql: string, labels: readonly string[]): Promise<Record<string, number>> {
  const data = await promApi(base, `/api/v1/query?query=${encodeURIComponent(promql)}`);
  const out: Record<string, number> = {};
  for (const s of data.result as Array<{ metric: Record<string, string>; value: [number, string] }>) {
    const v = Number(s.value[1]);
    if (v !== 0) out[labels.map((l) => s.metric[l]).join(' ')] = v;
  }
  return out;
}

/** Ask until `read` gives what `expected` is (Prometheus scrapes every second), at most `tries` times, then the last answer. */
async function eventually<T>(read: () => Promise<T>, expected: T, tries = 40): Promise<T> {
  let last = await read();
  for (let i = 0; i < tries && !isDeepEqual(last, expected); i++) {
    await new Promise((r) => setTimeout(r, 500));
    last = await read();
  }
  return last;
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

describe('Prometheus scrapes Parley (two SIP workers) after sipp traffic', { skip, timeout: 180_000 }, () => {
  let parley: ParleyServer;
  let prometheus: BoundedChild | undefined;
  let promDir: string;
  let promBase: string;
  let metricsUrl: string;
  const runs: SippResult[] = [];
  let turnRun: ChildExit;

  before(async () => {
    // TURN and the media plane on (their threads' metrics are in the scrape too), on ports of this
    // suite's slice; media anchors nothing (sipp's calls keep their SDP)
    const turnPort = await pool.block(1);
    const relays = await pool.block(10);
    const media = await pool.block(10);
    parley = await ParleyServer.start({
      pool, transports: ['udp'], subscribers: [ALICE, BOB], workers: 2, webSockets: { ws: 'noauth' },
      config: {
        // `parley turn-check` relays to its own loopback peer: allowed here
        turn: { listen: [{ transport: 'udp', address: '127.0.0.1', port: turnPort }], minPort: relays, maxPort: relays + 9, peers: { allow: ['127.0.0.1/32'] } },
        media: { anchor: 'off', address: '127.0.0.1', ports: { min: media, max: media + 9 } },
      },
    });
    metricsUrl = `http://127.0.0.1:${parley.webPorts.ws}/metrics`;
    // the traffic: bob registers, alice calls him CALLS times, two registrations with a wrong password
    const bob = await registerPhone(parley, BOB);
    runs.push(bob.run);
    const uas = await startSipp({ ...parley.sippTarget(), scenario: 'uas-answer.xml', endpoint: bob.endpoint, calls: CALLS, timeoutSecs: 30, recvTimeoutMs: 5000 });
    const uac = await runSipp({ ...parley.sippTarget(), scenario: 'call-basic.xml', calls: CALLS, rate: 10, timeoutSecs: 30, recvTimeoutMs: 5000, credentials: [ALICE], service: 'bob', pauseMs: 100, callId: 'metrics-%u@interop' });
    const bobRun = await uas.done;
    assert.equal(uac.code, 0, describeCall(uac, bobRun));
    assert.equal(bobRun.code, 0, describeCall(uac, bobRun));
    runs.push(uac, bobRun);
    const guesses = await runSipp({
      ...parley.sippTarget(), scenario: 'reg-wrong-password.xml', calls: WRONG_PASSWORDS, rate: 10, timeoutSecs: 20, recvTimeoutMs: 3000,
      credentials: [{ user: 'alice', password: 'not-her-password' }], keys: { expires: '3600' }, callId: 'guess-%u@interop',
    });
    assert.equal(guesses.code, 0, guesses.describe());
    runs.push(guesses);
    // a TURN allocation that relays both ways, then is released (`parley turn-check`, alice's SIP credentials)
    turnRun = await spawnBounded(process.execPath, [PARLEY_CLI, 'turn-check', `turn:127.0.0.1:${turnPort}`, '--user', ALICE.user, '--password', ALICE.password, '--json'], { cwd: REPO_ROOT, timeoutMs: 60_000 }).done;
    assert.equal(turnRun.code, 0, `parley turn-check:\n${turnRun.stdout}${turnRun.stderr}`);

    // a Prometheus of the test's own, scraping /metrics every second
    promDir = await mkdtemp(join(tmpdir(), 'parley-prometheus-'));
    const promPort = await pool.block(1);
    promBase = `http://127.0.0.1:${promPort}`;
    const config = [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: parley',
      '    scrape_interval: 1s',
      '    scrape_timeout: 1s',
      '    metrics_path: /metrics',
      `    static_configs: [{ targets: ['127.0.0.1:${parley.webPorts.ws}'] }]`,
    ].join('\n');
    await writeFile(join(promDir, 'prometheus.yml'), `${config}\n`);
    prometheus = spawnBounded('prometheus', [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { cwd: promDir, timeoutMs: 170_000 });
    const up = await eventually(async () => {
      try {
        const t = await promApi(promBase, '/api/v1/targets');
        return (t.activeTargets as Array<{ health: string }>).map((x) => x.health);
      } catch {
        return [];
      }
    }, ['up'], 60);
    assert.deepEqual(up, ['up'], 'Prometheus did not scrape Parley');
  });

  after(async () => {
    if (prometheus?.pid !== undefined && prometheus.running()) {
      signalPid(prometheus.pid, 'SIGTERM');
      await prometheus.done.catch(() => undefined);
    }
    if (promDir !== undefined) await rm(promDir, { recursive: true, force: true });
    await stopCleanly(parley);
  });

  it('SIP requests by method and responses by method and class, both ways: as sipp sent and received them', async () => {
    const expected = expectedCounts(runs);
    // both workers served the traffic (Call-IDs hash over them): their counts are summed
    const requests = await eventually(() => query(promBase, 'sum by (direction, method) (parley_sip_requests_total)', ['direction', 'method']), expected.requests);
    assert.deepEqual(requests, expected.requests);
    const responses = await eventually(() => query(promBase, 'sum by (direction, method, class) (parley_sip_responses_total)', ['direction', 'method', 'class']), expected.responses);
    assert.deepEqual(responses, expected.responses);
    assert.ok((expected.requests['in INVITE'] ?? 0) >= CALLS && (expected.responses['out REGISTER 2xx'] ?? 0) >= 1, JSON.stringify(expected));
  });

  it('calls: every call sipp made tracked, answered and ended', async () => {
    assert.deepEqual(await eventually(() => query(promBase, 'sum(parley_calls_total)', []), { '': CALLS }), { '': CALLS });
    assert.deepEqual(await eventually(() => query(promBase, 'sum(parley_calls_answered_total)', []), { '': CALLS }), { '': CALLS });
    // none in progress any more: the series is there (one target), its value 0 (query() leaves zeros out)
    assert.deepEqual(await query(promBase, 'count(parley_calls)', []), { '': 1 });
    assert.deepEqual(await eventually(() => query(promBase, 'sum(parley_calls)', []), {}), {});
  });

  it('registrations, authentication failures, per-thread event-loop lag', async () => {
    assert.deepEqual(await eventually(() => query(promBase, 'parley_registrations', []), { '': 1 }), { '': 1 });
    assert.deepEqual(await eventually(() => query(promBase, 'parley_auth_failures_total', []), { '': WRONG_PASSWORDS }), { '': WRONG_PASSWORDS });
    const lag = await promApi(promBase, `/api/v1/query?query=${encodeURIComponent('parley_event_loop_lag_seconds')}`);
    const threads = (lag.result as Array<{ metric: { thread: string } }>).map((s) => s.metric.thread).sort();
    assert.deepEqual(threads, ['main', 'media', 'sip-0', 'sip-1', 'turn']);
  });

  it('TURN: the allocation turn-check made, and the bytes it relayed both ways, counted after its release', async () => {
    const made = await eventually(() => query(promBase, 'parley_turn_allocations_made_total', []), { '': 1 });
    assert.deepEqual(made, { '': 1 }, turnRun.stdout);
    assert.deepEqual(await query(promBase, 'parley_turn_allocations', []), {}, 'the allocation was released');
    const bytes = await query(promBase, 'parley_turn_relayed_bytes_total', ['direction']);
    assert.ok((bytes.to_peer ?? 0) > 0 && (bytes.to_client ?? 0) > 0, `relayed bytes: ${JSON.stringify(bytes)}\n${turnRun.stdout}`);
  });

  it('`promtool check metrics` accepts the exposition', async () => {
    const r = await fetch(metricsUrl);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const file = join(promDir, 'scrape.txt');
    await writeFile(file, await r.text());
    const check = await spawnBounded('sh', ['-c', 'promtool check metrics < "$1"', 'sh', file], { cwd: promDir, timeoutMs: 30_000 }).done;
    assert.equal(check.code, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
  });

  it('the Grafana dashboard: its shape, every query parsed by promtool and run by Prometheus, every metric it names in the scrape', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as any;
    assert.equal(typeof dashboard.schemaVersion, 'number');
    assert.equal(typeof dashboard.title, 'string');
    assert.equal(typeof dashboard.uid, 'string');
    assert.deepEqual(dashboard.__inputs.map((i: any) => [i.name, i.type, i.pluginId]), [['DS_PROMETHEUS', 'datasource', 'prometheus']]);
    const panels = dashboard.panels as any[];
    assert.ok(panels.length >= 10);
    const ids = new Set<number>();
    const exprs: string[] = [];
    for (const p of panels) {
      assert.ok(Number.isInteger(p.id) && !ids.has(p.id), `panel ${p.title}: id`);
      ids.add(p.id);
      for (const k of ['h', 'w', 'x', 'y']) assert.ok(Number.isInteger(p.gridPos?.[k]), `panel ${p.title}: gridPos.${k}`);
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `panel ${p.title}: wider than the grid`);
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }, `panel ${p.title}: datasource`);
      assert.ok(Array.isArray(p.targets) && p.targets.length > 0, `panel ${p.title}: targets`);
      for (const t of p.targets) {
        assert.deepEqual(t.datasource, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }, `panel ${p.title}: target datasource`);
        assert.equal(typeof t.refId, 'string');
        exprs.push(t.expr);
      }
    }
    // what each panel shows, by the metric it reads
    const names = new Set(exprs.flatMap((e) => e.match(/\bparley_[a-z0-9_]+/g) ?? []));
    for (const want of ['parley_sip_requests_total', 'parley_sip_responses_total', 'parley_registrations', 'parley_calls', 'parley_calls_answered_total', 'parley_auth_failures_total', 'parley_blocked_sources', 'parley_event_loop_lag_seconds', 'parley_turn_allocations', 'parley_turn_relayed_bytes_total', 'parley_media_sessions', 'parley_media_packets_total']) {
      assert.ok(names.has(want), `no panel reads ${want}`);
    }
    // Grafana's variables as Grafana would fill them in
    const concrete = exprs.map((e) => e.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.+'));
    const rules = ['groups:', '  - name: grafana-dashboard', '    rules:', ...concrete.map((e, i) => `      - record: parley:dashboard_query:${i}\n        expr: ${JSON.stringify(e)}`)].join('\n');
    const rulesFile = join(promDir, 'dashboard-rules.yml');
    await writeFile(rulesFile, `${rules}\n`);
    const check = await spawnBounded('promtool', ['check', 'rules', rulesFile], { cwd: promDir, timeoutMs: 30_000 }).done;
    assert.equal(check.code, 0, `promtool check rules:\n${check.stdout}${check.stderr}`);
    for (const e of concrete) await promApi(promBase, `/api/v1/query?query=${encodeURIComponent(e)}`);
    const scrape = await (await fetch(metricsUrl)).text();
    for (const n of names) assert.match(scrape, new RegExp(`^# TYPE ${n} `, 'm'), `the dashboard reads ${n}, which /metrics does not have`);
  });
});
