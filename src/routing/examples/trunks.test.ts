/**
 * The trunk example on the test harness, compiled from its file as `parley serve --script` does:
 * routes by prefix and pattern, the dial plan, failover on 408/5xx (not on 486), the per-user
 * call rate, and the default rules for everything that is not a number.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { RoutingHarness } from '../test-harness.js';
import { routeFor } from './trunks.js';

const SCRIPT = fileURLToPath(new URL('./trunks.ts', import.meta.url));
const ALICE = { user: 'alice', password: 'alice-secret' };
const BOB = { user: 'bob', password: 'bob-secret' };
/** One caller per test: the script allows each user 5 trunk calls a second. */
const CALLERS = ['carol', 'dave', 'erin', 'frank', 'grace', 'heidi'].map((user) => ({ user, password: `${user}-secret` }));
const as = (i: number): { from: string } => ({ from: `sip:${CALLERS[i]!.user}@example.com` });

describe('trunks example: routeFor (the dial plan)', () => {
  it('picks the first matching route and rewrites the number', () => {
    assert.deepEqual(routeFor('0033123456789')?.number, '+33123456789');
    assert.equal(routeFor('0033123456789')?.route.name, 'international');
    assert.equal(routeFor('+15551234567')?.route.name, 'e164');
    assert.equal(routeFor('0612345678')?.route.name, 'national');
    assert.equal(routeFor('112')?.route.name, 'emergency');
    assert.equal(routeFor('12'), undefined);
  });
});

describe('trunks example (harness)', () => {
  let h: RoutingHarness;
  before(async () => {
    h = await RoutingHarness.start({ script: SCRIPT, subscribers: [ALICE, BOB, ...CALLERS] });
  });
  after(() => h.close());

  it('an international number goes to carrier-b first, as +E.164, record-routed, with its route in the trace', async () => {
    const r = await h.send(h.request('INVITE', 'sip:0033123456789@example.com'), { credentials: ALICE });
    assert.deepEqual(r.actions, ['requireCredentials', 'sanityCheck', 'looseRoute', 'authenticate', 'rateLimited', 'log', 'recordRoute', 'relay']);
    assert.deepEqual(r.destinations, ['udp:198.51.100.20:5060']);
    assert.equal(r.branches[0]!.uri, 'sip:+33123456789@198.51.100.20:5060');
    assert.equal(r.branches[0]!.getAll('record-route').length, 1);
    const end = r.steps.find((s) => s.handler === 'onRequest' && s.action === 'end');
    assert.deepEqual(end?.vars, { route: 'international', trunk: 0, number: '+33123456789' });
    await r.respond(180);
    assert.equal(r.replies.find((x) => x.status === 180)?.get('x-parley-trunk'), 'carrier-b');
  });

  it('fails over to the next trunk on 503, and the caller sees only the answer', async () => {
    const r = await h.send(h.request('INVITE', 'sip:0033123456789@example.com', as(0)), { credentials: CALLERS[0] });
    await r.respond(503);
    assert.deepEqual(r.destinations, ['udp:198.51.100.20:5060', 'udp:198.51.100.10:5060']);
    assert.equal(r.branches[1]!.uri, 'sip:+33123456789@198.51.100.10:5060');
    assert.deepEqual(r.handlerActions.filter((a) => a.startsWith('onFailure')), ['onFailure.log', 'onFailure.relay']);
    const failureEnd = r.steps.find((s) => s.handler === 'onFailure' && s.action === 'end');
    assert.deepEqual(failureEnd?.vars, { route: 'international', trunk: 1, number: '+33123456789' });
    await r.respond(200);
    assert.equal(r.status, 200);
    assert.equal(r.final!.get('x-parley-trunk'), 'carrier-a');
    assert.equal(r.replies.filter((x) => x.status >= 300).length, 0, 'the 503 never reached the caller');
  });

  it('does not fail over when the callee is busy (486)', async () => {
    const r = await h.send(h.request('INVITE', 'sip:+15551234567@example.com', as(1)), { credentials: CALLERS[1] });
    await r.respond(486);
    assert.equal(r.status, 486);
    assert.equal(r.branches.length, 1);
  });

  it('when every trunk fails: the best response, 503 turned into 500 (RFC 3261 §16.7)', async () => {
    const r = await h.send(h.request('INVITE', 'sip:0612345678@example.com', as(2)), { credentials: CALLERS[2] });
    await r.respond(503);
    await r.respond(503);
    assert.equal(r.branches.length, 2);
    assert.equal(r.status, 500);
  });

  it('emergency numbers use the emergency trunk over TCP', async () => {
    const r = await h.send(h.request('INVITE', 'sip:112@example.com', as(3)), { credentials: CALLERS[3] });
    assert.deepEqual(r.destinations, ['tcp:198.51.100.30:5060']);
  });

  it('a number no route matches: 404 from a thrown SipReply', async () => {
    const r = await h.send(h.request('INVITE', 'sip:12@example.com', as(4)), { credentials: CALLERS[4] });
    assert.equal(r.status, 404);
    assert.equal(r.final!.reason, 'Not Found (no route for this number)');
    assert.deepEqual(r.step('throw')?.args, [404, 'Not Found (no route for this number)']);
  });

  it('callers of other domains may not use the trunks', async () => {
    const r = await h.send(h.request('INVITE', 'sip:+15551234567@example.com', { from: 'sip:mallory@elsewhere.example.org' }));
    assert.equal(r.status, 403);
  });

  it('at most 5 trunk calls per second per user: the sixth gets 503 with Retry-After', async () => {
    const statuses: Array<number | undefined> = [];
    let last;
    for (let i = 0; i < 6; i++) {
      last = await h.send(h.request('INVITE', 'sip:+15557654321@example.com', { from: 'sip:bob@example.com' }), { credentials: BOB });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [undefined, undefined, undefined, undefined, undefined, 503]);
    assert.equal(last!.final!.get('retry-after'), '1');
  });

  it('calls to local users follow the default script (location)', async () => {
    h.register('bob@example.com', 'sip:bob@198.51.100.7:5062');
    const r = await h.send(h.request('INVITE', 'sip:bob@example.com'), { credentials: ALICE });
    assert.deepEqual(r.destinations, ['udp:198.51.100.7:5062']);
    assert.ok(r.actions.includes('lookup'));
  });

  it('in-dialog requests follow the default script: the BYE of a trunk call along the route Parley signed; a forged route to a trunk: 403', async () => {
    const call = await h.send(h.request('INVITE', 'sip:+15551230000@example.com', { fromTag: 'trunk-a' }), { credentials: ALICE });
    // the trunk answers with its Contact and the Record-Route of the INVITE (§12.1.1); the
    // caller's BYE goes to that Contact along the route of the 200 (signed for that Contact)
    const branch = call.branches[0]!;
    const trunkContact = 'sip:gw@198.51.100.10:5060';
    await call.respond(200, { toTag: 'trunk-b', headers: [...branch.getAll('record-route').map((v) => ['Record-Route', v] as const), ['Contact', `<${trunkContact}>`]] });
    const ok = call.replies.find((r) => r.status === 200)!;
    const bye = await h.send(h.request('BYE', trunkContact, { callId: call.request.callId, fromTag: 'trunk-a', toTag: 'trunk-b', headers: [['Route', ok.get('record-route')!]] }));
    assert.deepEqual(bye.destinations, call.destinations);
    // toll fraud: an in-dialog INVITE for a premium number at the trunk, with a Route naming Parley
    const fraud = await h.send(h.request('INVITE', 'sip:+19005550000@198.51.100.10:5060', { from: 'sip:x@elsewhere.example.org', toTag: 'x', headers: [['Route', '<sip:192.0.2.1:5060;lr>']] }));
    assert.equal(fraud.status, 403);
    assert.deepEqual(fraud.branches, []);
  });
});
