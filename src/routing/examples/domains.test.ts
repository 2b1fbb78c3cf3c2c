/** The per-domain example on the test harness, compiled from its file. */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { RoutingHarness } from '../test-harness.js';

const SCRIPT = fileURLToPath(new URL('./domains.ts', import.meta.url));
const ALICE = { user: 'alice', password: 'alice-secret' };

describe('domains example (harness)', () => {
  let h: RoutingHarness;
  before(async () => {
    h = await RoutingHarness.start({ script: SCRIPT, domains: ['example.com', 'sales.example.com'], subscribers: [ALICE] });
  });
  after(() => h.close());

  it('the hosted PBX domain: anyone may call, the Request-URI goes to the PBX', async () => {
    const r = await h.send(h.request('INVITE', 'sip:100@sales.example.com', { from: 'sip:customer@elsewhere.example.org' }));
    assert.deepEqual(r.actions, ['sanityCheck', 'looseRoute', 'setRuriHost', 'recordRoute', 'relay']);
    assert.equal(r.branches[0]!.uri, 'sip:100@203.0.113.5:5080');
    assert.deepEqual(r.destinations, ['udp:203.0.113.5:5080']);
    assert.deepEqual(r.steps.find((s) => s.handler === 'onRequest' && s.action === 'end')?.vars, { domain: 'sales.example.com', policy: 'pbx' });
  });

  it('the peer domain: our authenticated users only, through the SBC over TCP', async () => {
    const r = await h.send(h.request('INVITE', 'sip:bob@partner.example.org'), { credentials: ALICE });
    assert.deepEqual(r.destinations, ['tcp:203.0.113.50:5060']);
    assert.equal(r.branches[0]!.uri, 'sip:bob@partner.example.org');
    assert.equal(r.branches[0]!.get('route'), '<sip:203.0.113.50;transport=tcp;lr>');
    const stranger = await h.send(h.request('INVITE', 'sip:bob@partner.example.org', { from: 'sip:x@elsewhere.example.org' }));
    assert.equal(stranger.status, 403);
    assert.equal(stranger.final!.reason, 'Forbidden (peering is for local users)');
  });

  it('an unknown domain: 403', async () => {
    const r = await h.send(h.request('INVITE', 'sip:bob@unknown.example.net'), { credentials: ALICE });
    assert.equal(r.status, 403);
    assert.equal(r.final!.reason, 'Forbidden (no route to unknown.example.net)');
  });

  it('our own domain: the default rules (an unknown user gets 404)', async () => {
    const r = await h.send(h.request('INVITE', 'sip:nobody@example.com'), { credentials: ALICE });
    assert.equal(r.status, 404);
  });

  it('in-dialog requests follow the default script: a BYE from the PBX along the route Parley signed; an unsigned one: 403', async () => {
    const call = await h.send(h.request('INVITE', 'sip:100@sales.example.com', { from: 'sip:customer@elsewhere.example.org', fromTag: 'cust-1' }));
    await call.respond(200, { toTag: 'pbx-1' });
    const rr = call.branches[0]!.get('record-route')!;
    // the PBX hangs up: its tag in From, the caller's in To
    const bye = await h.send(h.request('BYE', 'sip:customer@198.51.100.1:5070', { callId: call.request.callId, from: 'sip:100@sales.example.com', fromTag: 'pbx-1', to: 'sip:customer@elsewhere.example.org', toTag: 'cust-1', headers: [['Route', rr]] }), { source: { address: '203.0.113.5', port: 5080 } });
    assert.deepEqual(bye.destinations, ['udp:198.51.100.1:5070']);
    const forged = await h.send(h.request('MESSAGE', 'sip:someone@203.0.113.77', { from: 'sip:customer@elsewhere.example.org', toTag: 'z', headers: [['Route', '<sip:192.0.2.1:5060;lr>']] }));
    assert.equal(forged.status, 403);
    assert.deepEqual(forged.branches, []);
  });
});
