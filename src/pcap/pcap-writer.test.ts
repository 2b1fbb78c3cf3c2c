import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CaptureReader } from './capture-reader.js';
import { PacketDecoder, type TransportSegment } from './packet-decoder.js';
import { pcapFileHeader, pcapRecord, tcpFrame, udpFrame } from './pcap-writer.js';
import { TCP_SYN } from './transport-segment.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function file(): Uint8Array {
  const parts = [
    pcapFileHeader(),
    pcapRecord(1_796_637_601_123_456_789n, udpFrame({ src: '192.0.2.1', srcPort: 5060, dst: '198.51.100.7', dstPort: 5080 }, text('OPTIONS sip:a SIP/2.0\r\n\r\n'))!),
    pcapRecord(1_796_637_602_000_000_001n, udpFrame({ src: '2001:db8::1', srcPort: 40000, dst: '2001:db8::2', dstPort: 5060 }, text('odd'))!),
    pcapRecord(1_796_637_603_000_000_000n, tcpFrame({ src: '10.0.0.1', srcPort: 33000, dst: '10.0.0.2', dstPort: 5060 }, { seq: 1000, flags: TCP_SYN }, new Uint8Array(0))!),
    pcapRecord(1_796_637_603_500_000_000n, tcpFrame({ src: '10.0.0.1', srcPort: 33000, dst: '10.0.0.2', dstPort: 5060 }, { seq: 1001, ack: 77 }, text('REGISTER sip:b SIP/2.0\r\n\r\n'))!),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

describe('pcap writer', () => {
  it('our reader reads back every frame: addresses, ports, times, payloads', () => {
    const segments: { s: TransportSegment; ns: number; sec: number; payload: string }[] = [];
    const decoder = new PacketDecoder();
    const reader = new CaptureReader((r) => {
      const d = decoder.decode(r);
      if (d.kind === 'segment') segments.push({ s: d.segment, ns: r.nanoseconds, sec: r.seconds, payload: Buffer.from(d.segment.payload).toString() });
    });
    assert.ok(reader.push(file()).ok);
    assert.ok(reader.end().ok);
    assert.deepEqual(
      segments.map(({ s, ns, sec, payload }) => [s.protocol, s.src, s.srcPort, s.dst, s.dstPort, sec, ns, payload, s.tcp?.seq]),
      [
        ['udp', '192.0.2.1', 5060, '198.51.100.7', 5080, 1_796_637_601, 123_456_789, 'OPTIONS sip:a SIP/2.0\r\n\r\n', undefined],
        ['udp', '2001:db8::1', 40000, '2001:db8::2', 5060, 1_796_637_602, 1, 'odd', undefined],
        ['tcp', '10.0.0.1', 33000, '10.0.0.2', 5060, 1_796_637_603, 0, '', 1000],
        ['tcp', '10.0.0.1', 33000, '10.0.0.2', 5060, 1_796_637_603, 500_000_000, 'REGISTER sip:b SIP/2.0\r\n\r\n', 1001],
      ],
    );
  });

  it('refuses mixed families and non-addresses', () => {
    assert.equal(udpFrame({ src: '192.0.2.1', srcPort: 1, dst: '::1', dstPort: 2 }, new Uint8Array(1)), undefined);
    assert.equal(udpFrame({ src: 'example.com', srcPort: 1, dst: '192.0.2.1', dstPort: 2 }, new Uint8Array(1)), undefined);
  });

  const tshark = spawnSync('tshark', ['--version']).status === 0;
  it('tshark finds every IP, UDP and TCP checksum right', { skip: tshark ? false : process.env.CI ? false : 'tshark not installed' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcap-writer-'));
    try {
      const path = join(dir, 'w.pcap');
      writeFileSync(path, file());
      const lines = execFileSync(
        'tshark',
        ['-r', path, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=|',
          '-e', 'frame.time_epoch', '-e', 'ip.checksum.status', '-e', 'udp.checksum.status', '-e', 'tcp.checksum.status', '-e', '_ws.expert'],
        { encoding: 'utf8' },
      ).trim().split('\n');
      // checksum status 1 = good (Wireshark's PROTO_CHECKSUM_E_GOOD); IPv6 has no header checksum
      assert.deepEqual(lines.map((l) => l.split('|').slice(1, 4).join('|')), ['1|1|', '|1|', '1||1', '1||1']);
      assert.match(lines[0]!, /^1796637601\.123456789/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
