// SIP over WebSocket (RFC 7118) against `parley serve`: phones on WebSockets (the `ws` client
// speaking SIP through Parley's own library, support/ws-phone.ts) register with digest
// authentication over WSS and call each other; a closed WebSocket takes its binding with it; a
// phone that reconnects replaces its binding (+sip.instance/reg-id, RFC 5626) instead of adding
// one; and ws_check.mjs, an independent RFC 7118 client with no dependencies, registers and
// calls over plain WS. Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import { spawnBounded } from './support/child.js';
import { ParleyServer, REPO_ROOT, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { startJsSip } from './support/jssip-ua.js';
import { startSipJs } from './support/sipjs-ua.js';
import { WsPhone, type WsPhoneOptions } from './support/ws-phone.js';

const ALICE = { user: 'alice', password: 'secret-a1' };
const BOB = { user: 'bob', password: 'secret-b2' };
const CAROL = { user: 'carol', password: 'secret-c3' };
const DAVE = { user: 'dave', password: 'secret-d4' };
const ERIN = { user: 'erin', password: 'secret-e5' };
const WS_CHECK = '/work/shared/bench/kamailio/ws_check.mjs';
const pool = portPool(import.meta.url);

describe('SIP over WebSocket: registrations and calls between WebSocket phones', { timeout: 120_000 }, () => {
  let parley: ParleyServer;
  let ca: string;
  const phones: WsPhone[] = [];

  async function phone(who: { user: string; password: string }, o: Partial<WsPhoneOptions> = {}): Promise<WsPhone> {
    const p = await WsPhone.connect({ url: parley.webSocketUrl('wss'), ca, ...who, ...o });
    phones.push(p);
    return p;
  }

  /** Poll a call from `caller` to `callee` until it gets `status` (bounded): bindings change asynchronously. */
  async function callUntil(caller: WsPhone, callee: string, status: number): Promise<number> {
    const end = Date.now() + 5000;
    let last = 0;
    while (Date.now() < end) {
      last = (await caller.call(callee)).status;
      if (last === status) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    return last;
  }

  before(async () => {
    // SHA-256 offered besides MD5 (the default is MD5 alone): JsSIP must still find MD5, last over a WebSocket
    parley = await ParleyServer.start({ pool, transports: ['udp'], webSockets: { wss: 'auth', ws: 'noauth' }, subscribers: [ALICE, BOB, CAROL, DAVE, ERIN], logLevel: 'debug', config: { auth: { algorithms: ['MD5', 'SHA-256'] } } });
    ca = await parley.developmentCertificate();
  });

  // each test starts without phones: closing a phone's WebSocket removes its bindings
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close().catch(() => p.terminate())));
    await new Promise((r) => setTimeout(r, 100));
  });

  after(() => stopCleanly(parley));

  it('announces its WebSocket listeners as ws and wss', () => {
    assert.ok(parley.listeners.includes(`wss:127.0.0.1:${parley.webPorts.wss}`), parley.listeners.join(' '));
    assert.ok(parley.listeners.includes(`ws:127.0.0.1:${parley.webPorts.ws}`));
  });

  it('registers over WSS with digest authentication (401, then 200 listing the contact)', async () => {
    const bob = await phone(BOB);
    assert.equal(bob.protocol, 'sip');
    const r = await bob.register();
    assert.equal(r.status, 200, `REGISTER got ${r.status} ${r.reason}`);
    assert.deepEqual(r.contact.map((c) => c.uri.toString()), [`sip:bob@${bob.contactHost};transport=ws`]);
    assert.ok(bob.inbox.some((m) => !m.isRequest && (m as { status: number }).status === 401), 'challenged first');
    await bob.close();
  });

  it('alice calls bob, both on WebSockets: 407, bob rings and answers on his own WebSocket, ACK and BYE follow the route', async () => {
    const bob = await phone(BOB);
    assert.equal((await bob.register()).status, 200);
    const alice = await phone(ALICE);
    assert.equal((await alice.register()).status, 200);
    const call = await alice.call('bob');
    assert.equal(call.status, 200, `INVITE got ${call.status} ${call.response.reason}`);
    assert.ok(alice.inbox.some((m) => !m.isRequest && (m as { status: number }).status === 407), 'the INVITE was challenged');

    const invite = bob.incoming.find((r) => r.method === 'INVITE' && r.callId === call.dialog!.callId)!;
    assert.ok(invite, 'bob got the INVITE');
    // the proxy's Via on top, WSS towards bob; alice's below
    assert.match(invite.get('via')!, new RegExp(`^SIP/2\\.0/WSS 127\\.0\\.0\\.1:${parley.webPorts.wss};branch=z9hG4bK`));
    // two Record-Route entries, each naming a WebSocket flow (RFC 5626 flow tokens): bob's side on top
    const rr = invite.recordRoute.map((r) => r.uri.toString());
    assert.equal(rr.length, 2, rr.join(' '));
    for (const u of rr) assert.match(u, new RegExp(`^sip:fl\\d+-[0-9a-f]{16}@127\\.0\\.0\\.1:${parley.webPorts.wss};transport=ws;lr;rrsig=[0-9a-f]{24}$`));
    assert.notEqual(rr[0], rr[1]);

    await until(() => bob.incoming.some((r) => r.method === 'ACK' && r.callId === call.dialog!.callId), 'the ACK at bob');
    const bye = await alice.bye(call.dialog!);
    assert.equal(bye.status, 200);
    const byeAtBob = bob.incoming.find((r) => r.method === 'BYE' && r.callId === call.dialog!.callId)!;
    assert.equal(byeAtBob.getAll('route').length, 0, 'Parley consumed its Route entries');
    assert.equal(byeAtBob.uri, `sip:bob@${bob.contactHost};transport=ws`);
  });

  it('the callee hangs up: bob\'s BYE reaches alice over her WebSocket', async () => {
    const bob = await phone(BOB);
    assert.equal((await bob.register()).status, 200);
    const alice = await phone(ALICE);
    const call = await alice.call('bob');
    assert.equal(call.status, 200);
    await until(() => bob.answered?.callId === call.dialog!.callId && bob.incoming.some((r) => r.method === 'ACK' && r.callId === call.dialog!.callId), 'the ACK at bob');
    const bye = await bob.bye(bob.answered!);
    assert.equal(bye.status, 200, `bob's BYE got ${bye.status}`);
    assert.ok(alice.incoming.some((r) => r.method === 'BYE' && r.callId === call.dialog!.callId), 'alice got the BYE');
  });

  it('closing the callee\'s WebSocket removes its binding: the next call gets 480', async () => {
    const carol = await phone(CAROL);
    assert.equal((await carol.register()).status, 200);
    const alice = await phone(ALICE);
    await carol.close();
    assert.equal(await callUntil(alice, 'carol', 480), 480);
  });

  it('a phone that reconnects with the same +sip.instance replaces its binding, which follows the new WebSocket', async () => {
    const first = await phone(BOB);
    first.contactHost = 'first-connection.invalid';
    assert.equal((await first.register()).status, 200);
    // the browser reconnects (a new WebSocket, the old one not yet noticed as dead) and registers
    // again: JsSIP keeps its instance id and reg-id
    const second = await phone(BOB, { instance: first.instance });
    second.contactHost = 'second-connection.invalid';
    const r = await second.register();
    assert.equal(r.status, 200);
    assert.deepEqual(r.contact.map((c) => c.uri.toString()), ['sip:bob@second-connection.invalid;transport=ws'], 'one binding, not two');
    // the old connection goes away: it takes nothing with it
    first.terminate();
    const alice = await phone(ALICE);
    await new Promise((r) => setTimeout(r, 200));
    const call = await alice.call('bob');
    assert.equal(call.status, 200, `the call got ${call.status}`);
    assert.ok(second.incoming.some((m) => m.method === 'INVITE' && m.callId === call.dialog!.callId), 'the call reached the new WebSocket');
    assert.equal(first.incoming.filter((m) => m.method === 'INVITE').length, 0);
    assert.equal((await alice.bye(call.dialog!)).status, 200);
  });

  it('JsSIP registers over WSS (digest: it answers the last challenge), and after its WebSocket drops it reconnects and re-registers: one binding, never two', async () => {
    const jssip = startJsSip({ url: parley.webSocketUrl('wss'), ca, ...DAVE });
    try {
      await jssip.registered(1);
      const dave = await phone(DAVE);
      const first = await dave.bindings();
      assert.equal(first.length, 1, first.join(' | '));
      assert.match(first[0]!, /^<sip:[^@]+@[a-z0-9]+\.invalid;transport=ws>;expires=\d+$/);
      // the network drops JsSIP's connection; JsSIP notices, reconnects and registers again
      jssip.sockets.at(-1)!.terminate();
      await jssip.registered(2);
      assert.equal(jssip.sockets.length, 2, 'a new WebSocket');
      const after = await dave.bindings();
      assert.equal(after.length, 1, `one binding after the reconnect: ${after.join(' | ')}`);
      assert.equal(after[0]!.replace(/;expires=\d+$/, ''), first[0]!.replace(/;expires=\d+$/, ''), 'the same contact (JsSIP keeps it across reconnects)');
    } finally {
      jssip.stop();
    }
  });

  it('SIP.js registers over WSS, its CRLF keepalives get CRLF answers (RFC 5626 §3.5.1), and it unregisters on stop', async () => {
    const sipjs = await startSipJs({ url: parley.webSocketUrl('wss'), ca, ...ERIN, keepAliveInterval: 1 });
    let stopped = false;
    try {
      const erin = await phone(ERIN);
      const bindings = await erin.bindings();
      assert.equal(bindings.length, 1, bindings.join(' | '));
      assert.match(bindings[0]!, /\.invalid;transport=ws>;expires=\d+$/);
      await until(() => sipjs.received.filter((m) => m === '\r\n').length >= 2, 'two CRLF pongs', 8000);
      await sipjs.stop();
      stopped = true;
      await until(() => sipjs.received.some((m) => /^SIP\/2\.0 200 OK\r\n[\s\S]*CSeq: \d+ REGISTER/.test(m) && !/Contact:/i.test(m)), 'the 200 to the un-REGISTER');
      assert.deepEqual(await erin.bindings(), []);
    } finally {
      if (!stopped) await sipjs.stop();
    }
  });

  it('refuses a WebSocket from a foreign web page (Origin) and one without the "sip" subprotocol', async () => {
    await assert.rejects(WsPhone.connect({ url: parley.webSocketUrl('wss'), ca, ...ALICE, origin: 'https://evil.example' }), /HTTP 403/);
    const sameOrigin = await phone(ALICE, { origin: `https://127.0.0.1:${parley.webPorts.wss}` });
    assert.equal(sameOrigin.protocol, 'sip', 'a page Parley serves itself (same origin) is accepted');
    const { default: WebSocket } = await import('ws');
    const status = await new Promise<number>((resolve, reject) => {
      const s = new WebSocket(parley.webSocketUrl('wss'), 'chat', { ca });
      s.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      s.once('open', () => (s.terminate(), resolve(101)));
      s.once('error', reject);
    });
    assert.equal(status, 400);
  });

  it('ws_check.mjs (an independent RFC 7118 client) registers, calls and hangs up over plain WS', { skip: existsSync(WS_CHECK) ? false : `${WS_CHECK} is missing` }, async () => {
    const r = await spawnBounded(process.execPath, [WS_CHECK, `127.0.0.1:${parley.webPorts.ws}`], { cwd: REPO_ROOT, timeoutMs: 30_000 }).done;
    assert.equal(r.code, 0, `ws_check failed:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /ws REGISTER -> 200 OK/);
    assert.match(r.stdout, /ws INVITE -> 200 OK via proxy \(Record-Route: <sip:fl\d+-[0-9a-f]+@127\.0\.0\.1:\d+;transport=ws;lr;rrsig=[0-9a-f]{24}>, <sip:fl\d+/);
    assert.match(r.stdout, /ws ACK \+ BYE -> 200 OK/);
  });

  it('Parley logged no warning or error and is still running', () => {
    assert.equal(parley.alive, true);
    assert.deepEqual(parley.problems(), []);
  });
});

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
