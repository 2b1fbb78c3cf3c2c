// The media plane's WebRTC leg (src/media/webrtc-leg.ts) against Chromium itself, no SIP: a page
// makes an RTCPeerConnection with the fake microphone, the test answers its offer for the
// leg (ICE-lite, a=setup:passive, Parley's certificate) and checks that Chromium's ICE checks,
// DTLS handshake and SRTP agree with ours: the leg decrypts Chromium's RTP (PCMU) and RTCP, and
// Chromium's getStats counts the RTP the leg sends; and the other way round, Parley offering
// (actpass) and Chromium answering active. Ports are the kernel's (port 0 on 127.0.0.1).
// Run by `npm run test:browser`, inside a loopback-only network namespace (support/netns.ts).
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createDtlsCertificate } from '../../src/media/certificate.js';
import type { RemoteSide } from '../../src/media/side.js';
import { createWebRtcLeg, type WebRtcLeg } from '../../src/media/webrtc-leg.js';
import { launchChromium, type TestBrowser } from './support/browser.js';
import { loopbackOnly } from './support/netns.js';

const where = loopbackOnly();
const ICE = { ufrag: 'prly', pwd: 'parley-chromium-test-pwd' };

function attribute(lines: readonly string[], name: string): string {
  const line = lines.find((l) => l.startsWith(`a=${name}:`));
  assert.ok(line !== undefined, `a=${name} in Chromium's offer`);
  return line.slice(name.length + 3);
}

async function until(what: string, condition: () => boolean | Promise<boolean>, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('WebRTC leg against Chromium', { skip: where.run ? false : where.skip, timeout: 60_000 }, () => {
  let chromium: TestBrowser | undefined;
  let leg: WebRtcLeg | undefined;
  let server: Server | undefined;
  before(async () => {
    chromium = await launchChromium();
    server = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end('<!doctype html><title>WebRTC leg</title>');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  after(async () => {
    leg?.close();
    await chromium?.close();
    server?.close();
  });

  it('ICE-lite, DTLS-SRTP and rtcp-mux with Chromium: RTP and RTCP both ways', async () => {
    const { page, log } = await chromium!.newUser('chromium');
    // a page of its own on http://127.0.0.1 (a secure context: getUserMedia, whose permission is
    // also what makes Chromium give host candidates rather than mDNS names)
    await page.goto(`http://127.0.0.1:${(server!.address() as AddressInfo).port}/`);
    // page scripts as text: the project's TypeScript has no DOM types
    const offer = (await page.evaluate(`(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const pc = new RTCPeerConnection();
      window.pc = pc;
      pc.addTrack(stream.getAudioTracks()[0], stream);
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise((resolve) => {
        if (pc.iceGatheringState === 'complete') resolve();
        pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve(); };
      });
      return pc.localDescription.sdp;
    })()`)) as string;
    const lines = offer.split('\r\n');
    const [algorithm, value] = attribute(lines, 'fingerprint').split(' ');
    const mid = attribute(lines, 'mid');
    assert.ok(lines.some((l) => l.startsWith('a=rtpmap:0 PCMU/8000')), 'Chromium offers PCMU');

    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const port = socket.address().port;
    const certificate = await createDtlsCertificate();
    const remote: RemoteSide = {
      profile: 'webrtc', mIndex: 0, mid, address: '127.0.0.1', family: 4, port: 9, rtcpPort: 9, rtcpMux: true, direction: 'sendrecv',
      codecs: [{ pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 }], ssrcs: [],
      ice: { ufrag: attribute(lines, 'ice-ufrag'), pwd: attribute(lines, 'ice-pwd'), candidates: [], lite: false },
      dtls: { setup: 'actpass', fingerprints: [{ algorithm: algorithm!, value: value! }] },
    };
    const failures: string[] = [];
    leg = createWebRtcLeg({ socket, local: { address: '127.0.0.1', port, rtcpPort: port }, ice: ICE, certificate, remote, onFailure: (r) => failures.push(r) });
    const rtpIn: Buffer[] = [];
    const rtcpIn: Buffer[] = [];
    leg.onRtp = (p) => rtpIn.push(p);
    leg.onRtcp = (p) => rtcpIn.push(p);

    const answer = [
      'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', `a=group:BUNDLE ${mid}`, 'a=ice-lite', 'a=msid-semantic: WMS parley',
      `m=audio ${port} UDP/TLS/RTP/SAVPF 0`, 'c=IN IP4 127.0.0.1', `a=mid:${mid}`, 'a=sendrecv', 'a=rtcp-mux',
      `a=ice-ufrag:${ICE.ufrag}`, `a=ice-pwd:${ICE.pwd}`, `a=fingerprint:sha-256 ${certificate.fingerprint.value}`, 'a=setup:passive',
      'a=rtpmap:0 PCMU/8000', `a=candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host`, 'a=end-of-candidates',
      'a=msid:parley audio', 'a=ssrc:4242 cname:parley', 'a=ssrc:4242 msid:parley audio', '',
    ].join('\r\n');
    await page.evaluate(`window.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answer)} })`);

    await until('the leg ready (ICE nominated, DTLS up)', () => leg!.ready || failures.length > 0);
    assert.deepEqual(failures, [], log.lines.join('\n'));
    await until('Chromium connected', async () => (await page.evaluate('window.pc.connectionState')) === 'connected');

    // Chromium → leg: PCMU decrypted (version 2, payload type 0, 160 bytes of payload at 20 ms)
    await until('50 RTP packets from Chromium', () => rtpIn.length >= 50);
    for (const p of rtpIn.slice(0, 50)) {
      assert.equal(p[0]! >> 6, 2);
      assert.equal(p[1]! & 0x7f, 0);
    }
    assert.ok(rtpIn.some((p) => p.length >= 12 + 160), 'a 20 ms PCMU payload');

    // leg → Chromium: PCMU packets with SSRC 4242; Chromium's inbound-rtp counts them
    let seq = 1;
    const tone = Buffer.alloc(160);
    for (let i = 0; i < 160; i++) tone[i] = i % 16 < 8 ? 0x20 : 0xa0;
    const sender = setInterval(() => {
      const p = Buffer.alloc(12 + 160);
      p[0] = 0x80;
      p[1] = 0;
      p.writeUInt16BE(seq & 0xffff, 2);
      p.writeUInt32BE(seq * 160, 4);
      p.writeUInt32BE(4242, 8);
      tone.copy(p, 12);
      seq++;
      leg!.sendRtp(p);
    }, 20);
    try {
      await until('Chromium counting our RTP', async () => {
        const received = (await page.evaluate(`(async () => {
          let n = 0;
          (await window.pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') n = s.packetsReceived; });
          return n;
        })()`)) as number;
        return received >= 50;
      });
    } finally {
      clearInterval(sender);
    }
    // Chromium's RTCP (sender and receiver reports) decrypted by the leg
    await until('RTCP from Chromium', () => rtcpIn.length > 0);
    assert.ok(rtcpIn.every((p) => p[1]! >= 200 && p[1]! <= 207), 'RTCP packet types');
    assert.equal(leg.dtlsState, 'connected');
  });
  it('Parley offers (actpass, ICE-lite), Chromium answers active: RTP both ways', async () => {
    const { page, log } = await chromium!.newUser('answerer');
    await page.goto(`http://127.0.0.1:${(server!.address() as AddressInfo).port}/`);
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const port = socket.address().port;
    const certificate = await createDtlsCertificate();
    const offer = [
      'v=0', 'o=- 2 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0', 'a=ice-lite', 'a=msid-semantic: WMS parley',
      `m=audio ${port} UDP/TLS/RTP/SAVPF 0`, 'c=IN IP4 127.0.0.1', 'a=mid:0', 'a=sendrecv', 'a=rtcp-mux',
      `a=ice-ufrag:${ICE.ufrag}`, `a=ice-pwd:${ICE.pwd}`, `a=fingerprint:sha-256 ${certificate.fingerprint.value}`, 'a=setup:actpass',
      'a=rtpmap:0 PCMU/8000', `a=candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host`, 'a=end-of-candidates',
      'a=msid:parley audio', 'a=ssrc:4343 cname:parley', 'a=ssrc:4343 msid:parley audio', '',
    ].join('\r\n');
    const answer = (await page.evaluate(`(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const pc = new RTCPeerConnection();
      window.pc2 = pc;
      await pc.setRemoteDescription({ type: 'offer', sdp: ${JSON.stringify(offer)} });
      pc.addTrack(stream.getAudioTracks()[0], stream);
      pc.getTransceivers()[0].direction = 'sendrecv';
      await pc.setLocalDescription(await pc.createAnswer());
      await new Promise((resolve) => {
        if (pc.iceGatheringState === 'complete') resolve();
        pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve(); };
      });
      return pc.localDescription.sdp;
    })()`)) as string;
    const lines = answer.split('\r\n');
    assert.equal(attribute(lines, 'setup'), 'active', 'Chromium answers actpass with active');
    const [algorithm, value] = attribute(lines, 'fingerprint').split(' ');
    const remote: RemoteSide = {
      profile: 'webrtc', mIndex: 0, mid: '0', address: '127.0.0.1', family: 4, port: 9, rtcpPort: 9, rtcpMux: true, direction: 'sendrecv',
      codecs: [{ pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 }], ssrcs: [],
      ice: { ufrag: attribute(lines, 'ice-ufrag'), pwd: attribute(lines, 'ice-pwd'), candidates: [], lite: false },
      dtls: { setup: 'active', fingerprints: [{ algorithm: algorithm!, value: value! }] },
    };
    const failures: string[] = [];
    const second = createWebRtcLeg({ socket, local: { address: '127.0.0.1', port, rtcpPort: port }, ice: ICE, certificate, remote, onFailure: (r) => failures.push(r) });
    try {
      const rtpIn: Buffer[] = [];
      second.onRtp = (p) => rtpIn.push(p);
      await until('the leg ready', () => second.ready || failures.length > 0);
      assert.deepEqual(failures, [], log.lines.join('\n'));
      await until('RTP from Chromium', () => rtpIn.length >= 20);
      await until('Chromium connected', async () => (await page.evaluate('window.pc2.connectionState')) === 'connected');
      let seq = 1;
      const sender = setInterval(() => {
        const p = Buffer.alloc(12 + 160, 0x55);
        p[0] = 0x80;
        p[1] = 0;
        p.writeUInt16BE(seq, 2);
        p.writeUInt32BE(seq * 160, 4);
        p.writeUInt32BE(4343, 8);
        seq++;
        second.sendRtp(p);
      }, 20);
      try {
        await until('Chromium counting our RTP', async () => ((await page.evaluate(`(async () => {
          let n = 0;
          (await window.pc2.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') n = s.packetsReceived; });
          return n;
        })()`)) as number) >= 20);
      } finally {
        clearInterval(sender);
      }
    } finally {
      second.close();
    }
  });
});
