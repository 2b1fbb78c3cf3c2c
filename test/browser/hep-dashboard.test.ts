// The dashboard's Captured view in Chromium, at a phone's size (390x844) and a laptop's
// (1366x768): a real Parley with `hep.listen` (its HEP collector), and a real HEP agent sending
// to it: Kamailio's siptrace (test/interop/support/kamailio-hep-proxy.cfg, shared with
// hep-listen.test.ts) on a Kamailio that proxies a sipp call (caller → Kamailio → callee,
// record-routed), every message it receives and sends copied over HEP. Then through the API
// (read token): the call is listed with its From and To, its messages have the addresses as on
// the wire; `parley captures` prints it; in the page: the Captured tab lists the call (the search
// finds it, a wrong search says so), its ladder has a column per socket address (caller,
// Kamailio, callee) and the INVITE/180/200/ACK/BYE/200 arrows between the right columns (on the
// SVG's geometry), an arrow opens its message. Layout, by element geometry: no sideways scroll,
// column names apart, touch targets of 40 px. SCREENSHOTS=1 writes docs/images/dashboard-captured-*.png.
// Run by `npm run test:browser`, inside a loopback-only network namespace (support/netns.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { CaptureSummary, CapturedCall, Page as ApiPage } from '../../src/api/operations.js';
import { apiToken } from '../interop/support/api-token.js';
import { signalPid, spawnBounded, type BoundedChild } from '../interop/support/child.js';
import { kamailioMissing } from '../interop/support/kamailio.js';
import { PARLEY_CLI, REPO_ROOT, stopCleanly, type ParleyServer } from '../interop/support/parley.js';
import { portPool } from '../interop/support/ports.js';
import { reserveEndpoint, runSipp, skipWithoutSipp, startSipp, type SippResult } from '../interop/support/sipp.js';
import { launchChromium, type PageLog, type TestBrowser } from './support/browser.js';
import { loopbackOnly } from './support/netns.js';
import { assertInOrder, assertLayout, assertTouchTargets, drawnLadder } from './support/page-layout.js';
import { pollUntil } from './support/phone.js';
import { startPhoneServer } from './support/phone-server.js';

const pool = portPool(import.meta.url);
const KAMAILIO_CONFIG = join(REPO_ROOT, 'test/interop/support/kamailio-hep-proxy.cfg');
const SHOTS = process.env.SCREENSHOTS === '1' ? join(REPO_ROOT, 'docs/images') : undefined;

const SIZES = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'laptop', width: 1366, height: 768 },
] as const;

function kamailioSkip(): string | false {
  const why = kamailioMissing(KAMAILIO_CONFIG);
  // kamailioMissing also asks for the WebSocket module, which this configuration does not load
  if (why === undefined || why.includes('websocket')) return false;
  return process.env.CI ? false : `${why}; skipped outside CI`;
}
const where = loopbackOnly();
const skip = where.run ? skipWithoutSipp() || kamailioSkip() : where.skip;

/** The messages of a call through Kamailio, in this order (a 100 Trying and retransmissions may come between). */
const EXPECTED = [
  'caller>kamailio INVITE', 'kamailio>callee INVITE', 'callee>kamailio 180 Ringing', 'kamailio>caller 180 Ringing',
  'callee>kamailio 200 OK', 'kamailio>caller 200 OK', 'caller>kamailio ACK', 'kamailio>callee ACK',
  'caller>kamailio BYE', 'kamailio>callee BYE', 'callee>kamailio 200 OK', 'kamailio>caller 200 OK',
];

describe('calls captured over HEP on the dashboard, in Chromium at phone and laptop sizes', { skip, timeout: 300_000 }, () => {
  let parley: ParleyServer | undefined;
  let kamailio: BoundedChild | undefined;
  let kamailioOutput = '';
  let kamailioDir = '';
  let chromium: TestBrowser | undefined;
  let token = '';
  let callId = '';
  let caller = '';
  let proxy = '';
  let callee = '';
  let uac: SippResult | undefined;
  let captured: CapturedCall | undefined;

  /** A GET of the API with the read token (the server's development certificate accepted). */
  const api = <T>(path: string): Promise<{ status: number; body: T }> =>
    new Promise((resolve, reject) => {
      const req = httpsGet(`${parley!.httpsOrigin}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 5000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T }));
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in 5 s`)));
    });

  before(async () => {
    const hepPort = await pool.block(1);
    const started = await startPhoneServer({ pool, subscribers: [], config: { hep: { listen: { address: `127.0.0.1:${hepPort}` } } } });
    parley = started.parley;
    token = apiToken(parley.dataDir, 'read', 'hep-dashboard-test');

    // Kamailio proxies to the callee and copies what it receives and sends to Parley over HEP
    const sipPort = await pool.block(1);
    const uas = await reserveEndpoint(pool);
    kamailioDir = await mkdtemp(join(tmpdir(), 'parley-hep-dashboard-'));
    const defines = [`SIP_PORT=${sipPort}`, `UAS_UDP="sip:127.0.0.1:${uas.port}"`, `UAS_TCP="sip:127.0.0.1:${uas.port};transport=tcp"`, `HEP_URI="sip:127.0.0.1:${hepPort}"`];
    kamailio = spawnBounded(
      'kamailio',
      ['-f', KAMAILIO_CONFIG, '-DD', '-E', '-Y', kamailioDir, '-P', join(kamailioDir, 'kamailio.pid'), '-m', '32', '-M', '8', ...defines.flatMap((d) => ['-A', d])],
      { cwd: kamailioDir, timeoutMs: 240_000, onOutput: (t) => (kamailioOutput += t) },
    );
    const target = { host: '127.0.0.1', port: sipPort, transport: 'udp' as const, pool };
    const callee1 = await startSipp({ ...target, scenario: 'uas-answer.xml', endpoint: uas, calls: 1, timeoutSecs: 20, pauseMs: 100 });
    // Kamailio may not listen yet when the INVITE goes: sipp sends it again every 500 ms
    callId = `HEPDASH-${randomBytes(6).toString('hex')}@hep-dashboard`;
    uac = await runSipp({ ...target, scenario: 'call-noauth.xml', calls: 1, timeoutSecs: 20, service: 'bob', callId, pauseMs: 100 });
    const uasRun = await callee1.done;
    assert.equal(uac.code, 0, `the call through Kamailio failed:\n${uac.describe()}\n--- callee:\n${uasRun.describe()}\n--- kamailio:\n${kamailioOutput.slice(-3000)}`);
    caller = `udp:127.0.0.1:${uac.endpoint.port}`;
    proxy = `udp:127.0.0.1:${sipPort}`;
    callee = `udp:127.0.0.1:${uas.port}`;

    // the store writes in batches: wait until the BYE's 200 has reached the caller's column
    const done = await pollUntil(
      async () => (await api<CapturedCall>(`/captures/${encodeURIComponent(callId)}`)).body,
      (c) => c.ladder?.arrows.some((a) => a.to === caller && a.label === '200 OK' && a.message.includes('CSeq: 2 BYE')) === true,
      15_000,
    );
    assert.ok(done.ok, `the call's HEP did not all arrive: ${JSON.stringify(done.value).slice(0, 3000)}\n--- kamailio:\n${kamailioOutput.slice(-3000)}\n--- parley:\n${parley.outputTail(25)}`);
    captured = done.value;
    chromium = await launchChromium();
  });

  after(async () => {
    await chromium?.close();
    if (kamailio?.pid !== undefined && kamailio.running()) signalPid(kamailio.pid, 'SIGTERM');
    await kamailio?.done.catch(() => undefined);
    if (kamailioDir !== '') await rm(kamailioDir, { recursive: true, force: true });
    await stopCleanly(parley);
  });

  const who = (p: string): string => (p === caller ? 'caller' : p === proxy ? 'kamailio' : p === callee ? 'callee' : p);

  it("the API lists the call (From, To, methods) and gives its messages as Kamailio's siptrace captured them", async () => {
    const list = await api<ApiPage<CaptureSummary>>(`/captures?search=${encodeURIComponent(callId.slice(0, 14).toLowerCase())}`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.total, 1, JSON.stringify(list.body));
    const c = list.body.items[0]!;
    assert.equal(c.callId, callId);
    assert.equal(c.from, 'sip:caller@127.0.0.1');
    assert.equal(c.to, 'sip:bob@127.0.0.1');
    assert.deepEqual(c.methods, ['ACK', 'BYE', 'INVITE']);
    assert.ok(c.messages >= EXPECTED.length, `${c.messages} messages`);
    const first = captured!.messages[0]!;
    assert.equal(first.source, `127.0.0.1:${uac!.endpoint.port}`);
    assert.equal(first.destination, proxy.slice('udp:'.length));
    assert.equal(first.transport, 'udp');
    assert.equal(first.agentId, 2002);
    assert.match(first.message, new RegExp(`^INVITE sip:bob@127\\.0\\.0\\.1:\\d+ SIP/2\\.0\r\n`));
    assert.deepEqual(captured!.ladder.participants, [caller, proxy, callee]);
    assertInOrder(captured!.ladder.arrows.map((a) => `${who(a.from)}>${who(a.to)} ${a.label}`), EXPECTED);
    // an unknown call: 404
    assert.equal((await api(`/captures/${encodeURIComponent('no-such-call')}`)).status, 404);
  });

  it('`parley captures` lists the call and `parley captures CALL-ID` prints its messages (through the control socket)', () => {
    const cli = (...args: string[]): string => execFileSync(process.execPath, [PARLEY_CLI, 'captures', ...args, '--data-dir', parley!.dataDir], { encoding: 'utf8', timeout: 30_000 });
    const list = JSON.parse(cli('--search', callId, '--json')) as ApiPage<CaptureSummary>;
    assert.deepEqual(list.items.map((c) => c.callId), [callId]);
    const lines = cli(callId).trim().split('\n');
    assert.equal(lines[0], `${callId}: ${captured!.ladder.arrows.length} SIP messages`);
    assert.match(lines[1]!, new RegExp(`^\\s+\\+0\\.0 ms  ${caller} → ${proxy}  INVITE$`));
  });

  const pageContext = (log: PageLog) => (): string => `--- page:\n${log.lines.slice(-30).join('\n')}\n--- Parley (last 25 lines):\n${parley?.outputTail(25) ?? ''}`;

  async function open(size: { width: number; height: number }, name: string): Promise<{ page: Page; log: PageLog; context: () => string }> {
    const u = await chromium!.newUser(name);
    await u.page.setViewportSize({ width: size.width, height: size.height });
    await u.page.goto(`${parley!.httpsOrigin}/dashboard`);
    return { page: u.page, log: u.log, context: pageContext(u.log) };
  }

  for (const size of SIZES) {
    it(`${size.name} (${size.width}x${size.height}): the Captured tab lists the call, its ladder has the arrows between caller, Kamailio and callee; an arrow opens its message`, async () => {
      const { page, log, context } = await open(size, `operator-${size.name}`);
      await page.getByTestId('token').fill(token);
      await page.getByTestId('token-login').click();
      await page.getByTestId('tabs').waitFor({ state: 'visible' });

      await page.getByTestId('tab-captures').click();
      const row = page.getByTestId('captures-table').locator('tr', { hasText: callId });
      await row.waitFor({ state: 'visible' });
      assert.match(await row.innerText(), /sip:caller@127\.0\.0\.1/);
      // the search: another text finds nothing, part of the Call-ID finds it
      await page.getByTestId('captures-search').fill('nothing-like-it');
      await page.getByTestId('captures-table').locator('td.empty').waitFor({ state: 'visible' });
      assert.match(await page.getByTestId('captures-table').innerText(), /No captured call matches/);
      await page.getByTestId('captures-search').fill(callId.slice(0, 14));
      await pollUntil(() => page.getByTestId('captures-count').innerText(), (t) => t === '1 call', 5_000);
      await assertLayout(page, 'the captured calls', ['captures-card'], context);
      await assertTouchTargets(page, 'the captured calls');

      await row.getByTestId('open-capture').click();
      await page.getByTestId('ladder-svg').waitFor({ state: 'visible' });
      assert.equal(await page.getByTestId('ladder-call').innerText(), callId);
      const drawn = await drawnLadder(page, who);
      assert.deepEqual(drawn.columns, [caller, proxy, callee]);
      assertInOrder(drawn.arrows, EXPECTED);
      assert.equal(drawn.arrows.length, captured!.ladder.arrows.length, drawn.arrows.join('\n'));
      await assertLayout(page, 'the ladder', ['ladder-scroll', 'captures-card'], context);

      // Kamailio's INVITE to the callee: its message, with Kamailio's Record-Route
      const invite = page.getByTestId('ladder-arrow').and(page.locator(`[data-from="${proxy}"][data-to="${callee}"][data-label="INVITE"]`));
      const hit = (await invite.locator('rect.hit').boundingBox())!;
      assert.ok(hit.height >= 40, `an arrow's touch target is ${hit.height} px high`);
      await invite.locator('rect.hit').scrollIntoViewIfNeeded();
      await invite.locator('rect.hit').click();
      await page.getByTestId('message').waitFor({ state: 'visible' });
      const text = await page.getByTestId('message').innerText();
      assert.match(text, /^INVITE sip:bob@127\.0\.0\.1:\d+ SIP\/2\.0\n/);
      assert.match(text, new RegExp(`\nRecord-Route: <sip:127\\.0\\.0\\.1:${proxy.slice(proxy.lastIndexOf(':') + 1)};lr[;>]`, 'i'));
      assert.ok(text.includes(`Call-ID: ${callId}\n`), text);
      assert.match(await page.getByTestId('message-title').innerText(), new RegExp(`^INVITE · ${proxy.replaceAll('.', '\\.')} → ${callee.replaceAll('.', '\\.')}`));
      await assertLayout(page, 'the ladder and its message', ['ladder-scroll', 'message-card'], context);
      await assertTouchTargets(page, 'the captured ladder');
      if (SHOTS !== undefined) {
        mkdirSync(SHOTS, { recursive: true });
        await page.getByTestId('ladder-view').evaluate((e) => e.scrollIntoView());
        await page.mouse.wheel(0, -64);
        await page.mouse.move(1, 1);
        await page.waitForTimeout(300);
        await page.screenshot({ path: join(SHOTS, `dashboard-captured-${size.name}.png`) });
      }

      // the same ladder component in the Traces view: leaving the call hides it there
      await page.getByTestId('tab-traces').click();
      await page.getByTestId('traces').waitFor({ state: 'visible' });
      assert.equal(await page.getByTestId('ladder-view').isVisible(), false);
      const errors = log.lines.filter((l) => /pageerror|Content Security Policy|Refused/.test(l));
      assert.deepEqual(errors, [], context());
    });
  }
});
