// Calls bridged between SIP over WebSocket and UDP through `parley serve` (signaling only): a
// WebSocket phone (a browser's view, support/ws-phone.ts) calls a sipp UAS registered over UDP,
// and a sipp UAC calls the WebSocket phone. Parley record-routes twice, once per side (RFC 3261
// §16.6 step 4, RFC 5658), the WebSocket side with the flow token of the phone's connection
// (RFC 5626 §5.2), so that ACK and BYE cross back over the right transport and connection. Run
// by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { call, describeCall, isParley, registerPhone, startUas } from './support/calls.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { clearBindings } from './support/registration.js';
import { flow, header, headers, parseNameAddr, received, recordRoutes, sent, values, vias } from './support/sip-trace.js';
import { runSipp, skipWithoutSipp } from './support/sipp.js';
import { WsPhone } from './support/ws-phone.js';

const ALICE = { user: 'alice', password: 'secret-a1' };
const BOB = { user: 'bob', password: 'secret-b2' };
const pool = portPool(import.meta.url);

/** A Record-Route entry of Parley's WSS listener carrying a flow token (and the dialog's signature, in-dialog-relay.test.ts). */
const WSS_ENTRY = (port: number): RegExp => new RegExp(`^sip:fl\\d+-[0-9a-f]{16}@127\\.0\\.0\\.1:${port};transport=ws;lr;rrsig=[0-9a-f]{24}$`);

describe('calls between a WebSocket phone and a UDP phone (sipp)', { skip: skipWithoutSipp(), timeout: 120_000 }, () => {
  let parley: ParleyServer;
  let ca: string;
  const phones: WsPhone[] = [];

  async function phone(who: { user: string; password: string }): Promise<WsPhone> {
    const p = await WsPhone.connect({ url: parley.webSocketUrl('wss'), ca, ...who });
    phones.push(p);
    return p;
  }

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['udp'], webSockets: { wss: 'auth' }, subscribers: [ALICE, BOB], logLevel: 'debug' });
    ca = await parley.developmentCertificate();
  });

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close().catch(() => p.terminate())));
    if (parley !== undefined) await clearBindings(parley, BOB);
  });

  after(() => stopCleanly(parley));

  it('a WebSocket phone calls a UDP phone: two Record-Route entries (UDP side, WSS side with a flow token), ACK and BYE cross over', async () => {
    const bob = await registerPhone(parley, BOB, 'udp');
    const uas = await startUas(parley, bob.endpoint, 'uas-answer.xml');
    const alice = await phone(ALICE);
    const c = await alice.call('bob');
    assert.equal(c.status, 200, `alice's INVITE got ${c.status} ${c.response.reason}`);
    // sipp's uas-answer.xml copies the Record-Route into its 200: alice's route set crosses Parley
    assert.equal(c.dialog!.routes.length, 2);
    assert.equal((await alice.bye(c.dialog!)).status, 200);
    const bobRun = await uas.done;
    assert.equal(bobRun.code, 0, describeCall(bobRun));
    assert.deepEqual(flow(bobRun.trace), ['< INVITE', '> 180', '> 200', '< ACK', '< BYE', '> 200'], describeCall(bobRun));
    assert.ok(bobRun.trace.every((e) => e.transport === 'UDP'), 'bob spoke UDP only');

    const [invite] = received(bobRun.trace, { method: 'INVITE' });
    const rr = recordRoutes(invite!);
    assert.equal(rr.length, 2, invite!.text);
    assert.ok(isParley(parley, rr[0]!, 'udp'), `the top entry faces bob (UDP): ${rr[0]!.uri}`);
    assert.equal(rr[0]!.user, undefined, 'no flow token on the UDP side');
    assert.match(rr[1]!.uri, WSS_ENTRY(parley.webPorts.wss!), 'the second faces alice (WSS) with her flow token');
    // Parley's UDP Via on top, alice's WSS Via (her .invalid host, received added) below
    const v = vias(invite!);
    assert.deepEqual([v[0]!.transport, v[0]!.port], ['UDP', parley.port]);
    assert.deepEqual([v[1]!.transport, v[1]!.host], ['WSS', alice.contactHost]);
    assert.equal(v[1]!.params.get('received'), '127.0.0.1');
    for (const m of ['ACK', 'BYE']) {
      const [r] = received(bobRun.trace, { method: m });
      assert.deepEqual(headers(r!, 'Route'), [], `${m}: Parley consumed its Route entries`);
      assert.equal(vias(r!)[0]!.transport, 'UDP');
    }
  });

  it('a UDP phone calls a WebSocket phone: the INVITE, ACK and BYE reach its own WebSocket', async () => {
    const bob = await phone(BOB);
    assert.equal((await bob.register()).status, 200);
    const uac = await call(parley, 'call-basic.xml', { caller: ALICE, callee: 'bob', transport: 'udp' });
    assert.equal(uac.code, 0, describeCall(uac));
    const steps = flow(uac.trace).filter((s, i, all) => !(s === '< 180' && all[i - 1] === '< 180'));
    assert.deepEqual(steps, ['> INVITE', '< 407', '> ACK', '> INVITE', '< 180', '< 200', '> ACK', '> BYE', '< 200'], describeCall(uac));

    const invite = bob.incoming.find((r) => r.method === 'INVITE')!;
    assert.ok(invite);
    assert.equal(invite.uri, `sip:bob@${bob.contactHost};transport=ws`, 'sent to the registered contact');
    assert.equal(invite.get('proxy-authorization'), undefined);
    const rr = invite.recordRoute.map((r) => r.uri.toString());
    assert.equal(rr.length, 2, rr.join(' '));
    assert.match(rr[0]!, WSS_ENTRY(parley.webPorts.wss!), 'the top entry faces bob (WSS) with his flow token');
    assert.match(rr[1]!, new RegExp(`^sip:127\\.0\\.0\\.1:${parley.port};lr;rrsig=[0-9a-f]{24}$`), 'the second faces alice (UDP)');
    assert.match(invite.get('via')!, new RegExp(`^SIP/2\\.0/WSS 127\\.0\\.0\\.1:${parley.webPorts.wss};`));

    // alice (sipp) sent the ACK and BYE along the route set (the 200's Record-Route reversed)
    const [ok] = received(uac.trace, { status: 200 });
    const routeSet = values(ok!, 'Record-Route').reverse().map((r) => parseNameAddr(r).uri);
    for (const m of ['ACK', 'BYE']) {
      const r = sent(uac.trace, { method: m }).at(-1)!;
      assert.deepEqual(values(r, 'Route').map((x) => parseNameAddr(x).uri), routeSet, r.text);
      assert.equal(r.startLine, `${m} sip:bob@${bob.contactHost};transport=ws SIP/2.0`);
    }
    const callId = header(ok!, 'Call-ID');
    assert.ok(bob.incoming.some((r) => r.method === 'ACK' && r.callId === callId), 'the ACK reached the WebSocket');
    const bye = bob.incoming.find((r) => r.method === 'BYE' && r.callId === callId)!;
    assert.ok(bye, 'the BYE reached the WebSocket');
    assert.equal(bye.getAll('route').length, 0);
  });

  it('once the WebSocket phone has closed its connection, a UDP call to it gets 480', async () => {
    const bob = await phone(BOB);
    assert.equal((await bob.register()).status, 200);
    await bob.close();
    await new Promise((r) => setTimeout(r, 200));
    const uac = await runSipp({ ...parley.sippTarget('udp'), scenario: 'call-unavailable.xml', calls: 1, timeoutSecs: 15, recvTimeoutMs: 5000, credentials: [ALICE], service: 'bob' });
    assert.equal(uac.code, 0, describeCall(uac));
    assert.equal(received(uac.trace, { status: 480 }).length, 1, describeCall(uac));
  });

  it('Parley logged no warning or error and is still running', () => {
    assert.equal(parley.alive, true);
    assert.deepEqual(parley.problems(), []);
  });
});
