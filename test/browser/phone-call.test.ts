// The browser phone end to end: two Chromium contexts open Parley's /phone page as alice and bob
// (JsSIP over WSS to Parley), register, and call each other with real WebRTC media on loopback.
// Also: bob rejects (486), bob is not registered (480), a wrong password, bob's tab closes (its
// binding goes with its WebSocket), and the server goes away (the page says it cannot reach it).
// Run by `npm run test:browser`, inside a loopback-only network namespace (support/netns.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ParleyServer, stopCleanly } from '../interop/support/parley.js';
import { portPool } from '../interop/support/ports.js';
import { queryBindings } from '../interop/support/registration.js';
import { skipWithoutSipp } from '../interop/support/sipp.js';
import { launchChromium, type TestBrowser } from './support/browser.js';
import { loopbackOnly } from './support/netns.js';
import { PhonePage, pollUntil, type RtpCounts } from './support/phone.js';
import { startPhoneServer } from './support/phone-server.js';
import { startStunResponder, type StunResponder } from './support/stun-responder.js';
import { createSocket, type Socket } from 'node:dgram';

const pool = portPool(import.meta.url);
const password = (): string => randomBytes(9).toString('base64url');
const ALICE = { user: 'alice', password: password() };
const BOB = { user: 'bob', password: password() };
const CAROL = { user: 'carol', password: password() };

const where = loopbackOnly();
const skip = where.run ? skipWithoutSipp() : where.skip;

describe('the browser phone: two browsers calling each other through Parley', { skip, timeout: 240_000 }, () => {
  let parley: ParleyServer | undefined;
  let origin: string;
  let chromium: TestBrowser | undefined;
  /** The ICE servers of phone.iceServers: a STUN server that answers, and one that never does. */
  let stun: StunResponder | undefined;
  let blackHole: Socket | undefined;
  let iceServers: Array<{ urls: string[] }>;

  before(async () => {
    stun = await startStunResponder(pool);
    const holePort = await pool.block(1);
    blackHole = createSocket('udp4');
    await new Promise<void>((res) => blackHole!.bind(holePort, '127.0.0.1', () => res()));
    iceServers = [{ urls: [`stun:127.0.0.1:${stun.port}`] }, { urls: [`stun:127.0.0.1:${holePort}`] }];
    const started = await startPhoneServer({ pool, subscribers: [ALICE, BOB, CAROL], config: { phone: { iceServers } } });
    parley = started.parley;
    origin = started.origin;
    chromium = await launchChromium();
  });

  after(async () => {
    await chromium?.close();
    // the last test stops Parley itself
    if (parley?.alive) await stopCleanly(parley);
    await stun?.close();
    blackHole?.close();
  });

  /** A new browser context (a separate person) with the phone page open from a link. */
  async function openPhone(name: string, link: Parameters<PhonePage['open']>[1]): Promise<PhonePage> {
    const u = await chromium!.newUser(name);
    const phone = new PhonePage(name, u.page, u.log, () => `--- Parley (last 25 lines):\n${parley?.outputTail(25) ?? ''}`);
    await phone.open(origin, link);
    return phone;
  }

  /** Open the page as `who` from an auto-registering link and wait until it is registered. */
  async function registered(who: { user: string; password: string }, displayName?: string, dtmf?: 'info'): Promise<PhonePage> {
    const phone = await openPhone(who.user, { username: who.user, password: who.password, autoRegister: true, ...(displayName ? { displayName } : {}), ...(dtmf ? { dtmf } : {}) });
    await phone.waitRegistration('registered', 15_000);
    return phone;
  }

  async function closePhone(phone: PhonePage): Promise<void> {
    await phone.page.context().close();
  }

  const describeBoth = async (...phones: PhonePage[]): Promise<string> =>
    [...(await Promise.all(phones.map((p) => p.describe(false)))), '--- Parley:', parley!.outputTail(30)].join('\n');

  it('alice calls bob, bob answers: audio and video flow both ways, DTMF and mute work, alice hangs up and both see the end', async () => {
    // alice's keypad sends SIP INFO (?dtmf=info), which bob's page shows (RFC 4733 events, the
    // default, are in phone-layout.test.ts)
    const alice = await registered(ALICE, 'Alice Liddell', 'info');
    const bob = await registered(BOB);
    try {
      // the link put the password in the fragment; the page took it out of the address bar
      assert.doesNotMatch(alice.page.url(), /password/, 'the password stayed in the address bar');
      assert.equal(await alice.registrationText(), 'registered');
      assert.match((await alice.page.getByTestId('account-line').innerText()).replace(/\s+/g, ' '), /^alice · registered · change$/);
      assert.equal(await alice.page.title(), 'alice · Parley phone', 'the tab title names the user, so two tabs stay apart');

      // the ICE servers of the configuration reach the page; the one that never answers does not
      // hold the call (JsSIP alone would wait ~40 s for ICE gathering to complete)
      const dialled = Date.now();
      await alice.call('bob');
      await bob.waitCall('incoming', 10_000);
      assert.ok(Date.now() - dialled < 8_000, `the INVITE took ${Date.now() - dialled} ms to reach bob`);
      assert.match(await bob.callText(), /Alice Liddell \(alice\) is calling you/);
      assert.deepEqual(await alice.iceServerUrls(), iceServers.map((i) => i.urls), 'the RTCPeerConnection uses phone.iceServers');
      assert.ok(stun!.requests.length > 0, 'the browser sent no STUN Binding request to the configured STUN server');
      await alice.waitCall('ringing', 5_000);
      await bob.answer();
      await Promise.all([alice.waitCall('in-call', 15_000), bob.waitCall('in-call', 15_000)]);

      // media: packetsReceived of inbound-rtp grows for audio and video on both sides
      const flowing = (c: RtpCounts): boolean => c.inbound.audio > 0 && c.inbound.video > 0;
      for (const phone of [alice, bob]) {
        const first = await pollUntil(() => phone.rtpCounts(), flowing, 15_000);
        assert.ok(first.ok, `${phone.name} received no audio or no video: ${JSON.stringify(first.value)}\n${await describeBoth(alice, bob)}`);
        const later = await pollUntil(
          () => phone.rtpCounts(),
          (c) => c.inbound.audio >= first.value.inbound.audio + 25 && c.inbound.video >= first.value.inbound.video + 25,
          10_000,
        );
        assert.ok(later.ok, `${phone.name}'s inbound RTP stopped growing: ${JSON.stringify(first.value)} then ${JSON.stringify(later.value)}`);
        // the media path is on loopback (the namespace has nothing else)
        const pair = await phone.selectedCandidatePair();
        assert.ok(pair !== undefined && /127\.0\.0\.1/.test(pair.local) && /127\.0\.0\.1/.test(pair.remote), `${phone.name}'s selected candidate pair: ${JSON.stringify(pair)}`);
      }
      // and the remote video element plays
      await pollUntil(() => bob.page.getByTestId('remote-video').evaluate((v: { videoWidth: number }) => v.videoWidth), (w) => w > 0, 5_000).then((r) =>
        assert.ok(r.ok, "bob's remote video has no picture"),
      );

      // DTMF as SIP INFO (?dtmf=info), through Parley, in the dialog
      await alice.pressKeys('12#');
      const dtmf = await pollUntil(() => bob.page.getByTestId('dtmf-received').innerText(), (t) => t === '12#', 5_000);
      assert.equal(dtmf.value, '12#', `bob received the tones ${JSON.stringify(dtmf.value)}\n${await describeBoth(alice, bob)}`);

      // mute: alice's microphone and camera off, then on again. Bob hears silence (the audio
      // energy stops growing) and gets black frames (a trickle of video bytes), then both again.
      const received = async (ms: number): Promise<{ audioEnergy: number; videoBytes: number }> => {
        const a = await bob.mediaReceived();
        await new Promise((r) => setTimeout(r, ms));
        const b = await bob.mediaReceived();
        return { audioEnergy: b.audioEnergy - a.audioEnergy, videoBytes: b.videoBytes - a.videoBytes };
      };
      const live = await received(2000);
      assert.ok(live.audioEnergy > 0.05 && live.videoBytes > 20_000, `before mute, bob gets sound and pictures: ${JSON.stringify(live)}`);
      await alice.page.getByTestId('mute-audio').click();
      await alice.page.getByTestId('mute-video').click();
      assert.equal(await alice.page.getByTestId('mute-audio').getAttribute('aria-pressed'), 'true');
      assert.equal(await alice.page.getByTestId('mute-audio').getAttribute('aria-label'), 'Unmute microphone');
      assert.equal(await alice.page.getByTestId('mute-video').getAttribute('aria-label'), 'Start camera');
      await new Promise((r) => setTimeout(r, 500));
      const muted = await received(2000);
      assert.ok(muted.audioEnergy < live.audioEnergy / 20, `muted, bob still hears alice: ${JSON.stringify({ live, muted })}`);
      assert.ok(muted.videoBytes < live.videoBytes / 5, `camera stopped, bob still gets full video: ${JSON.stringify({ live, muted })}`);
      await alice.page.getByTestId('mute-audio').click();
      await alice.page.getByTestId('mute-video').click();
      assert.equal(await alice.page.getByTestId('mute-audio').getAttribute('aria-pressed'), 'false');
      await new Promise((r) => setTimeout(r, 500));
      const back = await received(2000);
      assert.ok(back.audioEnergy > live.audioEnergy / 5 && back.videoBytes > live.videoBytes / 3, `unmuted, bob gets sound and pictures again: ${JSON.stringify({ live, muted, back })}`);

      await alice.hangup();
      await Promise.all([alice.waitCall('ended', 10_000), bob.waitCall('ended', 10_000)]);
      assert.match(await alice.callText(), /You hung up/);
      assert.match(await bob.callText(), /Alice Liddell hung up/);
      assert.equal(await alice.error(), '', 'no error after a normal call');
      assert.equal(await bob.error(), '', 'no error after a normal call');
      assert.deepEqual(parley!.problems(), [], 'Parley logged warnings or errors');
    } finally {
      await closePhone(alice);
      await closePhone(bob);
    }
  });

  it('bob rejects: 486 reaches alice, whose page says bob is busy', async () => {
    const alice = await registered(ALICE);
    const bob = await registered(BOB);
    try {
      await alice.call('bob');
      await bob.waitCall('incoming', 10_000);
      await bob.reject();
      await alice.waitCall('failed', 10_000);
      assert.equal(await alice.page.getByTestId('call-state').getAttribute('data-code'), '486', await describeBoth(alice, bob));
      assert.match(await alice.error(), /^bob is busy\.$/);
      await bob.waitCall('ended', 5_000);
      assert.equal(await bob.error(), '');
    } finally {
      await closePhone(alice);
      await closePhone(bob);
    }
  });

  it('bob is not registered: 480, and alice reads that bob is not reachable', async () => {
    const alice = await registered(ALICE);
    try {
      await alice.call('bob');
      await alice.waitCall('failed', 10_000);
      assert.equal(await alice.page.getByTestId('call-state').getAttribute('data-code'), '480', await describeBoth(alice));
      assert.match(await alice.error(), /^bob is not reachable right now\b/);
    } finally {
      await closePhone(alice);
    }
  });

  it('a wrong password: the page says "Wrong username or password" and stays unregistered', async () => {
    const carol = await openPhone('carol', { username: 'carol', password: `${CAROL.password}-wrong`, autoRegister: true });
    try {
      const error = await carol.waitError(/./, 10_000);
      assert.equal(error, 'Wrong username or password.', await carol.describe());
      assert.equal(await carol.registrationState(), 'failed');
      // then the right one, typed in the form, works
      await carol.register('carol', CAROL.password);
      await carol.waitRegistration('registered', 10_000);
      assert.equal(await carol.error(), '');
    } finally {
      await closePhone(carol);
    }
  });

  it("bob's tab closes: his binding disappears with the WebSocket, and a call to him gets 480", async () => {
    const bob = await registered(BOB);
    const before = await queryBindings(parley!, BOB);
    assert.equal(before.bindings.length, 1, `bob's bindings: ${before.bindings.map((b) => b.uri).join(', ')}`);
    const contact = before.bindings[0]!;
    assert.match(contact.uri, /^sip:[^@]+@[^;]+\.invalid;transport=ws$/i, 'JsSIP registers a contact with an .invalid host and transport=ws');

    await closePhone(bob);
    const gone = await pollUntil(async () => (await queryBindings(parley!, BOB)).bindings.length, (n) => n === 0, 5_000);
    assert.ok(gone.ok, `bob's binding is still there after his tab closed (${gone.value})\n${parley!.outputTail(20)}`);

    const alice = await registered(ALICE);
    try {
      await alice.call('bob');
      await alice.waitCall('failed', 10_000);
      assert.equal(await alice.page.getByTestId('call-state').getAttribute('data-code'), '480');
    } finally {
      await closePhone(alice);
    }
  });

  it('the server goes away: the page says it cannot reach the server', async () => {
    const alice = await registered(ALICE);
    try {
      await stopCleanly(parley);
      const error = await alice.waitError(/Cannot reach the server/, 10_000);
      assert.match(error, /^Cannot reach the server at wss:\/\/[^/]+\/sip\b/);
      assert.equal(await alice.registrationState(), 'failed');
    } finally {
      await closePhone(alice);
    }
  });
});

describe("the README's two tabs: `parley serve --demo` prints two links, and they make a video call", { skip, timeout: 120_000 }, () => {
  let parley: ParleyServer | undefined;
  let chromium: TestBrowser | undefined;

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['udp'], webSockets: { wss: 'auth' }, demo: true });
    chromium = await launchChromium();
  });

  after(async () => {
    await chromium?.close();
    await stopCleanly(parley);
  });

  it('alice opens her link and calls (bob is preset as the target); bob opens his and answers', async () => {
    // the welcome text comes on stderr right after "Parley is ready"
    const linkOf = (user: string): string | undefined =>
      parley!.otherOutput.map((l) => new RegExp(`^\\s+${user}: (https://\\S+/phone\\?\\S+#password=\\S+)$`).exec(l)?.[1]).find((x) => x !== undefined);
    const found = await pollUntil(async () => [linkOf('alice'), linkOf('bob')], (l) => l.every((x) => x !== undefined), 5_000, 50);
    assert.ok(found.ok, `--demo printed no links:\n${parley!.otherOutput.join('\n')}`);
    const [aliceLink, bobLink] = found.value as [string, string];
    assert.ok(aliceLink.startsWith(`${parley!.httpsOrigin}/phone?username=alice&target=bob&autoregister=1#password=`), aliceLink);

    const tabs: PhonePage[] = [];
    try {
      for (const [name, link] of [['alice', aliceLink], ['bob', bobLink]] as const) {
        const u = await chromium!.newUser(name);
        const tab = new PhonePage(name, u.page, u.log, () => `--- Parley (last 25 lines):\n${parley?.outputTail(25) ?? ''}`);
        tabs.push(tab);
        await u.page.goto(link);
        await tab.waitRegistration('registered', 15_000);
      }
      const [alice, bob] = tabs as [PhonePage, PhonePage];
      assert.equal(await alice.page.getByTestId('target').inputValue(), 'bob');
      await alice.page.getByTestId('call').click();
      await bob.waitCall('incoming', 10_000);
      await bob.answer();
      await Promise.all([alice.waitCall('in-call', 15_000), bob.waitCall('in-call', 15_000)]);
      const video = await pollUntil(() => alice.rtpCounts(), (c) => c.inbound.video > 0 && c.inbound.audio > 0, 15_000);
      assert.ok(video.ok, `alice gets no audio or video from bob: ${JSON.stringify(video.value)}`);
      await bob.hangup();
      await alice.waitCall('ended', 10_000);
    } finally {
      for (const t of tabs) await t.page.context().close();
    }
  });
});
