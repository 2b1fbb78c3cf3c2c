/**
 * `parley pcap decrypt`'s core (decrypt-capture.ts, srtp-decrypt.ts, sdes-keys.ts) on captures
 * written here: a SIP INVITE over UDP whose SDP carries a=crypto, then SRTP and SRTCP that
 * werift's SrtpSession (an independent implementation) protected with that key, plain RTP,
 * STUN and a replayed packet around them. What comes out must be the plaintext, every other
 * packet as it was, and the counts per stream.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpHeader, SrtcpSession, SrtpSession } from 'werift';
import { PacketDecoder, readCapture } from '../pcap/index.js';
import { pcapFileHeader, pcapRecord, udpFrame } from '../pcap/pcap-writer.js';
import { SRTP_SUITE_PARAMETERS, type SrtpSuite } from '../srtp/index.js';
import { decryptCapture, learnSdesKeys } from './decrypt-capture.js';
import { sdesKeysOfMessage } from './sdes-keys.js';
import { SipCapture } from './sip-capture.js';
import { SrtpDecryptor, type DecryptKey } from './srtp-decrypt.js';

const A = { address: '10.0.0.1', port: 4000 };
const B = { address: '10.0.0.2', port: 5000 };

function rtp(seq: number, ssrc: number): Buffer {
  const p = Buffer.alloc(12 + 160, seq & 0xff);
  p[0] = 0x80;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE((seq * 160) >>> 0, 4);
  p.writeUInt32BE(ssrc, 8);
  return p;
}

function rtcp(ssrc: number): Buffer {
  const p = Buffer.alloc(28, 0x33);
  p[0] = 0x80;
  p[1] = 200; // SR
  p.writeUInt16BE(6, 2);
  p.writeUInt32BE(ssrc, 4);
  return p;
}

function invite(keySalt: string, suite: SrtpSuite): Buffer {
  const sdp = [
    'v=0',
    `o=- 1 1 IN IP4 ${A.address}`,
    's=-',
    `c=IN IP4 ${A.address}`,
    't=0 0',
    `m=audio ${A.port} RTP/SAVP 0`,
    `a=crypto:1 ${suite} inline:${keySalt}|2^31`,
    '',
  ].join('\r\n');
  return Buffer.from(
    [
      'INVITE sip:b@10.0.0.2 SIP/2.0',
      'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1',
      'Max-Forwards: 70',
      'From: <sip:a@10.0.0.1>;tag=1',
      'To: <sip:b@10.0.0.2>',
      'Call-ID: decrypt-1',
      'CSeq: 1 INVITE',
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(sdp)}`,
      '',
      sdp,
    ].join('\r\n'),
  );
}

interface Packet {
  readonly from: { address: string; port: number };
  readonly to: { address: string; port: number };
  readonly payload: Uint8Array;
}

function capture(packets: readonly Packet[]): Buffer {
  const parts: Uint8Array[] = [pcapFileHeader()];
  packets.forEach((p, i) => {
    const frame = udpFrame({ src: p.from.address, srcPort: p.from.port, dst: p.to.address, dstPort: p.to.port }, p.payload)!;
    parts.push(pcapRecord(1_700_000_000_000_000_000n + BigInt(i) * 20_000_000n, frame));
  });
  return Buffer.concat(parts);
}

async function* chunks(b: Buffer, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function payloads(file: Buffer): Promise<Buffer[]> {
  const decoder = new PacketDecoder();
  const out: Buffer[] = [];
  const r = await readCapture(chunks(file, 1 << 16), (rec) => {
    const d = decoder.decode(rec);
    assert.equal(d.kind, 'segment');
    if (d.kind === 'segment') out.push(Buffer.from(d.segment.payload));
  });
  assert.ok(r.ok);
  return out;
}

async function run(file: Buffer, keys: DecryptKey[], auto: boolean) {
  const decryptor = new SrtpDecryptor(keys);
  const live = new SipCapture((m) => sdesKeysOfMessage(m).forEach((k) => decryptor.addKey(k)));
  const written: Uint8Array[] = [];
  const r = await decryptCapture(chunks(file, 333), (b) => void written.push(Buffer.from(b)), {
    decryptor,
    onSegment: auto ? (s, time, offset) => live.add(s, time, offset) : undefined,
  });
  assert.ok(r.ok);
  return { counts: r.counts, out: Buffer.concat(written), report: decryptor.report() };
}

for (const [suite, profile] of [
  ['AES_CM_128_HMAC_SHA1_80', ProtectionProfileAes128CmHmacSha1_80],
  ['AEAD_AES_128_GCM', ProtectionProfileAeadAes128Gcm],
] as const) {
  describe(`pcap decrypt, ${suite} protected by werift`, () => {
    const p = SRTP_SUITE_PARAMETERS[suite];
    const key = randomBytes(p.keyLength);
    const salt = randomBytes(p.saltLength);
    const keySalt = Buffer.concat([key, salt]).toString('base64');
    const config = { keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt }, profile };
    const srtp = new SrtpSession(config);
    const srtcp = new SrtcpSession(config);
    const ssrc = 0x01020304;
    const plain: Buffer[] = [];
    const wire: Packet[] = [{ from: A, to: B, payload: invite(keySalt, suite) }];
    // across a sequence number wrap: the ROC steps to 1
    for (let n = 65530; n < 65540; n++) {
      const pkt = rtp(n, ssrc);
      plain.push(pkt);
      wire.push({ from: A, to: B, payload: srtp.encrypt(pkt.subarray(12), RtpHeader.deSerialize(pkt)) });
    }
    const report = rtcp(ssrc);
    wire.push({ from: { ...A, port: A.port + 1 }, to: { ...B, port: B.port + 1 }, payload: srtcp.encrypt(report) });
    wire.push({ from: A, to: B, payload: wire[3]!.payload }); // a duplicate on the wire
    const stun = Buffer.from('000100002112a442000000000000000000000000', 'hex');
    wire.push({ from: B, to: A, payload: stun });
    const plainRtp = rtp(7, 0x0badcafe);
    wire.push({ from: B, to: A, payload: plainRtp }); // B sends plain RTP: no key opens it
    const file = capture(wire);

    it('takes the key from the capture\'s a=crypto and writes the plaintext, everything else as it was', async () => {
      const { counts, out, report: streams } = await run(file, [], true);
      assert.deepEqual(counts, { records: wire.length, copied: 3, decrypted: 12, notIp: 0 });
      const got = await payloads(out);
      assert.equal(got.length, wire.length);
      assert.deepEqual(got[0], wire[0]!.payload);
      for (let i = 0; i < 10; i++) assert.deepEqual(got[1 + i], plain[i], `RTP ${i}`);
      assert.deepEqual(got[11], report);
      assert.deepEqual(got[12], plain[2], 'the duplicate decrypted too');
      assert.deepEqual(got[13], stun);
      assert.deepEqual(got[14], plainRtp);
      const rtpStream = streams.find((s) => s.kind === 'srtp' && s.ssrc === ssrc)!;
      assert.equal(rtpStream.suite, suite);
      assert.equal(rtpStream.key, `a=crypto:1 of ${A.address}:${A.port}`);
      assert.deepEqual([rtpStream.packets, rtpStream.decrypted, rtpStream.failed], [11, 11, 0]);
      const rtcpStream = streams.find((s) => s.kind === 'srtcp')!;
      assert.deepEqual([rtcpStream.srcPort, rtcpStream.decrypted, rtcpStream.failed], [A.port + 1, 1, 0]);
      const other = streams.find((s) => s.ssrc === 0x0badcafe)!;
      assert.deepEqual([other.decrypted, other.failed, other.suite], [0, 1, undefined]);
    });

    it('reads the keys first when the media comes before its SDP; RTCP in the clear is counted as such, not failed', async () => {
      const clear = rtcp(ssrc);
      clear.writeUInt16BE(6, 2); // 28 bytes: (6 + 1) * 4, the whole datagram
      const early = capture([wire[1]!, { from: { ...A, port: A.port + 1 }, to: B, payload: clear }, ...wire]);
      const single = await run(early, [], true);
      assert.equal(single.report.find((s) => s.kind === 'srtp' && s.ssrc === ssrc)!.failed, 1, 'one pass: the first packet has no key yet');
      const decryptor = new SrtpDecryptor();
      await learnSdesKeys(chunks(early, 1000), decryptor);
      assert.equal(decryptor.keyCount, 1);
      const r = await decryptCapture(chunks(early, 1000), () => undefined, { decryptor });
      assert.ok(r.ok);
      assert.equal(r.counts.decrypted, 13);
      const streams = decryptor.report();
      assert.deepEqual(streams.filter((s) => s.ssrc === ssrc).map((s) => [s.kind, s.failed]), [['srtp', 0], ['srtcp', 0], ['srtcp', 0]]);
      assert.equal(streams.find((s) => s.kind === 'srtcp' && s.plain === 1)?.srcPort, A.port + 1);
    });

    it('with --no-auto and no key nothing decrypts; a wrong key fails authentication; the right one by SSRC works', async () => {
      assert.equal((await run(file, [], false)).counts.decrypted, 0);
      const wrong: DecryptKey = { suite, master: { key: randomBytes(p.keyLength), salt: randomBytes(p.saltLength) }, origin: '--key 1' };
      const bad = await run(file, [wrong], false);
      assert.equal(bad.counts.decrypted, 0);
      assert.equal(bad.report.find((s) => s.ssrc === ssrc && s.kind === 'srtp')!.failed, 11);
      const right: DecryptKey = { suite, master: { key, salt }, ssrc, origin: '--key 2' };
      const good = await run(file, [wrong, right], false);
      assert.equal(good.counts.decrypted, 12);
    });
  });
}
