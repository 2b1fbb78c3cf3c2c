// Parley's TURN server from the browser, with nothing configured by hand: the phone page fetches
// time-limited credentials from Parley (POST /phone/turn-credentials, its SIP login) and two
// Chromium contexts call each other with iceTransportPolicy "relay" (?ice=relay): getStats shows
// a relayed local candidate in the selected pair and media arriving on both sides. The same call
// through a Parley without `turn.peers.allow` (loopback peers denied, the default) gets no media:
// the allow is what made the first work. And the /ice page lists a relay candidate from Parley's
// TURN server, and says in words why none comes with a wrong password or an unreachable server.
// Run by `npm run test:browser`, inside a loopback-only network namespace (support/netns.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { type ParleyServer, stopCleanly } from '../interop/support/parley.js';
import { portPool } from '../interop/support/ports.js';
import { skipWithoutSipp } from '../interop/support/sipp.js';
import { launchChromium, type TestBrowser } from './support/browser.js';
import { loopbackOnly } from './support/netns.js';
import { PhonePage, pollUntil, type RtpCounts } from './support/phone.js';
import { startPhoneServer } from './support/phone-server.js';

const pool = portPool(import.meta.url);
const password = (): string => randomBytes(9).toString('base64url');
const ALICE = { user: 'alice', password: password() };
const BOB = { user: 'bob', password: password() };

const where = loopbackOnly();
const skip = where.run ? skipWithoutSipp() : where.skip;

/** Where the /ice screenshots go (looked at by a person; not compared). */
const SHOTS = process.env.PARLEY_SCREENSHOTS ?? join(process.cwd(), 'dist', 'screenshots');

/** A Parley with a TURN listener on UDP 127.0.0.1 and relayed ports of this file's slice. */
async function startTurnParley(peers: Record<string, unknown>): Promise<{ parley: ParleyServer; origin: string; turnPort: number }> {
  const turnPort = await pool.block(1);
  const relayFirst = await pool.block(40);
  const { parley, origin } = await startPhoneServer({
    pool,
    subscribers: [ALICE, BOB],
    config: { turn: { listen: [{ transport: 'udp', address: '127.0.0.1', port: turnPort }], minPort: relayFirst, maxPort: relayFirst + 39, peers } },
  });
  return { parley, origin, turnPort };
}

describe("the browser and Parley's TURN server", { skip, timeout: 300_000 }, () => {
  let allowed: { parley: ParleyServer; origin: string; turnPort: number } | undefined;
  let chromium: TestBrowser | undefined;

  before(async () => {
    // the test Parley allows loopback peers: both browsers' relayed addresses are 127.0.0.1
    allowed = await startTurnParley({ allow: ['127.0.0.1/32'] });
    chromium = await launchChromium();
  });

  after(async () => {
    await chromium?.close();
    if (allowed?.parley.alive) await stopCleanly(allowed.parley);
  });

  async function registered(server: { parley: ParleyServer; origin: string }, who: { user: string; password: string }): Promise<PhonePage> {
    const u = await chromium!.newUser(who.user);
    const phone = new PhonePage(who.user, u.page, u.log, () => `--- Parley (last 30 lines):\n${server.parley.outputTail(30)}`);
    await phone.open(server.origin, { username: who.user, password: who.password, autoRegister: true, ice: 'relay' });
    await phone.waitRegistration('registered', 15_000);
    return phone;
  }

  const describeBoth = async (server: { parley: ParleyServer }, ...phones: PhonePage[]): Promise<string> =>
    [...(await Promise.all(phones.map((p) => p.describe(false)))), '--- Parley:', server.parley.outputTail(30)].join('\n');

  it('two phone pages with ?ice=relay call each other through the relay, with credentials they fetched themselves', async () => {
    const server = allowed!;
    const alice = await registered(server, ALICE);
    const bob = await registered(server, BOB);
    try {
      await alice.call('bob');
      await bob.waitCall('incoming', 10_000);
      await bob.answer();
      await Promise.all([alice.waitCall('in-call', 15_000), bob.waitCall('in-call', 15_000)]);
      // no ICE server configured: the only one is Parley's TURN, from the credentials route
      for (const phone of [alice, bob]) {
        assert.deepEqual(await phone.iceServerUrls(), [[`turn:127.0.0.1:${server.turnPort}?transport=udp`]], `${phone.name}'s RTCPeerConnection ICE servers`);
        const policy = await phone.page.evaluate(() => (globalThis as unknown as { parleyPhone: { peerConnection?: { getConfiguration(): { iceTransportPolicy?: string } } } }).parleyPhone.peerConnection?.getConfiguration().iceTransportPolicy);
        assert.equal(policy, 'relay');
      }
      const flowing = (c: RtpCounts): boolean => c.inbound.audio > 0 && c.inbound.video > 0;
      for (const phone of [alice, bob]) {
        const first = await pollUntil(() => phone.rtpCounts(), flowing, 20_000);
        assert.ok(first.ok, `${phone.name} received no audio or no video over the relay: ${JSON.stringify(first.value)}\n${await describeBoth(server, alice, bob)}`);
        const later = await pollUntil(() => phone.rtpCounts(), (c) => c.inbound.audio >= first.value.inbound.audio + 25 && c.inbound.video >= first.value.inbound.video + 25, 10_000);
        assert.ok(later.ok, `${phone.name}'s inbound RTP stopped growing: ${JSON.stringify(first.value)} then ${JSON.stringify(later.value)}`);
        const pair = await phone.selectedPairDetail();
        assert.ok(pair !== undefined, `${phone.name} has no selected candidate pair`);
        assert.equal(pair.localType, 'relay', `${phone.name}'s selected pair: ${JSON.stringify(pair)}`);
        assert.equal(pair.relayProtocol, 'udp', `${phone.name}'s selected pair: ${JSON.stringify(pair)}`);
        assert.equal(pair.state, 'succeeded', `${phone.name}'s selected pair: ${JSON.stringify(pair)}`);
        assert.ok(pair.bytesReceived > 0, `${phone.name}'s selected pair received nothing: ${JSON.stringify(pair)}`);
      }
      await alice.hangup();
      await Promise.all([alice.waitCall('ended', 10_000), bob.waitCall('ended', 10_000)]);
      assert.equal(await alice.error(), '');
      assert.equal(await bob.error(), '');
    } finally {
      await alice.page.context().close();
      await bob.page.context().close();
    }
  });

  /** The /ice page in a new context, at a size. */
  async function openIce(query: string, viewport = { width: 1280, height: 800 }): Promise<{ page: Page; describe: () => Promise<string> }> {
    const u = await chromium!.newUser('ice');
    await u.page.setViewportSize(viewport);
    await u.page.goto(`${allowed!.origin}/ice${query}`, { waitUntil: 'load' });
    await u.page.locator('#status[data-state=idle]').waitFor({ timeout: 10_000 });
    const describe = async (): Promise<string> =>
      [
        `--- /ice: status [${await u.page.getByTestId('status').getAttribute('data-state')}] ${await u.page.getByTestId('status').innerText()}`,
        `verdict: ${await u.page.getByTestId('verdict').innerText().catch(() => '')}`,
        `error: ${await u.page.getByTestId('error').innerText().catch(() => '')}`,
        `rows: ${await u.page.getByTestId('candidate-rows').innerText()}`,
        `errors: ${await u.page.getByTestId('errors').innerText()}`,
        ...u.log.lines.slice(-20),
        '--- Parley:',
        allowed!.parley.outputTail(20),
      ].join('\n');
    return { page: u.page, describe };
  }

  /** Press Check and wait until the page has a verdict. */
  async function runCheck(page: Page, describe: () => Promise<string>): Promise<string> {
    await page.getByTestId('check').click();
    const settled = await pollUntil(() => page.getByTestId('status').getAttribute('data-state'), (s) => s === 'done' || s === 'failed', 30_000);
    assert.ok(settled.ok, `the check did not end\n${await describe()}`);
    return settled.value!;
  }

  it('/ice lists a relay candidate from Parley\'s TURN server, with the SIP login; host or server-reflexive ones too with "all"; at phone and laptop size', async () => {
    await mkdir(SHOTS, { recursive: true });
    for (const [name, viewport] of [['laptop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
      const { page, describe } = await openIce('?user=alice', viewport);
      try {
        assert.equal(await page.getByTestId('sip-username').inputValue(), 'alice');
        await page.getByTestId('sip-password').fill(ALICE.password);
        assert.equal(await runCheck(page, describe), 'done', await describe());
        const relay = page.locator('#candidate-rows tr[data-type=relay]');
        assert.ok((await relay.count()) >= 1, `no relay row\n${await describe()}`);
        const cells = await relay.first().locator('td').allInnerTexts();
        // type, protocol, address, port, relay protocol, latency
        assert.equal(cells[0], 'relay');
        assert.equal(cells[1], 'udp');
        assert.equal(cells[2], '127.0.0.1');
        assert.ok(Number(cells[3]) > 0);
        assert.equal(cells[4], 'udp', await describe());
        assert.match(cells[5]!, /^\d+ ms$/);
        assert.match(await page.getByTestId('verdict').innerText(), /^The TURN server relays: it gave the relayed address 127\.0\.0\.1:\d+ \(udp\)/);
        assert.equal(await page.getByTestId('verdict').getAttribute('data-ok'), 'true');
        // the page fits the screen: nothing wider than the viewport but the candidates' own scroller
        const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
        assert.ok(overflow <= 0, `the ${name} page scrolls sideways by ${overflow} px`);
        await page.screenshot({ path: join(SHOTS, `ice-${name}.png`), fullPage: true });
        if (name === 'laptop') {
          await page.getByTestId('policy').selectOption('all');
          assert.equal(await runCheck(page, describe), 'done', await describe());
          // Chromium hides host addresses from a page without camera permission (mDNS) and, here on
          // loopback, lists the server-reflexive address Parley's STUN answer gave instead
          assert.ok((await page.locator('#candidate-rows tr[data-type=host], #candidate-rows tr[data-type=srflx]').count()) >= 1, `"all" lists no host or server-reflexive candidate\n${await describe()}`);
          assert.ok((await page.locator('#candidate-rows tr[data-type=relay]').count()) >= 1, `"all" lists no relay candidate\n${await describe()}`);
        }
      } finally {
        await page.context().close();
      }
    }
  });

  it('/ice says why no relay comes: a wrong TURN password (401), a port where nothing answers, a wrong SIP login', async () => {
    const closed = await pool.block(1);
    const { page, describe } = await openIce('');
    try {
      await page.getByTestId('source-url').check();
      await page.getByTestId('url').fill(`turn:127.0.0.1:${allowed!.turnPort}?transport=udp`);
      await page.getByTestId('turn-username').fill('alice');
      await page.getByTestId('turn-credential').fill(`${ALICE.password}-wrong`);
      assert.equal(await runCheck(page, describe), 'failed');
      assert.equal(await page.locator('#candidate-rows tr[data-type=relay]').count(), 0);
      assert.match(await page.getByTestId('verdict').innerText(), /^No relayed candidate\. turn:127\.0\.0\.1:\d+\?transport=udp refused the credentials \(401\): wrong username or password/, await describe());
      assert.equal(await page.locator('#errors li[data-code="401"]').count(), 1, await describe());

      await page.getByTestId('url').fill(`turn:127.0.0.1:${closed}?transport=udp`);
      await page.getByTestId('turn-credential').fill(ALICE.password);
      assert.equal(await runCheck(page, describe), 'failed');
      assert.match(await page.getByTestId('verdict').innerText(), /could not be reached \(701\)|did not answer in time \(timeout\)/, await describe());
      await page.screenshot({ path: join(SHOTS, 'ice-unreachable.png'), fullPage: true });

      await page.getByTestId('source-parley').check();
      await page.getByTestId('sip-username').fill('alice');
      await page.getByTestId('sip-password').fill('not-her-password');
      assert.equal(await runCheck(page, describe), 'failed');
      assert.equal(await page.getByTestId('error').innerText(), 'Parley refused the login: wrong username or password.');
    } finally {
      await page.context().close();
    }
  });

  it('the same call through a Parley with the default peer policy (loopback denied) gets no media: the allow made it work', async () => {
    const denied = await startTurnParley({});
    try {
      const alice = await registered(denied, ALICE);
      const bob = await registered(denied, BOB);
      try {
        await alice.call('bob');
        await bob.waitCall('incoming', 10_000);
        await bob.answer();
        // SIP completes the call whatever ICE does
        await Promise.all([alice.waitCall('in-call', 15_000), bob.waitCall('in-call', 15_000)]);
        // each side got its relayed address (the credentials and the allocation work), but every
        // check between the two relays fails: the TURN server refuses 127.0.0.1 as a peer (403)
        for (const phone of [alice, bob]) {
          const relayed = await pollUntil(() => phone.iceSummary(), (s) => s.localTypes.some((t) => t.startsWith('relay ')), 10_000);
          assert.ok(relayed.ok, `${phone.name} got no relayed candidate: ${JSON.stringify(relayed.value)}\n${await describeBoth(denied, alice, bob)}`);
        }
        const settled = await pollUntil(
          async () => Promise.all([alice.iceSummary(), bob.iceSummary()]),
          // Chromium drops the pairs whose permission the server refused: no pair left, or every one failed
          (both) => both.every((s) => s.connectionState === 'failed' || s.connectionState === 'disconnected' || (s.pairs.length > 0 && s.pairs.every((p) => p.state === 'failed'))),
          45_000,
          500,
        );
        for (const [i, phone] of [alice, bob].entries()) {
          const s = settled.value[i]!;
          assert.ok(!s.pairs.some((p) => p.state === 'succeeded'), `${phone.name} has a working candidate pair although loopback peers are denied: ${JSON.stringify(s)}`);
          const counts = await phone.rtpCounts();
          assert.deepEqual(counts.inbound, { audio: 0, video: 0 }, `${phone.name} received media although loopback peers are denied`);
        }
        assert.ok(settled.ok, `ICE did not fail on both sides within 45 s: ${JSON.stringify(settled.value)}`);
        // and the reason is the peer policy: the TURN server denied 127.0.0.1 as a peer
        const denials = denied.parley.logs.filter((l) => l.msg === 'TURN peer denied');
        assert.ok(denials.length > 0, `the TURN server logged no denied peer\n${denied.parley.outputTail(30)}`);
        assert.match(JSON.stringify(denials[0]), /127\.0\.0\.1/);
      } finally {
        await alice.page.context().close();
        await bob.page.context().close();
      }
    } finally {
      await stopCleanly(denied.parley);
    }
  });
});
