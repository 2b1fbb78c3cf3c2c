// The browser phone and a SIP phone (sipp over UDP) calling each other through Parley: the
// browser's JsSIP talks SIP over WSS, sipp over UDP, and Parley proxies between them. The
// signalling completes both ways (INVITE/200/ACK/BYE); sipp sends no media (the calls are short).
// Run by `npm run test:browser`, inside a loopback-only network namespace (support/netns.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeCall, registerPhone, startUas } from '../interop/support/calls.js';
import { REPO_ROOT, stopCleanly, type ParleyServer } from '../interop/support/parley.js';
import { portPool } from '../interop/support/ports.js';
import { contacts, flow, header, received, recordRoutes, sent, values, vias } from '../interop/support/sip-trace.js';
import { runSipp, skipWithoutSipp } from '../interop/support/sipp.js';
import { launchChromium, type TestBrowser } from './support/browser.js';
import { loopbackOnly } from './support/netns.js';
import { PhonePage } from './support/phone.js';
import { startPhoneServer } from './support/phone-server.js';

const pool = portPool(import.meta.url);
const SCENARIOS = join(REPO_ROOT, 'test/browser/scenarios');
const password = (): string => randomBytes(9).toString('base64url');
/** alice uses the browser, carol a SIP phone (sipp). */
const ALICE = { user: 'alice', password: password() };
const CAROL = { user: 'carol', password: password() };

const where = loopbackOnly();
const skip = where.run ? skipWithoutSipp() : where.skip;

describe('the browser phone and a SIP phone over UDP, through Parley', { skip, timeout: 180_000 }, () => {
  let parley: ParleyServer | undefined;
  let origin: string;
  let chromium: TestBrowser | undefined;

  before(async () => {
    const started = await startPhoneServer({ pool, subscribers: [ALICE, CAROL] });
    parley = started.parley;
    origin = started.origin;
    chromium = await launchChromium();
  });

  after(async () => {
    await chromium?.close();
    await stopCleanly(parley);
  });

  async function aliceInBrowser(): Promise<PhonePage> {
    const u = await chromium!.newUser('alice');
    const alice = new PhonePage('alice', u.page, u.log, () => `--- Parley (last 25 lines):\n${parley?.outputTail(25) ?? ''}`);
    await alice.open(origin, { username: ALICE.user, password: ALICE.password, autoRegister: true });
    await alice.waitRegistration('registered', 15_000);
    return alice;
  }

  it('the browser calls a sipp UAS registered over UDP: INVITE/180/200/ACK across WSS and UDP, then the browser hangs up (BYE)', async () => {
    const carol = await registerPhone(parley!, CAROL, 'udp');
    // the UAS rings for 500 ms (-d), answers, then waits for the ACK and the BYE
    const uas = await startUas(parley!, carol.endpoint, join(SCENARIOS, 'uas-webrtc.xml'), { pauseMs: 500, recvTimeoutMs: 20_000, timeoutSecs: 40 });
    const alice = await aliceInBrowser();
    try {
      await alice.call('carol');
      await alice.waitCall('in-call', 15_000);
      await alice.hangup();
      await alice.waitCall('ended', 10_000);
      assert.match(await alice.callText(), /You hung up/);
      const run = await uas.done;
      const context = `${run.describe()}\n${await alice.describe()}\n--- Parley:\n${parley!.outputTail(30)}`;
      assert.equal(run.code, 0, `carol's sipp failed:\n${context}`);
      assert.deepEqual(flow(run.trace), ['< INVITE', '> 180', '> 200', '< ACK', '< BYE', '> 200'], context);

      // the INVITE came from Parley over UDP, on behalf of a WebSocket client, record-routed on both sides
      const [invite] = received(run.trace, { method: 'INVITE' });
      const v = vias(invite!);
      assert.equal(v.length, 2, `Parley's Via over the browser's:\n${invite!.text}`);
      assert.deepEqual([v[0]!.transport, v[0]!.host, v[0]!.port], ['UDP', parley!.host, parley!.port], invite!.text);
      assert.equal(v[1]!.transport, 'WSS', `the browser's Via says WSS (RFC 7118 §5.2):\n${invite!.text}`);
      const rr = recordRoutes(invite!);
      assert.equal(rr.length, 2, `two Record-Route entries, one per side (UDP toward carol, WSS toward the browser):\n${invite!.text}`);
      assert.equal(rr[0]!.uriParams.get('transport'), undefined, `the top entry faces carol over UDP: ${rr[0]!.uri}`);
      assert.match(rr[1]!.uriParams.get('transport') ?? '', /^wss?$/i, `the second entry faces the browser over WebSocket: ${rr[1]!.uri}`);
      assert.match(header(invite!, 'Content-Type') ?? '', /application\/sdp/);
      assert.match(invite!.text, /a=fingerprint:sha-256 /, 'a WebRTC offer (DTLS-SRTP)');
      // the ACK and the BYE took the recorded route: from Parley, on the same dialog
      for (const m of ['ACK', 'BYE']) {
        const [r] = received(run.trace, { method: m });
        assert.equal(header(r!, 'Call-ID'), header(invite!, 'Call-ID'));
        assert.deepEqual([vias(r!)[0]!.host, vias(r!)[0]!.port], [parley!.host, parley!.port], `${m}:\n${r!.text}`);
      }
    } finally {
      await alice.page.context().close();
    }
  });

  it('a sipp UAC over UDP calls the browser, which answers from the page: INVITE/407/ACK/INVITE/180/200/ACK, then BYE from sipp', async () => {
    const alice = await aliceInBrowser();
    try {
      // carol's sipp calls alice, holds the call 1.5 s after the ACK, then hangs up; it waits up to
      // 20 s for the 200 (the test answers from the page as soon as the call shows)
      const uac = runSipp({
        ...parley!.sippTarget('udp'), scenario: join(SCENARIOS, 'call-webrtc.xml'), calls: 1, timeoutSecs: 40, recvTimeoutMs: 20_000,
        credentials: [CAROL], service: 'alice', pauseMs: 1500,
      });
      await alice.waitCall('incoming', 15_000);
      assert.match(await alice.callText(), /carol is calling you/);
      await alice.answer();
      await alice.waitCall('in-call', 15_000);
      await alice.waitCall('ended', 15_000);
      assert.match(await alice.callText(), /carol hung up/);
      const run = await uac;
      const context = `${describeCall(run)}\n${await alice.describe()}\n--- Parley:\n${parley!.outputTail(30)}`;
      assert.equal(run.code, 0, `carol's sipp failed:\n${context}`);
      const steps = flow(run.trace).filter((s, i, all) => !(s === '< 180' && all[i - 1] === '< 180'));
      assert.deepEqual(steps, ['> INVITE', '< 407', '> ACK', '> INVITE', '< 180', '< 200', '> ACK', '> BYE', '< 200'], context);

      // the 200 is the browser's: a WebRTC answer, its Contact a WebSocket one, and Parley on the route both ways
      const [ok] = received(run.trace, { status: 200 }).filter((r) => /INVITE/.test(header(r, 'CSeq') ?? ''));
      assert.match(ok!.text, /a=setup:(active|passive)/, `the browser answered with DTLS roles:\n${ok!.text}`);
      assert.match(ok!.text, /a=fingerprint:sha-256 /);
      assert.match(contacts(ok!)[0]!.uri, /transport=ws/i, `the browser's Contact: ${header(ok!, 'Contact')}`);
      const rr = recordRoutes(ok!);
      assert.equal(rr.length, 2, `two Record-Route entries in the 200:\n${ok!.text}`);
      const bye = sent(run.trace, { method: 'BYE' }).at(-1)!;
      assert.equal(values(bye, 'Route').length, 2, `the BYE carries the route set:\n${bye.text}`);
    } finally {
      await alice.page.context().close();
    }
  });
});
