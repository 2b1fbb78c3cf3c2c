// The dashboard (/dashboard) in Chromium, at a phone's size (390x844) and a laptop's (1366x768):
// a real Parley with routing.traceCallIdPrefix, sipp phones registered, a traced call alice → bob
// (challenged, answered, hung up), then in the page: a wrong token is refused with a message, the
// right one signs in; the figures and a chart render; the registrations table lists bob's AOR and
// its search filters; a live call is listed and hung up from the page; the traced call's ladder
// has the INVITE/100/180/200/ACK/BYE arrows between the right columns (checked on the SVG's
// geometry) and an arrow opens its message; an administrator subscriber signs in with a password.
// Layout, by element geometry: no horizontal scroll of the page, figures and charts do not
// overlap, touch targets at least 40 px. SCREENSHOTS=1 writes docs/images/dashboard-*.png.
//
// The API the page talks to is the real server's once it has `parley token` (the API of issue 18
// merged); until then a stand-in (support/dashboard-standin.ts) serves the page and the trace
// routes over this Parley's traces, and the other routes from what the test registered.
// Run by `npm run test:browser`, inside a loopback-only network namespace (support/netns.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { Ladder } from '../../src/api/operations.js';
import { listTraces } from '../../src/routing/trace-store.js';
import { apiToken } from '../interop/support/api-token.js';
import { assertBasicCall, call, registerPhone, startUas } from '../interop/support/calls.js';
import { REPO_ROOT, stopCleanly, type ParleyServer } from '../interop/support/parley.js';
import { portPool } from '../interop/support/ports.js';
import { header, sent } from '../interop/support/sip-trace.js';
import { skipWithoutSipp, type SippRun } from '../interop/support/sipp.js';
import { launchChromium, type PageLog, type TestBrowser } from './support/browser.js';
import { startStandIn, type StandIn } from './support/dashboard-standin.js';
import { loopbackOnly } from './support/netns.js';
import { assertInOrder, assertLayout, assertTouchTargets, drawnLadder, overlap } from './support/page-layout.js';
import { pollUntil } from './support/phone.js';
import { startPhoneServer } from './support/phone-server.js';

const pool = portPool(import.meta.url);
const password = (): string => randomBytes(9).toString('base64url');
const ALICE = { user: 'alice', password: password() };
const BOB = { user: 'bob', password: password() };
const PREFIX = 'DASH-';
const SHOTS = process.env.SCREENSHOTS === '1' ? join(REPO_ROOT, 'docs/images') : undefined;

const SIZES = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'laptop', width: 1366, height: 768 },
] as const;

const where = loopbackOnly();
const skip = where.run ? skipWithoutSipp() : where.skip;

/** What runs inside the page (page.evaluate). */
declare function getComputedStyle(e: unknown): { readonly backgroundColor: string };

/** The SIP domain Parley serves (its first realm, as its ready line says). */
function domainOf(p: ParleyServer): string {
  return String((p.readyLine?.realms as string[] | undefined)?.[0] ?? '127.0.0.1');
}

/** The status of a GET with a bearer token (the server's development certificate accepted). */
function statusOf(url: string, bearer?: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpsGet(url, { headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

describe('the dashboard in Chromium at phone and laptop sizes', { skip, timeout: 300_000 }, () => {
  let parley: ParleyServer | undefined;
  let standIn: StandIn | undefined;
  let chromium: TestBrowser | undefined;
  let origin: string;
  let token: string;
  let admin: { username: string; password: string } | undefined;
  let callId: string;
  let bobPort: number;
  let alicePort: number;
  let realApi = false;

  before(async () => {
    const started = await startPhoneServer({ pool, subscribers: [ALICE, BOB], config: { routing: { traceCallIdPrefix: PREFIX } } });
    parley = started.parley;
    // the real API once it is merged in (a token, and the counters answered); else the stand-in
    let realToken: string | undefined;
    try {
      realToken = apiToken(parley.dataDir, 'admin', 'dashboard-test');
    } catch {
      // no `parley token` yet
    }
    if (realToken !== undefined && (await statusOf(`${started.origin}/api/v1/stats`, realToken)) === 200) {
      token = realToken;
      realApi = true;
      origin = started.origin;
    } else {
      token = `pk_standin_${randomBytes(12).toString('hex')}`;
      standIn = await startStandIn({ dataDir: parley.dataDir, port: await pool.block(1), token, admin: { username: 'root', password: password() } });
      origin = standIn.origin;
    }

    // bob registers; alice calls him with a traced Call-ID (challenged, then answered, hung up)
    const bob = await registerPhone(parley, BOB);
    bobPort = bob.endpoint.port;
    const uas = await startUas(parley, bob.endpoint, 'uas-answer.xml');
    const uac = await call(parley, 'call-basic.xml', { caller: ALICE, callee: 'bob', callId: `${PREFIX}%u-%p@dashboard` });
    assertBasicCall({ parley, uac, uas: await uas.done, callee: bob.endpoint, callerTransport: 'udp', calleeTransport: 'udp' });
    const invite = sent(uac.trace, { method: 'INVITE' })[0]!;
    callId = header(invite, 'Call-ID')!;
    const via = header(invite, 'Via')!;
    alicePort = Number(via.slice(via.lastIndexOf(':') + 1).split(';')[0]);
    // the reports are written once each request's routing is over: INVITE, ACK, INVITE, ACK, BYE
    const written = await pollUntil(async () => (await listTraces(join(parley!.dataDir, 'traces'))).find((c) => c.callId === callId)?.requests ?? 0, (n) => n >= 5, 10_000);
    assert.ok(written.ok, `${written.value} trace reports of ${callId}`);

    if (standIn !== undefined) {
      const aor = `bob@${domainOf(parley)}`;
      standIn.bindings.push({
        aor, contact: `sip:bob@127.0.0.1:${bobPort};transport=UDP`, expires: new Date(Date.now() + 3_600_000).toISOString(), expiresIn: 3600, q: 1,
        source: `udp:127.0.0.1:${bobPort}`, userAgent: 'sipp', updatedAt: new Date().toISOString(),
      });
      admin = standIn.admin;
    }
    chromium = await launchChromium();
  });

  after(async () => {
    await chromium?.close();
    await standIn?.close();
    await stopCleanly(parley);
  });

  const pageContext = (log: PageLog) => (): string => `--- page:\n${log.lines.slice(-30).join('\n')}\n--- Parley (last 25 lines):\n${parley?.outputTail(25) ?? ''}`;

  async function open(size: { width: number; height: number }, name: string): Promise<{ page: Page; log: PageLog; context: () => string }> {
    const u = await chromium!.newUser(name);
    await u.page.setViewportSize({ width: size.width, height: size.height });
    await u.page.goto(`${origin}/dashboard`);
    return { page: u.page, log: u.log, context: pageContext(u.log) };
  }

  async function signIn(page: Page, t: string): Promise<void> {
    await page.getByTestId('token').fill(t);
    await page.getByTestId('token-login').click();
  }

  it('Parley serves the page at /dashboard (and its bundle) on its HTTPS listener', async () => {
    for (const path of ['/dashboard', '/dashboard/dashboard.js', '/dashboard/dashboard.css', '/dashboard/uPlot.min.css']) {
      assert.equal(await statusOf(`${parley!.httpsOrigin}${path}`), 200, path);
    }
    assert.equal(await statusOf(`${parley!.httpsOrigin}/dashboard/nothing.js`), 404);
  });

  for (const size of SIZES) {
    it(`${size.name} (${size.width}x${size.height}): sign-in, figures and charts, registrations, the traced call's ladder; no sideways scroll, nothing overlapping`, async () => {
      const { page, log, context } = await open(size, `operator-${size.name}`);
      await page.emulateMedia({ colorScheme: size.name === 'phone' ? 'dark' : 'light' });

      // a wrong token: refused, with a message; the right one: in
      await signIn(page, `${token}x`);
      await page.getByTestId('login-error').waitFor({ state: 'visible' });
      assert.match(await page.getByTestId('login-error').innerText(), /Not accepted/, context());
      assert.equal(await page.getByTestId('tabs').isVisible(), false);
      await assertLayout(page, 'the sign-in form', ['token-form', 'password-form'], context);
      await assertTouchTargets(page, 'the sign-in form');
      await signIn(page, token);
      await page.getByTestId('tabs').waitFor({ state: 'visible' });
      assert.equal(await page.getByTestId('login').isVisible(), false);
      // light and dark from the system's setting
      const background = (): Promise<string> => page.locator('body').evaluate((b) => getComputedStyle(b).backgroundColor);
      assert.equal(await background(), size.name === 'phone' ? 'rgb(21, 24, 27)' : 'rgb(246, 247, 248)');

      // figures and charts
      const registrations = await pollUntil(() => page.getByTestId('figure-registrations').innerText(), (t) => /^\d/.test(t), 10_000);
      assert.ok(registrations.ok && Number(registrations.value.replace(/,/g, '')) >= 1, `registrations figure: ${registrations.value}\n${context()}`);
      for (const chart of ['chart-calls', 'chart-registrations', 'chart-failures', 'chart-turn', 'chart-media']) {
        const canvas = page.getByTestId(chart).locator('canvas').first();
        await canvas.waitFor({ state: 'visible' });
        const b = (await canvas.boundingBox())!;
        assert.ok(b.width >= 150 && b.height >= 100, `${chart} is ${b.width}x${b.height}`);
      }
      await assertLayout(page, 'the overview', ['figures', 'charts'], context);
      await assertLayout(page, 'the figures', ['figure-registrations', 'figure-calls', 'figure-requests', 'figure-auth-failures', 'figure-blocked', 'figure-turn', 'figure-media'].map((id) => id), context);
      const figureBoxes = await Promise.all(['figure-registrations', 'figure-calls', 'figure-requests', 'figure-auth-failures', 'figure-blocked', 'figure-turn', 'figure-media'].map(async (id) => (await page.getByTestId(id).locator('..').boundingBox())!));
      figureBoxes.forEach((a, i) => figureBoxes.slice(i + 1).forEach((b) => assert.ok(!overlap(a, b), `figures overlap: ${JSON.stringify([a, b])}`)));
      const chartBoxes = await Promise.all((await page.locator('[data-chart]').all()).map(async (l) => (await l.boundingBox())!));
      chartBoxes.forEach((a, i) => chartBoxes.slice(i + 1).forEach((b) => assert.ok(!overlap(a, b), `charts overlap: ${JSON.stringify([a, b])}`)));
      await assertTouchTargets(page, 'the overview');
      // requests/s: from two samples of the counters
      const rate = await pollUntil(() => page.getByTestId('figure-requests').innerText(), (t) => /^\d/.test(t), 10_000);
      assert.ok(rate.ok, `requests/s: ${rate.value}`);
      if (SHOTS !== undefined) {
        mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: join(SHOTS, `dashboard-${size.name}.png`) });
      }

      // registrations: bob's AOR from the port he registered from; the search filters
      await page.getByTestId('tab-registrations').click();
      const bobRow = page.getByTestId('registrations-table').locator('tbody tr', { hasText: `:${bobPort}` });
      await bobRow.waitFor({ state: 'visible' });
      assert.match(await bobRow.innerText(), /bob@/);
      await page.getByTestId('registrations-search').fill('bob');
      await pollUntil(() => page.getByTestId('registrations-count').innerText(), (t) => t === '1 binding', 5_000);
      await page.getByTestId('registrations-search').fill('nobody-at-all');
      await page.getByTestId('registrations-table').locator('td.empty').waitFor({ state: 'visible' });
      assert.match(await page.getByTestId('registrations-table').innerText(), /No registration matches/);
      await assertLayout(page, 'the registrations', ['registrations-card'], context);
      await assertTouchTargets(page, 'the registrations');

      // traces: the call → its ladder
      await page.getByTestId('tab-traces').click();
      await page.getByTestId('traces-table').locator('tr', { hasText: callId }).getByTestId('open-trace').click();
      await page.getByTestId('ladder-svg').waitFor({ state: 'visible' });
      const ladder = await page.evaluate(async ({ id, t }) => {
        const r = await fetch(`/api/v1/traces/${encodeURIComponent(id)}/ladder`, { headers: { authorization: `Bearer ${t}` } });
        return (await r.json()) as Ladder;
      }, { id: callId, t: token });
      const alice = `udp:127.0.0.1:${alicePort}`;
      const bob = `udp:127.0.0.1:${bobPort}`;
      assert.deepEqual(ladder.participants, [alice, 'parley', bob], JSON.stringify(ladder.participants));

      // the columns' x in the drawing, and each arrow's ends on them
      const who = (p: string): string => (p === alice ? 'alice' : p === bob ? 'bob' : p);
      const drawn = await drawnLadder(page, who);
      assert.deepEqual(drawn.columns, [alice, 'parley', bob]);
      const expected = [
        'alice>parley INVITE', 'parley>alice 407 Proxy Authentication Required', 'alice>parley ACK',
        'alice>parley INVITE', 'parley>bob INVITE', 'bob>parley 180 Ringing', 'parley>alice 180 Ringing',
        'bob>parley 200 OK', 'parley>alice 200 OK', 'alice>parley ACK', 'parley>bob ACK',
        'alice>parley BYE', 'parley>bob BYE', 'bob>parley 200 OK', 'parley>alice 200 OK',
      ];
      // in this order; a 100 Trying comes in between only when the callee is silent for 200 ms
      // (RFC 3261 §17.2.1), and retransmissions may
      assertInOrder(drawn.arrows, expected);
      // the page lays the ladder out in its card: the card scrolls, not the page
      await assertLayout(page, 'the ladder', ['ladder-scroll', 'traces-card'], context);
      const inviteToBob = page.getByTestId('ladder-arrow').and(page.locator(`[data-from="parley"][data-to="${bob}"][data-label="INVITE"]`));
      const hit = (await inviteToBob.locator('rect.hit').boundingBox())!;
      assert.ok(hit.height >= 40, `an arrow's touch target is ${hit.height} px high`);
      await inviteToBob.locator('rect.hit').scrollIntoViewIfNeeded();
      await inviteToBob.locator('rect.hit').click();
      await page.getByTestId('message').waitFor({ state: 'visible' });
      assert.match(await page.getByTestId('message').innerText(), new RegExp(`^INVITE sip:bob@127\\.0\\.0\\.1:${bobPort}`));
      assert.match(await page.getByTestId('message').innerText(), new RegExp(`Call-ID: ${callId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      await assertLayout(page, 'the ladder and its message', ['ladder-scroll', 'message-card'], context);
      // from the keyboard too: an arrow takes the focus, Enter opens its message
      const firstArrow = page.getByTestId('ladder-arrow').first();
      await firstArrow.focus();
      await page.keyboard.press('Enter');
      assert.match(await page.getByTestId('message').innerText(), /^INVITE sip:bob@127\.0\.0\.1:\d+ SIP\/2\.0\n[^]*\nCSeq: 1 INVITE\n/);
      assert.equal(await firstArrow.getAttribute('aria-pressed'), 'true');
      await assertTouchTargets(page, 'the traces');
      if (SHOTS !== undefined) {
        // the ladder from its title, below the sticky bar
        await page.getByTestId('ladder-view').evaluate((e) => e.scrollIntoView());
        await page.mouse.wheel(0, -64);
        await page.mouse.move(1, 1);
        await page.waitForTimeout(300);
        await page.screenshot({ path: join(SHOTS, `dashboard-ladder-${size.name}.png`) });
      }

      // signing out forgets the token
      await page.getByTestId('logout').click();
      await page.getByTestId('login').waitFor({ state: 'visible' });
      await page.reload();
      await page.getByTestId('login').waitFor({ state: 'visible' });
      const errors = log.lines.filter((l) => /pageerror|Content Security Policy|Refused/.test(l));
      assert.deepEqual(errors, [], context());
    });
  }

  it('a live call is listed with both sides and hung up from the page; the event feed shows it', async () => {
    // at a phone's width: the table with its button is the widest thing to fit
    const { page, context } = await open(SIZES[0], 'operator-calls');
    await signIn(page, token);
    await page.getByTestId('tabs').waitFor({ state: 'visible' });
    let uas: SippRun | undefined;
    let caller: Promise<unknown> | undefined;
    const liveCallId = `${PREFIX}live-${randomBytes(4).toString('hex')}`;
    if (realApi) {
      // alice calls bob and stays on the line (30 s) until the dashboard hangs up
      const bobAgain = await registerPhone(parley!, BOB);
      uas = await startUas(parley!, bobAgain.endpoint, 'uas-answer.xml', { timeoutSecs: 60, recvTimeoutMs: 40_000 });
      caller = call(parley!, 'call-basic.xml', { caller: ALICE, callee: 'bob', pauseMs: 30_000, recvTimeoutMs: 40_000, callId: liveCallId });
    } else {
      const now = new Date();
      standIn!.calls.push({
        callId: liveCallId, state: 'answered', caller: { uri: `sip:${ALICE.user}@127.0.0.1`, source: 'udp:127.0.0.1:5070', tag: 'a' }, callee: { uri: `sip:${BOB.user}@127.0.0.1`, tag: 'b' },
        startedAt: now.toISOString(), answeredAt: now.toISOString(), duration: 3, talkTime: 2, media: false, core: 0,
      });
      standIn!.emit({ type: 'call.answered', time: Date.now(), callId: liveCallId, from: `sip:${ALICE.user}@127.0.0.1`, to: `sip:${BOB.user}@127.0.0.1` });
    }
    try {
      const feed = await pollUntil(() => page.getByTestId('events').innerText(), (t) => t.includes(`sip:${BOB.user}@`), 15_000);
      assert.ok(feed.ok, `the event feed has no call: ${feed.value}\n${context()}`);
      await page.getByTestId('tab-calls').click();
      const row = page.getByTestId('calls-table').locator('tr', { hasText: liveCallId });
      await row.waitFor({ state: 'visible', timeout: 15_000 });
      assert.match(await row.innerText(), new RegExp(`sip:${ALICE.user}@[^\\s]+\\s+sip:${BOB.user}@`));
      await assertLayout(page, 'the calls', ['calls-card'], context);
      const button = (await row.getByTestId('hangup').boundingBox())!;
      assert.ok(button.x >= 0 && button.x + button.width <= SIZES[0].width, `the hang-up button is off the screen: ${JSON.stringify(button)}`);
      await assertTouchTargets(page, 'the calls');
      if (SHOTS !== undefined) await page.screenshot({ path: join(SHOTS, 'dashboard-calls-phone.png') });
      await row.getByTestId('hangup').click();
      await row.waitFor({ state: 'detached', timeout: 15_000 });
      assert.match(await page.getByTestId('calls-count').innerText(), /^0 calls$/);
    } finally {
      await Promise.allSettled([caller, uas?.done]);
    }
  });

  it('an administrator subscriber signs in with a password; a wrong one is refused', async () => {
    const { page } = await open(SIZES[0], 'operator-password');
    if (realApi) {
      // an administrator subscriber, made through the API
      admin = { username: 'root', password: password() };
      const made = await page.evaluate(async ({ a, t, d }) => {
        const r = await fetch('/api/v1/subscribers', { method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body: JSON.stringify({ username: a.username, password: a.password, admin: true, domain: d }) });
        return `${r.status} ${await r.text()}`;
      }, { a: admin, t: token, d: domainOf(parley!) });
      assert.match(made, /^20[01] /, made);
    }
    await page.getByTestId('username').fill(admin!.username);
    await page.getByTestId('domain').fill(domainOf(parley!));
    await page.getByTestId('password').fill('wrong');
    await page.getByTestId('password-login').click();
    await page.getByTestId('login-error').waitFor({ state: 'visible' });
    assert.match(await page.getByTestId('login-error').innerText(), /Not accepted/);
    await page.getByTestId('password').fill(admin!.password);
    await page.getByTestId('password-login').click();
    await page.getByTestId('tabs').waitFor({ state: 'visible' });
    assert.equal(await page.getByTestId('password').inputValue(), '', 'the password stays in the form');
    await page.getByTestId('logout').click();
    await page.getByTestId('login').waitFor({ state: 'visible' });
  });
});
