// RTP stream statistics (src/capture/rtp-streams.ts) against tshark's own (`tshark -q -z
// rtp,streams`, Wireshark's RTP stream analysis): the same captures, the same streams, equal
// packet and loss counts, delta and jitter within 1 % (here: equal to tshark's three decimals).
// The captures are sipp's shipped RTP (G.711 A-law, RFC 4733 DTMF) and one this test writes,
// whose streams have known timing and known faults: loss, reordering, duplicates, sequence and
// timestamp wrap-around, marker bits, comfort noise, DTMF, a stale timestamp, IPv6, RTCP and STUN
// on the same ports. tshark decodes the file and exports each UDP datagram (time, addresses,
// payload in hex); the analyzer gets those datagrams, so no pcap reader is involved.
// No sockets: nothing here needs a port slice.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type RtpStreamReport, RtpStreams, type UdpDatagram } from '../../src/capture/rtp-streams.js';
import { fixed, formatRtpStreamsTable } from '../../src/capture/rtp-streams-table.js';
import { rtpPacket as rtp } from '../../src/capture/testdata/rtp-packet.js';

const hasTshark = spawnSync('sh', ['-c', 'command -v tshark']).status === 0;
const SIPP_PCAPS = '/usr/share/sip-tester';
const dir = mkdtempSync(join(tmpdir(), 'parley-rtp-streams-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** One row of tshark's table, keyed like our streams. */
interface TsharkRow {
  readonly key: string;
  readonly payload: string;
  readonly packets: number;
  readonly lost: number;
  readonly lostPercent: string;
  readonly figures: readonly string[]; // min/mean/max delta, min/mean/max jitter, as printed
  readonly problem: boolean;
}

function tsharkTable(file: string): string {
  return execFileSync('tshark', ['-n', '-q', '--enable-heuristic', 'rtp_udp', '-z', 'rtp,streams', '-r', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/** tshark's table (Wireshark 4.0 columns: start, end, src, port, dst, port, SSRC, payload, …). */
function tsharkStreams(file: string): Map<string, TsharkRow> {
  const out = tsharkTable(file);
  const rows = new Map<string, TsharkRow>();
  for (const line of out.split('\n')) {
    const words = line.trim().split(/\s+/);
    const ssrcAt = words.findIndex((w) => w.startsWith('0x'));
    if (ssrcAt !== 6) continue;
    // the payload names may hold spaces: the 11 columns after them are counted from the end
    const tail = words.slice(-11);
    const problem = tail.length === 11 && tail[10] === 'X';
    const figuresEnd = problem ? words.length - 1 : words.length;
    const figures = words.slice(figuresEnd - 6, figuresEnd);
    const lostPercent = words[figuresEnd - 7]!;
    const lost = Number(words[figuresEnd - 8]);
    const packets = Number(words[figuresEnd - 9]);
    const payload = words.slice(7, figuresEnd - 9).join(' ');
    const key = `${words[2]} ${words[3]} ${words[4]} ${words[5]} ${Number.parseInt(words[6]!, 16)}`;
    rows.set(key, { key, payload, packets, lost, lostPercent, figures, problem });
  }
  return rows;
}

/** Every UDP datagram of the file as tshark decodes it, fed to our analyzer. */
function ourStreams(file: string, analyzer: RtpStreams): Map<string, RtpStreamReport> {
  const out = execFileSync(
    'tshark',
    ['-n', '-r', file, '-T', 'fields', '-E', 'separator=/t', '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'ipv6.src',
      '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'udp.dstport', '-e', 'udp.payload', 'udp'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 },
  );
  for (const line of out.trim().split('\n')) {
    const [time, src4, src6, srcPort, dst4, dst6, dstPort, hex] = line.split('\t');
    const [seconds, fraction = ''] = time!.split('.');
    analyzer.add({
      time: BigInt(seconds!) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0').slice(0, 9)),
      src: src4 || src6!,
      srcPort: Number(srcPort),
      dst: dst4 || dst6!,
      dstPort: Number(dstPort),
      payload: Buffer.from(hex ?? '', 'hex'),
    });
  }
  return new Map(analyzer.reports().map((r) => [`${r.src} ${r.srcPort} ${r.dst} ${r.dstPort} ${r.ssrc}`, r]));
}

function within1Percent(ours: number, theirs: number, what: string): void {
  const tolerance = Math.max(Math.abs(theirs) * 0.01, 0.0005);
  assert.ok(Math.abs(ours - theirs) <= tolerance, `${what}: ours ${ours}, tshark ${theirs}`);
}

/** The same streams, packets and losses; delta and jitter within 1 % and printed alike. */
function compare(file: string, analyzer = new RtpStreams()): Map<string, RtpStreamReport> {
  const theirs = tsharkStreams(file);
  const ours = ourStreams(file, analyzer);
  assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort(), 'the same streams');
  for (const [key, t] of theirs) {
    const o = ours.get(key)!;
    assert.equal(o.packets, t.packets, `${key} packets`);
    assert.equal(o.lost, t.lost, `${key} lost`);
    assert.equal(`(${fixed(o.lostPercent, 1)}%)`, t.lostPercent, `${key} lost %`);
    assert.equal(o.problem, t.problem, `${key} problems`);
    const mine = [o.minDeltaMs, o.meanDeltaMs, o.maxDeltaMs, o.minJitterMs, o.meanJitterMs, o.maxJitterMs];
    const names = ['min delta', 'mean delta', 'max delta', 'min jitter', 'mean jitter', 'max jitter'];
    mine.forEach((v, i) => within1Percent(v, Number(t.figures[i]), `${key} ${names[i]}`));
    assert.deepEqual(mine.map((v) => fixed(v, 3)), t.figures, `${key} figures as printed`);
  }
  return ours;
}

// ---------------------------------------------------------------- a capture with known faults

type Datagram = UdpDatagram;

/** A deterministic generator (a 32-bit LCG): the same capture every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const T0 = 1_765_000_000_000_000_000n; // ns since the epoch
const MS = 1_000_000n;

/** Packets every 20 ms (160 samples at 8 kHz) with up to `noiseMs` of arrival noise, to the ns. */
function stream(
  path: Pick<Datagram, 'src' | 'srcPort' | 'dst' | 'dstPort'>,
  opts: { ssrc: number; pt?: number; seq0: number; ts0: number; count: number; startMs: number; noiseMs: number; seed: number },
): Datagram[] {
  const next = lcg(opts.seed);
  const out: Datagram[] = [];
  for (let i = 0; i < opts.count; i++) {
    const arrival = BigInt(Math.round((opts.startMs + i * 20 + next() * opts.noiseMs) * 1e6));
    out.push({ ...path, time: T0 + arrival, payload: rtp(opts.pt ?? 0, opts.seq0 + i, opts.ts0 + i * 160, opts.ssrc, i === 0) });
  }
  return out;
}

function syntheticCapture(): Datagram[] {
  const a = { src: '192.0.2.10', srcPort: 40000, dst: '192.0.2.20', dstPort: 50000 };
  const b = { src: '192.0.2.20', srcPort: 50000, dst: '192.0.2.10', dstPort: 40000 };
  const v6 = { src: '2001:db8::1', srcPort: 40010, dst: '2001:db8::2', dstPort: 50010 };
  const all: Datagram[] = [];

  // 1. clean µ-law with arrival noise
  all.push(...stream(a, { ssrc: 0x11111111, seq0: 1000, ts0: 5000, count: 300, startMs: 0, noiseMs: 4, seed: 1 }));

  // 2. A-law back, with loss (every 17th packet) and two pairs swapped (reordering)
  let back = stream(b, { ssrc: 0x22222222, pt: 8, seq0: 200, ts0: 90000, count: 300, startMs: 3, noiseMs: 2, seed: 2 });
  back = back.filter((_, i) => i % 17 !== 5);
  for (const i of [40, 120]) [back[i], back[i + 1]] = [{ ...back[i + 1]!, time: back[i]!.time }, { ...back[i]!, time: back[i + 1]!.time }];
  // and a duplicate
  back.splice(200, 0, { ...back[199]!, time: back[199]!.time + 300_000n });
  all.push(...back);

  // 3. the sequence number wraps at 65535, with 65535 and 0 lost; the timestamp wraps at 2^32
  const wrap = stream({ ...a, srcPort: 40002, dstPort: 50002 }, { ssrc: 0x33333333, seq0: 65400, ts0: 0xffff0000, count: 400, startMs: 1, noiseMs: 3, seed: 3 });
  all.push(...wrap.filter((d) => {
    const seq = (d.payload[2]! << 8) | d.payload[3]!;
    return seq !== 65535 && seq !== 0;
  }));

  // 4. G.722 (8000 Hz RTP clock), talkspurts (marker bits), comfort noise, DTMF (PT 101)
  const g722Path = { ...a, srcPort: 40004, dstPort: 50004 };
  const next = lcg(4);
  let seq = 7;
  let ts = 1234;
  for (let i = 0; i < 250; i++) {
    const arrival = T0 + BigInt(Math.round((2 + i * 20 + next() * 5) * 1e6));
    let pt = 9;
    if (i >= 100 && i < 110) pt = 13; // comfort noise
    const marker = i === 0 || i === 110;
    let payload = rtp(pt, seq, ts, 0x44444444, marker, pt === 13 ? 1 : 160);
    if (i >= 180 && i < 190) payload = rtp(101, seq, 1234 + 180 * 160, 0x44444444, i === 180, 4); // an event: one timestamp
    all.push({ ...g722Path, time: arrival, payload });
    seq++;
    ts += 160;
  }

  // 5. a stale packet: a timestamp before the stream's first
  const stale = stream({ ...a, srcPort: 40006, dstPort: 50006 }, { ssrc: 0x55555555, seq0: 300, ts0: 800000, count: 100, startMs: 5, noiseMs: 1, seed: 5 });
  stale.splice(50, 0, { ...stale[49]!, time: stale[49]!.time + 5n * MS, payload: rtp(0, 299, 700000, 0x55555555) });
  all.push(...stale);

  // 6. IPv6, 30 ms packets of 240 samples
  const next6 = lcg(6);
  for (let i = 0; i < 150; i++) {
    all.push({ ...v6, time: T0 + BigInt(Math.round((7 + i * 30 + next6() * 2.5) * 1e6)), payload: rtp(0, 40 + i, 99 + i * 240, 0x66666666, i === 0, 240) });
  }

  // 7. RTCP (an RR) and STUN (a Binding request) on the media ports: not RTP
  const rr = Buffer.from('81c90007111111112222222200000000000000000000000000000000000000000000', 'hex').subarray(0, 32);
  const stun = Buffer.concat([Buffer.from('000100002112a442', 'hex'), Buffer.alloc(12, 7)]);
  for (let i = 0; i < 5; i++) {
    all.push({ ...a, dstPort: 50000, time: T0 + BigInt(i) * 1000n * MS + 11n * MS, payload: rr });
    all.push({ ...b, time: T0 + BigInt(i) * 1000n * MS + 13n * MS, payload: stun });
  }
  return all.sort((x, y) => (x.time < y.time ? -1 : x.time > y.time ? 1 : 0));
}

/** A nanosecond pcap (LINKTYPE_ETHERNET) of the datagrams. */
function writePcap(file: string, datagrams: readonly Datagram[]): void {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b23c4d, 0); // nanosecond timestamps
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  parts.push(header);
  for (const d of datagrams) {
    const v6 = d.src.includes(':');
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(d.srcPort, 0);
    udp.writeUInt16BE(d.dstPort, 2);
    udp.writeUInt16BE(8 + d.payload.length, 4);
    let ip: Buffer;
    if (v6) {
      ip = Buffer.alloc(40);
      ip[0] = 0x60;
      ip.writeUInt16BE(8 + d.payload.length, 4);
      ip[6] = 17;
      ip[7] = 64;
      ipv6Bytes(d.src).copy(ip, 8);
      ipv6Bytes(d.dst).copy(ip, 24);
    } else {
      ip = Buffer.alloc(20);
      ip[0] = 0x45;
      ip.writeUInt16BE(20 + 8 + d.payload.length, 2);
      ip[8] = 64;
      ip[9] = 17;
      Buffer.from(d.src.split('.').map(Number)).copy(ip, 12);
      Buffer.from(d.dst.split('.').map(Number)).copy(ip, 16);
      let sum = 0;
      for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      ip.writeUInt16BE(~sum & 0xffff, 10);
    }
    const ether = Buffer.from(`020000000002020000000001${v6 ? '86dd' : '0800'}`, 'hex');
    const frame = Buffer.concat([ether, ip, udp, d.payload]);
    const record = Buffer.alloc(16);
    record.writeUInt32LE(Number(d.time / 1_000_000_000n), 0);
    record.writeUInt32LE(Number(d.time % 1_000_000_000n), 4);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length, 12);
    parts.push(record, frame);
  }
  writeFileSync(file, Buffer.concat(parts));
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  return b;
}

describe('RTP streams: our figures against tshark -z rtp,streams', { skip: hasTshark ? false : 'tshark is not installed' }, () => {
  it("sipp's G.711 A-law capture (real RTP)", { skip: existsSync(`${SIPP_PCAPS}/g711a.pcap`) ? false : 'sipp (sip-tester) pcaps not installed' }, () => {
    const analyzer = new RtpStreams();
    const ours = compare(`${SIPP_PCAPS}/g711a.pcap`, analyzer);
    const [only] = [...ours.values()];
    assert.equal(only?.payloadNames, 'g711A');
    assert.equal(only?.packets, 236);
    // and the table, character for character
    assert.equal(formatRtpStreamsTable(analyzer.reports()), tsharkTable(`${SIPP_PCAPS}/g711a.pcap`));
  });

  it("sipp's RFC 4733 DTMF captures (end packets repeated: negative loss, no jitter without a clock)", { skip: existsSync(`${SIPP_PCAPS}/dtmf_2833_1.pcap`) ? false : 'sipp (sip-tester) pcaps not installed' }, () => {
    for (const digit of ['0', '1', '5', '9', 'pound', 'star']) {
      const ours = compare(`${SIPP_PCAPS}/dtmf_2833_${digit}.pcap`);
      for (const r of ours.values()) assert.ok(r.lost < 0 && r.minJitterMs === -1, `dtmf ${digit}`);
    }
  });

  it('a capture with loss, reordering, duplicates, wrap-arounds, talkspurts, CN, DTMF, a stale packet, IPv6, RTCP and STUN', () => {
    const file = join(dir, 'faults.pcap');
    writePcap(file, syntheticCapture());
    const analyzer = new RtpStreams({ payloadFormats: new Map([[101, { name: 'telephone-event', clockRate: 8000 }]]) });
    const ours = compare(file, analyzer);
    assert.equal(ours.size, 6);
    assert.equal(analyzer.notRtpDatagrams, 10, 'the RTCP and STUN datagrams');
    const byPort = (port: number) => [...ours.values()].find((r) => r.srcPort === port)!;
    // the faults are there to be found (tshark agrees on each, above)
    assert.equal(byPort(50000).packets, 283); // 300 sent, 18 dropped, one duplicated
    assert.equal(byPort(50000).lost, 17); // RFC 3550 A.3: duplicates make up for lost packets
    assert.equal(byPort(50000).sequenceErrors, 18 + 2 * 2 + 1);
    assert.equal(byPort(40002).cycles, 1);
    assert.equal(byPort(40002).lost, 2);
    assert.equal(byPort(40004).payloadNames, 'g722, CN, telephone-event');
    assert.ok(byPort(40006).problem);
    assert.equal(byPort(40010).src, '2001:db8::1');
  });
});
