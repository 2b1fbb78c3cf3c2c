import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { MediaOfferRequest, MediaResult } from '../lib/media-control.js';
import { audioOf, phoneSdp } from '../../test/support/phone-sdp.js';
import { RtpPeer, until, udpHandles } from '../../test/support/rtp-peer.js';
import { createDtmfMapper, createTranscoder } from './codecs/index.js';
import { createDtlsCertificate } from './certificate.js';
import { legFactory } from './leg-factory.js';
import { CHROMIUM_OFFER } from '../sdp/testdata/real-sdps.js';
import { MediaSessions, needsAnchor } from './media-sessions.js';
import { PortPool } from './port-pool.js';
import type { SdpFunctions } from './sdp-functions.js';
import { sdpFunctions } from './sdp-wiring.js';

const SOURCE = { transport: 'udp', address: '127.0.0.1', port: 5060 } as const;

function manager(o: { now?: () => number; minPort?: number; maxPort?: number; maxSessions?: number; transcode?: boolean } = {}): MediaSessions {
  return new MediaSessions({
    pool: new PortPool({ address: '127.0.0.1', minPort: o.minPort ?? 0, maxPort: o.maxPort ?? 0 }),
    advertise: '127.0.0.1',
    timeoutS: 60,
    maxSessions: o.maxSessions ?? 100,
    sdp: sdpFunctions as SdpFunctions,
    legs: legFactory(o.now === undefined ? {} : { now: o.now }),
    ...(o.now === undefined ? {} : { now: o.now }),
    ...(o.transcode === true ? { codecs: { createTranscoder: (from, to) => createTranscoder(from, to), createDtmfMapper } } : {}),
  });
}

function offer(callId: string, sdp: string, extra: Partial<MediaOfferRequest> = {}): MediaOfferRequest {
  return { callId, fromTag: 'a-tag', branch: 'z9hG4bK-1', sdp, source: SOURCE, towards: 'rtp', mode: 'always', ...extra };
}

function sdpOf(r: MediaResult): string {
  assert.ok(r.ok && r.anchored, `anchored result expected, got ${JSON.stringify(r)}`);
  return r.sdp;
}

const peers: RtpPeer[] = [];
async function peer(): Promise<RtpPeer> {
  const p = await RtpPeer.open();
  peers.push(p);
  return p;
}
after(() => {
  for (const p of peers) p.close();
});

/** An anchored call between two phones: A offered, B answered; each knows where Parley listens for it. */
async function call(m: MediaSessions, callId: string, answerCodecs?: string[]) {
  const a = await peer();
  const b = await peer();
  const toB = audioOf(sdpOf(await m.offer(offer(callId, phoneSdp('127.0.0.1', a.port)))));
  const toA = audioOf(sdpOf(await m.answer({ callId, fromTag: 'a-tag', toTag: 'b-tag', branch: 'z9hG4bK-1', sdp: phoneSdp('127.0.0.1', b.port, answerCodecs), source: SOURCE })));
  return { a, b, toA, toB };
}

describe('MediaSessions', () => {
  it('relays RTP both ways between the two legs and frees every socket on delete', async () => {
    const before = udpHandles();
    const m = manager();
    const { a, b, toA, toB } = await call(m, 'call-1');
    assert.equal(toA.address, '127.0.0.1');
    assert.notEqual(toA.port, toB.port);
    assert.equal(m.sockets, 4);
    for (let i = 0; i < 5; i++) a.sendRtp(0, toA.port);
    for (let i = 0; i < 3; i++) b.sendRtp(0, toB.port);
    assert.ok(await until(() => b.received.length === 5 && a.received.length === 3), `B got ${b.received.length}, A got ${a.received.length}`);
    // each side hears Parley's port of its own leg: symmetric RTP
    assert.equal(b.received[0]!.port, toB.port);
    assert.equal(a.received[0]!.port, toA.port);
    await m.delete({ callId: 'call-1', reason: 'bye' });
    assert.equal(m.sockets, 0);
    assert.equal(m.size, 0);
    assert.ok(await until(() => udpHandles() <= before + 4), 'the legs\' sockets are closed (the peers\' 4 remain)');
  });

  it('counts packets of open sessions and keeps those of deleted ones (packets); lists the open sessions (list)', async () => {
    const m = manager();
    const { a, b, toA, toB } = await call(m, 'call-count');
    for (let i = 0; i < 4; i++) a.sendRtp(0, toA.port);
    for (let i = 0; i < 2; i++) b.sendRtp(0, toB.port);
    assert.ok(await until(() => b.received.length === 4 && a.received.length === 2));
    // each packet is received on one leg and sent on the other
    assert.deepEqual(m.packets(), { in: 6, out: 6 });
    const [listed, ...others] = m.list();
    assert.equal(others.length, 0);
    assert.equal(listed!.callId, 'call-count');
    assert.deepEqual(listed!.legs.map((l) => [l.tag, l.protocol, l.codec, l.packetsIn, l.packetsOut, l.remote]), [
      ['a-tag', 'rtp', 'PCMU', 4, 2, `127.0.0.1:${a.port}`],
      ['b-tag', 'rtp', 'PCMU', 2, 4, `127.0.0.1:${b.port}`],
    ]);
    assert.deepEqual(listed!.legs.map((l) => l.local), [`127.0.0.1:${toA.port}`, `127.0.0.1:${toB.port}`]);
    await m.delete({ callId: 'call-count', reason: 'bye' });
    assert.deepEqual(m.list(), []);
    assert.deepEqual(m.packets(), { in: 6, out: 6 });
  });

  it('maps payload types between the sides (telephone-event 101 on one, 96 on the other) and drops types not negotiated', async () => {
    const m = manager();
    const { a, b, toA } = await call(m, 'call-pt', ['0 PCMU/8000', '96 telephone-event/8000']);
    a.sendRtp(101, toA.port);
    a.sendRtp(8, toA.port); // PCMA: not in the answer
    a.sendRtp(0, toA.port);
    assert.ok(await until(() => b.received.length === 2));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(b.received.map((r) => r.packet[1]! & 0x7f), [96, 0]);
    assert.equal(m.session('call-pt')!.bridge!.counters.dropped, 1);
    await m.delete({ callId: 'call-pt', reason: 'bye' });
  });

  it('latches to where the phone sends from, not the SDP address (a phone behind NAT)', async () => {
    const m = manager();
    const a = await peer();
    const natted = await peer();
    const toB = audioOf(sdpOf(await m.offer(offer('call-nat', phoneSdp('127.0.0.1', a.port)))));
    // B writes a port it does not send from (its private address behind a NAT, here a port nobody reads)
    const toA = audioOf(sdpOf(await m.answer({ callId: 'call-nat', fromTag: 'a-tag', toTag: 'b', branch: 'z9hG4bK-1', sdp: phoneSdp('127.0.0.1', 9), source: SOURCE })));
    natted.sendRtp(0, toB.port);
    assert.ok(await until(() => a.received.length === 1));
    a.sendRtp(0, toA.port);
    assert.ok(await until(() => natted.received.length === 1), 'Parley sent to the latched source');
    // another source on the latched leg is dropped
    const stranger = await peer();
    stranger.sendRtp(0, toB.port);
    natted.sendRtp(0, toB.port);
    assert.ok(await until(() => a.received.length === 2));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(a.received.length, 2);
    await m.delete({ callId: 'call-nat', reason: 'bye' });
  });

  it('passes RTCP on its own ports (a=rtcp of the SDP, RFC 3605), latched like RTP', async () => {
    const m = manager();
    const a = await peer();
    const bRtcp = await peer();
    const toB = audioOf(sdpOf(await m.offer(offer('call-rtcp', phoneSdp('127.0.0.1', a.port)))));
    const toA = audioOf(sdpOf(await m.answer({ callId: 'call-rtcp', fromTag: 'a-tag', toTag: 'b', branch: 'z9hG4bK-1', sdp: phoneSdp('127.0.0.1', 4000).replace('a=sendrecv', `a=rtcp:${bRtcp.port}\r\na=sendrecv`), source: SOURCE })));
    assert.equal(toA.rtcpPort, toA.port + 1);
    a.send(RtpPeer.rtcp(), toA.rtcpPort);
    assert.ok(await until(() => bRtcp.received.length === 1));
    assert.equal(bRtcp.received[0]!.port, toB.rtcpPort);
    assert.equal(bRtcp.received[0]!.packet[1], 201);
    // an RTP packet on the RTCP port is not RTCP: dropped
    a.sendRtp(0, toA.rtcpPort);
    bRtcp.send(RtpPeer.rtcp(), toB.rtcpPort);
    assert.ok(await until(() => a.received.length === 1), 'B\'s RTCP reached A where A sent its own from (latched)');
    m.close();
  });

  it('answers the same answer again with the same SDP and no new ports (a 2xx retransmitted, a 183 then a 200)', async () => {
    const m = manager();
    const b = await peer();
    await m.offer(offer('call-rx', phoneSdp('127.0.0.1', 4000)));
    const req = { callId: 'call-rx', fromTag: 'a-tag', toTag: 'b', branch: 'z9hG4bK-1', sdp: phoneSdp('127.0.0.1', b.port), source: SOURCE };
    const first = sdpOf(await m.answer(req));
    const sockets = m.sockets;
    assert.equal(sdpOf(await m.answer(req)), first);
    assert.equal(m.sockets, sockets);
    // the same offer again on its branch: the same SDP
    const again = await m.offer(offer('call-rx', phoneSdp('127.0.0.1', 4000)));
    assert.equal(again.ok, true);
    assert.equal(m.sockets, sockets);
    await m.delete({ callId: 'call-rx', reason: 'bye' });
    assert.equal(m.sockets, 0);
  });

  it('takes ports per branch of a forked offer; a failed branch gives its ports back; the answer picks one', async () => {
    const m = manager();
    const first = audioOf(sdpOf(await m.offer(offer('call-fork', phoneSdp('127.0.0.1', 4000)))));
    const second = audioOf(sdpOf(await m.offer(offer('call-fork', phoneSdp('127.0.0.1', 4000), { branch: 'z9hG4bK-2' }))));
    assert.notEqual(first.port, second.port);
    assert.equal(m.sockets, 6);
    await m.delete({ callId: 'call-fork', branch: 'z9hG4bK-1', reason: 'failure 486' });
    assert.equal(m.sockets, 4);
    const b = await peer();
    sdpOf(await m.answer({ callId: 'call-fork', fromTag: 'a-tag', toTag: 'b', branch: 'z9hG4bK-2', sdp: phoneSdp('127.0.0.1', b.port), source: SOURCE }));
    await m.delete({ callId: 'call-fork', reason: 'bye' });
    assert.equal(m.sockets, 0);
  });

  it('frees the ports of an offer that is never answered (CANCEL), and of one that times out', async () => {
    let now = 1000;
    const m = manager({ now: () => now });
    await m.offer(offer('call-cancel', phoneSdp('127.0.0.1', 4000)));
    assert.equal(m.sockets, 4);
    await m.delete({ callId: 'call-cancel', reason: 'cancel' });
    assert.equal(m.sockets, 0);
    await m.offer(offer('call-unanswered', phoneSdp('127.0.0.1', 4000)));
    now += 59_000;
    m.tick();
    assert.equal(m.size, 1);
    now += 2000;
    m.tick();
    assert.equal(m.size, 0);
    assert.equal(m.sockets, 0);
    assert.equal(m.timedOut, 1);
  });

  it('deletes an answered call whose media stopped for the timeout, and keeps one with media', async () => {
    let now = 1000;
    const m = manager({ now: () => now });
    const quiet = await call(m, 'call-quiet');
    const { a, toA } = await call(m, 'call-talking');
    now += 50_000;
    a.sendRtp(0, toA.port);
    assert.ok(await until(() => m.session('call-talking')!.a.leg!.lastReceived === now));
    now += 20_000;
    m.tick();
    assert.equal(m.session('call-quiet'), undefined);
    assert.ok(m.session('call-talking'));
    assert.equal(m.sockets, 4);
    void quiet;
    m.close();
    assert.equal(m.sockets, 0);
  });

  it('refuses SDP it cannot serve with 488 and a Warning, leaving no port taken', async () => {
    const m = manager();
    const bad = await m.offer(offer('call-bad', 'this is not SDP'));
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && bad.status === 488 && bad.warnCode === 399);
    const v6 = await m.offer(offer('call-v6', phoneSdp('127.0.0.1', 4000).replaceAll('IN IP4 127.0.0.1', 'IN IP6 ::1')));
    assert.ok(!v6.ok && v6.status === 488 && v6.warnCode === 301, JSON.stringify(v6));
    assert.equal(m.sockets, 0);
    // an answer with no codec in common (G.729 against PCMU) and no transcoder
    await m.offer(offer('call-codec', phoneSdp('127.0.0.1', 4000)));
    const none = await m.answer({ callId: 'call-codec', fromTag: 'a-tag', toTag: 'b', branch: 'z9hG4bK-1', sdp: phoneSdp('127.0.0.1', 4002, ['18 G729/8000']), source: SOURCE });
    assert.ok(!none.ok && none.status === 488 && none.warnCode === 305, JSON.stringify(none));
    await m.delete({ callId: 'call-codec', reason: 'failure 488' });
    assert.equal(m.sockets, 0);
  });

  it('refuses an offer with 503 "no media ports" when the range is used up', async () => {
    const m = manager({ minPort: 21830, maxPort: 21833 });
    sdpOf(await m.offer(offer('call-full-1', phoneSdp('127.0.0.1', 4000))));
    const r = await m.offer(offer('call-full-2', phoneSdp('127.0.0.1', 4000)));
    assert.deepEqual(r, { ok: false, status: 503, warnCode: 399, warning: 'no media ports' });
    assert.equal(m.sockets, 4);
    m.close();
    assert.equal(m.sockets, 0);
  });

  it('puts a held side on hold: nothing is sent to a side that said sendonly, its packets still go through; resume', async () => {
    const m = manager();
    const { a, b, toA, toB } = await call(m, 'call-hold');
    // A holds (a=sendonly): the re-offer to B keeps Parley's port, says sendonly, and a new version
    const held = audioOf(sdpOf(await m.offer(offer('call-hold', phoneSdp('127.0.0.1', a.port, undefined, 'sendonly'), { branch: 'z9hG4bK-re1', mode: 'dialog' }))));
    assert.equal(held.port, toB.port);
    assert.equal(held.version, toB.version + 1);
    assert.ok(held.lines.includes('a=sendonly'));
    const back = audioOf(sdpOf(await m.answer({ callId: 'call-hold', fromTag: 'a-tag', toTag: 'b-tag', branch: 'z9hG4bK-re1', sdp: phoneSdp('127.0.0.1', b.port, undefined, 'recvonly'), source: SOURCE })));
    assert.equal(back.port, toA.port);
    assert.ok(back.lines.includes('a=recvonly'));
    b.sendRtp(0, toB.port);
    a.sendRtp(0, toA.port);
    assert.ok(await until(() => b.received.length === 1));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(a.received.length, 0, 'nothing sent to the side on hold');
    // resume
    sdpOf(await m.offer(offer('call-hold', phoneSdp('127.0.0.1', a.port), { branch: 'z9hG4bK-re2', mode: 'dialog' })));
    sdpOf(await m.answer({ callId: 'call-hold', fromTag: 'a-tag', toTag: 'b-tag', branch: 'z9hG4bK-re2', sdp: phoneSdp('127.0.0.1', b.port), source: SOURCE }));
    b.sendRtp(0, toB.port);
    assert.ok(await until(() => a.received.length === 1));
    assert.equal(m.sockets, 4);
    m.close();
  });

  it('takes a re-offer from the callee (B) the same way', async () => {
    const m = manager();
    const { a, b, toA, toB } = await call(m, 'call-b-re');
    const toAre = audioOf(sdpOf(await m.offer(offer('call-b-re', phoneSdp('127.0.0.1', b.port, ['0 PCMU/8000']), { fromTag: 'b-tag', branch: 'z9hG4bK-b1', mode: 'dialog' }))));
    assert.equal(toAre.port, toA.port);
    assert.equal(toAre.version, toA.version + 1);
    const toBre = audioOf(sdpOf(await m.answer({ callId: 'call-b-re', fromTag: 'b-tag', toTag: 'a-tag', branch: 'z9hG4bK-b1', sdp: phoneSdp('127.0.0.1', a.port, ['0 PCMU/8000']), source: SOURCE })));
    assert.equal(toBre.port, toB.port);
    a.sendRtp(0, toA.port);
    b.sendRtp(0, toB.port);
    assert.ok(await until(() => a.received.length === 1 && b.received.length === 1));
    m.close();
  });

  it('towards a browser every offer says a=setup:actpass (also a phone\'s re-offer) and every answer the role Parley took (passive)', async () => {
    const m = new MediaSessions({
      pool: new PortPool({ address: '127.0.0.1', minPort: 0, maxPort: 0 }),
      advertise: '127.0.0.1',
      timeoutS: 60,
      maxSessions: 10,
      sdp: sdpFunctions as SdpFunctions,
      legs: legFactory({ certificate: await createDtlsCertificate() }),
    });
    try {
      const setupOf = (sdp: string): string | undefined => audioOf(sdp).lines.find((l) => l.startsWith('a=setup:'));
      const phone = await peer();
      const browserOffer = CHROMIUM_OFFER;
      await m.offer(offer('call-dtls', browserOffer, { source: { transport: 'wss', address: '127.0.0.1', port: 40000 } }));
      const toBrowser = sdpOf(await m.answer({ callId: 'call-dtls', fromTag: 'a-tag', toTag: 'b-tag', branch: 'z9hG4bK-1', sdp: phoneSdp('127.0.0.1', phone.port), source: SOURCE }));
      assert.equal(setupOf(toBrowser), 'a=setup:passive', toBrowser);
      // the phone puts the browser on hold: Parley's offer to the browser (Chromium refuses any other setup in an offer)
      const reoffer = sdpOf(await m.offer(offer('call-dtls', phoneSdp('127.0.0.1', phone.port, undefined, 'sendonly'), { fromTag: 'b-tag', branch: 'z9hG4bK-b1', mode: 'dialog' })));
      assert.equal(setupOf(reoffer), 'a=setup:actpass', reoffer);
      // the browser's own re-offer (actpass) is answered with the role Parley has
      await m.answer({ callId: 'call-dtls', fromTag: 'b-tag', toTag: 'a-tag', branch: 'z9hG4bK-b1', sdp: browserOffer.replace('a=setup:actpass', 'a=setup:active'), source: SOURCE });
      const reoffered = browserOffer.replace(/o=(\S+ \S+) (\d+)/, (_x, p: string, v: string) => `o=${p} ${Number(v) + 1}`);
      sdpOf(await m.offer(offer('call-dtls', reoffered, { branch: 'z9hG4bK-a2', mode: 'dialog' })));
      const answerToBrowser = sdpOf(await m.answer({ callId: 'call-dtls', fromTag: 'a-tag', toTag: 'b-tag', branch: 'z9hG4bK-a2', sdp: phoneSdp('127.0.0.1', phone.port), source: SOURCE }));
      assert.equal(setupOf(answerToBrowser), 'a=setup:passive', answerToBrowser);
      const ufragOf = (sdp: string): string | undefined => sdp.split('\r\n').find((l) => l.startsWith('a=ice-ufrag:'));
      assert.equal(ufragOf(answerToBrowser), ufragOf(toBrowser), 'a re-offer without an ICE restart keeps Parley\'s credentials');
      // an ICE restart (RFC 8445 §9): the browser's new ufrag gets new credentials of Parley's in the answer
      const browserUfrag = ufragOf(browserOffer)!;
      const restarted = reoffered.replace(/o=(\S+ \S+) (\d+)/, (_x, p: string, v: string) => `o=${p} ${Number(v) + 1}`).replaceAll(browserUfrag, 'a=ice-ufrag:rEsT');
      sdpOf(await m.offer(offer('call-dtls', restarted, { branch: 'z9hG4bK-a3', mode: 'dialog' })));
      const afterRestart = sdpOf(await m.answer({ callId: 'call-dtls', fromTag: 'a-tag', toTag: 'b-tag', branch: 'z9hG4bK-a3', sdp: phoneSdp('127.0.0.1', phone.port), source: SOURCE }));
      assert.notEqual(ufragOf(afterRestart), ufragOf(toBrowser), `new ICE credentials after a restart:\n${afterRestart}`);
    } finally {
      m.close();
    }
  });

  it('in auto mode anchors only what needs it; in dialog mode only a call it knows', async () => {
    const m = manager();
    const alike = await m.offer(offer('call-auto', phoneSdp('127.0.0.1', 4000), { mode: 'auto' }));
    assert.deepEqual(alike, { ok: true, anchored: false });
    const dialog = await m.offer(offer('call-dialog', phoneSdp('127.0.0.1', 4000), { mode: 'dialog' }));
    assert.deepEqual(dialog, { ok: true, anchored: false });
    assert.equal(m.sockets, 0);
    const natted = await m.offer(offer('call-auto-nat', phoneSdp('192.168.1.20', 4000), { mode: 'auto' }));
    assert.ok(natted.ok && natted.anchored);
    m.close();
  });

  it('transcodes when the sides have no codec in common: Opus from A reaches B as PCMU, PCMU from B reaches A as Opus', async () => {
    const m = manager({ transcode: true });
    const a = await peer();
    const b = await peer();
    const opus = { pt: 111, name: 'opus', clockRate: 48000, channels: 2 };
    const pcmu = { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 };
    const toB = audioOf(sdpOf(await m.offer(offer('call-tc', phoneSdp('127.0.0.1', a.port, ['111 opus/48000/2'])))));
    assert.ok(toB.lines.some((l) => l.startsWith('m=audio ') && l.split(' ').includes('0')), `PCMU offered to B for transcoding:\n${toB.lines.join('\n')}`);
    const toA = audioOf(sdpOf(await m.answer({ callId: 'call-tc', fromTag: 'a-tag', toTag: 'b', branch: 'z9hG4bK-1', sdp: phoneSdp('127.0.0.1', b.port, ['0 PCMU/8000']), source: SOURCE })));
    assert.ok(toA.lines.includes('a=rtpmap:111 opus/48000/2'), toA.lines.join('\n'));
    assert.equal(m.session('call-tc')!.plan!.kind, 'transcode');
    // A's Opus, made from G.711 silence by an encoder of the test's own
    const encoder = createTranscoder(pcmu, opus)!;
    for (let i = 0; i < 10; i++) for (const p of encoder.transcode(RtpPeer.packet(0, i))) a.send(p, toA.port);
    for (let i = 0; i < 10; i++) b.sendRtp(0, toB.port);
    assert.ok(await until(() => b.received.length >= 8 && a.received.length >= 8), `B got ${b.received.length}, A got ${a.received.length}`);
    assert.ok(b.received.every((r) => (r.packet[1]! & 0x7f) === 0 && r.packet.length === 12 + 160), 'B hears 20 ms PCMU');
    assert.ok(a.received.every((r) => (r.packet[1]! & 0x7f) === 111), 'A hears Opus');
    encoder.close();
    m.close();
    assert.equal(m.sockets, 0);
  });

  it('never rejects: a failure inside is a 500', async () => {
    const m = manager();
    const broken = new MediaSessions({ ...(m as unknown as { options: ConstructorParameters<typeof MediaSessions>[0] }).options, sdp: { ...sdpFunctions, parse: () => { throw new Error('boom'); } } as unknown as SdpFunctions });
    const r = await broken.offer(offer('call-500', phoneSdp('127.0.0.1', 4000)));
    assert.deepEqual(r, { ok: false, status: 500, warnCode: 399, warning: 'media plane error' });
  });
});

describe('needsAnchor', () => {
  const side = (address: string, profile: 'rtp' | 'webrtc' = 'rtp', codecs = [{ pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 }]) =>
    ({ profile, mIndex: 0, address, family: 4 as const, port: 4000, rtcpPort: 4001, rtcpMux: false, direction: 'sendrecv' as const, codecs, ssrcs: [] });
  it('anchors a change of profile, a phone behind NAT and an offer without a phone codec', () => {
    assert.equal(needsAnchor(side('203.0.113.5'), { transport: 'udp', address: '203.0.113.5', port: 5060 }, 'rtp'), false);
    assert.equal(needsAnchor(side('203.0.113.5'), { transport: 'udp', address: '203.0.113.5', port: 5060 }, 'webrtc'), true);
    assert.equal(needsAnchor(side('192.168.0.2'), { transport: 'tcp', address: '203.0.113.5', port: 5060 }, 'rtp'), true);
    assert.equal(needsAnchor(side('198.51.100.1'), { transport: 'udp', address: '203.0.113.5', port: 5060 }, 'rtp'), true);
    assert.equal(needsAnchor(side('198.51.100.1'), { transport: 'tls', address: '203.0.113.5', port: 5061 }, 'rtp'), false);
    assert.equal(needsAnchor(side('203.0.113.5', 'webrtc', [{ pt: 111, name: 'opus', clockRate: 48000, channels: 2 }]), { transport: 'wss', address: '203.0.113.5', port: 1 }, 'rtp'), true);
    assert.equal(needsAnchor(side('203.0.113.5', 'rtp', [{ pt: 111, name: 'opus', clockRate: 48000, channels: 2 }]), { transport: 'udp', address: '203.0.113.5', port: 1 }, 'rtp'), true);
  });
});
