// Chromium takes the SDP Parley's media gateway writes (src/media/sdp-side.ts): its answer to a
// real Chromium offer (audio + video + data, BUNDLE), with the audio anchored on an ICE-lite DTLS
// endpoint and the other m-lines rejected; Parley's own offer to a browser, which Chromium
// answers; a transcoding answer (Opus only). And Parley reads what Chromium writes (its offer and
// its answer) as the webrtc side they describe. No media flows here: this is the SDP contract with
// the browser (setRemoteDescription either resolves or throws with Chromium's reason).
// Run by `npm run test:browser`, inside a loopback-only network namespace (support/netns.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { answerCodecs, offerCodecs } from '../../src/media/codec-plan.js';
import { OriginState, readSide, writeSide } from '../../src/media/sdp-side.js';
import type { LocalSide } from '../../src/media/side.js';
import { parseSdp } from '../../src/sdp/parse.js';
import type { SessionDescription } from '../../src/sdp/session-description.js';
import { launchChromium, type TestBrowser } from './support/browser.js';
import { loopbackOnly } from './support/netns.js';

/** The little of WebRTC's API the page code below uses (the test's TypeScript has no DOM types). */
interface PageTransceiver {
  readonly mid: string | null;
  readonly currentDirection: string | null;
}
interface PagePeerConnection {
  addTransceiver(kind: string, init: { direction: string }): unknown;
  createDataChannel(label: string): unknown;
  createOffer(): Promise<{ type: string; sdp?: string }>;
  createAnswer(): Promise<{ type: string; sdp?: string }>;
  setLocalDescription(d: { type: string; sdp?: string }): Promise<void>;
  setRemoteDescription(d: { type: string; sdp: string }): Promise<void>;
  getTransceivers(): PageTransceiver[];
  close(): void;
}
type PageGlobal = { pc: PagePeerConnection; RTCPeerConnection: new () => PagePeerConnection };

const where = loopbackOnly();
const skip = where.run ? false : where.skip;

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i * 7 + 3).toString(16).padStart(2, '0').toUpperCase()).join(':');

function local(overrides: Partial<LocalSide>): LocalSide {
  return {
    profile: 'webrtc',
    address: '127.0.0.1',
    family: 4,
    port: 40000,
    rtcpPort: 40000,
    rtcpMux: true,
    direction: 'sendrecv',
    codecs: [],
    ice: { ufrag: 'prly', pwd: 'parleyparleyparleyparley', candidates: [], lite: true },
    dtls: { setup: 'passive', fingerprints: [{ algorithm: 'sha-256', value: FINGERPRINT }] },
    ssrc: 0x5eed,
    ...overrides,
  };
}

function parsed(text: string): SessionDescription {
  const r = parseSdp(text);
  if (!r.ok) assert.fail(`${r.error.message}\n${text}`);
  return r.value;
}

/** In the page: a peer connection with audio, video and a data channel; its offer (after setLocalDescription). */
async function chromiumOffer(page: Page, kinds: readonly string[]): Promise<string> {
  return page.evaluate(async (kinds) => {
    const page = globalThis as unknown as PageGlobal;
    const pc = new page.RTCPeerConnection();
    page.pc = pc;
    for (const kind of kinds) {
      if (kind === 'data') pc.createDataChannel('chat');
      else pc.addTransceiver(kind, { direction: 'sendrecv' });
    }
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    return offer.sdp ?? '';
  }, kinds);
}

/** In the page: apply Parley's answer; Chromium's error message, or each transceiver's mid and negotiated direction. */
async function applyAnswer(page: Page, sdp: string): Promise<{ error?: string; directions: string[] }> {
  return page.evaluate(async (sdp) => {
    const pc = (globalThis as unknown as PageGlobal).pc;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp });
    } catch (e) {
      return { error: String(e), directions: [] };
    }
    return { directions: pc.getTransceivers().map((t) => `${t.mid} ${t.currentDirection}`) };
  }, sdp);
}

describe('Chromium and the SDP Parley writes', { skip, timeout: 120_000 }, () => {
  let chromium: TestBrowser | undefined;
  let page: Page;

  before(async () => {
    chromium = await launchChromium();
    page = (await chromium.newUser('sdp')).page;
  });

  after(async () => {
    await chromium?.close();
  });

  it("takes Parley's answer to its audio+video+data offer: audio anchored, the rest rejected", async () => {
    const offerText = await chromiumOffer(page, ['audio', 'video', 'data']);
    const offer = parsed(offerText);
    const remote = readSide(offer);
    if (!remote.ok) assert.fail(remote.error.warning);
    assert.equal(remote.value.profile, 'webrtc');
    assert.equal(remote.value.direction, 'sendrecv');
    assert.equal(remote.value.dtls?.setup, 'actpass');
    assert.equal(remote.value.rtcpMux, true);
    assert.equal(remote.value.codecs[0]?.name, 'opus');
    const codecs = answerCodecs(remote.value.codecs, offerCodecs(remote.value.codecs, 'rtp').filter((c) => c.name === 'PCMU' || c.name === 'telephone-event'));
    const answer = writeSide(local({ codecs }), { kind: 'answer', origin: new OriginState('127.0.0.1', 4).next(false), offer, mIndex: remote.value.mIndex });
    const applied = await applyAnswer(page, answer);
    assert.equal(applied.error, undefined, `Chromium refused:\n${answer}`);
    // the audio transceiver negotiated; the video one, rejected (port 0), is stopped and gone from the list
    assert.deepEqual(applied.directions, ['0 sendrecv']);
  });

  it("takes a transcoding answer (Opus only) and a hold answer (sendonly → Chromium's recvonly)", async () => {
    for (const [direction, expected] of [['sendrecv', 'sendrecv'], ['sendonly', 'recvonly']] as const) {
      const offer = parsed(await chromiumOffer(page, ['audio']));
      const remote = readSide(offer);
      assert.ok(remote.ok);
      const opus = remote.value.codecs.filter((c) => c.name === 'opus' || (c.name === 'telephone-event' && c.clockRate === 48000));
      const answer = writeSide(local({ codecs: answerCodecs(remote.value.codecs, opus), direction }), { kind: 'answer', origin: new OriginState('127.0.0.1', 4).next(false), offer, mIndex: 0 });
      const applied = await applyAnswer(page, answer);
      assert.equal(applied.error, undefined, `Chromium refused:\n${answer}`);
      assert.deepEqual(applied.directions, [`0 ${expected}`]);
    }
  });

  it("answers Parley's own offer (G.711 from a phone) and Parley reads the answer", async () => {
    const phone = parsed('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n');
    const fromPhone = readSide(phone);
    assert.ok(fromPhone.ok);
    const offer = writeSide(
      local({ codecs: offerCodecs(fromPhone.value.codecs, 'webrtc'), dtls: { setup: 'actpass', fingerprints: [{ algorithm: 'sha-256', value: FINGERPRINT }] } }),
      { kind: 'offer', origin: new OriginState('127.0.0.1', 4).next(false) },
    );
    const answerText = await page.evaluate(async (sdp) => {
      const pc = new (globalThis as unknown as PageGlobal).RTCPeerConnection();
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp });
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        return answer.sdp ?? '';
      } catch (e) {
        return `error: ${String(e)}`;
      } finally {
        pc.close();
      }
    }, offer);
    assert.ok(!answerText.startsWith('error'), `${answerText}\n${offer}`);
    const answer = readSide(parsed(answerText), 'answer');
    if (!answer.ok) assert.fail(answer.error.warning);
    assert.equal(answer.value.profile, 'webrtc');
    assert.equal(answer.value.dtls?.setup, 'active', 'Chromium takes the DTLS client role against an actpass offer');
    assert.deepEqual(answer.value.codecs.map((c) => c.name), ['PCMU', 'PCMA', 'telephone-event']);
    assert.equal(answer.value.ice?.lite, false);
  });
});
