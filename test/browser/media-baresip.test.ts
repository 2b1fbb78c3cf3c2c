// The phone page (Chromium, JsSIP over WSS: ICE + DTLS-SRTP + Opus/G.711) and Debian's baresip
// (SIP over UDP, plain RTP, G.711 only) calling each other through Parley's media gateway, both
// directions: the call sets up and audio flows both ways — the browser's inbound-rtp packets and
// audio energy grow (baresip plays a 440 Hz tone from a WAV file), baresip counts the browser's
// packets and what it decoded from them is not silence (its sndfile recording, measured with
// sox) — hold and resume from the page change what flows, and the gateway's ports are closed
// after BYE.
// Run by `npm run test:browser`, inside a loopback-only network namespace (support/netns.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Baresip, skipWithoutBaresip } from '../interop/support/baresip.js';
import { stopCleanly, type ParleyServer } from '../interop/support/parley.js';
import { portPool, sliceFirst, PORT_SLICES } from '../interop/support/ports.js';
import { udpSocketsInRange } from '../interop/support/rtpengine.js';
import { launchChromium, type TestBrowser } from './support/browser.js';
import { loopbackOnly } from './support/netns.js';
import { audioBothWays, decodedByBaresip, inboundOver } from './support/audio-checks.js';
import { PhonePage, pollUntil } from './support/phone.js';
import { skipWithoutSox } from '../interop/support/sox.js';
import { writeToneWav } from '../support/wav.js';
import { startPhoneServer } from './support/phone-server.js';

const pool = portPool(import.meta.url);
const password = (): string => randomBytes(9).toString('base64url');
const ALICE = { user: 'alice', password: password() };
const BOB = { user: 'bob', password: password() };
/** carol's baresip encrypts its media with SDES keys (RFC 4568, RTP/SAVP) and takes nothing else. */
const CAROL = { user: 'carol', password: password() };
/** The media gateway's ports: the last 100 of this file's slice (SIP and baresip take the first ones). */
const MEDIA = { min: sliceFirst(PORT_SLICES['media-baresip.test.ts']!) + 150, max: sliceFirst(PORT_SLICES['media-baresip.test.ts']!) + 249 };

const where = loopbackOnly();
const skip = where.run ? skipWithoutBaresip() || skipWithoutSox() : where.skip;

/** UDP sockets bound in the media range (only Parley binds there in this namespace). */
const mediaSocketsOpen = (): Promise<number> => udpSocketsInRange(MEDIA.min, MEDIA.max);

describe('the phone page and baresip hear each other through the media gateway', { skip, timeout: 240_000 }, () => {
  let parley: ParleyServer | undefined;
  let origin: string;
  let chromium: TestBrowser | undefined;
  let bob: Baresip | undefined;
  let carol: Baresip | undefined;
  let carolDir: string;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-media-baresip-'));
    const tone = join(dir, 'tone.wav');
    await writeToneWav(tone, { hz: 440, seconds: 120 });
    const started = await startPhoneServer({ pool, subscribers: [ALICE, BOB, CAROL], config: { media: { ports: MEDIA, address: '127.0.0.1' } } });
    parley = started.parley;
    origin = started.origin;
    bob = await Baresip.start({ pool, account: BOB, audioFile: tone, recordDir: dir, registrar: { host: parley.host, port: parley.portFor('udp'), transport: 'udp' } });
    carolDir = await mkdtemp(join(tmpdir(), 'parley-media-baresip-sdes-'));
    carol = await Baresip.start({ pool, account: CAROL, audioFile: tone, recordDir: carolDir, mediaenc: 'srtp-mand', registrar: { host: parley.host, port: parley.portFor('udp'), transport: 'udp' } });
    await carol.registered();
    await bob.registered();
    chromium = await launchChromium();
  });

  after(async () => {
    await chromium?.close();
    await bob?.stop();
    await carol?.stop();
    if (carolDir !== undefined) await rm(carolDir, { recursive: true, force: true });
    await stopCleanly(parley);
    await rm(dir, { recursive: true, force: true });
  });


  async function aliceInBrowser(): Promise<PhonePage> {
    const u = await chromium!.newUser('alice');
    const alice = new PhonePage('alice', u.page, u.log, () => `--- Parley (last 40 lines):\n${parley?.outputTail(40) ?? ''}`);
    await alice.open(origin, { username: ALICE.user, password: ALICE.password, autoRegister: true });
    await alice.waitRegistration('registered', 15_000);
    return alice;
  }



  it('the browser calls baresip (UDP, G.711): the call sets up and audio flows both ways, then the ports close', async () => {
    const before = await mediaSocketsOpen();
    const alice = await aliceInBrowser();
    const from = bob!.events.length;
    const context = async (): Promise<string> => `${await alice.describe()}\n${bob!.describe()}`;
    try {
      await alice.call('bob');
      await bob!.waitEvent((e) => e.type === 'CALL_INCOMING', 15_000, from);
      await bob!.command('accept');
      await alice.waitCall('in-call', 15_000);
      assert.ok((await mediaSocketsOpen()) > before, 'the gateway holds ports during the call');
      await audioBothWays(alice, bob!, 'Parley', context);

      // hold from the page: a=sendonly through the gateway; baresip answers recvonly and stops
      // sending, so the page receives (almost) nothing; resume: sendrecv, and audio comes back
      await alice.page.getByTestId('hold').click();
      await new Promise((r) => setTimeout(r, 1500));
      const held = await inboundOver(alice, 2000);
      assert.ok(held < 20, `on hold, the page still received ${held} packets in 2 s\n${await context()}`);
      await alice.page.getByTestId('hold').click();
      const resumed = await pollUntil(() => inboundOver(alice, 1000), (n) => n >= 30, 10_000);
      assert.ok(resumed.ok, `after resume, the page received ${resumed.value} packets in 1 s\n${await context()}`);

      await alice.hangup();
      await alice.waitCall('ended', 10_000);
      await bob!.waitEvent((e) => e.type === 'CALL_CLOSED', 15_000, from);
      // the browser's fake microphone beeps: what baresip decoded from the gateway is not silence
      const heard = await decodedByBaresip(dir);
      assert.ok(heard.rms > 0.005, `baresip's decoded audio is silence (sox RMS ${heard.rms}):\n${heard.text}`);
      const closed = await pollUntil(() => mediaSocketsOpen(), (n) => n === before, 10_000);
      assert.ok(closed.ok, `media ports left open after BYE: ${closed.value - before}\n--- Parley:\n${parley!.outputTail(30)}`);
    } finally {
      await alice.page.context().close();
    }
  });

  it('baresip calls the browser, which answers from the page: audio flows both ways', async () => {
    const alice = await aliceInBrowser();
    const from = bob!.events.length;
    const context = async (): Promise<string> => `${await alice.describe()}\n${bob!.describe()}`;
    try {
      await bob!.command('dial', 'sip:alice@127.0.0.1');
      await alice.waitCall('incoming', 15_000);
      await alice.answer();
      await alice.waitCall('in-call', 15_000);
      await bob!.waitEvent((e) => e.type === 'CALL_ESTABLISHED', 15_000, from);
      await audioBothWays(alice, bob!, 'Parley', context);
      await bob!.command('hangup');
      await alice.waitCall('ended', 15_000);
      await bob!.waitEvent((e) => e.type === 'CALL_CLOSED', 15_000, from);
      const heard = await decodedByBaresip(dir);
      assert.ok(heard.rms > 0.005, `baresip's decoded audio is silence (sox RMS ${heard.rms}):\n${heard.text}`);
    } finally {
      await alice.page.context().close();
    }
  });

  it('baresip with SDES-SRTP (RTP/SAVP, mediaenc=srtp-mand) calls the browser: SDES on one side, DTLS-SRTP on the other, audio both ways', async () => {
    const alice = await aliceInBrowser();
    const from = carol!.events.length;
    const context = async (): Promise<string> => `${await alice.describe()}\n${carol!.describe()}\n--- Parley:\n${parley!.outputTail(30)}`;
    try {
      await carol!.command('dial', 'sip:alice@127.0.0.1');
      await alice.waitCall('incoming', 15_000);
      await alice.answer();
      await alice.waitCall('in-call', 15_000);
      await carol!.waitEvent((e) => e.type === 'CALL_ESTABLISHED', 15_000, from);
      await audioBothWays(alice, carol!, 'Parley', context);
      await carol!.command('hangup');
      await alice.waitCall('ended', 15_000);
      await carol!.waitEvent((e) => e.type === 'CALL_CLOSED', 15_000, from);
      const heard = await decodedByBaresip(carolDir);
      assert.ok(heard.rms > 0.005, `carol's decoded audio is silence (sox RMS ${heard.rms}):\n${heard.text}`);
    } finally {
      await alice.page.context().close();
    }
  });
});
