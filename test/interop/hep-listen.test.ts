/**
 * `parley hep listen` (spawned from dist/) as the collector of Kamailio's siptrace module (Debian's
 * kamailio): Kamailio is a record-routing proxy (support/kamailio-hep-proxy.cfg) between two sipp
 * phones and copies every message it receives and sends as HEPv3, over UDP in one run and over
 * TCP in the other. What lands in the collector, grouped by Call-ID, is what sipp's traces show:
 * both legs of each call, message for message. Then `parley hep export --pcap` writes a file on
 * which tshark lists the same messages.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CaptureStore } from '../../src/collector/index.js';
import { signalPid, spawnBounded, type BoundedChild } from './support/child.js';
import { PARLEY_CLI, REPO_ROOT } from './support/parley.js';
import { portPool } from './support/ports.js';
import { runSipp, sippInfo, startSipp, type SippResult } from './support/sipp.js';
import type { SippTraceEntry } from './support/sip-trace.js';

const pool = portPool(import.meta.url);
const CONFIG = join(REPO_ROOT, 'test/interop/support/kamailio-hep-proxy.cfg');
const CALLS = 3;

function missing(): string | undefined {
  if (spawnSync('kamailio', ['-v']).error !== undefined) return 'kamailio is not installed';
  const dirs = ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/aarch64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules'];
  if (!dirs.some((d) => existsSync(join(d, 'siptrace.so')))) return "kamailio's siptrace module is missing";
  if (!sippInfo().installed) return 'sipp is not installed (sip-tester)';
  if (spawnSync('sh', ['-c', 'command -v tshark']).status !== 0) return 'tshark is not installed';
  if (!existsSync(PARLEY_CLI)) return 'dist/ is not built (npm run build)';
  return undefined;
}
const why = missing();
const skip: string | false = why === undefined ? false : process.env.CI ? false : `${why}; skipped outside CI`;

/** What a line of `parley hep listen --json` says (the fields the test reads). */
interface Line {
  callId: string;
  method?: string;
  status?: number;
  transport: string;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

const label = (m: { method?: string | undefined; status?: number | undefined }): string => m.method ?? String(m.status);

/** Each Call-ID's messages (method or status, sorted) as sipp's traces of both phones show them. */
function fromSipp(...runs: SippResult[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (e: SippTraceEntry): void => {
    const line = e.text.split('\n').find((l) => l.toLowerCase().startsWith('call-id:'));
    assert.ok(line !== undefined, `no Call-ID in ${e.text}`);
    const id = line.slice('call-id:'.length).trim();
    out.set(id, [...(out.get(id) ?? []), label(e)].sort());
  };
  for (const r of runs) r.trace.forEach(add);
  return out;
}

function grouped(items: Iterable<{ callId: string; label: string }>, only: ReadonlySet<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { callId, label: l } of items) if (only.has(callId)) out.set(callId, [...(out.get(callId) ?? []), l].sort());
  return out;
}

describe("Kamailio's siptrace sends HEP to parley hep listen", { skip }, () => {
  let dir = '';
  let hepPort = 0;
  let listen: BoundedChild | undefined;
  let listenOutput = '';
  const expected = new Map<string, string[]>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-hep-listen-'));
    hepPort = await pool.block(1);
    listen = spawnBounded(process.execPath, [PARLEY_CLI, 'hep', 'listen', '--udp', `127.0.0.1:${hepPort}`, '--tcp', `127.0.0.1:${hepPort}`, '--db', join(dir, 'hep.db'), '--json'], {
      cwd: dir,
      timeoutMs: 240_000,
      onOutput: (t) => (listenOutput += t),
    });
    void listen.done.catch(() => undefined);
    for (let i = 0; i < 200 && !listenOutput.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(listenOutput.includes('listening on'), `parley hep listen did not start:\n${listenOutput}`);
  });

  after(async () => {
    if (listen?.pid !== undefined && listen.running()) signalPid(listen.pid, 'SIGKILL');
    await listen?.done.catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  /** The NDJSON lines printed so far (stdout and stderr interleave in listenOutput: the whole lines that begin with "{"). */
  function readLines(): Line[] {
    return listenOutput.split('\n').filter((l) => l.startsWith('{') && l.endsWith('}')).map((l) => JSON.parse(l) as Line);
  }

  async function calls(transport: 'udp' | 'tcp'): Promise<Map<string, string[]>> {
    const sipPort = await pool.block(1);
    const hepUri = `sip:127.0.0.1:${hepPort}${transport === 'tcp' ? ';transport=tcp' : ''}`;
    let kOutput = '';
    const uas = await startSipp({ scenario: 'uas-answer.xml', host: '127.0.0.1', port: sipPort, transport, pool, calls: CALLS, pauseMs: 50, timeoutSecs: 30 });
    const uasPort = uas.endpoint.port;
    const kamailio = spawnBounded(
      'kamailio',
      ['-f', CONFIG, '-DD', '-E', '-Y', dir, '-P', join(dir, `kamailio-${transport}.pid`), '-m', '32', '-M', '8',
        '-A', `SIP_PORT=${sipPort}`, '-A', `HEP_URI="${hepUri}"`, '-A', `UAS_UDP="sip:127.0.0.1:${uasPort}"`, '-A', `UAS_TCP="sip:127.0.0.1:${uasPort};transport=tcp"`],
      { cwd: dir, timeoutMs: 120_000, onOutput: (t) => (kOutput += t) },
    );
    try {
      // Kamailio prints no readiness line: wait for its SIP port
      for (let i = 0; i < 100; i++) {
        const probe = spawnSync('sh', ['-c', `grep -qi ':${sipPort.toString(16).toUpperCase().padStart(4, '0')} ' /proc/net/${transport}`]);
        if (probe.status === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(kamailio.running(), `kamailio did not start:\n${kOutput}`);
      const uac = await runSipp({ scenario: 'hep-call-uac.xml', host: '127.0.0.1', port: sipPort, transport, pool, calls: CALLS, rate: 10, service: 'bob', timeoutSecs: 30 });
      assert.equal(uac.code, 0, uac.describe());
      const uasResult = await uas.done;
      assert.equal(uasResult.code, 0, uasResult.describe());
      const want = fromSipp(uac, uasResult);
      assert.equal(want.size, CALLS);
      // both legs of each call: INVITE, 100, 180, 200, ACK, BYE, 200 for the caller; INVITE, 180, 200, ACK, BYE, 200 for the callee
      for (const [id, msgs] of want) assert.equal(msgs.length, 13, `${id}: ${msgs.join(' ')}`);
      return want;
    } finally {
      if (kamailio.pid !== undefined && kamailio.running()) signalPid(kamailio.pid, 'SIGTERM');
      await kamailio.done.catch(() => undefined);
      if (uas.pid !== undefined) signalPid(uas.pid, 'SIGKILL');
      await uas.done.catch(() => undefined);
    }
  }

  async function landed(want: Map<string, string[]>, transport: string): Promise<void> {
    const ids = new Set(want.keys());
    const total = [...want.values()].reduce((n, v) => n + v.length, 0);
    const count = (): number => readLines().filter((l) => ids.has(l.callId)).length;
    // Kamailio sends as the messages go: the last ones may still be on their way
    for (let i = 0; i < 200 && count() < total; i++) await new Promise((r) => setTimeout(r, 25));
    const got = readLines().filter((l) => ids.has(l.callId));
    assert.deepEqual(grouped(got.map((l) => ({ callId: l.callId, label: label(l) })), ids), want, listenOutput.slice(-3000));
    assert.deepEqual([...new Set(got.map((l) => l.transport))], [transport]);
    // addresses as on the wire: every message went between Kamailio and one of the phones on loopback
    assert.ok(got.every((l) => l.src === '127.0.0.1' && l.dst === '127.0.0.1' && l.srcPort > 0 && l.dstPort > 0));
    for (const [k, v] of want) expected.set(k, v);
  }

  it('SIP over UDP, HEP over UDP: every message of both legs lands, grouped by Call-ID', async () => {
    await landed(await calls('udp'), 'udp');
  });

  it('SIP over TCP, HEP over TCP: the same', async () => {
    await landed(await calls('tcp'), 'tcp');
  });

  it('stopped with SIGINT, the store holds each call; parley hep export --pcap gives tshark the same messages', async (t) => {
    if (expected.size === 0) return t.skip('no calls were made');
    assert.ok(listen?.pid !== undefined);
    signalPid(listen.pid, 'SIGINT');
    const exit = await listen.done;
    assert.equal(exit.code, 0, listenOutput.slice(-2000));
    assert.match(exit.stderr, /SIGINT: stopped; (\d+) packets/);
    assert.match(exit.stderr, / 0 dropped /);
    assert.match(exit.stderr, /datagrams, [1-9]\d* TCP connections/, 'the TCP run sent HEP over TCP');

    const db = join(dir, 'hep.db');
    const store = CaptureStore.open(db);
    try {
      const calls = store.listCalls().filter((c) => expected.has(c.callId));
      assert.equal(calls.length, expected.size);
      for (const c of calls) {
        assert.equal(c.messages, expected.get(c.callId)!.length, c.callId);
        assert.deepEqual(c.methods, ['ACK', 'BYE', 'INVITE']);
        assert.equal(c.fromUri, 'sip:alice@example.com');
        assert.equal(c.toUri, 'sip:bob@example.com');
        assert.ok(c.firstUs < c.lastUs);
        const msgs = store.messagesOfCall(c.callId);
        assert.deepEqual(msgs.map((m) => label(m)).sort(), expected.get(c.callId));
        assert.ok(msgs.every((m) => m.captureAgentId === 2002));
      }
    } finally {
      store.close();
    }

    const pcap = join(dir, 'calls.pcap');
    const exported = spawnSync(process.execPath, [PARLEY_CLI, 'hep', 'export', '--db', db, '--pcap', pcap], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(exported.status, 0, exported.stderr);
    const total = [...expected.values()].reduce((n, v) => n + v.length, 0);
    assert.equal(exported.stdout.trim(), `${pcap}: ${total} messages written`);
    const ts = spawnSync('tshark', ['-r', pcap, '-Y', 'sip', '-T', 'fields', '-e', 'sip.Call-ID', '-e', 'sip.Method', '-e', 'sip.Status-Code', '-e', '_ws.expert.message'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(ts.status, 0, ts.stderr);
    const rows = ts.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
    assert.equal(rows.length, total);
    const ids = new Set(expected.keys());
    assert.deepEqual(grouped(rows.map(([callId, method, status]) => ({ callId: callId!, label: method || status! })), ids), expected);
    // checksums, sequence numbers: nothing for Wireshark's expert to say
    assert.deepEqual(rows.filter((r) => (r[3] ?? '') !== ''), []);
    // one call alone, by --call-id
    const one = [...ids][0]!;
    const single = join(dir, 'one.pcap');
    const r = spawnSync(process.execPath, [PARLEY_CLI, 'hep', 'export', '--db', db, '--pcap', single, '--call-id', one], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const ts1 = spawnSync('tshark', ['-r', single, '-Y', 'sip', '-T', 'fields', '-e', 'sip.Call-ID'], { encoding: 'utf8' });
    assert.deepEqual([...new Set(ts1.stdout.split('\n').filter((l) => l !== ''))], [one]);
    assert.equal(ts1.stdout.split('\n').filter((l) => l !== '').length, expected.get(one)!.length);
  });
});
