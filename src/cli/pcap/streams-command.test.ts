import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { rtpPacket as rtp } from '../../capture/testdata/rtp-packet.js';
import { pcapFileHeader, pcapRecord, udpFrame, type FrameEndpoints } from '../../pcap/pcap-writer.js';
import { runPcapStreamsCommand } from './streams-command.js';
import { capturedIo } from './testdata/captured-io.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-pcap-streams-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_765_000_000_000_000_000n;
const A: FrameEndpoints = { src: '192.0.2.10', srcPort: 40000, dst: '198.51.100.20', dstPort: 50000 };
const B: FrameEndpoints = { src: '198.51.100.20', srcPort: 50000, dst: '192.0.2.10', dstPort: 40000 };

const CALL_ID = 'a84b4c76e66710@pc33.example.com';

function sip(startLine: string, sdp: string | undefined): Uint8Array {
  const body = sdp ?? '';
  return Buffer.from(
    `${startLine}\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\nFrom: <sip:alice@example.com>;tag=1928301774\r\n` +
      `To: <sip:bob@example.com>${startLine.startsWith('SIP/2.0') ? ';tag=a6c85cf' : ''}\r\nCall-ID: ${CALL_ID}\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n` +
      `${sdp === undefined ? '' : 'Content-Type: application/sdp\r\n'}Content-Length: ${body.length}\r\n\r\n${body}`,
  );
}

function sdp(address: string, port: number, pt: number): string {
  return `v=0\r\no=- 1 1 IN IP4 ${address}\r\ns=-\r\nc=IN IP4 ${address}\r\nt=0 0\r\nm=audio ${port} RTP/AVP ${pt} 101\r\na=rtpmap:101 telephone-event/8000\r\n`;
}

/**
 * 50 packets each way, the 10th of A lost (with the INVITE and its 200 announcing both ends when
 * `signalled`); the records' offsets, for the truncation test.
 */
function capture(signalled: boolean): { bytes: Buffer; offsets: number[] } {
  const parts: Uint8Array[] = [pcapFileHeader()];
  const offsets: number[] = [];
  let at = 24;
  const put = (ns: bigint, frame: Uint8Array): void => {
    const r = pcapRecord(T0 + ns, frame);
    offsets.push(at);
    at += r.length;
    parts.push(r);
  };
  if (signalled) {
    put(0n, udpFrame({ src: A.src, srcPort: 5060, dst: B.src, dstPort: 5060 }, sip('INVITE sip:bob@example.com SIP/2.0', sdp(A.src, A.srcPort, 0)))!);
    put(1n, udpFrame({ src: B.src, srcPort: 5060, dst: A.src, dstPort: 5060 }, sip('SIP/2.0 200 OK', sdp(B.src, B.srcPort, 8)))!);
  }
  for (let i = 0; i < 50; i++) {
    const ns = 1_000_000n + BigInt(i) * 20_000_000n + BigInt((i % 3) * 1_000_000);
    if (i !== 10) put(ns, udpFrame(A, rtp(0, 1000 + i, i * 160, 0xaaaa0001))!);
    put(ns + 500_000n, udpFrame(B, rtp(i === 20 ? 101 : 8, 2000 + i, i * 160, 0xbbbb0002))!);
  }
  return { bytes: Buffer.concat(parts), offsets };
}

async function run(args: string[]): Promise<{ status: number; out: string; err: string }> {
  const io = capturedIo();
  const status = await runPcapStreamsCommand(args, io);
  return { status, out: io.out(), err: io.err() };
}

describe('parley pcap streams', () => {
  const file = join(dir, 'calls.pcap');
  const { bytes, offsets } = capture(true);
  writeFileSync(file, bytes);
  const bare = join(dir, 'rtp-only.pcap');
  writeFileSync(bare, capture(false).bytes);

  it('--json: every stream of the SDP-announced endpoints with its call, codec, packets, lost, sequence errors, delta and jitter', async () => {
    const r = await run([file, '--json']);
    assert.equal(r.status, 0, r.err);
    const body = JSON.parse(r.out) as { format: string; streams: Array<Record<string, unknown>>; counts: { rtp: number; sipMessages: number } };
    assert.equal(body.format, 'pcap');
    assert.equal(body.counts.rtp, 99);
    assert.equal(body.counts.sipMessages, 2);
    assert.deepEqual(
      body.streams.map((s) => [s.callId, s.src, s.srcPort, s.ssrc, s.codec, s.packets, s.lost, s.sequenceErrors]),
      [
        [CALL_ID, '192.0.2.10', 40000, 0xaaaa0001, 'g711U', 49, 1, 1],
        [CALL_ID, '198.51.100.20', 50000, 0xbbbb0002, 'g711A, telephone-event', 50, 0, 0],
      ],
    );
    assert.equal(body.streams[0]!.maxDeltaMs, 42); // packet 9 at 181 ms, packet 11 at 223 ms
    assert.equal(body.streams[0]!.firstTimeNs, String(T0 + 1_000_000n));
    const other = await run([file, '--json', '--call', 'another-call']);
    assert.deepEqual((JSON.parse(other.out) as { streams: unknown[] }).streams, []);
  });

  it('without SDP, no UDP is read as RTP (as tshark), unless --any-udp', async () => {
    const r = await run([bare, '--json']);
    assert.equal(r.status, 0);
    assert.deepEqual((JSON.parse(r.out) as { streams: unknown[] }).streams, []);
    const any = await run([bare, '--json', '--any-udp']);
    const streams = (JSON.parse(any.out) as { streams: Array<Record<string, unknown>> }).streams;
    assert.deepEqual(streams.map((s) => [s.callId, s.codec]), [[undefined, 'g711U'], [undefined, 'g711A, RTPType-101']]);
  });

  it("--tshark prints tshark's table; the default table names the streams", async () => {
    const t = await run([file, '--tshark']);
    assert.match(t.out, /^=+ RTP Streams =+\n +Start time/);
    assert.match(t.out, /192\.0\.2\.10 40000   198\.51\.100\.20 50000 0xAAAA0001            g711U    49     1 \(2\.0%\)/);
    assert.match(t.out, /0xBBBB0002 g711A, telephone-event    50/);
    const d = await run([file]);
    assert.match(d.out, /^Call-ID\tSource\tDestination\tSSRC\tCodec/);
    assert.match(d.out, /a84b4c76e66710@pc33\.example\.com\t192\.0\.2\.10:40000\t198\.51\.100\.20:50000\t0xAAAA0001\tg711U\t49\t1 \(2\.0%\)\t1\t/);
    assert.match(d.out, /2 stream\(s\); 101 packets read, 2 SIP messages, 99 RTP/);
  });

  it('a truncated file: the streams before the cut, then the offset and what was expected; status 1', async () => {
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, bytes.subarray(0, offsets[62]! + 30));
    const r = await run([cut]);
    assert.equal(r.status, 1);
    assert.match(r.out, /60 RTP/);
    assert.equal(r.err, `parley pcap streams: ${cut}: truncated record at offset ${offsets[62]}: header says ${16 + 20 + 8 + 172} bytes, 30 left\n`);
  });

  it('a foreign file or a missing one: status 1 and why', async () => {
    const gif = join(dir, 'x.gif');
    writeFileSync(gif, Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'));
    const r = await run([gif]);
    assert.equal(r.status, 1);
    assert.match(r.err, /not a pcap or pcapng file: magic 0x47494638 at offset 0/);
    const m = await run([join(dir, 'none.pcap')]);
    assert.equal(m.status, 1);
    assert.match(m.err, /none\.pcap: no such file/);
    assert.equal(await run(['--json', '--tshark', file]).then((x) => x.status), 2);
  });
});
