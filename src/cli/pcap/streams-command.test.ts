import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pcapFileHeader, pcapRecord, udpFrame, type FrameEndpoints } from '../../pcap/pcap-writer.js';
import { runPcapStreamsCommand } from './streams-command.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-pcap-streams-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_765_000_000_000_000_000n;
const A: FrameEndpoints = { src: '192.0.2.10', srcPort: 40000, dst: '198.51.100.20', dstPort: 50000 };
const B: FrameEndpoints = { src: '198.51.100.20', srcPort: 50000, dst: '192.0.2.10', dstPort: 40000 };

function rtp(pt: number, seq: number, ts: number, ssrc: number): Uint8Array {
  const b = Buffer.alloc(12 + 160, 0xd5);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ts, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

/** 50 packets each way, the 10th of A lost; the records' offsets, for the truncation test. */
function capture(): { bytes: Buffer; offsets: number[] } {
  const parts: Uint8Array[] = [pcapFileHeader()];
  const offsets: number[] = [];
  let at = 24;
  const put = (ns: bigint, frame: Uint8Array): void => {
    const r = pcapRecord(T0 + ns, frame);
    offsets.push(at);
    at += r.length;
    parts.push(r);
  };
  for (let i = 0; i < 50; i++) {
    const ns = BigInt(i) * 20_000_000n + BigInt((i % 3) * 1_000_000);
    if (i !== 10) put(ns, udpFrame(A, rtp(0, 1000 + i, i * 160, 0xaaaa0001))!);
    put(ns + 500_000n, udpFrame(B, rtp(8, 2000 + i, i * 160, 0xbbbb0002))!);
  }
  return { bytes: Buffer.concat(parts), offsets };
}

async function run(args: string[]): Promise<{ status: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const status = await runPcapStreamsCommand(args, { stdout, stderr });
  return { status, out, err };
}

describe('parley pcap streams', () => {
  const file = join(dir, 'calls.pcap');
  const { bytes, offsets } = capture();
  writeFileSync(file, bytes);

  it('--json: every stream with codec, packets, lost, sequence errors, delta and jitter', async () => {
    const r = await run([file, '--json', '--any-udp']);
    assert.equal(r.status, 0, r.err);
    const body = JSON.parse(r.out) as { format: string; streams: Array<Record<string, unknown>>; counts: { rtp: number } };
    assert.equal(body.format, 'pcap');
    assert.equal(body.counts.rtp, 99);
    assert.deepEqual(
      body.streams.map((s) => [s.src, s.srcPort, s.ssrc, s.codec, s.packets, s.lost, s.sequenceErrors]),
      [
        ['192.0.2.10', 40000, 0xaaaa0001, 'g711U', 49, 1, 1],
        ['198.51.100.20', 50000, 0xbbbb0002, 'g711A', 50, 0, 0],
      ],
    );
    assert.equal(body.streams[0]!.maxDeltaMs, 42); // packet 9 at 180 ms, packet 11 at 222 ms
    assert.equal(body.streams[0]!.firstTimeNs, String(T0));
  });

  it('without SDP and without --any-udp, no UDP is read as RTP (as tshark)', async () => {
    const r = await run([file, '--json']);
    assert.equal(r.status, 0);
    assert.deepEqual((JSON.parse(r.out) as { streams: unknown[] }).streams, []);
  });

  it("--tshark prints tshark's table; the default table names the streams", async () => {
    const t = await run([file, '--tshark', '--any-udp']);
    assert.match(t.out, /^=+ RTP Streams =+\n +Start time/);
    assert.match(t.out, /192\.0\.2\.10 40000   198\.51\.100\.20 50000 0xAAAA0001            g711U    49     1 \(2\.0%\)/);
    const d = await run([file, '--any-udp']);
    assert.match(d.out, /^Call-ID\tSource\tDestination\tSSRC\tCodec/);
    assert.match(d.out, /-\t192\.0\.2\.10:40000\t198\.51\.100\.20:50000\t0xAAAA0001\tg711U\t49\t1 \(2\.0%\)\t1\t/);
    assert.match(d.out, /2 stream\(s\); 99 packets read, 99 RTP/);
  });

  it('a truncated file: the streams before the cut, then the offset and what was expected; status 1', async () => {
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, bytes.subarray(0, offsets[60]! + 30));
    const r = await run([cut, '--any-udp']);
    assert.equal(r.status, 1);
    assert.match(r.out, /60 RTP/);
    assert.equal(r.err, `parley pcap streams: ${cut}: truncated record at offset ${offsets[60]}: header says ${16 + 20 + 8 + 172} bytes, 30 left\n`);
  });

  it('a foreign file or a missing one: status 1 and why', async () => {
    const gif = join(dir, 'x.gif');
    writeFileSync(gif, Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'));
    const r = await run([gif]);
    assert.equal(r.status, 1);
    assert.match(r.err, /not a pcap or pcapng file: magic 0x47494638 at offset 0/);
    const m = await run([join(dir, 'none.pcap')]);
    assert.equal(m.status, 1);
    assert.match(m.err, /ENOENT/);
    assert.equal(await run(['--json', '--tshark', file]).then((x) => x.status), 2);
  });
});
