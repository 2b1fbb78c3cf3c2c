/**
 * µs per 172-byte RTP packet for SRTP protect and unprotect (src/media/srtp.ts), against the
 * same work with one createCipheriv('aes-128-ctr') and one createHmac per packet. Bounded: 50,000
 * packets per variant; werift's SrtpSession last. Run: ./node_modules/.bin/node --import tsx scripts/srtp-speed.mts
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { SrtpContext } from '../src/srtp/index.js';

const N = 50_000;
const packet = Buffer.alloc(172, 0xd5);
packet[0] = 0x80;
packet.writeUInt32BE(0x1234, 8);
const k = { key: randomBytes(16), salt: randomBytes(14) };
const ctx = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', local: k, remote: k });

function time(name: string, f: (i: number) => void): void {
  for (let i = 0; i < 2000; i++) f(i); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) f(i);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / N;
  console.log(`${name.padEnd(44)} ${us.toFixed(2)} µs/packet`);
}

let seq = 0;
time('SrtpContext.protectRtp (ECB keystream)', () => { packet.writeUInt16BE(seq++ & 0xffff, 2); ctx.protectRtp(packet); });
const receiver = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', local: k, remote: k });
const sender = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', local: k, remote: k });
const wires: Buffer[] = [];
for (let i = 0; i < N + 2000; i++) { packet.writeUInt16BE(i & 0xffff, 2); wires.push(sender.protectRtp(packet)!); }
time('SrtpContext.unprotectRtp', (i) => { receiver.unprotectRtp(wires[i % wires.length]!); });
const ek = randomBytes(16);
const ak = randomBytes(20);
const iv = randomBytes(16);
time('createCipheriv(aes-128-ctr) + createHmac', () => {
  const c = createCipheriv('aes-128-ctr', ek, iv);
  const body = c.update(packet.subarray(12));
  const h = createHmac('sha1', ak).update(packet.subarray(0, 12)).update(body).update(Buffer.alloc(4)).digest();
  Buffer.concat([packet.subarray(0, 12), body, h.subarray(0, 10)]);
});
// werift's SrtpSession (its per-packet createCipheriv and createHmac), for comparison
const { SrtpSession, RtpHeader, ProtectionProfileAes128CmHmacSha1_80 } = await import('werift');
const session = new SrtpSession({
  keys: { localMasterKey: k.key, localMasterSalt: k.salt, remoteMasterKey: k.key, remoteMasterSalt: k.salt },
  profile: ProtectionProfileAes128CmHmacSha1_80,
});
let wseq = 0;
time('werift SrtpSession.encrypt', () => {
  packet.writeUInt16BE(wseq++ & 0xffff, 2);
  session.encrypt(packet.subarray(12), RtpHeader.deSerialize(packet));
});
