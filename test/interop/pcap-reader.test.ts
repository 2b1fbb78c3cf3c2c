// src/pcap (the capture reader under `parley pcap`) against the captures Wireshark's own tools
// write: text2pcap (Ethernet, raw IP, Linux cooked v1 and v2, BSD loopback, VLAN tags, IPv4 and
// IPv6, UDP and TCP, fragments built here as hex), editcap (pcap ↔ pcapng, nanosecond pcap) and
// mergecap (a pcapng with two interfaces of different link types); each file read through
// PacketDecoder in small and large chunks and compared with what `tshark -T fields` prints on the
// same file: the same packets, times, addresses, ports and payloads. Also: every prefix of a small
// pcap and pcapng file is read without a throw, and the error of a cut one names its offset; and
// real traffic on the loopback (UDP over IPv4 and IPv6, a TCP connection) captured by dumpcap on
// `lo` (Ethernet) and on `any` (Linux cooked v1 and v2).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { CaptureReader, readCapture } from '../../src/pcap/capture-reader.js';
import type { CaptureRecord } from '../../src/pcap/capture-record.js';
import { PacketDecoder } from '../../src/pcap/packet-decoder.js';
import { Dumpcap, skipWithoutLoopbackCapture } from './support/dumpcap.js';

const TOOLS = ['tshark', 'text2pcap', 'editcap', 'mergecap', 'dumpcap'];
const missing = TOOLS.filter((t) => spawnSync(t, ['-v'], { stdio: 'ignore' }).error !== undefined);
const skip = missing.length === 0 ? false : process.env.CI ? false : `${missing.join(', ')} not installed (Debian package tshark); skipped outside CI`;

const dir = mkdtempSync(join(tmpdir(), 'parley-pcap-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// ---- packets as hex, built here (text2pcap cannot fragment, tag VLANs or write cooked headers) ----

const hex = (b: Uint8Array | number[]): string => Buffer.from(b).toString('hex');
const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v: number): number[] => [...u16(v >>> 16), ...u16(v & 0xffff)];
const ip4 = (a: string): number[] => a.split('.').map(Number);
function ip6(a: string): number[] {
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => u16(parseInt(g, 16)));
}
/** A payload in the lines compared: its length and a hash, so that a failure prints short lines. */
const digest = (hexText: string): string => `${hexText.length / 2}B:${createHash('sha1').update(hexText).digest('hex').slice(0, 12)}`;
const text = (s: string): number[] => [...Buffer.from(s)];

function udp(sport: number, dport: number, data: number[]): number[] {
  return [...u16(sport), ...u16(dport), ...u16(8 + data.length), 0, 0, ...data];
}
function tcp(sport: number, dport: number, seq: number, data: number[]): number[] {
  return [...u16(sport), ...u16(dport), ...u32(seq), ...u32(0), 0x50, 0x18, ...u16(65535), 0, 0, 0, 0, ...data];
}
function ipv4(src: string, dst: string, proto: number, payload: number[], frag: { id: number; offset: number; more: boolean } = { id: 1, offset: 0, more: false }): number[] {
  const flags = (frag.more ? 0x2000 : 0) | (frag.offset / 8);
  return [0x45, 0, ...u16(20 + payload.length), ...u16(frag.id), ...u16(flags), 64, proto, 0, 0, ...ip4(src), ...ip4(dst), ...payload];
}
function ipv6(src: string, dst: string, next: number, payload: number[]): number[] {
  return [0x60, 0, 0, 0, ...u16(payload.length), next, 64, ...ip6(src), ...ip6(dst), ...payload];
}
function ipv6Fragment(next: number, offset: number, more: boolean, id: number, data: number[]): number[] {
  return [next, 0, ...u16(offset | (more ? 1 : 0)), ...u32(id), ...data];
}
const MAC_A = [2, 0, 0, 0, 0, 1];
const MAC_B = [2, 0, 0, 0, 0, 2];
/** Destination, source, then each VLAN tag (TPID, TCI), then the EtherType. */
function ethernet(type: number, payload: number[], vlans: { tpid: number; id: number }[] = []): number[] {
  const out = [...MAC_B, ...MAC_A];
  for (const v of vlans) out.push(...u16(v.tpid), ...u16(v.id));
  return [...out, ...u16(type), ...payload];
}
function sll(type: number, payload: number[]): number[] {
  return [...u16(0), ...u16(1), ...u16(6), ...MAC_A, 0, 0, ...u16(type), ...payload];
}
function sll2(type: number, payload: number[]): number[] {
  return [...u16(type), 0, 0, ...u32(1), ...u16(1), 0, 6, ...MAC_A, 0, 0, ...payload];
}
function loopbackNull(family: number, payload: number[]): number[] {
  return [family & 0xff, 0, 0, 0, ...payload]; // written on a little-endian host
}

/** A text2pcap input: each packet after its ISO time, as offset-prefixed hex lines. */
function hexdump(packets: { time: string; bytes: number[] }[]): string {
  return packets
    .map(({ time, bytes }) => {
      const lines = [time];
      for (let at = 0; at < bytes.length; at += 16) {
        lines.push(`${at.toString(16).padStart(6, '0')} ${bytes.slice(at, at + 16).map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
      }
      return lines.join('\n');
    })
    .join('\n\n')
    .concat('\n');
}

let serial = 0;
function text2pcap(packets: { time: string; bytes: number[] }[], args: string[]): string {
  const input = join(dir, `in-${++serial}.txt`);
  const output = join(dir, `cap-${serial}.${args.includes('pcap') ? 'pcap' : 'pcapng'}`);
  writeFileSync(input, hexdump(packets));
  execFileSync('text2pcap', ['-q', '-t', 'ISO', ...args, input, output], { stdio: 'pipe' });
  return output;
}
function editcap(input: string, format: string): string {
  const output = join(dir, `edit-${++serial}.${format}`);
  execFileSync('editcap', ['-F', format, input, output], { stdio: 'pipe' });
  return output;
}

// ---- both sides as lines of fields ----

const FIELDS = ['frame.time_epoch', 'frame.interface_id', 'vlan.id', 'ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'udp.srcport', 'tcp.srcport', 'udp.dstport', 'tcp.dstport', 'tcp.seq_raw', 'udp.payload', 'tcp.payload'];

/** tshark's line per UDP or TCP packet: time, interface, VLANs, source, destination, ports, TCP sequence, payload. */
function tsharkLines(file: string): string[] {
  const out = execFileSync('tshark', ['-r', file, '-Y', 'udp || tcp', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=l', ...FIELDS.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const f = l.split('|');
      const vlans = f[2]!;
      // tshark leaves the interface out for pcap files: interface 0, as the reader numbers it.
      return [f[0], f[1] || '0', vlans, f[3] || f[4], f[5] || f[6], f[7] || f[8], f[9] || f[10], f[11], digest(f[12] || f[13] || '')].join(' ');
    });
}

async function parleyLines(file: string, chunk: number): Promise<{ lines: string[]; records: number }> {
  const decoder = new PacketDecoder();
  const lines: string[] = [];
  let records = 0;
  const onRecord = (r: CaptureRecord): void => {
    records++;
    const d = decoder.decode(r);
    assert.notEqual(d.kind, 'malformed', JSON.stringify(d));
    if (d.kind !== 'segment') return;
    const s = d.segment;
    lines.push(
      [
        `${r.seconds}.${String(r.nanoseconds).padStart(9, '0')}`,
        r.interfaceId,
        s.vlanIds.at(-1) ?? '',
        s.src,
        s.dst,
        s.srcPort,
        s.dstPort,
        s.tcp?.seq ?? '',
        digest(hex(s.payload)),
      ].join(' '),
    );
  };
  const result = await readCapture(createReadStream(file, { highWaterMark: chunk }), onRecord);
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  assert.equal(result.value.records, records);
  return { lines, records };
}

function tsharkFrames(file: string): number {
  return execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .split('\n')
    .filter((l) => l !== '').length;
}

/** The file read in 7-byte chunks and in 64 KiB ones gives what tshark gives, and as many records. */
async function assertSameAsTshark(file: string, expectedLines: number): Promise<void> {
  const expected = tsharkLines(file);
  assert.equal(expected.length, expectedLines, `tshark sees ${expected.length} UDP/TCP packets in ${file}`);
  for (const chunk of [7, 65536]) {
    const ours = await parleyLines(file, chunk);
    assert.deepEqual(ours.lines, expected, `${file} in chunks of ${chunk}`);
    assert.equal(ours.records, tsharkFrames(file));
  }
}

const T1 = '2026-12-07T10:00:01.123456789Z';
const T2 = '2026-12-07T10:00:02.5Z';
const T3 = '2026-12-07T10:00:03.000001Z';
const hello = text('hello');
const world = text('INVITE sip:bob@example.com SIP/2.0\r\n');

describe('src/pcap reads what Wireshark writes, as tshark does', { skip }, () => {
  it('Ethernet IPv4 UDP: pcap (microseconds), pcapng (nanoseconds), editcap to pcapng and to nanosecond pcap', async () => {
    const packets = [
      { time: T1, bytes: hello },
      { time: T2, bytes: world },
    ];
    const pcap = text2pcap(packets, ['-F', 'pcap', '-u', '5060,5080', '-4', '10.0.0.1,10.0.0.2']);
    assert.deepEqual([...readFileSync(pcap).subarray(0, 4)], [0xd4, 0xc3, 0xb2, 0xa1]);
    await assertSameAsTshark(pcap, 2);
    const pcapng = text2pcap(packets, ['-u', '5060,5080', '-4', '10.0.0.1,10.0.0.2']);
    await assertSameAsTshark(pcapng, 2);
    await assertSameAsTshark(editcap(pcap, 'pcapng'), 2);
    const nsec = editcap(pcapng, 'nsecpcap');
    assert.deepEqual([...readFileSync(nsec).subarray(0, 4)], [0x4d, 0x3c, 0xb2, 0xa1]);
    await assertSameAsTshark(nsec, 2);
    // The nanoseconds survive in the nanosecond pcap (and are cut to microseconds in the other).
    assert.match(tsharkLines(nsec)[0]!, /^1796637601\.123456789 /);
    assert.match(tsharkLines(pcap)[0]!, /^1796637601\.123456000 /);
  });

  it('IPv6 and TCP: text2pcap -6 -T, and raw IP (-l 101, -l 228)', async () => {
    const packets = [
      { time: T1, bytes: hello },
      { time: T3, bytes: world },
    ];
    await assertSameAsTshark(text2pcap(packets, ['-T', '40000,5061', '-6', '2001:db8::1,2001:db8::2']), 2);
    await assertSameAsTshark(text2pcap(packets, ['-F', 'pcap', '-T', '40000,5061', '-4', '192.0.2.1,192.0.2.2']), 2);
    await assertSameAsTshark(text2pcap(packets, ['-l', '101', '-u', '5060,5060', '-4', '10.1.1.1,10.2.2.2']), 2);
    await assertSameAsTshark(text2pcap(packets, ['-F', 'pcap', '-l', '228', '-u', '5060,5060', '-4', '10.1.1.1,10.2.2.2']), 2);
  });

  it('VLAN tags (802.1Q, 802.1ad over 802.1Q), Linux cooked v1 and v2, BSD loopback', async () => {
    const v4 = ipv4('10.0.0.1', '10.0.0.2', 17, udp(5060, 5060, hello));
    const v6 = ipv6('fe80::1', 'ff02::1', 17, udp(5070, 5071, world));
    const eth = text2pcap(
      [
        { time: T1, bytes: ethernet(0x0800, v4, [{ tpid: 0x8100, id: 42 }]) },
        { time: T2, bytes: ethernet(0x86dd, v6, [{ tpid: 0x88a8, id: 100 }, { tpid: 0x8100, id: 7 }]) },
        { time: T3, bytes: ethernet(0x0806, Array<number>(28).fill(0)) },
      ],
      ['-F', 'pcap'],
    );
    await assertSameAsTshark(eth, 2);
    await assertSameAsTshark(text2pcap([{ time: T1, bytes: sll(0x0800, v4) }, { time: T2, bytes: sll(0x86dd, v6) }], ['-l', '113']), 2);
    await assertSameAsTshark(text2pcap([{ time: T1, bytes: sll2(0x0800, v4) }, { time: T2, bytes: sll2(0x86dd, v6) }], ['-l', '276']), 2);
    await assertSameAsTshark(text2pcap([{ time: T1, bytes: loopbackNull(2, v4) }, { time: T2, bytes: loopbackNull(30, v6) }], ['-F', 'pcap', '-l', '0']), 2);
  });

  it('IPv4 fragments, in and out of order, and IPv6 fragments, are reassembled as tshark reassembles them', async () => {
    const data = Array.from({ length: 3000 }, (_, i) => 65 + (i % 26));
    const datagram = udp(5060, 5060, data); // 3008 bytes: fragments of 1480, 1480, 48
    const frag = (id: number, offset: number, length: number): number[] =>
      ethernet(0x0800, ipv4('10.9.9.1', '10.9.9.2', 17, datagram.slice(offset, offset + length), { id, offset, more: offset + length < datagram.length }));
    const v6payload = udp(5062, 5062, data.slice(0, 2000)); // 2008 bytes: 1232 + 776
    const frag6 = (offset: number, length: number): number[] =>
      ethernet(0x86dd, ipv6('2001:db8::a', '2001:db8::b', 44, ipv6Fragment(17, offset, offset + length < v6payload.length, 0xdeadbeef, v6payload.slice(offset, offset + length))));
    const file = text2pcap(
      [
        { time: T1, bytes: frag(7, 0, 1480) },
        { time: T1, bytes: frag(7, 1480, 1480) },
        { time: T1, bytes: frag(7, 2960, 48) },
        // out of order: the last first
        { time: T2, bytes: frag(8, 2960, 48) },
        { time: T2, bytes: frag(8, 0, 1480) },
        { time: T2, bytes: frag(8, 1480, 1480) },
        { time: T3, bytes: frag6(0, 1232) },
        { time: T3, bytes: frag6(1232, 776) },
      ],
      ['-F', 'pcap'],
    );
    await assertSameAsTshark(file, 3);
    const lines = tsharkLines(file);
    assert.equal(lines[0]!.split(' ').at(-1), digest(hex(udp(5060, 5060, data).slice(8))));
  });

  it('mergecap: a pcapng with two interfaces of different link types', async () => {
    const a = text2pcap([{ time: T1, bytes: hello }, { time: T3, bytes: hello }], ['-u', '1000,2000', '-4', '10.0.0.1,10.0.0.2']);
    const b = text2pcap([{ time: T2, bytes: world }], ['-l', '101', '-T', '3000,4000', '-4', '10.0.0.3,10.0.0.4']);
    const merged = join(dir, 'merged.pcapng');
    execFileSync('mergecap', ['-w', merged, a, b], { stdio: 'pipe' });
    await assertSameAsTshark(merged, 3);
    assert.deepEqual(
      tsharkLines(merged).map((l) => l.split(' ')[1]),
      ['0', '1', '0'],
    );
  });

  it('a big-endian pcap (byte-swapped here, as a big-endian host writes it) reads as tshark reads it', async () => {
    const pcap = text2pcap([{ time: T1, bytes: hello }, { time: T2, bytes: world }], ['-F', 'pcap', '-u', '5060,5080', '-4', '10.0.0.1,10.0.0.2']);
    const swapped = join(dir, 'big-endian.pcap');
    writeFileSync(swapped, swapPcap(readFileSync(pcap)));
    assert.deepEqual([...readFileSync(swapped).subarray(0, 4)], [0xa1, 0xb2, 0xc3, 0xd4]);
    await assertSameAsTshark(swapped, 2);
  });

  it('every prefix of a pcap and a pcapng file: no throw, whole records only, and a cut names its offset', async () => {
    const packets = [
      { time: T1, bytes: hello },
      { time: T2, bytes: world },
    ];
    for (const file of [text2pcap(packets, ['-F', 'pcap', '-u', '5060,5080', '-4', '10.0.0.1,10.0.0.2']), text2pcap(packets, ['-u', '5060,5080', '-4', '10.0.0.1,10.0.0.2'])]) {
      const bytes = readFileSync(file);
      const whole: number[] = [];
      const full = new CaptureReader((r) => whole.push(r.offset + r.data.length));
      assert.ok(full.push(bytes).ok && full.end().ok);
      let truncatedSeen = 0;
      for (let cut = 0; cut < bytes.length; cut++) {
        const seen: number[] = [];
        const reader = new CaptureReader((r) => seen.push(r.offset));
        const pushed = reader.push(bytes.subarray(0, cut));
        assert.ok(pushed.ok, `${file} cut at ${cut}: ${pushed.ok ? '' : pushed.error.message}`);
        const ended = reader.end();
        assert.ok(seen.length <= whole.length);
        if (cut === 0) {
          assert.ok(!ended.ok && ended.error.kind === 'not-a-capture' && ended.error.message === 'not a pcap or pcapng file: the file is empty');
          continue;
        }
        if (ended.ok) continue;
        truncatedSeen++;
        assert.equal(ended.error.kind, 'truncated', ended.error.message);
        assert.ok(ended.error.offset <= cut, `${ended.error.message} (cut at ${cut})`);
        assert.ok(ended.error.message.includes(`offset ${ended.error.offset}`), ended.error.message);
      }
      assert.ok(truncatedSeen > bytes.length / 2);
      // tshark agrees that a file cut inside a record is damaged.
      const cutFile = join(dir, `cut-${++serial}`);
      writeFileSync(cutFile, bytes.subarray(0, bytes.length - 3));
      const t = spawnSync('tshark', ['-r', cutFile], { encoding: 'utf8' });
      assert.match(t.stderr, /cut short|truncated|appears to be damaged/i);
    }
  });
});

/** Can dumpcap capture on the loopback here (root, or the capture capabilities)? */
function canCapture(): string | false {
  if (skip !== false) return skip;
  return skipWithoutLoopbackCapture();
}

/**
 * Real traffic on the loopback, captured by dumpcap with `args`: UDP datagrams over IPv4 and IPv6
 * (one of 3000 bytes) and a TCP connection carrying two writes, to ports the system hands out
 * (port 0: the ephemeral range, above the suites' slices of 20000-32749, so this file needs none;
 * the capture filter keeps other suites' packets out).
 */
async function captureLoopback(args: string[], file: string): Promise<void> {
  const receiver = createSocket('udp4');
  const receiver6 = createSocket('udp6');
  const server = createServer((c) => c.resume());
  receiver.bind(0, '127.0.0.1');
  receiver6.bind(0, '::1');
  server.listen(0, '127.0.0.1');
  await Promise.all([once(receiver, 'listening'), once(receiver6, 'listening'), once(server, 'listening')]);
  const ports = [receiver.address().port, receiver6.address().port, (server.address() as { port: number }).port];
  const filter = ports.map((p) => `port ${p}`).join(' or ');
  let dumpcap: Dumpcap | undefined;
  try {
    dumpcap = await Dumpcap.start({ file, filter, interfaceArgs: args });
    const sender = createSocket('udp4');
    const sender6 = createSocket('udp6');
    let received = 0;
    const allReceived = new Promise<void>((resolve) => {
      const count = (): void => {
        if (++received === 4) resolve();
      };
      receiver.on('message', count);
      receiver6.on('message', count);
    });
    for (const size of [5, 300, 3000]) sender.send(Buffer.alloc(size, 0x41), ports[0]!, '127.0.0.1');
    sender6.send(Buffer.from('over IPv6'), ports[1]!, '::1');
    const client = createConnection(ports[2]!, '127.0.0.1');
    await once(client, 'connect');
    client.write('REGISTER sip:example.com SIP/2.0\r\n');
    await new Promise((r) => setTimeout(r, 50));
    client.end('Content-Length: 0\r\n\r\n');
    await once(client, 'close');
    await allReceived;
    sender.close();
    sender6.close();
    await dumpcap.flush(ports[0]!);
  } finally {
    await dumpcap?.stop();
    receiver.close();
    receiver6.close();
    server.close();
  }
}

describe('src/pcap reads what dumpcap captures of real traffic, as tshark does', { skip: canCapture() }, () => {
  const cases: [string, string[]][] = [
    ['lo (Ethernet), pcapng', ['-i', 'lo']],
    ['any (Linux cooked v2), pcapng', ['-i', 'any', '-y', 'LINUX_SLL2']],
    ['any (Linux cooked v1), pcap', ['-i', 'any', '-y', 'LINUX_SLL', '-P']],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      const file = join(dir, `live-${++serial}`);
      await captureLoopback(args, file);
      const lines = tsharkLines(file);
      // 4 datagrams, the TCP handshake, 2 writes, their ACKs and the close: at least 10 packets
      assert.ok(lines.length >= 10, `tshark sees ${lines.length} packets`);
      await assertSameAsTshark(file, lines.length);
      assert.ok(lines.some((l) => l.includes(' ::1 ::1 ')), 'the IPv6 datagram');
      assert.ok(lines.some((l) => l.endsWith(digest(Buffer.alloc(3000, 0x41).toString('hex')))), 'the 3000-byte datagram');
    });
  }
});

/** A little-endian microsecond pcap rewritten in big-endian order (the header's and each record's fields). */
function swapPcap(le: Buffer): Buffer {
  const out = Buffer.from(le);
  out.writeUInt32BE(le.readUInt32LE(0), 0);
  out.writeUInt16BE(le.readUInt16LE(4), 4);
  out.writeUInt16BE(le.readUInt16LE(6), 6);
  for (const at of [8, 12, 16, 20]) out.writeUInt32BE(le.readUInt32LE(at), at);
  let at = 24;
  while (at < le.length) {
    const captured = le.readUInt32LE(at + 8);
    for (const f of [0, 4, 8, 12]) out.writeUInt32BE(le.readUInt32LE(at + f), at + f);
    at += 16 + captured;
  }
  return out;
}
