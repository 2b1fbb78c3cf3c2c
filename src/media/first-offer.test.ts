import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MediaOfferRequest, SignalingSource } from '../lib/media-control.js';
import { phoneSdp } from '../../test/support/phone-sdp.js';
import { CHROMIUM_OFFER } from '../sdp/testdata/real-sdps.js';
import { FirstOffers, firstAutoOfferAnchors, mediaPlaneInfo } from './first-offer.js';
import { createDtlsCertificate } from './certificate.js';
import { legFactory } from './leg-factory.js';
import { MediaSessions } from './media-sessions.js';
import { PortPool } from './port-pool.js';
import type { SdpFunctions } from './sdp-functions.js';
import { sdpFunctions } from './sdp-wiring.js';

const UDP: SignalingSource = { transport: 'udp', address: '127.0.0.1', port: 5060 };
const TCP: SignalingSource = { transport: 'tcp', address: '203.0.113.5', port: 5060 };
const WSS: SignalingSource = { transport: 'wss', address: '127.0.0.1', port: 41000 };
const sdp = sdpFunctions as SdpFunctions;

function offer(callId: string, text: string, source: SignalingSource, towards: MediaOfferRequest['towards']): MediaOfferRequest {
  return { callId, fromTag: 'a', branch: 'z9hG4bK-1', sdp: text, source, towards, mode: 'auto' };
}

/** First `auto` offers of every kind that decides differently: alike, NAT, profiles, codecs, refusals. */
const CASES: ReadonlyArray<readonly [string, MediaOfferRequest]> = [
  ['a phone offering its own address over UDP, to a phone', offer('c1', phoneSdp('127.0.0.1', 4000), UDP, 'rtp')],
  ['the same offer to a browser (another profile)', offer('c2', phoneSdp('127.0.0.1', 4000), UDP, 'webrtc')],
  ['a phone behind NAT (a private SDP address over TCP from a public one)', offer('c3', phoneSdp('192.168.1.20', 4000), TCP, 'rtp')],
  ['a UDP source whose SDP names another public address (a NAT rewrote the source)', offer('c4', phoneSdp('198.51.100.7', 4000), UDP, 'rtp')],
  ['a public SDP address over TCP from another public one (no NAT sign)', offer('c5', phoneSdp('198.51.100.7', 4000), TCP, 'rtp')],
  ['an Opus-only phone to a plain phone (no codec in common likely)', offer('c6', phoneSdp('127.0.0.1', 4000, ['111 opus/48000/2']), UDP, 'rtp')],
  ['a hold offer (c=0.0.0.0) from a phone', offer('c7', phoneSdp('0.0.0.0', 4000), UDP, 'rtp')],
  ['Chromium to a browser', offer('c8', CHROMIUM_OFFER, WSS, 'webrtc')],
  ['Chromium to a phone', offer('c9', CHROMIUM_OFFER, WSS, 'rtp')],
  ['an SDP that does not parse', offer('c10', 'v=0\r\nnonsense\r\n', UDP, 'rtp')],
  ['an IPv6 offer to an IPv4 media plane', offer('c11', phoneSdp('127.0.0.1', 4000).replace(/IN IP4 127\.0\.0\.1/g, 'IN IP6 ::1'), UDP, 'rtp')],
];

describe('the first auto offer of a call, decided in the SIP core', () => {
  it('decides as the media thread does for a call it has no session of (every kind of offer)', async () => {
    // the legs of the media thread: plain RTP, SDES and WebRTC (with its certificate)
    const legs = legFactory({ certificate: await createDtlsCertificate() });
    const sessions = new MediaSessions({
      pool: new PortPool({ address: '127.0.0.1', minPort: 0, maxPort: 0 }),
      advertise: '127.0.0.1',
      timeoutS: 60,
      maxSessions: 100,
      sdp,
      legs,
    });
    const plane = mediaPlaneInfo(4, legs);
    const seen = new Set<string>();
    try {
      for (const [what, r] of CASES) {
        const here = firstAutoOfferAnchors(sdp, plane, r);
        const there = await sessions.offer(r);
        // false: not anchored, as the thread says; true: the thread anchors; undefined: it refuses
        const thread = !there.ok ? undefined : there.anchored;
        assert.equal(here, thread, `${what}: decided here ${String(here)}, the media thread ${JSON.stringify(there).slice(0, 120)}`);
        seen.add(String(here));
      }
    } finally {
      sessions.close();
    }
    // the cases cover each outcome: not anchored, anchored, refused
    assert.deepEqual([...seen].sort(), ['false', 'true', 'undefined']);
  });

  it('a profile the media plane does not serve, or another family, is the thread\'s to refuse', () => {
    const r = offer('c1', phoneSdp('127.0.0.1', 4000), UDP, 'rtp');
    assert.equal(firstAutoOfferAnchors(sdp, { family: 4, profiles: ['rtp'] }, r), false);
    assert.equal(firstAutoOfferAnchors(sdp, { family: 4, profiles: ['webrtc'] }, r), undefined);
    assert.equal(firstAutoOfferAnchors(sdp, { family: 6, profiles: ['rtp'] }, r), undefined);
  });
});

describe('FirstOffers', () => {
  it('remembers the calls whose offers went to the media thread until their deletion, the oldest forgotten beyond its bound', () => {
    const f = new FirstOffers(3);
    assert.equal(f.asked('a'), false);
    f.ask('a');
    f.ask('a');
    assert.equal(f.asked('a'), true);
    assert.equal(f.size, 1);
    f.forget('a');
    assert.equal(f.asked('a'), false);
    for (const c of ['a', 'b', 'c', 'd']) f.ask(c);
    assert.deepEqual(['a', 'b', 'c', 'd'].map((c) => f.asked(c)), [false, true, true, true]);
  });
});
