import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CaptureReader } from '../pcap/capture-reader.js';
import { PacketDecoder } from '../pcap/packet-decoder.js';
import type { CapturedMessage } from './captured-message.js';
import { writeCapturePcap } from './pcap-export.js';

const enc = new TextEncoder();

function m(over: Partial<Omit<CapturedMessage, 'payload'>> & { payload: string }): CapturedMessage {
  return {
    timeUs: 1_700_000_000_000_000, receivedUs: 0, callId: 'c', srcAddr: '192.0.2.1', srcPort: 5060, dstAddr: '192.0.2.2', dstPort: 5080,
    transport: 'udp', protocolType: 1, ...over, payload: enc.encode(over.payload),
  };
}

const invite = (callId: string): string =>
  `INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;
const ok = (callId: string): string =>
  `SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;

const MESSAGES: CapturedMessage[] = [
  m({ payload: invite('u1') }),
  m({ timeUs: 1_700_000_000_000_001, transport: 'tcp', srcPort: 40000, payload: invite('t1') }),
  m({ timeUs: 1_700_000_000_000_002, transport: 'tcp', srcAddr: '192.0.2.2', srcPort: 5080, dstAddr: '192.0.2.1', dstPort: 40000, payload: ok('t1') }),
  m({ timeUs: 1_700_000_000_000_003, transport: 'wss', srcPort: 40000, payload: invite('t2') }),
  m({ timeUs: 1_700_000_000_000_004, srcAddr: '::ffff:192.0.2.1', dstAddr: '::ffff:192.0.2.2', payload: invite('mapped') }),
  m({ timeUs: 1_700_000_000_000_005, srcAddr: '2001:db8::1', dstAddr: '2001:db8::2', payload: invite('v6') }),
  m({ transport: 'sctp', payload: 'skipped: SCTP' }),
  m({ dstAddr: '2001:db8::2', payload: 'skipped: two families' }),
  m({ srcAddr: '', payload: 'skipped: no address' }),
  m({ protocolType: 100, payload: 'skipped: a log line' }),
];

function exported(): { bytes: Uint8Array; written: number; skipped: number } {
  const parts: Uint8Array[] = [];
  const counts = writeCapturePcap(MESSAGES, (b) => parts.push(b));
  return { bytes: Buffer.concat(parts), ...counts };
}

describe('writeCapturePcap', () => {
  it('a frame per message: UDP as datagrams, TCP/TLS/WS as segments with running sequence numbers per direction', () => {
    const { bytes, written, skipped } = exported();
    assert.deepEqual({ written, skipped }, { written: 6, skipped: 4 });
    const got: unknown[] = [];
    const decoder = new PacketDecoder();
    const reader = new CaptureReader((r) => {
      const d = decoder.decode(r);
      assert.equal(d.kind, 'segment');
      if (d.kind !== 'segment') return;
      const s = d.segment;
      got.push([s.protocol, s.src, s.srcPort, s.dst, s.dstPort, r.seconds, r.nanoseconds, s.tcp?.seq, s.tcp?.ack, Buffer.from(s.payload).toString()]);
    });
    assert.ok(reader.push(bytes).ok);
    assert.ok(reader.end().ok);
    const t0 = 1_700_000_000;
    const i1 = invite('t1').length;
    const o1 = ok('t1').length;
    assert.deepEqual(got, [
      ['udp', '192.0.2.1', 5060, '192.0.2.2', 5080, t0, 0, undefined, undefined, invite('u1')],
      ['tcp', '192.0.2.1', 40000, '192.0.2.2', 5080, t0, 1000, 1, 1, invite('t1')],
      ['tcp', '192.0.2.2', 5080, '192.0.2.1', 40000, t0, 2000, 1, 1 + i1, ok('t1')],
      ['tcp', '192.0.2.1', 40000, '192.0.2.2', 5080, t0, 3000, 1 + i1, 1 + o1, invite('t2')],
      ['udp', '192.0.2.1', 5060, '192.0.2.2', 5080, t0, 4000, undefined, undefined, invite('mapped')],
      ['udp', '2001:db8::1', 5060, '2001:db8::2', 5080, t0, 5000, undefined, undefined, invite('v6')],
    ]);
  });

  it('tshark dissects every frame as SIP, checksums good, no TCP analysis warnings', (t) => {
    if (spawnSync('tshark', ['--version']).status !== 0 && !process.env.CI) return t.skip('tshark is not installed (installed in CI, where its absence fails)');
    const dir = mkdtempSync(join(tmpdir(), 'parley-hep-export-'));
    try {
      const file = join(dir, 'out.pcap');
      writeFileSync(file, exported().bytes);
      const r = spawnSync('tshark', ['-r', file, '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-e', 'sip.Call-ID', '-e', 'sip.Method', '-e', 'sip.Status-Code', '-e', '_ws.expert.message'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.slice(0, -1).split('\n'), ['u1\tINVITE\t\t', 't1\tINVITE\t\t', 't1\t\t200\t', 't2\tINVITE\t\t', 'mapped\tINVITE\t\t', 'v6\tINVITE\t\t']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
