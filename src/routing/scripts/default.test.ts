/**
 * The default routing script on the test harness: every rule of the stock behaviour (what the
 * built-in DefaultHandler did before routing became a script), request by request, with the
 * actions taken and the messages sent. The interop suites run the same script against sipp.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RoutingHarness, type RoutedRequest } from '../test-harness.js';
import * as defaultScript from './default.js';

const ALICE = { user: 'alice', password: 'alice-secret' };
const BOB = { user: 'bob', password: 'bob-secret' };
const CAROL = { user: 'carol', password: 'carol-secret' };

function recordRoutes(r: RoutedRequest, branch = 0): string[] {
  return r.branches[branch]?.getAll('record-route') ?? [];
}

describe('default routing script (harness)', () => {
  let h: RoutingHarness;

  before(async () => {
    h = await RoutingHarness.start({
      script: defaultScript,
      domains: ['example.com'],
      subscribers: [ALICE, BOB, CAROL],
      outbound: [{ domain: 'carrier.example.net', uri: 'sip:198.51.100.99:5060' }],
      // the TCP listener offers SHA-256 too (sip.listen[].algorithms); the others the default, MD5
      tcpAlgorithms: ['SHA-256', 'MD5'],
    });
  });
  after(() => h.close());

  describe('answered without a transaction (onStateless)', () => {
    it('OPTIONS to the server: 200 with Allow, Accept and Supported', async () => {
      const r = await h.send(h.request('OPTIONS', 'sip:192.0.2.1:5060'));
      assert.equal(r.status, 200);
      assert.deepEqual(r.handlerActions, ['onStateless.replyOptions']);
      assert.match(r.final!.get('allow')!, /INVITE.*REGISTER/);
      assert.equal(r.final!.get('supported'), 'path');
    });

    it('REGISTER without credentials: 401 with one MD5 challenge (the default, auth.algorithms)', async () => {
      const r = await h.send(h.request('REGISTER', 'sip:example.com', { from: 'sip:alice@example.com', to: 'sip:alice@example.com' }));
      assert.equal(r.status, 401);
      assert.deepEqual(r.handlerActions, ['onStateless.requireCredentials']);
      assert.deepEqual(r.final!.getAll('www-authenticate').map((v) => /algorithm=([\w-]+)/.exec(v)?.[1]), ['MD5']);
    });

    it('REGISTER without credentials on a listener with algorithms [SHA-256, MD5]: both challenges, in that order; a SHA-256 answer registers', async () => {
      const register = h.request('REGISTER', 'sip:example.com', { from: 'sip:alice@example.com', to: 'sip:alice@example.com' });
      const r = await h.send(register, { source: { transport: 'tcp' } });
      assert.equal(r.status, 401);
      assert.deepEqual(r.final!.getAll('www-authenticate').map((v) => /algorithm=([\w-]+)/.exec(v)?.[1]), ['SHA-256', 'MD5']);
      const ok = await h.send(h.request('REGISTER', 'sip:example.com', { from: 'sip:alice@example.com', to: 'sip:alice@example.com' }), { source: { transport: 'tcp' }, credentials: ALICE });
      assert.equal(ok.status, 200);
      assert.match(ok.challenged!.final!.getAll('www-authenticate')[0]!, /algorithm=SHA-256/, 'the harness answered the first challenge, SHA-256');
      assert.match(ok.request.get('authorization') ?? '', /algorithm=SHA-256/);
      // removed again: later tests count on alice having no contact
      const removed = await h.send(h.request('REGISTER', 'sip:example.com', { from: 'sip:alice@example.com', to: 'sip:alice@example.com', headers: [['Expires', '0']] }), { source: { transport: 'tcp' }, credentials: ALICE });
      assert.equal(removed.status, 200);
    });

    it('an INVITE from a local user without credentials: 407', async () => {
      const r = await h.send(h.request('INVITE', 'sip:bob@example.com'));
      assert.equal(r.status, 407);
      assert.deepEqual(r.handlerActions, ['onStateless.requireCredentials']);
    });

    it('a REGISTER with a Require Parley does not support: 420 with Unsupported, before any challenge (§10.3 step 2)', async () => {
      const r = await h.send(h.request('REGISTER', 'sip:example.com', { from: 'sip:alice@example.com', to: 'sip:alice@example.com', headers: [['Require', 'path, frobnication']] }));
      assert.equal(r.status, 420);
      assert.equal(r.final!.get('unsupported'), 'frobnication');
      assert.deepEqual(r.handlerActions, ['onRequest.sanityCheck']);
    });

    it('Require is left alone where Parley is a proxy (end to end)', async () => {
      const r = await h.send(h.request('OPTIONS', 'sip:bob@example.com', { headers: [['Require', 'frobnication']] }));
      assert.equal(r.status, 407);
    });

    it('a method Parley does not know, to the server itself: 501 (§21.5.2); to a user it is routed', async () => {
      const r = await h.send(h.request('FROBNICATE', 'sip:192.0.2.1:5060', { from: 'sip:someone@example.org' }));
      assert.equal(r.status, 501);
      assert.equal(r.step('sanityCheck')!.result, 501);
      const u = await h.send(h.request('FROBNICATE', 'sip:nobody@example.com', { from: 'sip:someone@example.org' }));
      // routed as any method is: a stranger hears 480 for an unknown user, as for an offline one
      assert.equal(u.status, 480);
    });

    it('a header that does not parse, found by the script (a second Via): 400 naming it', async () => {
      const r = await h.send(h.request('OPTIONS', 'sip:bob@example.com', { from: 'sip:someone@example.org', headers: [['Via', 'SIP/2.0/UDP ;;;'], ['Proxy-Require', 'x']] }));
      assert.equal(r.status, 400);
      assert.equal(r.final!.reason, 'Bad Request (header/Via)');
      assert.match(r.final!.get('warning') ?? '', /^399 parley "/);
    });

    it('what onRequest checks first goes on to it: Max-Forwards 0 gets 483', async () => {
      const r = await h.send(h.request('INVITE', 'sip:bob@example.com', { maxForwards: 0 }));
      assert.equal(r.status, 483);
      assert.deepEqual(r.handlerActions, ['onRequest.sanityCheck']);
      assert.equal(r.step('sanityCheck')!.result, 483);
    });
  });

  describe('REGISTER', () => {
    it('authenticated: saved, 200 with the contact and its expiry', async () => {
      const r = await h.send(h.request('REGISTER', 'sip:example.com', { from: 'sip:carol@example.com', to: 'sip:carol@example.com', contact: 'sip:carol@198.51.100.3:5072', headers: [['Expires', '600']] }), { credentials: CAROL });
      assert.equal(r.challenged?.status, 401);
      assert.equal(r.status, 200, r.actions.join());
      assert.deepEqual(r.handlerActions, ['onStateless.requireCredentials', 'onRequest.sanityCheck', 'onRequest.looseRoute', 'onRequest.authenticate', 'onRequest.save']);
      assert.match(r.final!.get('contact')!, /sip:carol@198\.51\.100\.3:5072.*expires=600/);
      assert.equal(h.location.lookup('carol@example.com').length, 1);
    });

    it('a phone called at its Contact when nothing says NAT, at the REGISTER\'s source when its Via differs from the source (nat-detection.ts)', async () => {
      await h.location.update('carol@example.com', []); // carol's earlier registrations
      // Via and source agree (198.51.100.1:5070); the Contact names another port: the Contact
      const plain = await h.send(h.request('REGISTER', 'sip:example.com', { from: 'sip:carol@example.com', to: 'sip:carol@example.com', contact: 'sip:carol@198.51.100.1:5072' }), { credentials: CAROL });
      assert.equal(plain.status, 200);
      const toContact = await h.send(h.request('INVITE', 'sip:carol@example.com'), { credentials: ALICE });
      assert.deepEqual(toContact.destinations, ['udp:198.51.100.1:5072']);
      await toContact.respond(486);
      // the same REGISTER from another address than its Via says (a NAT): the same binding, now to the source
      const nated = await h.send(h.request('REGISTER', 'sip:example.com', { from: 'sip:carol@example.com', to: 'sip:carol@example.com', contact: 'sip:carol@198.51.100.1:5072' }), { credentials: CAROL, source: { address: '203.0.113.9', port: 40000 } });
      assert.equal(nated.status, 200);
      const toSource = await h.send(h.request('INVITE', 'sip:carol@example.com'), { credentials: ALICE });
      assert.deepEqual(toSource.destinations, ['udp:203.0.113.9:40000']);
      await toSource.respond(486);
      await h.location.update('carol@example.com', []);
    });

    it('credentials of another user than the AOR in To: 403', async () => {
      const r = await h.send(h.request('REGISTER', 'sip:example.com', { from: 'sip:bob@example.com', to: 'sip:bob@example.com' }), { credentials: ALICE });
      assert.equal(r.status, 403);
      assert.deepEqual(r.step('authenticate')!.result, { ok: false, status: 403, user: 'alice' });
    });

    it('a wrong password: challenged again', async () => {
      const r = await h.send(h.request('REGISTER', 'sip:example.com', { from: 'sip:alice@example.com', to: 'sip:alice@example.com' }), { credentials: { user: 'alice', password: 'wrong' } });
      assert.equal(r.status, 401);
      assert.equal(r.actions.at(-1), 'authenticate');
    });

    it('from the trusted listener: saved without authentication', async () => {
      const r = await h.send(h.request('REGISTER', 'sip:example.com', { from: 'sip:dave@example.com', to: 'sip:dave@example.com', contact: 'sip:dave@198.51.100.4:5070' }), { trusted: true });
      assert.equal(r.status, 200);
      assert.deepEqual(r.actions, ['sanityCheck', 'looseRoute', 'save']);
    });
  });

  describe('calls to local users', () => {
    it('authenticated: looked up, record-routed and relayed to the contact, credentials consumed', async () => {
      h.register('bob@example.com', 'sip:bob@198.51.100.7:5062');
      const r = await h.send(h.request('INVITE', 'sip:bob@example.com'), { credentials: ALICE });
      assert.equal(r.challenged?.status, 407);
      assert.deepEqual(r.handlerActions, [
        'onStateless.requireCredentials', 'onRequest.sanityCheck', 'onRequest.looseRoute', 'onRequest.authenticate', 'onRequest.lookup', 'onRequest.recordRoute', 'onRequest.relay',
      ]);
      assert.deepEqual(r.step('lookup')!.result, ['sip:bob@198.51.100.7:5062']);
      assert.equal(r.branches.length, 1);
      const branch = r.branches[0]!;
      assert.equal(branch.uri, 'sip:bob@198.51.100.7:5062');
      assert.deepEqual(r.destinations, ['udp:198.51.100.7:5062']);
      assert.equal(branch.get('proxy-authorization'), undefined, 'credentials for Parley are consumed (RFC 3261 §22.3)');
      assert.equal(branch.get('max-forwards'), '69');
      assert.equal(recordRoutes(r).length, 1);
      // signed for the dialog (its Call-ID and alice's tag): what the in-dialog requests bring back
      assert.equal(recordRoutes(r)[0]!, h.recordRoute(r.request.callId, r.request.from.tag!, r.request.contact[0]!.uri.toString()));
      assert.match(recordRoutes(r)[0]!, /^<sip:192\.0\.2\.1:5060;lr;rrsig=[0-9a-f]{24}>$/);
      assert.equal(r.status, undefined, 'no final answer before bob answers');
      await r.respond(180);
      await r.respond(200);
      assert.deepEqual(r.replies.map((x) => x.status).filter((s) => s !== 100), [180, 200]);
    });

    it('a busy callee: 486 goes upstream', async () => {
      h.register('bob@example.com', 'sip:bob@198.51.100.7:5062');
      const r = await h.send(h.request('INVITE', 'sip:bob@example.com'), { credentials: ALICE });
      await r.respond(486);
      assert.equal(r.status, 486);
    });

    it('two contacts of different q: the lower one is tried after the higher one fails (serial forking)', async () => {
      h.register('erin@example.com', 'sip:erin@198.51.100.31:5062', { q: 1 });
      h.register('erin@example.com', 'sip:erin@198.51.100.32:5062', { q: 0.5 });
      const r = await h.send(h.request('INVITE', 'sip:erin@example.com'), { credentials: ALICE });
      assert.equal(r.branches.length, 1);
      assert.deepEqual(r.destinations, ['udp:198.51.100.31:5062']);
      await r.respond(480);
      assert.equal(r.status, undefined, 'no answer upstream while the q=0.5 contact has not answered');
      assert.deepEqual(r.destinations, ['udp:198.51.100.31:5062', 'udp:198.51.100.32:5062']);
      await r.respond(200);
      assert.equal(r.status, 200);
    });

    it('an AOR with many contacts: one INVITE forks to at most 16 of them, the highest q and the freshest first (no fork bomb)', async () => {
      // 40 contacts (what one REGISTER can carry): each branch is a client transaction and up to
      // 7 INVITE retransmissions over UDP, so one stranger's INVITE would make 280 datagrams
      for (let i = 0; i < 40; i++) h.register('frank@example.com', `sip:frank${i}@198.51.100.${100 + i}:5062`, { q: i === 39 ? 0.5 : 1 });
      const r = await h.send(h.request('INVITE', 'sip:frank@example.com', { from: 'sip:someone@elsewhere.example.org' }));
      assert.equal((r.step('lookup')!.result as unknown[]).length, 16);
      assert.equal(r.branches.length, 16);
      assert.equal(r.destinations.includes('udp:198.51.100.139:5062'), false, 'the q=0.5 contact is among the dropped');
      await r.respond(486);
    });

    it('for an authenticated local caller: an unknown user 404, a known user with no contact 480', async () => {
      const unknown = await h.send(h.request('INVITE', 'sip:nobody@example.com'), { credentials: ALICE });
      assert.equal(unknown.status, 404);
      assert.deepEqual(unknown.actions.slice(-3), ['lookup', 'userExists', 'reply']);
      assert.equal(unknown.step('userExists')!.result, false);
      const known = await h.send(h.request('INVITE', 'sip:alice@example.com', { from: 'sip:bob@example.com' }), { credentials: BOB });
      assert.equal(known.status, 480);
      assert.equal(known.step('userExists')!.result, true);
    });

    it('a caller claiming a local user with credentials of another: 403', async () => {
      const r = await h.send(h.request('INVITE', 'sip:bob@example.com', { from: 'sip:alice@example.com' }), { credentials: BOB });
      assert.equal(r.status, 403);
    });

    it('a caller from another domain is not challenged', async () => {
      h.register('bob@example.com', 'sip:bob@198.51.100.7:5062');
      const r = await h.send(h.request('INVITE', 'sip:bob@example.com', { from: 'sip:someone@elsewhere.example.org' }));
      assert.equal(r.branches.length, 1);
      assert.equal(r.actions.includes('authenticate'), false);
    });
  });

  describe('the checks of RFC 3261 §16.3 and no open relay', () => {
    it('Proxy-Require: 420 with Unsupported', async () => {
      const r = await h.send(h.request('INVITE', 'sip:bob@example.com', { headers: [['Proxy-Require', 'foo']] }));
      assert.equal(r.status, 420);
      assert.equal(r.final!.get('unsupported'), 'foo');
    });

    it('a Request-URI scheme that cannot be routed: 416', async () => {
      const r = await h.send(h.request('MESSAGE', 'im:bob@example.com', { from: 'sip:x@elsewhere.example.org', to: 'sip:bob@example.com' }));
      assert.equal(r.status, 416);
    });

    it('a preloaded Route that is not ours: 403', async () => {
      const r = await h.send(h.request('INVITE', 'sip:bob@example.com', { from: 'sip:x@elsewhere.example.org', headers: [['Route', '<sip:198.51.100.200;lr>']] }));
      assert.equal(r.status, 403);
      assert.equal(r.final!.reason, 'Forbidden (preloaded Route)');
    });

    it('another domain without an outbound route: 403; with one, for a local caller: relayed through it', async () => {
      const denied = await h.send(h.request('INVITE', 'sip:someone@elsewhere.example.org'), { credentials: ALICE });
      assert.equal(denied.status, 403);
      assert.equal(denied.final!.reason, 'Forbidden (relaying denied)');
      const out = await h.send(h.request('INVITE', 'sip:+15551234@carrier.example.net'), { credentials: ALICE });
      assert.deepEqual(out.destinations, ['udp:198.51.100.99:5060']);
      assert.equal(out.branches[0]!.uri, 'sip:+15551234@carrier.example.net');
      assert.equal(out.branches[0]!.get('route'), '<sip:198.51.100.99:5060;lr>');
      const foreign = await h.send(h.request('INVITE', 'sip:+15551234@carrier.example.net', { from: 'sip:x@elsewhere.example.org' }));
      assert.equal(foreign.status, 403, 'a caller who is not ours may not use the outbound route');
    });

    it('a request that loops back to Parley unchanged: 482', async () => {
      // through an outbound route that names Parley itself: the copy comes back with our Via
      const out = await h.send(h.request('MESSAGE', 'sip:x@carrier.example.net', { from: 'sip:x@elsewhere.example.org' }), { trusted: true });
      assert.equal(out.branches.length, 1);
      const copy = out.branches[0]!;
      copy.set('Route', '<sip:192.0.2.1:5060;lr>');
      const again = await h.send(copy, { trusted: true });
      assert.equal(again.status, 482);
    });
  });

  describe('in-dialog requests (onInDialog)', () => {
    /** An in-dialog request of the dialog alice (tag a1) started with Call-ID `callId`, from alice or (swapped) from bob. */
    const inDialog = (method: string, ruri: string, callId: string, routes: string[], swapped = false): string =>
      h.request(method, ruri, {
        callId,
        ...(swapped ? { from: 'sip:bob@example.com', to: 'sip:alice@example.com', fromTag: 'b1', toTag: 'a1' } : { fromTag: 'a1', toTag: 'b1' }),
        headers: routes.map((r) => ['Route', r] as const),
      });

    it('a BYE along the Record-Route Parley signed for the dialog is relayed to its Request-URI, without Record-Route', async () => {
      const r = await h.send(inDialog('BYE', 'sip:bob@198.51.100.7:5062', 'dlg-1', [h.recordRoute('dlg-1', 'a1', 'sip:bob@198.51.100.7:5062')]));
      assert.deepEqual(r.handlerActions, ['onInDialog.sanityCheck', 'onInDialog.looseRoute', 'onInDialog.relay']);
      assert.equal(r.step('looseRoute')!.result, true);
      assert.deepEqual(r.destinations, ['udp:198.51.100.7:5062']);
      assert.equal(r.branches[0]!.get('route'), undefined, 'our Route entry is consumed');
      assert.equal(r.branches[0]!.get('record-route'), undefined);
      await r.respond(200);
      assert.equal(r.status, 200);
    });

    it('the callee\'s requests (tags swapped) follow the same signed route: re-INVITE, BYE', async () => {
      for (const method of ['INVITE', 'BYE']) {
        const r = await h.send(inDialog(method, 'sip:alice@198.51.100.1:5070', 'dlg-2', [h.recordRoute('dlg-2', 'a1', 'sip:alice@198.51.100.1:5070')], true));
        assert.equal(r.step('looseRoute')!.result, true, method);
        assert.deepEqual(r.destinations, ['udp:198.51.100.1:5070'], method);
        await r.respond(200);
      }
    });

    it('a dialog Parley record-routed: the route of the relayed INVITE brings the BYE through', async () => {
      h.register('bob@example.com', 'sip:bob@198.51.100.7:5062');
      const invite = await h.send(h.request('INVITE', 'sip:bob@example.com', { fromTag: 'a-live' }), { credentials: ALICE });
      await invite.respond(200, { toTag: 'b-live' });
      const rr = invite.branches[0]!.get('record-route')!;
      const bye = await h.send(h.request('BYE', 'sip:alice@198.51.100.1:5070', { callId: invite.request.callId, from: 'sip:bob@example.com', fromTag: 'b-live', to: 'sip:alice@example.com', toTag: 'a-live', headers: [['Route', rr]] }));
      assert.deepEqual(bye.destinations, ['udp:198.51.100.1:5070']);
    });

    it('a Route naming Parley without its signature, to a foreign Request-URI: 403, nothing relayed (no open relay)', async () => {
      for (const method of ['BYE', 'MESSAGE', 'INVITE', 'INFO']) {
        const r = await h.send(inDialog(method, 'sip:victim@203.0.113.66', 'dlg-3', ['<sip:192.0.2.1:5060;lr>']));
        assert.equal(r.status, 403, method);
        assert.equal(r.final!.reason, 'Forbidden (Route not recorded for this dialog)');
        assert.equal(r.step('looseRoute')!.result, 'unsigned');
        assert.deepEqual(r.branches, [], method);
      }
    });

    it('a forged, cut, replayed (another Call-ID) or cross-dialog (other tags) signature: 403, nothing relayed', async () => {
      const good = h.recordRoute('dlg-4', 'a1', 'sip:victim@203.0.113.66');
      const routes = {
        forged: good.replace(/rrsig=[0-9a-f]+/, 'rrsig=0123456789abcdef01234567'),
        truncated: good.replace(/(rrsig=[0-9a-f]{16})[0-9a-f]+/, '$1'),
        replayed: h.recordRoute('dlg-4-other', 'a1', 'sip:victim@203.0.113.66'),
      };
      for (const [what, route] of Object.entries(routes)) {
        const r = await h.send(inDialog('MESSAGE', 'sip:victim@203.0.113.66', 'dlg-4', [route]));
        assert.equal(r.status, 403, what);
        assert.equal(r.step('looseRoute')!.result, 'invalid', what);
        assert.deepEqual(r.branches, [], what);
      }
      // the right Call-ID, but tags of neither side of the signed dialog
      const cross = await h.send(h.request('MESSAGE', 'sip:victim@203.0.113.66', { callId: 'dlg-4', fromTag: 'mallory', toTag: 'b1', headers: [['Route', good]] }));
      assert.equal(cross.status, 403);
      assert.deepEqual(cross.branches, []);
    });

    it('a stranger who got the signed route from one ring cannot send the dialog\'s requests anywhere else (signed for the target)', async () => {
      h.register('bob@example.com', 'sip:bob@198.51.100.7:5062');
      const invite = await h.send(h.request('INVITE', 'sip:bob@example.com', { from: 'sip:eve@elsewhere.example.org', fromTag: 'e1', contact: 'sip:eve@198.51.100.66:5070' }));
      // bob's phone copies the Record-Route of the INVITE into its 180 (§12.1.1)
      const recorded = invite.branches[0]!.getAll('record-route').map((v) => ['Record-Route', v] as const);
      await invite.respond(180, { toTag: 'b-ring', headers: [...recorded, ['Contact', '<sip:bob@198.51.100.7:5062>']] });
      const ring = invite.replies.find((x) => x.status === 180)!;
      const rr = ring.get('record-route')!;
      // towards the caller, Parley's entry is signed for bob's Contact in the 180: the requests
      // of the dialog go there, and only there
      assert.equal(rr, h.recordRoute(invite.request.callId, 'e1', 'sip:bob@198.51.100.7:5062'));
      assert.notEqual(rr, invite.branches[0]!.get('record-route'), 'the callee\'s copy is signed for the caller\'s Contact');
      for (const method of ['MESSAGE', 'INVITE', 'BYE', 'INFO']) {
        for (const ruri of ['sip:victim@203.0.113.66', 'sip:+15551234@trunk.example.net', 'sip:bob@198.51.100.7:5063', 'sip:bob@198.51.100.7:5062;maddr=203.0.113.66']) {
          const r = await h.send(h.request(method, ruri, { from: 'sip:eve@elsewhere.example.org', fromTag: 'e1', toTag: 'b-ring', callId: invite.request.callId, headers: [['Route', rr]] }));
          assert.equal(r.status, 403, `${method} ${ruri}`);
          assert.deepEqual(r.branches, [], `${method} ${ruri}`);
        }
      }
      // the dialog's own requests still go through
      const msg = await h.send(h.request('MESSAGE', 'sip:bob@198.51.100.7:5062', { from: 'sip:eve@elsewhere.example.org', fromTag: 'e1', toTag: 'b-ring', callId: invite.request.callId, headers: [['Route', rr]] }));
      assert.deepEqual(msg.destinations, ['udp:198.51.100.7:5062']);
      await msg.respond(200);
      await invite.respond(487);
    });

    it('without our Route: 404 Not Here; an OPTIONS to the server: 200', async () => {
      const r = await h.send(h.request('BYE', 'sip:bob@198.51.100.7:5062', { toTag: 'b1' }));
      assert.equal(r.status, 404);
      assert.equal(r.final!.reason, 'Not Here');
      const o = await h.send(h.request('OPTIONS', 'sip:192.0.2.1', { toTag: 'o1' }));
      assert.equal(o.status, 200);
    });

    it('the ACK of a 2xx goes on statelessly along the signed route; with a forged one it is dropped, unanswered', async () => {
      const r = await h.send(inDialog('ACK', 'sip:bob@198.51.100.7:5062', 'dlg-5', [h.recordRoute('dlg-5', 'a1', 'sip:bob@198.51.100.7:5062')]));
      assert.deepEqual(r.handlerActions, ['onInDialog.looseRoute', 'onInDialog.relay']);
      assert.deepEqual(r.destinations, ['udp:198.51.100.7:5062']);
      assert.deepEqual(r.replies, []);
      for (const route of ['<sip:192.0.2.1:5060;lr>', h.recordRoute('dlg-5-other', 'a1', 'sip:victim@203.0.113.66')]) {
        const forged = await h.send(inDialog('ACK', 'sip:victim@203.0.113.66', 'dlg-5', [route]));
        assert.deepEqual(forged.handlerActions, ['onInDialog.looseRoute', 'onInDialog.drop'], route);
        assert.deepEqual(forged.sent, [], route);
      }
    });
  });

  describe('CANCEL', () => {
    it('for nothing: 481', async () => {
      const r = await h.send(h.request('CANCEL', 'sip:bob@example.com'));
      assert.equal(r.status, 481);
    });

    it('for a ringing INVITE: 200, the branch cancelled, 487 upstream', async () => {
      h.register('bob@example.com', 'sip:bob@198.51.100.7:5062');
      const invite = await h.send(h.request('INVITE', 'sip:bob@example.com', { from: 'sip:x@elsewhere.example.org', callId: 'cancel-me' }));
      await invite.respond(180);
      const via = invite.request.topVia!.toString();
      const cancel = h.request('CANCEL', 'sip:bob@example.com', { from: 'sip:x@elsewhere.example.org', callId: 'cancel-me', cseq: invite.request.cseq.seq })
        .replace(/^Via: .*$/m, `Via: ${via}`)
        .replace(/^From: .*$/m, `From: ${invite.request.get('from')}`);
      const r = await h.send(cancel);
      assert.equal(r.status, 200);
      assert.deepEqual(r.handlerActions, ['onRequest.sanityCheck', 'onRequest.relay']);
      assert.ok(r.sent.some((m) => m.isRequest && m.method === 'CANCEL'), 'the branch got a CANCEL');
      await invite.respond(487);
      assert.equal(invite.status, 487);
    });
  });
});

describe('default routing script: no user enumeration by callers from other domains', () => {
  let h: RoutingHarness;
  before(async () => {
    h = await RoutingHarness.start({ script: defaultScript, domains: ['example.com'], subscribers: [ALICE, BOB], failureLimit: { maxFailures: 3, window: 60, blockTime: 300 } });
  });
  after(() => h.close());
  const from = 'sip:scanner@elsewhere.example.org';
  const source = (n: number) => ({ source: { address: `198.51.100.${n}` } });

  it('a user who exists but has no contact and one who does not exist get the same answer (480), after the same lookups', async () => {
    for (const method of ['INVITE', 'OPTIONS', 'MESSAGE']) {
      const known = await h.send(h.request(method, 'sip:alice@example.com', { from }), source(10));
      const unknown = await h.send(h.request(method, 'sip:nosuchuser@example.com', { from }), source(11));
      assert.equal(known.status, 480, method);
      assert.equal(unknown.status, 480, method);
      assert.equal(unknown.final!.reason, known.final!.reason);
      assert.deepEqual(known.actions, ['sanityCheck', 'looseRoute', 'isBlocked', 'lookup', 'userExists', 'reply'], method);
      // the same lookups; the probe for nobody is counted against its source
      assert.deepEqual(unknown.actions, ['sanityCheck', 'looseRoute', 'isBlocked', 'lookup', 'userExists', 'countFailure', 'reply'], method);
    }
  });

  it('probes for users who do not exist block their source, as wrong passwords do; other sources are not affected', async () => {
    const scanner = source(20);
    for (const user of ['100', '101', '102']) {
      const r = await h.send(h.request('OPTIONS', `sip:${user}@example.com`, { from }), scanner);
      assert.equal(r.status, 480, user);
    }
    // blocked now: whoever it asks for, even a registered user, and a REGISTER with the right password
    h.register('bob@example.com', 'sip:bob@198.51.100.7:5062');
    for (const user of ['103', 'alice', 'bob']) {
      const r = await h.send(h.request('INVITE', `sip:${user}@example.com`, { from }), scanner);
      assert.equal(r.status, 403, user);
      assert.deepEqual(r.branches, []);
    }
    const register = await h.send(h.request('REGISTER', 'sip:example.com', { from: 'sip:alice@example.com', to: 'sip:alice@example.com' }), { ...scanner, credentials: ALICE });
    assert.equal(register.status, 403);
    assert.equal(h.limiter!.isBlocked('198.51.100.20'), true);
    // another caller from elsewhere still reaches bob
    const other = await h.send(h.request('INVITE', 'sip:bob@example.com', { from }), source(21));
    assert.equal(other.branches.length, 1);
  });

  it('an authenticated local caller still tells an unknown user (404) from an offline one (480), and is not counted', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await h.send(h.request('MESSAGE', `sip:typo${i}@example.com`, { from: 'sip:bob@example.com' }), { ...source(30), credentials: BOB });
      assert.equal(r.status, 404);
      assert.equal(r.actions.includes('countFailure'), false);
    }
    assert.equal(h.limiter!.isBlocked('198.51.100.30'), false);
  });

  it('the trusted listener is not counted either', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await h.send(h.request('OPTIONS', `sip:none${i}@example.com`, { from }), { ...source(40), trusted: true });
      assert.equal(r.status, 404);
    }
    assert.equal(h.limiter!.isBlocked('198.51.100.40'), false);
  });
});

describe('default routing script: requests in progress per source are bounded (proxy.maxContextsPerSource)', () => {
  let h: RoutingHarness;
  before(async () => {
    h = await RoutingHarness.start({ script: defaultScript, domains: ['example.com'], subscribers: [BOB], maxContextsPerSource: 2 });
  });
  after(() => h.close());

  it('a stranger\'s INVITEs to a phone that does not answer: two relayed, the third 503 with Retry-After; a final response frees a share', async () => {
    // 20,000 INVITEs from one stranger to a user whose phone did not answer took 380 MB: each
    // holds its context and branch until Timer B (Timer C once the phone rings)
    h.register('bob@example.com', 'sip:bob@198.51.100.7:5062');
    const stranger = { from: 'sip:eve@elsewhere.example.org' };
    const first = await h.send(h.request('INVITE', 'sip:bob@example.com', stranger));
    const second = await h.send(h.request('INVITE', 'sip:bob@example.com', stranger));
    assert.equal(first.branches.length, 1);
    assert.equal(second.branches.length, 1);
    const third = await h.send(h.request('INVITE', 'sip:bob@example.com', stranger));
    assert.equal(third.status, 503);
    assert.equal(third.final!.get('retry-after'), '10');
    assert.deepEqual(third.branches, []);
    await first.respond(486);
    const fourth = await h.send(h.request('INVITE', 'sip:bob@example.com', stranger));
    assert.equal(fourth.branches.length, 1);
    await second.respond(486);
    await fourth.respond(486);
  });
});
