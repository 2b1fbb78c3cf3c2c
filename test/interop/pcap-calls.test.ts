// `parley pcap calls` and `parley pcap ladder` against tshark, on captures this file makes: dumpcap
// on `lo` around calls through a spawned Parley — sipp to sipp over UDP (with RTP: sipp plays its
// G.711 sample), from TCP to UDP, a busy call, and a WebSocket phone (RFC 7118, the `ws` client) calling
// a sipp UAS. On each capture, the SIP messages Parley's commands find (time to the nanosecond,
// source, Call-ID, CSeq, method or status) are the ones tshark's SIP dissector finds, and the
// calls' start, answer, end and status are the ones computed from tshark's rows. Run by
// `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call, registerPhone } from './support/calls.js';
import { PARLEY_CLI, ParleyServer, stopCleanly } from './support/parley.js';
import { Dumpcap, skipWithoutLoopbackCapture } from './support/dumpcap.js';
import { portPool } from './support/ports.js';
import { clearBindings } from './support/registration.js';
import { startSipp, skipWithoutSipp } from './support/sipp.js';
import { WsPhone } from './support/ws-phone.js';

const pool = portPool(import.meta.url);
const ALICE = { user: 'alice', password: 'secret1' };
const BOB = { user: 'bob', password: 'secret2' };
const CAROL = { user: 'carol', password: 'secret3' };

const TOOLS = ['tshark', 'dumpcap'];
const missing = TOOLS.filter((t) => spawnSync(t, ['-v'], { stdio: 'ignore' }).error !== undefined);

function skipReason(): string | false {
  const sipp = skipWithoutSipp();
  if (sipp !== false) return sipp;
  if (missing.length > 0) return process.env.CI ? false : `${missing.join(', ')} not installed (Debian package tshark); skipped outside CI`;
  return skipWithoutLoopbackCapture();
}

const dir = mkdtempSync(join(tmpdir(), 'parley-pcap-calls-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** This file's slice: Parley, sipp, and every RTP port sipp opens are in it. */
const SLICE = `portrange ${pool.first}-${pool.last}`;

/** dumpcap on lo, the slice's ports only, into a pcapng file; resolves once the capture is open. */
async function startCapture(name: string): Promise<Dumpcap> {
  return Dumpcap.start({ file: join(dir, `${name}.pcapng`), filter: SLICE });
}

function parley(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [PARLEY_CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One SIP message as both sides describe it. */
interface Row {
  readonly ns: bigint;
  readonly src: string;
  readonly callId: string;
  readonly cseq: string;
  /** The method of a request, the status code of a response. */
  readonly what: string;
}

const rowKey = (r: Row): string => `${r.ns} ${r.src} ${r.callId} ${r.cseq} ${r.what}`;

/** "1765000000.123456000" → ns. */
function epochNs(text: string): bigint {
  const [s, f = ''] = text.split('.');
  return BigInt(s!) * 1_000_000_000n + BigInt((f + '000000000').slice(0, 9));
}

/** "2026-12-07T11:45:38.123456789Z" → ns. */
function isoToNs(text: string): bigint {
  const ms = Date.parse(text.slice(0, 19) + 'Z');
  return BigInt(ms) * 1_000_000n + BigInt(text.slice(20, 29));
}

/**
 * tshark's SIP rows. A frame may carry several SIP messages (TCP): its fields then hold one value
 * per message, comma-separated; requests give a method and responses a status, so the frame's
 * messages are matched as a multiset of (Call-ID, CSeq) and a multiset of methods and statuses.
 */
function tsharkRows(file: string, decodeAs: string[]): Row[] {
  const r = spawnSync(
    'tshark',
    ['-r', file, ...decodeAs.flatMap((d) => ['-d', d]), '-Y', 'sip', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=|',
      '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'sip.Call-ID', '-e', 'sip.CSeq', '-e', 'sip.Method', '-e', 'sip.Status-Code', '-e', 'sip.CSeq.method'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(r.status, 0, r.stderr);
  const rows: Row[] = [];
  for (const line of r.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [time, src, callIds, cseqs, methods = '', statuses = ''] = line.split('\t');
    const ids = callIds!.split('|');
    const cs = cseqs!.split('|');
    const whats = [...(methods === '' ? [] : methods.split('|')), ...(statuses === '' ? [] : statuses.split('|'))];
    assert.equal(whats.length, ids.length, line);
    // within a frame the order of requests against responses is not known: sorted on both sides
    const pairs = ids.map((id, i) => `${id}\t${cs[i]}`).sort();
    whats.sort();
    pairs.forEach((p, i) => {
      const [callId, cseq] = p.split('\t') as [string, string];
      rows.push({ ns: epochNs(time!), src: src!.split('|')[0]!, callId, cseq, what: whats[i]! });
    });
  }
  return rows;
}

interface LadderJson {
  readonly messages: { readonly time: string; readonly from: string; readonly callId: string; readonly cseq: string; readonly label: string }[];
}

/** Our rows, normalised as tshark's (per frame, sorted the same way). */
function parleyRows(file: string, callIds: string[]): Row[] {
  const r = parley(['pcap', 'ladder', file, callIds.join(','), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as LadderJson;
  const byFrame = new Map<string, LadderJson['messages']>();
  for (const m of j.messages) {
    const key = `${m.time} ${m.from.split(':')[0]}`;
    byFrame.set(key, [...(byFrame.get(key) ?? []), m]);
  }
  const rows: Row[] = [];
  for (const ms of byFrame.values()) {
    const pairs = ms.map((m) => `${m.callId}\t${m.cseq}`).sort();
    const whats = ms.map((m) => m.label.split(' ')[0]!).sort();
    pairs.forEach((p, i) => {
      const [callId, cseq] = p.split('\t') as [string, string];
      rows.push({ ns: isoToNs(ms[0]!.time), src: ms[0]!.from.split(':')[0]!, callId, cseq, what: whats[i]! });
    });
  }
  return rows;
}

interface CallJson {
  readonly callId: string;
  readonly method: string;
  readonly start: string;
  readonly answer?: string;
  readonly end?: string;
  readonly status?: number;
  readonly state: string;
  readonly durationSeconds?: number;
  readonly transports: string[];
  readonly messages: number;
}

/**
 * The calls computed from tshark's rows alone: start the first message, answer the first 200 to
 * an INVITE, status the final response to the last INVITE of the call's set-up (the highest CSeq
 * of an INVITE before the answer), end the first BYE or, for a failure, that final response.
 */
function callsFromTshark(rows: Row[]): Map<string, { start: bigint; answer?: bigint; end?: bigint; status?: number }> {
  const out = new Map<string, { start: bigint; answer?: bigint; end?: bigint; status?: number; setupCseq: number }>();
  for (const r of [...rows].sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0))) {
    let c = out.get(r.callId);
    if (c === undefined) {
      c = { start: r.ns, setupCseq: 0 };
      out.set(r.callId, c);
    }
    const [seq, method] = r.cseq.split(' ') as [string, string];
    if (r.what === 'INVITE' && c.answer === undefined && Number(seq) > c.setupCseq) {
      // sent again (with credentials after a 407): the earlier attempt's failure is not the call's
      c.setupCseq = Number(seq);
      c.status = undefined;
      c.end = undefined;
    }
    if (r.what === 'BYE' && c.end === undefined) c.end = r.ns;
    const status = Number(r.what);
    if (method === 'INVITE' && status >= 200 && Number(seq) === c.setupCseq) {
      if (status < 300 && c.answer === undefined) {
        c.answer = r.ns;
        c.status = status;
      } else if (status >= 300 && c.status === undefined) {
        c.status = status;
        c.end = r.ns;
      }
    }
  }
  return out;
}

describe('parley pcap calls and ladder agree with tshark on captured sipp and WebSocket calls', { skip: skipReason(), timeout: 180_000 }, () => {
  let server: ParleyServer;
  let capture: Dumpcap;
  const decodeAs: string[] = [];

  before(async () => {
    server = await ParleyServer.start({ pool, transports: ['udp', 'tcp'], webSockets: { ws: 'auth' }, subscribers: [ALICE, BOB, CAROL] });
    const sip = server.portFor('udp');
    const ws = Number(new URL(server.webSocketUrl('ws')).port);
    decodeAs.push(`udp.port==${sip},sip`, `tcp.port==${sip},sip`, `tcp.port==${ws},http`);
    capture = await startCapture('calls');
    try {
      await makeCalls();
      await capture.flush(await pool.block(1));
    } finally {
      await capture.stop();
    }
  });

  /** Each callee registers afresh (its earlier bindings cleared): Parley would fork to every one. */
  async function makeCalls(): Promise<void> {

    // 1. UDP, with audio: alice plays sipp's G.711 sample to bob, who echoes it
    await clearBindings(server, BOB);
    const bobUdp = await registerPhone(server, BOB, 'udp');
    const uas1 = await startSipp({ ...server.sippTarget('udp'), scenario: 'uas-answer.xml', endpoint: bobUdp.endpoint, calls: 1, timeoutSecs: 20, recvTimeoutMs: 8000, pauseMs: 300, extraArgs: ['-rtp_echo'] });
    const uac1 = await call(server, 'pcap-call-rtp.xml', { caller: ALICE, callee: 'bob', pauseMs: 1500 });
    assert.equal(uac1.code, 0, uac1.describe());
    assert.equal((await uas1.done).code, 0);

    // 2. a busy call over UDP
    const uas2 = await startSipp({ ...server.sippTarget('udp'), scenario: 'uas-busy.xml', endpoint: bobUdp.endpoint, calls: 1, timeoutSecs: 20 });
    const uac2 = await call(server, 'call-busy.xml', { caller: ALICE, callee: 'bob' });
    assert.equal(uac2.code, 0, uac2.describe());
    assert.equal((await uas2.done).code, 0);

    // 3. alice over TCP (a binding over TCP lives as long as its connection: bob stays on UDP)
    await clearBindings(server, BOB);
    const bobTcp = await registerPhone(server, BOB, 'udp');
    const uas3 = await startSipp({ ...server.sippTarget('udp'), scenario: 'uas-answer.xml', endpoint: bobTcp.endpoint, calls: 1, timeoutSecs: 20 });
    const uac3 = await call(server, 'call-basic.xml', { caller: ALICE, callee: 'bob', transport: 'tcp' });
    assert.equal(uac3.code, 0, uac3.describe());
    assert.equal((await uas3.done).code, 0);

    // 4. carol over WebSocket calls bob (UDP)
    await clearBindings(server, BOB);
    const bobWs = await registerPhone(server, BOB, 'udp');
    const uas4 = await startSipp({ ...server.sippTarget('udp'), scenario: 'uas-answer.xml', endpoint: bobWs.endpoint, calls: 1, timeoutSecs: 20 });
    const carol = await WsPhone.connect({ url: server.webSocketUrl('ws'), ...CAROL });
    try {
      const c = await carol.call('bob');
      assert.equal(c.status, 200);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await carol.bye(c.dialog!)).status, 200);
    } finally {
      await carol.close();
    }
    assert.equal((await uas4.done).code, 0);
  }

  after(() => stopCleanly(server));

  it('the same SIP messages as tshark: time, source, Call-ID, CSeq, method or status', () => {
    const theirs = tsharkRows(capture.file, decodeAs);
    const calls = parley(['pcap', 'calls', capture.file, '--json', '--all']);
    assert.equal(calls.status, 0, calls.stderr);
    const ids = (JSON.parse(calls.stdout) as { calls: CallJson[] }).calls.map((c) => c.callId);
    assert.deepEqual(new Set(ids), new Set(theirs.map((r) => r.callId)), 'the same Call-IDs');
    const ours = parleyRows(capture.file, ids);
    assert.ok(theirs.length >= 40, `tshark sees ${theirs.length} SIP messages`);
    // the audio is in the capture too (and none of it was taken for SIP)
    const rtp = spawnSync('tshark', ['-r', capture.file, '-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
    assert.ok(rtp.stdout.trim().split('\n').length >= 50, `tshark sees ${rtp.stdout.trim().split('\n').length} RTP packets`);
    assert.deepEqual(ours.map(rowKey).sort(), theirs.map(rowKey).sort());
  });

  it('the same calls: start, answer, end, status; by transport', () => {
    const theirs = callsFromTshark(tsharkRows(capture.file, decodeAs));
    const r = parley(['pcap', 'calls', capture.file, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const calls = (JSON.parse(r.stdout) as { calls: CallJson[] }).calls;
    assert.equal(calls.length, 4, JSON.stringify(calls, null, 2));
    for (const c of calls) {
      const t = theirs.get(c.callId);
      assert.ok(t !== undefined, c.callId);
      assert.equal(isoToNs(c.start), t.start, `${c.callId} start`);
      assert.equal(c.answer === undefined ? undefined : isoToNs(c.answer), t.answer, `${c.callId} answer`);
      assert.equal(c.end === undefined ? undefined : isoToNs(c.end), t.end, `${c.callId} end`);
      assert.equal(c.status, t.status, `${c.callId} status`);
    }
    assert.deepEqual(
      calls.map((c) => [c.state, c.status, [...c.transports].sort().join('+')]),
      [['completed', 200, 'udp'], ['rejected', 486, 'udp'], ['completed', 200, 'tcp+udp'], ['completed', 200, 'udp+ws']],
    );
    assert.ok(calls[0]!.durationSeconds! >= 1.5, 'the first call lasted its pause');
  });

  it('the ladder of the WebSocket call: caller, Parley (WS and UDP sides), callee; the HTML page', () => {
    const r = parley(['pcap', 'calls', capture.file, '--json']);
    const wsCall = (JSON.parse(r.stdout) as { calls: CallJson[] }).calls[3]!;
    const html = join(dir, 'ladder.html');
    const l = parley(['pcap', 'ladder', capture.file, wsCall.callId, '--html', html]);
    assert.equal(l.status, 0, l.stderr);
    const header = l.stdout.split('\n')[0]!;
    const columns = header.trim().split(/\s+/);
    assert.equal(columns.length, 4, header); // the phone, Parley's WS port, Parley's UDP port, bob
    assert.ok(columns.includes(`127.0.0.1:${new URL(server.webSocketUrl('ws')).port}`), header);
    assert.ok(columns.includes(`127.0.0.1:${server.portFor('udp')}`), header);
    for (const label of ['INVITE (SDP)', '407 Proxy Authentication Required', '180 Ringing', '200 OK (SDP)', 'ACK', 'BYE']) {
      assert.ok(l.stdout.includes(label), `${label} in\n${l.stdout}`);
    }
    const page = readFileSync(html, 'utf8');
    assert.equal((page.match(/<details /g) ?? []).length, wsCall.messages);
  });
});
