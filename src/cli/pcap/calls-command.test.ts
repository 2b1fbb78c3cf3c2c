import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ANSWER, OFFER, sipInvite, sipRequest, sipResponse } from '../../capture/testdata/frames.js';
import { pcapFileHeader, pcapRecord, tcpFrame, udpFrame } from '../../pcap/pcap-writer.js';
import { runPcapCalls } from './calls-command.js';
import { runPcapLadder } from './ladder-command.js';
import { capturedIo } from './testdata/captured-io.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-pcap-calls-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const A = { src: '192.0.2.1', srcPort: 5060, dst: '192.0.2.10', dstPort: 5060 };
const P_B = { src: '192.0.2.10', srcPort: 5060, dst: '192.0.2.2', dstPort: 5080 };
const rev = (e: typeof A) => ({ src: e.dst, srcPort: e.dstPort, dst: e.src, dstPort: e.srcPort });
const T0 = 1_765_000_000_000_000_000n; // 2025-12-06T05:46:40Z
const S = 1_000_000_000n;

function capture(): string {
  const u = (ends: typeof A, t: bigint, text: string) => pcapRecord(T0 + t, udpFrame(ends, Buffer.from(text))!);
  const records = [
    u(A, 0n, sipInvite('call-1', OFFER)),
    u(P_B, 1n * S / 100n, sipInvite('call-1', OFFER)),
    u(rev(P_B), 2n * S, sipResponse('call-1', 180, 'Ringing')),
    u(rev(A), 2n * S + 1000n, sipResponse('call-1', 180, 'Ringing')),
    u(rev(P_B), 5n * S, sipResponse('call-1', 200, 'OK', 'INVITE', 1, ANSWER)),
    u(rev(A), 5n * S + 1000n, sipResponse('call-1', 200, 'OK', 'INVITE', 1, ANSWER)),
    u(A, 5n * S + 50_000_000n, sipRequest('ACK', 'call-1', 1)),
    u(A, 65n * S + 500_000_000n, sipRequest('BYE', 'call-1', 2)),
    u(rev(A), 65n * S + 600_000_000n, sipResponse('call-1', 200, 'OK', 'BYE', 2)),
    // a rejected call over TCP, split in two segments
    pcapRecord(T0 + 70n * S, tcpFrame(A, { seq: 1 }, Buffer.from(sipInvite('call-2').slice(0, 100)))!),
    pcapRecord(T0 + 70n * S + 1n, tcpFrame(A, { seq: 101 }, Buffer.from(sipInvite('call-2').slice(100)))!),
    pcapRecord(T0 + 71n * S, tcpFrame(rev(A), { seq: 1 }, Buffer.from(sipResponse('call-2', 486, 'Busy Here')))!),
    u(A, 72n * S, sipRequest('OPTIONS', 'ping-1', 1, '')),
  ];
  const file = join(dir, 'calls.pcap');
  writeFileSync(file, Buffer.concat([pcapFileHeader(), ...records]));
  return file;
}

const io = capturedIo;

describe('parley pcap calls', () => {
  const file = capture();

  it('lists the INVITE calls: From, To, Call-ID, start, answer, end, status, duration', async () => {
    const o = io();
    assert.equal(await runPcapCalls([file], o), 0);
    const lines = o.out().trim().split('\n');
    assert.deepEqual(lines[0]!.split('\t'), ['From', 'To', 'Call-ID', 'Start', 'Answer', 'End', 'Status', 'Duration', 'Msgs']);
    assert.deepEqual(lines[1]!.split('\t'), [
      '"Alice" sip:alice@example.com', 'sip:bob@example.com', 'call-1', '2025-12-06 05:46:40.000', '05:46:45.000', '05:47:45.500', '200 completed', '60.500s', '9',
    ]);
    assert.deepEqual(lines[2]!.split('\t').slice(2, 8), ['call-2', '2025-12-06 05:47:50.000', '-', '05:47:51.000', '486 rejected', '-']);
    assert.equal(lines.length, 3);
    assert.match(o.err(), /^2 calls, 12 SIP messages\n$/);
  });

  it('--all adds the other Call-IDs with their method; --filter keeps matching rows', async () => {
    const o = io();
    assert.equal(await runPcapCalls([file, '--all', '--filter', 'PING'], o), 0);
    const lines = o.out().trim().split('\n');
    assert.equal(lines.length, 2);
    assert.deepEqual(lines[1]!.split('\t').slice(2), ['ping-1', '2025-12-06 05:47:52.000', '-', '-', 'pending', '-', 'OPTIONS', '1']);
  });

  it('--json: times to the nanosecond, statuses and counts', async () => {
    const o = io();
    assert.equal(await runPcapCalls([file, '--json'], o), 0);
    const j = JSON.parse(o.out());
    assert.deepEqual(j.calls.map((c: { callId: string; status: number; state: string; transports: string[] }) => [c.callId, c.status, c.state, c.transports]), [['call-1', 200, 'completed', ['udp']], ['call-2', 486, 'rejected', ['tcp']]]);
    assert.equal(j.calls[0].answer, '2025-12-06T05:46:45.000000000Z');
    assert.equal(j.calls[0].durationSeconds, 60.5);
    assert.equal(j.counts.messages, 12);
  });

  it('a truncated file: the calls before the cut, the offset, exit 1', async () => {
    const whole = readFileSync(file);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 10));
    const o = io();
    assert.equal(await runPcapCalls([cut], o), 1);
    assert.match(o.out(), /call-1/);
    assert.match(o.err(), /parley pcap calls: .*cut\.pcap: truncated record at offset \d+/);
  });

  it('a file that is not a capture, or none: exit 1 with why', async () => {
    const bad = join(dir, 'bad.pcap');
    writeFileSync(bad, 'GIF89a not a capture at all');
    const o = io();
    assert.equal(await runPcapCalls([bad], o), 1);
    assert.match(o.err(), /not a pcap or pcapng file: magic 0x[0-9a-f]+ at offset 0/);
    const o2 = io();
    assert.equal(await runPcapCalls([join(dir, 'none.pcap')], o2), 1);
    assert.match(o2.err(), /none\.pcap: no such file/);
  });
});

describe('parley pcap ladder', () => {
  const file = capture();

  it('draws a column per address and port and an arrow per message', async () => {
    const o = io();
    assert.equal(await runPcapLadder([file, 'call-1'], o), 0);
    const lines = o.out().split('\n');
    assert.match(lines[0]!, /192\.0\.2\.1:5060\s+192\.0\.2\.10:5060\s+192\.0\.2\.2:5080/);
    const labels = lines.filter((_, i) => i >= 2 && i % 2 === 0).map((l) => l.replace(/[│ ]+/g, ' ').trim());
    assert.deepEqual(labels.slice(0, 4), ['INVITE (SDP)', 'INVITE (SDP)', '180 Ringing', '180 Ringing']);
    const firstArrow = lines[3]!;
    assert.match(firstArrow, /^05:46:40\.000 {2}\+0\.000 +│─+▶│/);
    assert.match(lines[7]!, /^05:46:42\.000 {2}\+2\.000 .*│◀─+│/);
    assert.equal(lines.filter((l) => l.includes('▶') || l.includes('◀')).length, 9);
  });

  it('--html writes a self-contained page: an SVG arrow per message, each message in full', async () => {
    const out = join(dir, 'ladder.html');
    const o = io();
    assert.equal(await runPcapLadder([file, 'call-1', '--html', out], o), 0);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.equal((html.match(/<line [^>]*marker-end/g) ?? []).length, 9);
    assert.equal((html.match(/<details /g) ?? []).length, 9);
    assert.ok(html.includes('From: &quot;Alice&quot; &lt;sip:alice@example.com&gt;;tag=a1'));
    assert.ok(!/<script|https?:\/\/(?!www\.w3\.org)/.test(html), 'no scripts, no links out');
  });

  it('--json, and an unknown Call-ID', async () => {
    const o = io();
    assert.equal(await runPcapLadder([file, 'call-2', '--json'], o), 0);
    const j = JSON.parse(o.out());
    assert.deepEqual(j.messages.map((m: { label: string; from: string; transport: string }) => [m.label, m.from, m.transport]), [['INVITE', '192.0.2.1:5060', 'tcp'], ['486 Busy Here', '192.0.2.10:5060', 'tcp']]);
    const o2 = io();
    assert.equal(await runPcapLadder([file, 'nope'], o2), 1);
    assert.match(o2.err(), /no SIP message with Call-ID nope/);
  });
});

describe('parley pcap calls on a terminal', () => {
  it('draws a progress bar on stderr for a big file (never with --json)', async () => {
    const big = join(dir, 'big.pcap');
    const filler = pcapRecord(T0, udpFrame(A, Buffer.alloc(60_000, 0x80))!);
    const records = [pcapRecord(T0, udpFrame(A, Buffer.from(sipInvite('tty-1')))!)];
    for (let i = 0; i < 150; i++) records.push(filler); // 9 MB: past PROGRESS_MIN_BYTES
    writeFileSync(big, Buffer.concat([pcapFileHeader(), ...records]));
    const tty = () => {
      const o = io();
      Object.assign(o.stdout, { isTTY: true, columns: 120 });
      Object.assign(o.stderr, { isTTY: true, columns: 120 });
      return o;
    };
    const o = tty();
    assert.equal(await runPcapCalls([big], o), 0);
    assert.match(o.err(), /reading \[.*\] 100% \| 9\.0 of 9\.0 MB/);
    assert.match(o.out(), /tty-1/);
    const j = tty();
    assert.equal(await runPcapCalls([big, '--json'], j), 0);
    assert.doesNotMatch(j.err(), /reading/);
  });
});
