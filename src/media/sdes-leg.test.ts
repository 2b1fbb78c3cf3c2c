/**
 * The SDES-SRTP leg (sdes-leg.ts) over real loopback sockets, with werift's SrtpSession and
 * SrtcpSession as the phone's independent SRTP: keys from the a=crypto lines, symmetric latching
 * (the SDP's address first, then the source of the first packet that authenticates, RTP and
 * RTCP each on its own port), forged packets neither delivered nor latched, a re-INVITE's new
 * address and key taken.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, it } from 'node:test';
import { ProtectionProfileAes128CmHmacSha1_80, RtpHeader, SrtcpSession, SrtpSession } from 'werift';
import type { RemoteSide, SdesCrypto } from './side.js';
import { chooseRemoteCrypto, createSdesLeg, newSdesCrypto, sdesMasterKey, type SdesLeg } from './sdes-leg.js';

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return socket;
}

function rtp(seq: number, ssrc: number, fill: number): Buffer {
  const p = Buffer.alloc(12 + 160, fill);
  p[0] = 0x80;
  p.writeUInt16BE(seq, 2);
  p.writeUInt32BE(seq * 160, 4);
  p.writeUInt32BE(ssrc, 8);
  return p;
}

function rr(ssrc: number): Buffer {
  const p = Buffer.alloc(8);
  p[0] = 0x80;
  p[1] = 201;
  p.writeUInt16BE(1, 2);
  p.writeUInt32BE(ssrc, 4);
  return p;
}

/** The phone: werift's SRTP with the phone's key as local and Parley's as remote. */
function phoneSrtp(phoneKey: SdesCrypto, parleyKey: SdesCrypto): { srtp: SrtpSession; srtcp: SrtcpSession } {
  const mine = sdesMasterKey(phoneKey)!;
  const theirs = sdesMasterKey(parleyKey)!;
  const config = {
    keys: { localMasterKey: Buffer.from(mine.key), localMasterSalt: Buffer.from(mine.salt), remoteMasterKey: Buffer.from(theirs.key), remoteMasterSalt: Buffer.from(theirs.salt) },
    profile: ProtectionProfileAes128CmHmacSha1_80,
  };
  return { srtp: new SrtpSession(config), srtcp: new SrtcpSession(config) };
}

function side(port: number, rtcpPort: number, crypto: SdesCrypto[]): RemoteSide {
  return {
    profile: 'sdes', mIndex: 0, address: '127.0.0.1', family: 4, port, rtcpPort, rtcpMux: false, direction: 'sendrecv',
    codecs: [{ pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 }], ssrcs: [], crypto,
  };
}

function nextMessage(socket: Socket): Promise<{ msg: Buffer; port: number }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no datagram')), 5000);
    socket.once('message', (msg, rinfo) => { clearTimeout(t); resolve({ msg, port: rinfo.port }); });
  });
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('a=crypto keys', () => {
  it('newSdesCrypto writes 30 random bytes in base64; sdesMasterKey reads them back', () => {
    const c = newSdesCrypto();
    assert.equal(c.suite, 'AES_CM_128_HMAC_SHA1_80');
    assert.equal(Buffer.from(c.keySalt, 'base64').length, 30);
    assert.notEqual(newSdesCrypto().keySalt, c.keySalt);
    const k = sdesMasterKey(c)!;
    assert.equal(k.key.length, 16);
    assert.equal(k.salt.length, 14);
  });

  it('refuses an MKI, a short key, non-base64 and unknown suites', () => {
    const good = newSdesCrypto();
    assert.equal(sdesMasterKey({ ...good, rest: '|2^20|1:4' }), undefined);
    assert.ok(sdesMasterKey({ ...good, rest: '|2^20' }));
    assert.equal(sdesMasterKey({ ...good, keySalt: good.keySalt.slice(0, 20) }), undefined);
    assert.equal(sdesMasterKey({ ...good, keySalt: `${good.keySalt.slice(0, 10)}!!${good.keySalt.slice(12)}` }), undefined);
    assert.equal(sdesMasterKey({ ...good, suite: 'F8_128_HMAC_SHA1_80' }), undefined);
    assert.equal(chooseRemoteCrypto([{ ...good, suite: 'AES_CM_128_HMAC_SHA1_32' }, good], 'AES_CM_128_HMAC_SHA1_80'), good);
    assert.equal(chooseRemoteCrypto([good], 'AES_CM_128_HMAC_SHA1_80', 2), undefined);
  });
});

describe('SDES leg', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => { for (const f of cleanup.splice(0)) f(); });

  async function setup(): Promise<{ leg: SdesLeg; sdpRtp: Socket; sdpRtcp: Socket; natRtp: Socket; natRtcp: Socket; parleyKey: SdesCrypto; phoneKey: SdesCrypto }> {
    const [rtpSocket, rtcpSocket, sdpRtp, sdpRtcp, natRtp, natRtcp] = await Promise.all([bound(), bound(), bound(), bound(), bound(), bound()]);
    const parleyKey = newSdesCrypto();
    const phoneKey = newSdesCrypto();
    const leg = createSdesLeg({
      rtpSocket, rtcpSocket, local: { address: '127.0.0.1', port: rtpSocket.address().port, rtcpPort: rtcpSocket.address().port },
      localKey: parleyKey, remote: side(sdpRtp.address().port, sdpRtcp.address().port, [phoneKey]),
    });
    cleanup.push(() => { leg.close(); for (const s of [sdpRtp, sdpRtcp, natRtp, natRtcp]) s.close(); });
    return { leg, sdpRtp, sdpRtcp, natRtp, natRtcp, parleyKey, phoneKey };
  }

  it('sends to the SDP address, latches to the first authenticated source, RTP and RTCP each', async () => {
    const { leg, sdpRtp, sdpRtcp, natRtp, natRtcp, parleyKey, phoneKey } = await setup();
    const phone = phoneSrtp(phoneKey, parleyKey);
    // before latching: to the SDP's ports, decryptable by the phone
    const first = nextMessage(sdpRtp);
    leg.sendRtp(rtp(1, 7, 0x33));
    assert.deepEqual(phone.srtp.decrypt((await first).msg), rtp(1, 7, 0x33));
    const firstRtcp = nextMessage(sdpRtcp);
    leg.sendRtcp(rr(7));
    assert.deepEqual(phone.srtcp.decrypt((await firstRtcp).msg), rr(7));
    assert.equal(leg.ready, false);

    // a forged packet from elsewhere is dropped and does not latch
    const forged = Buffer.concat([rtp(9, 8, 0), Buffer.alloc(10)]);
    natRtp.send(forged, leg.local.port, '127.0.0.1');
    const received: Buffer[] = [];
    const receivedRtcp: Buffer[] = [];
    leg.onRtp = (p) => received.push(p);
    leg.onRtcp = (p) => receivedRtcp.push(p);
    await until('the forged packet counted', () => leg.stats().dropped > 0);
    assert.equal(leg.ready, false);

    // the phone behind NAT sends from other ports: decrypted, latched
    const plain = rtp(100, 8, 0x44);
    natRtp.send(phone.srtp.encrypt(plain.subarray(12), RtpHeader.deSerialize(plain)), leg.local.port, '127.0.0.1');
    await until('RTP from the phone', () => received.length === 1);
    assert.deepEqual(received[0], plain);
    assert.ok(leg.ready);
    assert.equal(leg.rtpPeer.port, natRtp.address().port);
    natRtcp.send(phone.srtcp.encrypt(rr(8)), leg.local.rtcpPort, '127.0.0.1');
    await until('RTCP from the phone', () => receivedRtcp.length === 1);
    assert.deepEqual(receivedRtcp[0], rr(8));
    assert.equal(leg.rtcpPeer.port, natRtcp.address().port);

    const latched = nextMessage(natRtp);
    leg.sendRtp(rtp(2, 7, 0x55));
    assert.deepEqual(phone.srtp.decrypt((await latched).msg), rtp(2, 7, 0x55));
    const latchedRtcp = nextMessage(natRtcp);
    leg.sendRtcp(rr(7));
    assert.deepEqual(phone.srtcp.decrypt((await latchedRtcp).msg), rr(7));
    assert.ok(leg.lastReceived > 0);
  });

  it('a re-INVITE with a new address and key: sends there, with the new key', async () => {
    const { leg, natRtp, parleyKey, phoneKey } = await setup();
    const newPhoneKey = newSdesCrypto();
    const newParleyKey = newSdesCrypto();
    leg.update(side(natRtp.address().port, natRtp.address().port + 1, [newPhoneKey]), newParleyKey);
    const phone = phoneSrtp(newPhoneKey, newParleyKey);
    const got = nextMessage(natRtp);
    leg.sendRtp(rtp(3, 7, 0x66));
    assert.deepEqual(phone.srtp.decrypt((await got).msg), rtp(3, 7, 0x66));
    // what the phone encrypts with its old key no longer authenticates; the new key does
    const old = phoneSrtp(phoneKey, parleyKey);
    const received: Buffer[] = [];
    leg.onRtp = (p) => received.push(p);
    const stale = rtp(4, 8, 2);
    natRtp.send(old.srtp.encrypt(stale.subarray(12), RtpHeader.deSerialize(stale)), leg.local.port, '127.0.0.1');
    await until('the stale packet dropped', () => leg.stats().dropped > 0);
    const p = rtp(5, 8, 1);
    natRtp.send(phone.srtp.encrypt(p.subarray(12), RtpHeader.deSerialize(p)), leg.local.port, '127.0.0.1');
    await until('RTP with the new key', () => received.length === 1);
    assert.deepEqual(received, [p]);
  });

  it('throws when the side offers no usable key for Parley\'s suite', async () => {
    const s = await bound();
    cleanup.push(() => s.close());
    assert.throws(() => createSdesLeg({
      rtpSocket: s, local: { address: '127.0.0.1', port: 1, rtcpPort: 1 }, localKey: newSdesCrypto(),
      remote: side(1000, 1001, [newSdesCrypto('AES_CM_128_HMAC_SHA1_32')]),
    }), TypeError);
  });
});
