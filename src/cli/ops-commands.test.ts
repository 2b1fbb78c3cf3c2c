/**
 * The operator's commands as an operator runs them (a child `parley` process, output piped)
 * against a control socket whose operations are stand-ins: what each prints for people and with
 * --json, the exit status of a refusal, and `stats --watch --json` ending on Ctrl-C (SIGINT).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OpsError, type Operations, type StatsSnapshot } from '../api/operations.js';
import { runOp } from '../app/control-ops.js';
import { ControlSocket } from '../app/control-socket.js';
import { silentLogger } from '../lib/logger.js';

const MAIN = new URL('./main.ts', import.meta.url).pathname;
const NODE_ARGS = ['--import', 'tsx', MAIN];

function parley(args: readonly string[], onStdout?: (text: string, kill: () => void) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      onStdout?.(stdout, () => child.kill('SIGINT'));
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('parley status, registrations, calls, stats (stand-in operations)', () => {
  let dir: string;
  let socket: ControlSocket | undefined;
  let samples = 0;
  const stats = (): StatsSnapshot => ({
    time: 1_700_000_000_000 + 1000 * ++samples,
    requests: 10 * samples,
    responses: 12,
    transactions: 1,
    registrations: 2,
    calls: 1,
    callsAnswered: 1,
    authFailures: 0,
    blockedSources: 0,
    connections: 0,
    turnAllocations: 0,
    turnBytes: 0,
    mediaSessions: 0,
    mediaPackets: 0,
  });
  const ops = {
    server: {
      status: async () => ({ version: '0.1.0', pid: 4242, node: 'v24.0.0', startedAt: '2026-12-07T08:00:00.000Z', uptimeSeconds: 3725, listeners: ['udp:127.0.0.1:5060'], workers: 2, script: { version: 3, source: '/etc/parley/routes.ts' }, turn: false, media: true, counters: stats() }),
    },
    registrar: {
      bindings: async (q: { aor?: string }) => ({
        items: [{ aor: q.aor ?? 'sip:bob@example.com', contact: '<sip:bob@192.0.2.7:5062>', expires: '', expiresIn: 3599, q: 1, source: 'udp:192.0.2.7:5062', userAgent: 'Linphone', updatedAt: '' }],
        total: 3,
        offset: 0,
        limit: 1,
      }),
    },
    calls: {
      list: async () => ({ items: [{ callId: 'c1@x', state: 'answered', caller: { uri: 'sip:alice@example.com' }, callee: { uri: 'sip:bob@example.com' }, startedAt: '', duration: 65, talkTime: 60, media: false, core: 1 }], total: 1, offset: 0, limit: 100 }),
      hangup: async (id: string) => {
        if (id !== 'c1@x') throw new OpsError(404, `no call ${id}`, 'callId');
      },
    },
    metrics: { stats: async () => stats() },
  } as unknown as Operations;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-opscmd-'));
    socket = await ControlSocket.open(dir, async (r) => (r.cmd === 'op' ? { ...(await runOp(() => ops, r)) } : { ok: false }), silentLogger);
  });
  after(async () => {
    await socket?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('status: the lines for people, the view with --json', async () => {
    const r = await parley(['status', '-d', dir]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'Parley 0.1.0, pid 4242, Node v24.0.0, up 1h02m (since 2026-12-07T08:00:00.000Z)');
    assert.equal(lines[1], 'listeners: udp:127.0.0.1:5060');
    assert.equal(lines[3], 'routing script: version 3 (/etc/parley/routes.ts)');
    assert.ok(lines.includes('SIP requests\t10'), r.stdout);
    const j = await parley(['status', '-d', dir, '--json']);
    assert.equal((JSON.parse(j.stdout) as { pid: number }).pid, 4242);
  });

  it('registrations [AOR]: a tab-separated table when piped; paging flags checked', async () => {
    const r = await parley(['registrations', 'sip:alice@example.com', '-d', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n'), ['AOR\tCONTACT\tSOURCE\tEXPIRES IN\tUSER AGENT', 'sip:alice@example.com\t<sip:bob@192.0.2.7:5062>\tudp:192.0.2.7:5062\t3599s\tLinphone', '']);
    const bad = await parley(['registrations', '--limit', 'lots', '-d', dir]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--limit is a whole number/);
  });

  it('calls: the table, --json, hangup (0), hangup of no such call (1, the reason)', async () => {
    const r = await parley(['calls', '-d', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n'), ['CALL-ID\tFROM\tTO\tSTATE\tDURATION', 'c1@x\tsip:alice@example.com\tsip:bob@example.com\tanswered\t1m05s', '']);
    const j = await parley(['calls', '--json', '-d', dir]);
    assert.equal((JSON.parse(j.stdout) as { total: number }).total, 1);
    const h = await parley(['calls', 'hangup', 'c1@x', '-d', dir]);
    assert.equal(h.code, 0, h.stderr);
    assert.equal(h.stdout, 'call c1@x ended\n');
    const no = await parley(['calls', 'hangup', 'zz', '-d', dir]);
    assert.equal(no.code, 1);
    assert.equal(no.stderr, 'parley calls hangup: no call zz (404)\n');
  });

  it('stats --watch --json: one JSON line per sample until SIGINT, then exit 0', async () => {
    const r = await parley(['stats', '--watch', '0.5', '--json', '-d', dir], (text, kill) => {
      if (text.split('\n').filter((l) => l !== '').length >= 2) kill();
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as StatsSnapshot);
    assert.ok(lines.length >= 2);
    assert.ok(lines[1]!.requests > lines[0]!.requests);
  });
});
