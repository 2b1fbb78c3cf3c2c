/**
 * The WebRTC leg (webrtc-leg.ts) against an independent peer: werift's RTCPeerConnection (full
 * ICE, controlling; DTLS client) on 127.0.0.1 offers audio, the test answers with a hand-written
 * SDP for the leg (ICE-lite, passive, Parley's fingerprint), and RTP and RTCP flow both ways,
 * decrypted right. A wrong fingerprint in the offer closes the leg.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCRtpTransceiver } from 'werift';
import { verifyMessageIntegrity } from '../stun/integrity.js';
import { StunAttr } from '../stun/attribute-types.js';
import { StunMessageBuilder } from '../stun/builder.js';
import { newTransactionId, parseStunMessage, StunMethod, type StunMessage } from '../stun/message.js';
import { createDtlsCertificate, type DtlsCertificate } from './certificate.js';
import type { RemoteSide } from './side.js';
import { createWebRtcLeg, type WebRtcLeg } from './webrtc-leg.js';

const LOCAL_ICE = { ufrag: 'prly', pwd: 'parley-test-password-1234' };

/** The attributes of the first audio section of an SDP (a test reads werift's own offer). */
function readOffer(sdp: string): { ufrag: string; pwd: string; setup: string; fingerprint: { algorithm: string; value: string }; mid: string } {
  const lines = sdp.split('\r\n');
  const value = (name: string): string => {
    const line = lines.find((l) => l.startsWith(`a=${name}:`));
    assert.ok(line !== undefined, `a=${name} in the offer`);
    return line.slice(name.length + 3);
  };
  const [algorithm, fp] = value('fingerprint').split(' ');
  return { ufrag: value('ice-ufrag'), pwd: value('ice-pwd'), setup: value('setup'), fingerprint: { algorithm: algorithm!, value: fp! }, mid: value('mid') };
}

function remoteSide(offer: ReturnType<typeof readOffer>, fingerprint = offer.fingerprint, setup = offer.setup): RemoteSide {
  return {
    profile: 'webrtc', mIndex: 0, mid: offer.mid, address: '127.0.0.1', family: 4, port: 9, rtcpPort: 9, rtcpMux: true,
    direction: 'sendrecv', codecs: [{ pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 }], ssrcs: [],
    ice: { ufrag: offer.ufrag, pwd: offer.pwd, candidates: [], lite: false },
    dtls: { setup: setup as 'actpass', fingerprints: [fingerprint] },
  };
}

function answer(offer: ReturnType<typeof readOffer>, port: number, certificate: DtlsCertificate, setup = 'passive', ice = LOCAL_ICE): string {
  return [
    'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', `a=group:BUNDLE ${offer.mid}`, 'a=ice-lite',
    `m=audio ${port} UDP/TLS/RTP/SAVPF 0`, 'c=IN IP4 127.0.0.1', `a=mid:${offer.mid}`, 'a=sendrecv', 'a=rtcp-mux',
    `a=ice-ufrag:${ice.ufrag}`, `a=ice-pwd:${ice.pwd}`,
    `a=fingerprint:${certificate.fingerprint.algorithm} ${certificate.fingerprint.value}`, `a=setup:${setup}`,
    'a=rtpmap:0 PCMU/8000', `a=candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host`, 'a=end-of-candidates',
    'a=ssrc:4242 cname:parley', '',
  ].join('\r\n');
}

function rtp(seq: number, ssrc: number, fill: number): Buffer {
  const p = Buffer.alloc(12 + 160, fill);
  p[0] = 0x80;
  p[1] = 0;
  p.writeUInt16BE(seq, 2);
  p.writeUInt32BE(seq * 160, 4);
  p.writeUInt32BE(ssrc, 8);
  return p;
}

async function until(what: string, condition: () => boolean, limitMs = 15_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return socket;
}

interface Call { pc: RTCPeerConnection; transceiver: RTCRtpTransceiver; leg: WebRtcLeg; failures: string[]; offer: ReturnType<typeof readOffer> }

/** `parleyClient`: Parley answers `active` (the side is then `passive`) and is the DTLS client. */
async function call(certificate: DtlsCertificate, tamper = false, parleyClient = false): Promise<Call> {
  const pc = new RTCPeerConnection({
    codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 })] },
    // a STUN server on loopback (nothing answers): without one werift asks stun.l.google.com
    iceServers: [{ urls: 'stun:127.0.0.1:9' }], iceStunGatherTimeout: 1,
    // only the loopback candidate (werift also gathers the other interfaces' addresses)
    iceFilterCandidatePair: (pair) => pair.localCandidate.host === '127.0.0.1',
    iceUseIpv6: false, iceUseTcp: false, iceInterfaceAddresses: { udp4: '127.0.0.1' }, iceAdditionalHostAddresses: ['127.0.0.1'],
  });
  const transceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') await pc.iceGatheringStateChange.watch((s) => s === 'complete', 10_000);
  const offer = readOffer(pc.localDescription!.sdp);
  const socket = await bound();
  const port = socket.address().port;
  const failures: string[] = [];
  const fingerprint = tamper ? { algorithm: 'sha-256', value: offer.fingerprint.value.replace(/^../, offer.fingerprint.value.startsWith('00') ? '11' : '00') } : offer.fingerprint;
  const leg = createWebRtcLeg({
    socket, local: { address: '127.0.0.1', port, rtcpPort: port }, ice: LOCAL_ICE, certificate,
    remote: remoteSide(offer, fingerprint, parleyClient ? 'passive' : offer.setup), onFailure: (reason) => failures.push(reason),
  });
  await pc.setRemoteDescription({ type: 'answer', sdp: answer(offer, port, certificate, parleyClient ? 'active' : 'passive') });
  return { pc, transceiver, leg, failures, offer };
}

describe('WebRTC leg against werift RTCPeerConnection', () => {
  let certificate: DtlsCertificate;
  before(async () => { certificate = await createDtlsCertificate(); });
  const open: Call[] = [];
  after(async () => {
    for (const c of open) {
      c.leg.close();
      await c.pc.close();
    }
  });

  it('ICE-lite and DTLS (Parley the server) come up; RTP and RTCP flow both ways, decrypted right', async () => {
    const c = await call(certificate);
    open.push(c);
    await until('the leg ready', () => c.leg.ready);
    // werift's side finishes its handshake a moment after Parley's: what it sends before is dropped by werift itself
    await until('werift connected', () => c.pc.connectionState === 'connected');
    assert.equal(c.leg.dtlsState, 'connected');
    assert.deepEqual(c.leg.selected?.address, '127.0.0.1');

    // werift → leg
    const fromWerift: Buffer[] = [];
    const rtcpFromWerift: Buffer[] = [];
    c.leg.onRtp = (p) => fromWerift.push(p);
    c.leg.onRtcp = (p) => rtcpFromWerift.push(p);
    for (let i = 0; i < 20; i++) await c.transceiver.sender.sendRtp(rtp(100 + i, 0, 0x10 + i));
    await until('RTP from werift', () => fromWerift.length >= 20);
    for (const [i, p] of fromWerift.slice(0, 20).entries()) {
      const h = RtpHeader.deSerialize(p);
      assert.equal(h.payloadType, 0);
      assert.equal(p.length, 172);
      assert.ok(p.subarray(12).every((b) => b === 0x10 + i), `payload of packet ${i}`);
    }

    // leg → werift
    const atWerift: RtpPacket[] = [];
    const track = c.transceiver.receiver.track ?? (await c.pc.onTrack.asPromise(10_000))[0];
    track.onReceiveRtp.subscribe((p) => atWerift.push(p));
    for (let i = 0; i < 20; i++) c.leg.sendRtp(rtp(500 + i, 4242, 0x60 + i));
    await until('RTP at werift', () => atWerift.length >= 20);
    for (const [i, p] of atWerift.slice(0, 20).entries()) {
      assert.equal(p.header.sequenceNumber, 500 + i);
      assert.equal(p.header.ssrc, 4242);
      assert.ok(p.payload.every((b) => b === 0x60 + i), `payload of packet ${i}`);
    }

    // RTCP: werift's receiver reports and sender reports reach the leg decrypted; one of ours reaches werift
    await until('RTCP from werift', () => rtcpFromWerift.length > 0, 20_000);
    assert.ok([200, 201].includes(rtcpFromWerift[0]![1]!), `RTCP type ${rtcpFromWerift[0]![1]}`);
    const rtcpAtWerift: unknown[] = [];
    track.onReceiveRtcp.subscribe((p) => rtcpAtWerift.push(p));
    const sr = Buffer.alloc(28);
    sr[0] = 0x80;
    sr[1] = 200;
    sr.writeUInt16BE(6, 2);
    sr.writeUInt32BE(4242, 4);
    c.leg.sendRtcp(sr);
    await until('RTCP at werift', () => rtcpAtWerift.length > 0);
    const stats = c.leg.stats();
    assert.ok(stats.packetsIn >= 21 && stats.packetsOut >= 21);
    assert.ok(c.leg.lastReceived > 0);
  });

  it('Parley as the DTLS client (the side is passive): keys agree both ways', async () => {
    const c = await call(certificate, false, true);
    open.push(c);
    await until('the leg ready', () => c.leg.ready);
    await until('werift connected', () => c.pc.connectionState === 'connected');
    const fromWerift: Buffer[] = [];
    c.leg.onRtp = (p) => fromWerift.push(p);
    await c.transceiver.sender.sendRtp(rtp(7, 0, 0x21));
    await until('RTP from werift', () => fromWerift.length > 0);
    assert.ok(fromWerift[0]!.subarray(12).every((b) => b === 0x21));
    const atWerift: RtpPacket[] = [];
    const track = c.transceiver.receiver.track ?? (await c.pc.onTrack.asPromise(10_000))[0];
    track.onReceiveRtp.subscribe((p) => atWerift.push(p));
    c.leg.sendRtp(rtp(9, 4242, 0x22));
    await until('RTP at werift', () => atWerift.length > 0);
    assert.ok(atWerift[0]!.payload.every((b) => b === 0x22));
  });

  it('update() with a new remote ufrag restarts ICE: checks need the new credentials, media keeps its pair and keys', async () => {
    const c = await call(certificate);
    open.push(c);
    await until('the leg ready', () => c.leg.ready);
    await until('werift connected', () => c.pc.connectionState === 'connected');
    const selected = c.leg.selected;
    const fresh = { ufrag: 'prl2', pwd: 'parley-test-password-5678' };
    c.leg.update(remoteSide({ ...c.offer, ufrag: 'rest', pwd: 'restarted-remote-password' }), fresh);
    // checks as the browser sends them after the restart, from a socket of the test
    const probe = await bound();
    const answers: StunMessage[] = [];
    probe.on('message', (m) => { const r = parseStunMessage(m); if (r.ok) answers.push(r.value); });
    const check = (username: string, pwd: string): Uint8Array => new StunMessageBuilder(StunMethod.Binding, 'request', newTransactionId())
      .addString(StunAttr.USERNAME, username).addUint32(StunAttr.PRIORITY, 1).add(StunAttr.ICE_CONTROLLING, new Uint8Array(8))
      .addMessageIntegrity(new TextEncoder().encode(pwd)).addFingerprint().build();
    probe.send(check(`${LOCAL_ICE.ufrag}:${c.offer.ufrag}`, LOCAL_ICE.pwd), c.leg.local.port, '127.0.0.1');
    await until('an answer to the old credentials', () => answers.length === 1);
    assert.equal(answers[0]!.class, 'error', 'the old credentials are refused');
    probe.send(check('prl2:rest', fresh.pwd), c.leg.local.port, '127.0.0.1');
    await until('an answer to the new credentials', () => answers.length === 2);
    assert.equal(answers[1]!.class, 'success');
    assert.ok(verifyMessageIntegrity(answers[1]!, new TextEncoder().encode(fresh.pwd)));
    probe.close();
    assert.deepEqual(c.leg.selected, selected, 'the pair stays until a new nomination');
    assert.equal(c.leg.dtlsState, 'connected', 'same fingerprint, same DTLS association');
    const atWerift: RtpPacket[] = [];
    const track = c.transceiver.receiver.track ?? (await c.pc.onTrack.asPromise(10_000))[0];
    track.onReceiveRtp.subscribe((p) => atWerift.push(p));
    c.leg.sendRtp(rtp(800, 4242, 0x41));
    await until('RTP at werift after the restart', () => atWerift.length > 0);
    const fromWerift: Buffer[] = [];
    c.leg.onRtp = (p) => fromWerift.push(p);
    await c.transceiver.sender.sendRtp(rtp(801, 0, 0x42));
    await until('RTP from werift after the restart', () => fromWerift.length > 0);
  });

  it('update() with the same SDP changes nothing (a re-INVITE for hold or a codec change)', async () => {
    const c = await call(certificate);
    open.push(c);
    await until('the leg ready', () => c.leg.ready);
    await until('werift connected', () => c.pc.connectionState === 'connected');
    c.leg.update({ ...remoteSide(c.offer), direction: 'sendonly' }, LOCAL_ICE);
    assert.ok(c.leg.ready);
    assert.equal(c.leg.dtlsState, 'connected');
    const fromWerift: Buffer[] = [];
    c.leg.onRtp = (p) => fromWerift.push(p);
    await c.transceiver.sender.sendRtp(rtp(50, 0, 0x51));
    await until('RTP from werift after the update', () => fromWerift.length > 0);
  });

  it('a DTLS certificate that does not match the SDP fingerprint closes the leg', async () => {
    const c = await call(certificate, true);
    open.push(c);
    await until('the leg to fail', () => c.failures.length > 0);
    assert.match(c.failures[0]!, /fingerprint/);
    assert.equal(c.leg.ready, false);
    assert.equal(c.leg.dtlsState, 'failed');
  });
});
