import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { rtpPacket } from '../../capture/testdata/rtp-packet.js';
import { LinkType } from '../../pcap/link-layer.js';
import { pcapFileHeader, pcapRecord, udpFrame } from '../../pcap/pcap-writer.js';
import { fileSafe } from './file-safe.js';
import { pcapSplit } from './split-command.js';
import { parseSsrc, pcapWav } from './wav-command.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-wav-command-'));
after(() => (process.env.KEEP ? undefined : rmSync(dir, { recursive: true, force: true })));

const A = '10.0.0.1';
const B = '10.0.0.2';
const MS = 1_000_000n;
const T0 = 1_700_000_000_000n * MS;

function invite(callId: string, sdpPort: number): string {
  const sdp = `v=0\r\no=- 1 1 IN IP4 ${A}\r\ns=-\r\nc=IN IP4 ${A}\r\nt=0 0\r\nm=audio ${sdpPort} RTP/AVP 0 18 101\r\na=rtpmap:101 telephone-event/8000\r\n`;
  return `INVITE sip:b@${B} SIP/2.0\r\nVia: SIP/2.0/UDP ${A}:5060;branch=z9hG4bK1\r\nFrom: <sip:a@${A}>;tag=1\r\nTo: <sip:b@${B}>\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\nContact: <sip:a@${A}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`;
}
function ok(callId: string, sdpPort: number): string {
  const sdp = `v=0\r\no=- 2 2 IN IP4 ${B}\r\ns=-\r\nc=IN IP4 ${B}\r\nt=0 0\r\nm=audio ${sdpPort} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n`;
  return `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP ${A}:5060;branch=z9hG4bK1\r\nFrom: <sip:a@${A}>;tag=1\r\nTo: <sip:b@${B}>;tag=2\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\nContact: <sip:b@${B}>\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`;
}
function rtp(pt: number, seq: number, ts: number, ssrc: number, payload: Uint8Array): Uint8Array {
  return rtpPacket(pt, seq, ts, ssrc, false, payload);
}

/**
 * A capture of one call (SIP with SDP: A's media on 4000, B's on 6000), PCMU both ways (B's stream
 * loses its second packet), a G.729 packet and an RFC 4733 event from A, and an RTP stream
 * between ports no SDP names (no call).
 */
function capture(): string {
  const records: Uint8Array[] = [pcapFileHeader(LinkType.RAW)];
  const add = (ms: number, src: string, srcPort: number, dst: string, dstPort: number, payload: Uint8Array) =>
    records.push(pcapRecord(T0 + BigInt(ms) * MS, udpFrame({ src, srcPort, dst, dstPort }, payload)!));
  add(0, A, 5060, B, 5060, new TextEncoder().encode(invite('call-1@a', 4000)));
  add(5, B, 5060, A, 5060, new TextEncoder().encode(ok('call-1@a', 6000)));
  for (let k = 0; k < 3; k++) {
    add(10 + 20 * k, A, 4000, B, 6000, rtp(0, 100 + k, 160 * k, 0xaaaa, new Uint8Array(160).fill(k === 1 ? 0xff : 0x80))); // µ-law 0x80: +32124, 0xFF: 0
    if (k !== 1) add(30 + 20 * k, B, 6000, A, 4000, rtp(0, 500 + k, 8000 + 160 * k, 0xbbbb, new Uint8Array(160).fill(0x00))); // −32124
  }
  add(80, A, 4000, B, 6000, rtp(18, 103, 480, 0xaaaa, new Uint8Array(20)));
  add(90, A, 4000, B, 6000, rtp(101, 104, 640, 0xaaaa, Uint8Array.of(1, 0x0a, 0, 160)));
  add(100, A, 7000, B, 7002, rtp(8, 1, 0, 0xcccc, new Uint8Array(160).fill(0xd5)));
  const file = join(dir, `capture-${records.length}.pcap`);
  writeFileSync(file, Buffer.concat(records));
  return file;
}

function samples(path: string): number[] {
  const b = readFileSync(path);
  const out: number[] = [];
  for (let i = 44; i < b.length; i += 2) out.push(b.readInt16LE(i));
  return out;
}

describe('parley pcap wav', () => {
  it('ties streams to their call by SDP, writes each direction and the mix, skips events, names G.729', async () => {
    const out = join(dir, 'all');
    const r = await pcapWav(capture(), { out });
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.deepEqual(r.value.calls.map((c) => c.call), ['call-1@a', 'session-1']);
    const [call, session] = r.value.calls;
    const a = call!.streams.find((s) => s.ssrc === 0xaaaa)!;
    const b = call!.streams.find((s) => s.ssrc === 0xbbbb)!;
    assert.equal(a.codec, 'PCMU');
    assert.equal(a.telephoneEventPackets, 1);
    // sent to B: B's SDP names the formats (it has no rtpmap for 18: RFC 3551's static G.729)
    assert.deepEqual(a.undecodable, { g729: 1 });
    assert.equal(a.decodedPackets, 3);
    const sa = samples(a.file!);
    assert.equal(sa.length, 480);
    assert.ok(sa.slice(0, 160).every((v) => v === 32124));
    // B's second packet lost: 160 samples of silence, its third in its place
    const sb = samples(b.file!);
    assert.equal(sb.length, 480);
    assert.ok(sb.slice(160, 320).every((v) => v === 0) && sb.slice(320).every((v) => v === -32124));
    // the mix: B starts 20 ms (160 samples) after A
    const mixed = samples(call!.mixed!);
    assert.equal(mixed.length, 160 + 480);
    // A: +, 0, +; B (20 ms later): −, lost, −
    assert.deepEqual([mixed[0], mixed[159], mixed[160], mixed[319], mixed[320], mixed[479], mixed[480], mixed[639]], [32124, 32124, -32124, -32124, 32124, 32124, -32124, -32124]);
    assert.equal(session!.streams[0]!.codec, 'g711A');
    assert.equal(readdirSync(out).length, 5);
  });

  it('--call and --ssrc pick streams; an unknown Call-ID is an error', async () => {
    const file = capture();
    const byCall = await pcapWav(file, { out: join(dir, 'call'), call: 'call-1@a' });
    assert.ok(byCall.ok);
    assert.deepEqual(byCall.value.calls.map((c) => c.streams.length), [2]);
    const bySsrc = await pcapWav(file, { out: join(dir, 'ssrc'), ssrc: 0xcccc });
    assert.ok(bySsrc.ok);
    assert.deepEqual(bySsrc.value.calls.flatMap((c) => c.streams.map((s) => s.ssrc)), [0xcccc]);
    const none = await pcapWav(file, { out: join(dir, 'none'), call: 'nope' });
    assert.ok(!none.ok && none.error.includes('no call with Call-ID nope'));
  });

  it('names the offset of a damaged capture', async () => {
    const file = join(dir, 'cut.pcap');
    const whole = readFileSync(capture());
    writeFileSync(file, whole.subarray(0, whole.length - 10));
    const r = await pcapWav(file, { out: join(dir, 'cut') });
    assert.ok(!r.ok && /truncated .* at offset \d+/.test(r.error), r.ok ? '' : r.error);
  });
});

describe('parley pcap split', () => {
  it('puts the SIP and the media of a call in its file, the rest in no-call.pcap', async () => {
    const out = join(dir, 'split');
    const r = await pcapSplit(capture(), { out });
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.equal(r.value.packets, 10);
    assert.deepEqual(r.value.calls.map((c) => [c.callId, c.packets, c.sipPackets, c.mediaPackets, c.linkType]), [['call-1@a', 9, 2, 7, LinkType.RAW]]);
    assert.equal(r.value.noCall!.packets, 1);
    // the file is the records as written: header, then each frame with its time
    const file = readFileSync(r.value.calls[0]!.file);
    assert.equal(file.readUInt32LE(20), LinkType.RAW);
    assert.equal(file.readUInt32LE(24 + 4), 0); // the INVITE's nanoseconds
  });
});

describe('options', () => {
  it('reads an SSRC in hex or decimal', () => {
    assert.equal(parseSsrc('0x4A41EE79'), 0x4a41ee79);
    assert.equal(parseSsrc('3735928559'), 0xdeadbeef);
    for (const bad of ['', '0x', '0x123456789', '4294967296', '12a', '-1']) assert.equal(parseSsrc(bad), undefined, bad);
  });

  it('makes names safe for files', () => {
    assert.equal(fileSafe('a1b2@host:5060/x'), 'a1b2_host_5060_x');
    assert.equal(fileSafe('..'), '_');
    assert.equal(fileSafe('é'), '_');
  });
});
