// The reference for media-baresip.test.ts: the same calls between the phone page (Chromium,
// JsSIP: ICE + DTLS-SRTP + Opus/G.711) and Debian's baresip (SIP over UDP, plain RTP, G.711),
// both directions, through Kamailio + rtpengine instead of Parley — Kamailio
// (test/interop/support/kamailio-rtpengine.cfg) as registrar and proxy, its `rtpengine` module
// driving Debian's rtpengine-daemon in userspace (`--table=-1`): towards the browser ICE=force
// RTP/SAVPF DTLS, towards baresip ICE=remove RTP/AVP. The same assertions: the call sets up,
// the browser's inbound-rtp packets and audio energy grow (baresip plays a 440 Hz tone from a WAV
// file), baresip counts the browser's packets and what it decoded from them is not silence (its
// sndfile recording, measured with sox), hold and resume from the page change what flows, and
// rtpengine's ports are closed after BYE.
//
// The page is served by a Parley (its own origin) and talks SIP over wss://<origin>/sip; here
// that WebSocket is routed (Playwright's routeWebSocket) to Kamailio's ws:// listener by a
// bridge in this process, and config.json names Kamailio's domain, so the page registers with
// Kamailio and never with that Parley.
// The same calls are then made with Kamailio's rtpengine module pointed at Parley's ng control
// socket (media.control.listen) instead of rtpengine: Parley's media plane standing in for
// rtpengine behind Kamailio, with a browser on one side (test/interop/media-ng.test.ts does it
// between sipp phones).
// Run by `npm run test:browser`, inside a loopback-only network namespace (support/netns.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { WebSocket } from 'ws';
import { Baresip, skipWithoutBaresip } from '../interop/support/baresip.js';
import { KAMAILIO_RTPENGINE_CFG, KamailioServer, kamailioMissing } from '../interop/support/kamailio.js';
import { stopCleanly, type ParleyServer } from '../interop/support/parley.js';
import { portPool, sliceFirst, PORT_SLICES } from '../interop/support/ports.js';
import { Rtpengine, rtpengineMissing, udpSocketsInRange } from '../interop/support/rtpengine.js';
import { skipWithoutSox } from '../interop/support/sox.js';
import { writeToneWav } from '../support/wav.js';
import { launchChromium, type TestBrowser } from './support/browser.js';
import { loopbackOnly } from './support/netns.js';
import { audioBothWays, decodedByBaresip, inboundOver } from './support/audio-checks.js';
import { PhonePage, pollUntil } from './support/phone.js';
import { startPhoneServer } from './support/phone-server.js';

const pool = portPool(import.meta.url);
/** Every user's password in Kamailio's configuration (AUTH_PASSWORD). */
const PASSWORD = randomBytes(9).toString('base64url');
const ALICE = { user: 'alice', password: PASSWORD };
const BOB = { user: 'bob', password: PASSWORD };
/** The relay's media ports (rtpengine's, then Parley's): the last 100 of this file's slice (36: 22250-22499); the pool hands out its bottom. */
const MEDIA = { min: sliceFirst(PORT_SLICES['media-rtpengine.test.ts']!) + 150, max: sliceFirst(PORT_SLICES['media-rtpengine.test.ts']!) + 249 };

/** Kamailio with its rtpengine module, and rtpengine: skipped without them outside CI (CI installs both). */
function skipWithoutKamailioAndRtpengine(): string | false {
  const why = kamailioMissing(KAMAILIO_RTPENGINE_CFG) ?? rtpengineMissing();
  if (why === undefined) return false;
  return process.env.CI ? false : `${why}; skipped outside CI`;
}

const where = loopbackOnly();
const skip = where.run ? skipWithoutBaresip() || skipWithoutSox() || skipWithoutKamailioAndRtpengine() : where.skip;

/**
 * The page's SIP WebSocket (wss://<origin>/sip) carried to Kamailio's ws:// listener: each frame
 * the page sends goes to Kamailio and back, text as text. Its config.json names Kamailio's domain.
 */
async function pointPageAtKamailio(context: BrowserContext, origin: string, kamailio: KamailioServer): Promise<void> {
  await context.route(`${origin}/phone/config.json`, async (route) => {
    const response = await route.fetch();
    const config = (await response.json()) as Record<string, unknown>;
    await route.fulfill({ response, json: { ...config, domain: kamailio.host } });
  });
  await context.routeWebSocket(/\/sip$/, (page) => {
    const kamailioWs = new WebSocket(kamailio.wsUrl, 'sip');
    const pending: Array<string | Buffer> = [];
    kamailioWs.on('open', () => {
      for (const m of pending.splice(0)) kamailioWs.send(m);
    });
    kamailioWs.on('message', (data, isBinary) => page.send(isBinary ? (data as Buffer) : (data as Buffer).toString('utf8')));
    kamailioWs.on('close', () => void page.close().catch(() => {}));
    kamailioWs.on('error', () => void page.close().catch(() => {}));
    page.onMessage((m) => {
      if (kamailioWs.readyState === WebSocket.OPEN) kamailioWs.send(m);
      else pending.push(m);
    });
    page.onClose(() => kamailioWs.close());
  });
}

/** UDP sockets bound in the media range (every process of this namespace; only the relay binds there). */
const mediaSocketsOpen = (): Promise<number> => udpSocketsInRange(MEDIA.min, MEDIA.max);

/** Which media relay Kamailio's rtpengine module drives. */
type Relay = 'rtpengine' | 'parley';

for (const relay of ['rtpengine', 'parley'] as const satisfies readonly Relay[]) {
  const title = relay === 'rtpengine' ? 'Kamailio + rtpengine (the reference)' : "Kamailio + Parley's media plane over ng (Parley as rtpengine)";
  describe(`the phone page and baresip hear each other through ${title}`, { skip, timeout: 240_000 }, () => {
    let parley: ParleyServer | undefined;
    let origin: string;
    let rtpengine: Rtpengine | undefined;
    let kamailio: KamailioServer | undefined;
    let chromium: TestBrowser | undefined;
    let bob: Baresip | undefined;
    let dir: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'parley-media-rtpengine-'));
      const tone = join(dir, 'tone.wav');
      await writeToneWav(tone, { hz: 440, seconds: 120 });
      // the Parley serves the page (no subscribers: no call's signaling goes through it) and, in
      // the second suite, relays the media as Kamailio's rtpengine module tells it over ng
      const ngPort = await pool.block(1);
      const media = { ports: MEDIA, address: '127.0.0.1', control: { listen: `127.0.0.1:${ngPort}` } };
      const started = await startPhoneServer({ pool, subscribers: [], ...(relay === 'parley' ? { config: { media } } : {}) });
      parley = started.parley;
      origin = started.origin;
      if (relay === 'rtpengine') rtpengine = await Rtpengine.start({ ngPort, ports: MEDIA });
      kamailio = await KamailioServer.start({
        pool,
        config: KAMAILIO_RTPENGINE_CFG,
        defines: { NG_SOCKET: `"udp:127.0.0.1:${ngPort}"`, AUTH_PASSWORD: `"${PASSWORD}"` },
      });
      bob = await Baresip.start({ pool, account: BOB, audioFile: tone, recordDir: dir, registrar: { host: kamailio.host, port: kamailio.sipPort, transport: 'udp' } });
      await bob.registered();
      chromium = await launchChromium();
    });

    after(async () => {
      await chromium?.close();
      await bob?.stop();
      await kamailio?.stop();
      await rtpengine?.stop();
      await stopCleanly(parley);
      await rm(dir, { recursive: true, force: true });
    });



    /** The relay's own log, for failure messages. */
    function relayLog(): string {
      return relay === 'rtpengine' ? `--- rtpengine:\n${rtpengine?.outputTail(4000) ?? ''}` : `--- Parley:\n${parley?.outputTail(40) ?? ''}`;
    }

    async function aliceInBrowser(): Promise<PhonePage> {
      const u = await chromium!.newUser('alice');
      await pointPageAtKamailio(u.context, origin, kamailio!);
      const alice = new PhonePage('alice', u.page, u.log, () => `--- Kamailio (last 3000 characters):\n${kamailio?.outputTail(3000) ?? ''}`);
      await alice.open(origin, { username: ALICE.user, password: ALICE.password, autoRegister: true });
      await alice.waitRegistration('registered', 15_000);
      return alice;
    }


    it('the browser calls baresip (UDP, G.711): the call sets up and audio flows both ways, then the ports close', async () => {
      const before = await mediaSocketsOpen();
      const alice = await aliceInBrowser();
      const from = bob!.events.length;
      const context = async (): Promise<string> => `${await alice.describe()}\n${bob!.describe()}\n--- Kamailio:\n${kamailio!.outputTail(3000)}\n${relayLog()}`;
      try {
        await alice.call('bob');
        await bob!.waitEvent((e) => e.type === 'CALL_INCOMING', 15_000, from);
        await bob!.command('accept');
        await alice.waitCall('in-call', 15_000);
        assert.ok((await mediaSocketsOpen()) > before, `${relay} holds ports during the call`);
        await audioBothWays(alice, bob!, relay, context);

        // hold from the page: a=sendonly through the relay; baresip answers recvonly and stops
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
        // the browser's fake microphone beeps: what baresip decoded from the relay is not silence
        const heard = await decodedByBaresip(dir);
        assert.ok(heard.rms > 0.005, `baresip's decoded audio is silence (sox RMS ${heard.rms}):\n${heard.text}`);
        const closed = await pollUntil(() => mediaSocketsOpen(), (n) => n === before, 10_000);
        assert.ok(closed.ok, `${relay}'s media ports left open after BYE: ${closed.value - before}\n--- Kamailio:\n${kamailio!.outputTail(3000)}\n${relayLog()}`);
      } finally {
        await alice.page.context().close();
      }
    });

    // Skipped for rtpengine only: in two CI dry runs of six the page stayed "connecting" after
    // answering through Kamailio + rtpengine (the reference peer, not Parley; not yet understood).
    // The same call through Parley's media plane (the 'parley' relay here, and media-baresip.test.ts)
    // runs every time.
    const referenceFlake = relay === 'rtpengine' ? 'flaky through Kamailio + rtpengine (2 of 6 CI dry runs): see the comment above' : false;
    it('baresip calls the browser, which answers from the page: audio flows both ways', { skip: referenceFlake }, async () => {
      const alice = await aliceInBrowser();
      const from = bob!.events.length;
      const context = async (): Promise<string> => `${await alice.describe()}\n${bob!.describe()}\n--- Kamailio:\n${kamailio!.outputTail(3000)}\n${relayLog()}`;
      try {
        await bob!.command('dial', 'sip:alice@127.0.0.1');
        await alice.waitCall('incoming', 15_000);
        await alice.answer();
        await alice.waitCall('in-call', 15_000);
        await bob!.waitEvent((e) => e.type === 'CALL_ESTABLISHED', 15_000, from);
        await audioBothWays(alice, bob!, relay, context);
        await bob!.command('hangup');
        await alice.waitCall('ended', 15_000);
        await bob!.waitEvent((e) => e.type === 'CALL_CLOSED', 15_000, from);
        const heard = await decodedByBaresip(dir);
        assert.ok(heard.rms > 0.005, `baresip's decoded audio is silence (sox RMS ${heard.rms}):\n${heard.text}`);
      } finally {
        await alice.page.context().close();
      }
    });
  });
}
