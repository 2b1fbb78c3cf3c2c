// The phone page as a phone, at a phone's size (390x844) and a laptop's (1280x800), measured by
// element geometry (getBoundingClientRect through playwright's boundingBox, never pixels):
// registered, the account is one line; in a browser-to-browser video call the other side's video
// covers the viewport with the self-view inside it and one bar of controls, every button at least
// 44x44 px; the ringtone plays until Answer and ringback until the answer; the keypad sends RFC
// 4733 events; the devices panel replaces the microphone in the call; hold shows on the other
// page; dark mode follows the system; the call goes into the history. An audio-only call to a SIP phone (sipp, no media)
// shows the name and a running timer and no video boxes, and hold/resume send re-INVITEs with
// a=sendonly then a=sendrecv (read in sipp's trace).
// PARLEY_SCREENSHOTS=<dir> also saves each size idle and in a call (docs/images/ holds them).
// Run by `npm run test:browser`, inside a loopback-only network namespace (support/netns.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { registerPhone, startUas } from '../interop/support/calls.js';
import { REPO_ROOT, stopCleanly, type ParleyServer } from '../interop/support/parley.js';
import { portPool } from '../interop/support/ports.js';
import { received } from '../interop/support/sip-trace.js';
import { skipWithoutSipp } from '../interop/support/sipp.js';
import { launchChromium, type TestBrowser } from './support/browser.js';
import { loopbackOnly } from './support/netns.js';
import { PhonePage, pollUntil } from './support/phone.js';
import { startPhoneServer } from './support/phone-server.js';

const pool = portPool(import.meta.url);
const SCENARIOS = join(REPO_ROOT, 'test/browser/scenarios');
const password = (): string => randomBytes(9).toString('base64url');
const ALICE = { user: 'alice', password: password() };
const BOB = { user: 'bob', password: password() };
const CAROL = { user: 'carol', password: password() };
const SHOTS = process.env.PARLEY_SCREENSHOTS;

const SIZES = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'laptop', width: 1280, height: 800 },
] as const;

const where = loopbackOnly();
const skip = where.run ? skipWithoutSipp() : where.skip;

/** What runs inside the page (page.evaluate). */
declare const window: { readonly parleyPhone: { readonly ringer: { readonly audioState: string }; readonly peerConnection: { readonly currentRemoteDescription: { readonly sdp: string } | null } | undefined } };
declare const document: { readonly activeElement: { getAttribute(name: string): string | null } | null };
declare function getComputedStyle(e: unknown): { readonly transform: string; readonly backgroundColor: string };

type Box = { x: number; y: number; width: number; height: number };

/** The area of `b` inside the viewport. */
function visibleArea(b: Box, vw: number, vh: number): number {
  const w = Math.min(b.x + b.width, vw) - Math.max(b.x, 0);
  const h = Math.min(b.y + b.height, vh) - Math.max(b.y, 0);
  return Math.max(0, w) * Math.max(0, h);
}

function inside(inner: Box, outer: Box): boolean {
  const e = 0.5;
  return inner.x >= outer.x - e && inner.y >= outer.y - e && inner.x + inner.width <= outer.x + outer.width + e && inner.y + inner.height <= outer.y + outer.height + e;
}

async function box(page: Page, testId: string): Promise<Box | null> {
  return page.getByTestId(testId).boundingBox();
}

/** Every visible button of the control bar: inside the viewport and at least 44x44 px. */
async function assertControls(page: Page, bar: string, size: { width: number; height: number }, context: string): Promise<number> {
  const viewport = { x: 0, y: 0, width: size.width, height: size.height };
  const barBox = await box(page, bar);
  assert.ok(barBox !== null && inside(barBox, viewport), `the control bar ${bar} is not inside the ${size.width}x${size.height} viewport: ${JSON.stringify(barBox)}\n${context}`);
  const buttons = page.getByTestId(bar).locator('button');
  let n = 0;
  for (const b of await buttons.all()) {
    if (!(await b.isVisible())) continue;
    n += 1;
    const bb = (await b.boundingBox())!;
    const label = (await b.getAttribute('aria-label')) ?? (await b.innerText());
    assert.ok(label.trim() !== '', `a control without an accessible label in ${bar}`);
    assert.ok(bb.width >= 44 && bb.height >= 44, `"${label}" is ${bb.width}x${bb.height} px, under 44x44`);
    assert.ok(inside(bb, viewport), `"${label}" is outside the viewport: ${JSON.stringify(bb)}`);
  }
  return n;
}

describe('the phone page at phone and laptop sizes', { skip, timeout: 300_000 }, () => {
  let parley: ParleyServer | undefined;
  let origin: string;
  let chromium: TestBrowser | undefined;

  before(async () => {
    const started = await startPhoneServer({ pool, subscribers: [ALICE, BOB, CAROL] });
    parley = started.parley;
    origin = started.origin;
    chromium = await launchChromium();
  });

  after(async () => {
    await chromium?.close();
    await stopCleanly(parley);
  });

  async function registered(who: { user: string; password: string }, size: { width: number; height: number }, displayName?: string): Promise<PhonePage> {
    const u = await chromium!.newUser(who.user);
    await u.page.setViewportSize({ width: size.width, height: size.height });
    const phone = new PhonePage(who.user, u.page, u.log, () => `--- Parley (last 25 lines):\n${parley?.outputTail(25) ?? ''}`);
    await phone.open(origin, { username: who.user, password: who.password, autoRegister: true, ...(displayName ? { displayName } : {}) });
    await phone.waitRegistration('registered', 15_000);
    return phone;
  }

  const ringing = (p: PhonePage): Promise<string | null> => p.page.locator('body').getAttribute('data-ringing');
  const audioState = (p: PhonePage): Promise<string> => p.page.evaluate(() => window.parleyPhone.ringer.audioState);

  for (const size of SIZES) {
    it(`${size.name} (${size.width}x${size.height}): one account line; a video call fills the viewport, self-view inside, one bar of controls; ringtone and ringback; RFC 4733 keypad; history`, async () => {
      const alice = await registered(ALICE, size, 'Alice Liddell');
      const bob = await registered(BOB, size);
      try {
        // registered: "alice · registered · change" on one line, the form folded away
        for (const p of [alice, bob]) {
          const line = p.page.getByTestId('account-line');
          assert.equal((await line.innerText()).replace(/\s+/g, ' ').trim(), `${p.name} · registered · change`);
          assert.equal(await p.page.getByTestId('register-form').isVisible(), false, 'the account form stays open once registered');
          const parts = await Promise.all(['account-user', 'registration-state', 'account-change'].map((id) => box(p.page, id)));
          const tops = parts.map((b) => b!.y + b!.height / 2);
          assert.ok(Math.max(...tops) - Math.min(...tops) < 8, `the account line wraps: ${JSON.stringify(parts)}`);
          assert.ok((await box(p.page, 'account-line'))!.height <= 48, 'the account line is taller than one line');
        }
        // "change" opens the form again, and folds it
        await alice.page.getByTestId('account-change').click();
        assert.equal(await alice.page.getByTestId('register-form').isVisible(), true);
        await alice.page.getByTestId('account-change').click();
        assert.equal(await alice.page.getByTestId('register-form').isVisible(), false);
        // dark mode follows the system's
        const background = (): Promise<string> => bob.page.locator('body').evaluate((b) => getComputedStyle(b).backgroundColor);
        await bob.page.emulateMedia({ colorScheme: 'dark' });
        assert.equal(await background(), 'rgb(22, 22, 22)', 'no dark mode');
        await bob.page.emulateMedia({ colorScheme: 'light' });
        assert.equal(await background(), 'rgb(253, 253, 253)');

        // bob has used the page (browsers let a page make sound only after that); alice calls
        await bob.page.getByRole('heading', { name: 'Parley phone' }).click();
        await alice.call('bob');
        await bob.waitCall('incoming', 10_000);
        assert.equal(await ringing(bob), 'ringtone', await bob.describe());
        const running = await pollUntil(() => audioState(bob), (s) => s === 'running', 5_000);
        assert.ok(running.ok, `bob's ringtone AudioContext is ${running.value}`);
        assert.equal(await bob.page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'answer', 'the keyboard focus is on Answer');
        assert.equal(await bob.page.getByTestId('call-view').getAttribute('data-active'), 'true');
        assert.match(await bob.page.getByTestId('peer-name').innerText(), /Alice Liddell/);
        await assertControls(bob.page, 'incoming', size, await bob.describe());
        await alice.waitCall('ringing', 5_000);
        assert.equal(await ringing(alice), 'ringback', await alice.describe());
        await bob.answer();
        assert.equal(await ringing(bob), null, 'the ringtone goes on after Answer');
        await Promise.all([alice.waitCall('in-call', 15_000), bob.waitCall('in-call', 15_000)]);
        assert.equal(await ringing(alice), null, 'the ringback goes on after the answer');

        for (const p of [alice, bob]) {
          const video = await pollUntil(() => p.page.getByTestId('call-view').getAttribute('data-media'), (m) => m === 'video', 15_000);
          assert.ok(video.ok, `${p.name}'s call view shows no video (${video.value})\n${await p.describe()}`);
          const remote = (await box(p.page, 'remote-video'))!;
          const covered = visibleArea(remote, size.width, size.height) / (size.width * size.height);
          assert.ok(covered >= 0.9, `${p.name}: the remote video covers ${(covered * 100).toFixed(1)} % of the viewport: ${JSON.stringify(remote)}`);
          const self = await box(p.page, 'local-video');
          assert.ok(self !== null && self.width > 40 && inside(self, remote), `${p.name}: the self-view ${JSON.stringify(self)} is not inside the remote video ${JSON.stringify(remote)}`);
          assert.ok(self.width * self.height < 0.25 * remote.width * remote.height, `${p.name}: the self-view is no picture-in-picture: ${JSON.stringify(self)}`);
          // the remote video is not mirrored; the self-view is
          assert.equal(await p.page.getByTestId('remote-video').evaluate((v) => getComputedStyle(v).transform), 'none');
          assert.notEqual(await p.page.getByTestId('local-video').evaluate((v) => getComputedStyle(v).transform), 'none');
          assert.equal(await p.page.getByTestId('audio-only').isVisible(), false);
          const n = await assertControls(p.page, 'in-call', size, await p.describe());
          assert.equal(n, 5, 'mute, camera, keypad, hold, hang up');
          // nothing of the idle page shows through
          assert.equal(await p.page.getByTestId('call').isVisible(), false);
        }
        if (SHOTS) await bob.page.screenshot({ path: join(SHOTS, `phone-page-${size.name}-video-call.png`) });

        // the devices in the call: a panel behind the gear, inside the viewport; another
        // microphone replaces the one the call sends (replaceTrack) at once
        await alice.page.getByTestId('devices-toggle').click();
        const viewport = { x: 0, y: 0, width: size.width, height: size.height };
        const panel = await box(alice.page, 'call-devices');
        assert.ok(panel !== null && inside(panel, viewport), `the devices panel is off screen: ${JSON.stringify(panel)}`);
        const toggle = (await box(alice.page, 'devices-toggle'))!;
        assert.ok(toggle.width >= 44 && toggle.height >= 44 && inside(toggle, viewport), `the devices toggle: ${JSON.stringify(toggle)}`);
        const mics = await alice.page.getByTestId('call-microphone-select').locator('option').evaluateAll((os) => os.map((o) => ({ value: (o as unknown as { value: string }).value, label: (o as unknown as { text: string }).text })));
        // Chromium's fake devices are several microphones: the last one, not the one in use
        const other = mics.length > 2 ? mics.at(-1) : undefined;
        assert.ok(other !== undefined, `no second microphone to choose: ${JSON.stringify(mics)}`);
        {
          await alice.page.getByTestId('call-microphone-select').selectOption(other.value);
          const sending = await pollUntil(
            () => alice.page.evaluate(() => (window.parleyPhone.peerConnection as unknown as { getSenders(): Array<{ track: { kind: string; label: string } | null }> }).getSenders().find((x) => x.track?.kind === 'audio')?.track?.label ?? ''),
            (l) => l === other.label, 5_000);
          assert.ok(sending.ok, `the call sends the microphone "${sending.value}", not the chosen "${other.label}" (of ${JSON.stringify(mics)})`);
        }
        await alice.page.getByTestId('devices-toggle').click();
        assert.equal(await alice.page.getByTestId('call-devices').isVisible(), false);

        // the keypad behind its toggle; RFC 4733 events (the browser's RTCDTMFSender plays them:
        // alice's page lists a tone when it starts), so no SIP INFO reaches bob's page
        await alice.page.getByTestId('keypad-toggle').click();
        assert.equal(await alice.page.getByTestId('keypad-toggle').getAttribute('aria-expanded'), 'true');
        await assertControls(alice.page, 'keypad', size, await alice.describe());
        assert.match((await alice.page.evaluate(() => window.parleyPhone.peerConnection?.currentRemoteDescription?.sdp)) ?? '', /telephone-event\/8000/);
        await alice.pressKeys('12#');
        const tones = await pollUntil(() => alice.page.getByTestId('dtmf-sent').innerText(), (t) => t === '12#', 5_000);
        assert.equal(tones.value, '12#', `alice's RTCDTMFSender played ${JSON.stringify(tones.value)}`);
        assert.equal(await bob.page.getByTestId('dtmf-received').innerText(), '', 'RFC 4733 tones came as SIP INFO');
        await alice.page.getByTestId('keypad-toggle').click();
        assert.equal(await alice.page.getByTestId('keypad').isVisible(), false);

        // hold between two pages: bob's page reads alice's a=sendonly re-INVITE as "on hold"
        await alice.page.getByTestId('hold').click();
        const heldByAlice = await pollUntil(() => bob.page.getByTestId('call-view').getAttribute('data-hold'), (h) => h === 'remote', 5_000);
        assert.ok(heldByAlice.ok, `bob's page does not show the hold (${heldByAlice.value})\n${await bob.describe()}`);
        assert.equal(await bob.callText(), 'On hold: Alice Liddell put you on hold.');
        assert.equal(await alice.page.getByTestId('call-view').getAttribute('data-hold'), 'local');
        await alice.page.getByTestId('hold').click();
        const resumed = await pollUntil(() => bob.page.getByTestId('call-view').getAttribute('data-hold'), (h) => h === null, 5_000);
        assert.ok(resumed.ok, `bob's page still shows a hold (${resumed.value})`);
        assert.equal(await bob.callText(), 'In a call with Alice Liddell.');

        await alice.hangup();
        await Promise.all([alice.waitCall('ended', 10_000), bob.waitCall('ended', 10_000)]);
        assert.equal(await alice.page.getByTestId('call-view').getAttribute('data-active'), 'false');
        assert.equal(await alice.page.getByTestId('call').isVisible(), true);

        // the history lists the call on both sides, with "call again"
        const aliceFirst = alice.page.getByTestId('history-entry').first();
        assert.match(await aliceFirst.innerText(), /^bob\s+Outgoing · \d+:\d\d · /);
        assert.match(await bob.page.getByTestId('history-entry').first().innerText(), /^Alice Liddell\s+Incoming · \d+:\d\d · /);
        assert.equal(await aliceFirst.getByTestId('call-again').getAttribute('aria-label'), 'Call bob again');
        if (SHOTS) await alice.page.screenshot({ path: join(SHOTS, `phone-page-${size.name}-idle.png`) });
        // it survives a reload (localStorage), before registering again (the password is not kept)
        await alice.page.reload();
        await alice.page.locator('#version').filter({ hasText: 'JsSIP' }).waitFor({ timeout: 10_000 });
        await pollUntil(() => alice.page.getByTestId('history-entry').count(), (n) => n > 0, 5_000);
        assert.match(await alice.page.getByTestId('history-entry').first().innerText(), /^bob\b/);
        assert.equal(await alice.error(), '');
        assert.equal(await bob.error(), '');
      } finally {
        await alice.page.context().close();
        await bob.page.context().close();
      }
    });

    it(`${size.name}: an audio-only call to a SIP phone (sipp) shows its name and a running timer, no video boxes; hold sends a=sendonly, resume a=sendrecv`, async () => {
      const carol = await registerPhone(parley!, CAROL, 'udp');
      const uas = await startUas(parley!, carol.endpoint, join(SCENARIOS, 'uas-hold.xml'), { recvTimeoutMs: 20_000, timeoutSecs: 40 });
      const alice = await registered(ALICE, size);
      try {
        await alice.call('carol');
        await alice.waitCall('in-call', 15_000);
        const view = alice.page.getByTestId('call-view');
        assert.equal(await view.getAttribute('data-media'), 'audio', await alice.describe());
        assert.equal(await alice.page.getByTestId('peer-name').innerText(), 'carol');
        assert.ok(await alice.page.getByTestId('peer-name').isVisible());
        for (const v of ['remote-video', 'local-video']) assert.equal(await alice.page.getByTestId(v).isVisible(), false, `an empty ${v} box shows in an audio-only call`);
        const timer = alice.page.getByTestId('call-timer');
        assert.ok(await timer.isVisible(), 'no call timer');
        const first = await timer.innerText();
        assert.match(first, /^\d+:\d\d$/);
        const ticked = await pollUntil(() => timer.innerText(), (t) => t !== first, 5_000);
        assert.ok(ticked.ok, `the timer stays at ${first}`);
        const viewport = { x: 0, y: 0, width: size.width, height: size.height };
        for (const id of ['peer-name', 'call-timer']) assert.ok(inside((await box(alice.page, id))!, viewport), `${id} is off screen`);
        assert.equal(await assertControls(alice.page, 'in-call', size, await alice.describe()), 4, 'mute, keypad, hold, hang up (no camera: the call has no video)');
        if (SHOTS) await alice.page.screenshot({ path: join(SHOTS, `phone-page-${size.name}-audio-call.png`) });

        await alice.page.getByTestId('hold').click();
        const held = await pollUntil(() => alice.page.getByTestId('hold').getAttribute('aria-pressed'), (v) => v === 'true', 5_000);
        assert.ok(held.ok, `hold did not take\n${await alice.describe()}`);
        assert.match(await alice.callText(), /On hold: you put carol on hold/, await alice.describe());
        assert.equal(await alice.callState(), 'in-call');
        assert.equal(await alice.page.getByTestId('hold').getAttribute('aria-label'), 'Resume');
        await alice.page.getByTestId('hold').click();
        const resumed = await pollUntil(() => alice.page.getByTestId('hold').getAttribute('aria-pressed'), (v) => v === 'false', 5_000);
        assert.ok(resumed.ok, `resume did not take\n${await alice.describe()}`);
        assert.match(await alice.callText(), /^In a call with carol\.$/);
        await alice.hangup();
        await alice.waitCall('ended', 10_000);

        const run = await uas.done;
        const context = `${run.describe()}\n${await alice.describe()}`;
        assert.equal(run.code, 0, `carol's sipp failed:\n${context}`);
        const invites = received(run.trace, { method: 'INVITE' });
        assert.equal(invites.length, 3, context);
        const audioDirection = (sdp: string): string | undefined => {
          const audio = sdp.slice(sdp.indexOf('m=audio'), sdp.indexOf('m=video') > 0 ? sdp.indexOf('m=video') : undefined);
          return ['sendrecv', 'sendonly', 'recvonly', 'inactive'].find((d) => audio.includes(`a=${d}\r\n`) || audio.includes(`a=${d}\n`));
        };
        assert.deepEqual(invites.map((i) => audioDirection(i.text)), ['sendrecv', 'sendonly', 'sendrecv'], context);
        assert.match(await alice.page.getByTestId('history-entry').first().innerText(), /^carol\s+Outgoing · /);
      } finally {
        await alice.page.context().close();
      }
    });
  }
});
