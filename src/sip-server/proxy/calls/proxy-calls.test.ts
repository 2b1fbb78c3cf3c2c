/**
 * Call tracking in a real ProxyCore: a caller and callees on loopback UDP sockets (UdpPeer), the
 * proxy's SipServer between them. Requests from the caller are handed to the transaction layer
 * and the proxy as the routing script would (processRoute, forward); everything the proxy sends
 * goes over UDP, and the peers answer as phones do.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { systemClock } from '../../../lib/clock.js';
import type { ParleyEvent } from '../../../lib/events.js';
import { parseMessage, parseUri, type SipRequest } from '../../../sip/index.js';
import { LocalIdentity } from '../../core/local-identity.js';
import { SipServer } from '../../sip-server.js';
import type { Flow } from '../../transport/flow.js';
import { UdpPeer, until } from '../../transport/testdata/loopback.js';
import { ProxyCore } from '../proxy-core.js';

const noDns = { naptr: async () => [], srv: async () => [], addresses: async () => [] };

/** A phone on a loopback UDP socket: finds the messages it got, answers them. */
class Phone {
  private seen = 0;
  private constructor(readonly peer: UdpPeer) {}
  static async open(): Promise<Phone> {
    return new Phone(await UdpPeer.open());
  }
  get port(): number {
    return this.peer.port;
  }
  get contact(): string {
    return `sip:phone@127.0.0.1:${this.port}`;
  }
  get flow(): Flow {
    return { transport: 'udp', remoteAddress: '127.0.0.1', remotePort: this.port };
  }
  messages(): Array<ReturnType<typeof parse>> {
    return this.peer.received.map((d) => parse(d.toString('utf8')));
  }
  /** The first message from now on (not one seen before) that `match`es. */
  async next(what: string, match: (m: ReturnType<typeof parse>) => boolean): Promise<ReturnType<typeof parse>> {
    let found: ReturnType<typeof parse> | undefined;
    await until(() => {
      const all = this.messages();
      for (let i = this.seen; i < all.length; i++) {
        if (match(all[i]!)) {
          found = all[i];
          this.seen = i + 1;
          return true;
        }
      }
      return false;
    }, what);
    return found!;
  }
  async request(method: string, callId: string): Promise<SipRequest> {
    const m = await this.next(`${method} ${callId} on ${this.port}`, (x) => x.isRequest && (x as SipRequest).method === method && x.callId === callId);
    return m as SipRequest;
  }
  async status(status: number, callId: string, method = 'INVITE'): Promise<ReturnType<typeof parse>> {
    return this.next(`${status} ${method} ${callId} on ${this.port}`, (x) => !x.isRequest && (x as { status: number }).status === status && x.callId === callId && x.cseq.method === method);
  }
  /** Answer `request` (sent by the proxy at `proxyPort`) with `status`. */
  answer(proxyPort: number, request: SipRequest, status: number, o: { toTag?: string; recordRoute?: readonly string[]; contact?: boolean } = {}): Promise<void> {
    const reason = { 180: 'Ringing', 200: 'OK', 486: 'Busy Here', 487: 'Request Terminated' }[status] ?? 'Whatever';
    const to = request.get('to')!;
    const lines = [
      `SIP/2.0 ${status} ${reason}`,
      ...request.getAll('via').map((v) => `Via: ${v}`),
      `From: ${request.get('from')}`,
      `To: ${o.toTag !== undefined && !to.includes(';tag=') ? `${to};tag=${o.toTag}` : to}`,
      `Call-ID: ${request.callId}`,
      `CSeq: ${request.get('cseq')}`,
      ...(o.recordRoute ?? request.getAll('record-route')).map((r) => `Record-Route: ${r}`),
      ...(o.contact === false ? [] : [`Contact: <${this.contact}>`]),
      'Content-Length: 0',
      '',
      '',
    ];
    return this.peer.send(lines.join('\r\n'), proxyPort);
  }
  close(): Promise<void> {
    return this.peer.close();
  }
}

function parse(text: string) {
  const r = parseMessage(text);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.message;
}

let n = 0;
function inviteFrom(caller: Phone, callId: string, o: { recordRoute?: string; cseq?: number } = {}): SipRequest {
  return parse([
    `INVITE sip:bob@example.com SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bKcall${++n}`,
    'Max-Forwards: 70',
    ...(o.recordRoute === undefined ? [] : [`Record-Route: ${o.recordRoute}`]),
    'From: "Alice" <sip:alice@example.com>;tag=a1',
    'To: <sip:bob@example.com>',
    `Call-ID: ${callId}`,
    `CSeq: ${o.cseq ?? 1} INVITE`,
    `Contact: <${caller.contact}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n')) as SipRequest;
}

/** A request in the dialog as a phone builds it from its route set (here: the Route given). */
function inDialog(from: Phone, o: { method: string; ruri: string; route: readonly string[]; fromField: string; toField: string; callId: string; cseq: number }): SipRequest {
  return parse([
    `${o.method} ${o.ruri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${from.port};branch=z9hG4bKdlg${++n}`,
    'Max-Forwards: 70',
    ...o.route.map((r) => `Route: ${r}`),
    `From: ${o.fromField}`,
    `To: ${o.toField}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq} ${o.method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n')) as SipRequest;
}

describe('ProxyCore: calls it relays with its Record-Route (calls/proxy-calls.ts)', () => {
  let server: SipServer;
  let proxy: ProxyCore;
  let port: number;
  let alice: Phone;
  let bob: Phone;
  let bob2: Phone;
  let events: ParleyEvent[];

  before(async () => {
    server = new SipServer({ listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }] });
    const [udp] = await server.start();
    port = udp!.port;
    const identity = new LocalIdentity([udp!], { domains: ['example.com'] });
    proxy = new ProxyCore(server, identity, { clock: systemClock, dns: noDns, events: (e) => events.push(e) });
    alice = await Phone.open();
    bob = await Phone.open();
    bob2 = await Phone.open();
  });
  beforeEach(() => {
    events = [];
  });
  after(async () => {
    await server.stop();
    await Promise.all([alice.close(), bob.close(), bob2.close()]);
  });

  const aliceFlow = (): Flow => ({ transport: 'udp', remoteAddress: '127.0.0.1', remotePort: alice.port, localAddress: '127.0.0.1', localPort: port });
  const toBob = (phone: Phone) => ({ uri: parseUri(`${phone.contact}`), q: 1, flow: phone.flow });
  const eventsOf = (callId: string) => events.filter((e) => 'callId' in e && e.callId === callId).map((e) => (e.type === 'call.ended' ? `${e.type} ${e.status} ${e.reason}` : e.type));

  /** alice calls; the callee(s) ring; returns the INVITE(s) they got. */
  async function ring(callId: string, callees: readonly Phone[], o: { recordRoute?: string } = {}): Promise<SipRequest[]> {
    const invite = inviteFrom(alice, callId, o);
    const got = server.transactions.receiveRequest(invite, aliceFlow());
    proxy.forward(invite, got.tx!, callees.map(toBob));
    const invites: SipRequest[] = [];
    for (const [i, callee] of callees.entries()) {
      const inv = await callee.request('INVITE', callId);
      invites.push(inv);
      await callee.answer(port, inv, 180, { toTag: `b${i + 1}` });
    }
    await alice.status(180, callId);
    return invites;
  }

  /** A request from a phone handed to the proxy as the routing script does for one in a dialog. */
  function relayInDialog(request: SipRequest, source: Flow): void {
    const got = server.transactions.receiveRequest(request, source);
    proxy.processRoute(request, source);
    proxy.forward(request, got.tx!, [{ uri: request.requestUri, q: 1 }], { recordRoute: false });
  }

  it('an answered call: trying → ringing → answered, both legs, then hung up: BYE to both sides along the route beyond Parley, with the next CSeq of each', async () => {
    const callId = 'call-answered';
    const [invite] = await ring(callId, [bob], { recordRoute: '<sip:p-caller.example.net;lr>' });
    const ours = invite!.getAll('record-route')[0]!;
    assert.match(ours, new RegExp(`^<sip:127\\.0\\.0\\.1:${port};lr;rrsig=`));
    let [view] = proxy.calls.query({ callId }).items;
    assert.equal(view!.state, 'ringing');
    assert.deepEqual(view!.caller, { uri: 'sip:alice@example.com', contact: alice.contact, source: `udp:127.0.0.1:${alice.port}`, tag: 'a1' });

    // a proxy beyond Parley on the callee's side put its entry on top
    const rr = ['<sip:p-callee.example.net;lr>', ...invite!.getAll('record-route')];
    await bob.answer(port, invite!, 200, { toTag: 'b1', recordRoute: rr });
    await alice.status(200, callId);
    [view] = proxy.calls.query({ callId }).items;
    assert.equal(view!.state, 'answered');
    assert.deepEqual(view!.callee, { uri: 'sip:bob@example.com', contact: bob.contact, source: `udp:127.0.0.1:${bob.port}`, tag: 'b1' });
    assert.ok(view!.answeredAt);

    // each side sends something in the dialog: its CSeq is the one the BYE follows (straight to
    // the other phone: the proxy beyond Parley is not there)
    const aliceField = '"Alice" <sip:alice@example.com>;tag=a1';
    const bobField = '<sip:bob@example.com>;tag=b1';
    relayInDialog(inDialog(alice, { method: 'INFO', ruri: bob.contact, route: [ours], fromField: aliceField, toField: bobField, callId, cseq: 7 }), aliceFlow());
    const info = await bob.request('INFO', callId);
    await bob.answer(port, info, 200);
    await alice.status(200, callId, 'INFO');
    relayInDialog(inDialog(bob, { method: 'INFO', ruri: alice.contact, route: [ours], fromField: bobField, toField: aliceField, callId, cseq: 3 }), { ...bob.flow, localAddress: '127.0.0.1', localPort: port });
    const info2 = await alice.request('INFO', callId);
    await alice.answer(port, info2, 200);
    await bob.status(200, callId, 'INFO');

    assert.equal(proxy.hangup(callId), true);
    assert.equal(proxy.calls.query({ callId }).items[0]!.state, 'ending');
    const byeToBob = await bob.request('BYE', callId);
    const byeToAlice = await alice.request('BYE', callId);
    // to the callee: as the caller would send it (§12.2.1.1), along the caller's route set beyond Parley
    assert.equal(byeToBob.uri, bob.contact);
    assert.equal(byeToBob.get('from'), aliceField);
    assert.equal(byeToBob.get('to'), bobField);
    assert.equal(byeToBob.cseq.seq, 8);
    assert.deepEqual(byeToBob.getAll('route'), ['<sip:p-callee.example.net;lr>']);
    assert.match(byeToBob.get('via')!, new RegExp(`^SIP/2\\.0/UDP 127\\.0\\.0\\.1:${port};branch=z9hG4bK`));
    // to the caller: as the callee would, along the callee's route set beyond Parley
    assert.equal(byeToAlice.uri, alice.contact);
    assert.equal(byeToAlice.get('from'), bobField);
    assert.equal(byeToAlice.get('to'), aliceField);
    assert.equal(byeToAlice.cseq.seq, 4);
    assert.deepEqual(byeToAlice.getAll('route'), ['<sip:p-caller.example.net;lr>']);
    assert.equal(byeToAlice.getAll('via').length, 1);

    await bob.answer(port, byeToBob, 200);
    assert.equal(proxy.calls.query({ callId }).total, 1, 'the call ends when both BYEs are answered');
    await alice.answer(port, byeToAlice, 200);
    await until(() => proxy.calls.query({ callId }).total === 0, 'the call to end');
    assert.deepEqual(eventsOf(callId), ['call.started', 'call.answered', 'call.ended 200 hangup']);
    assert.equal(proxy.hangup(callId), false);
  });

  it('a BYE from either side ends the call once it has its final response (reason bye)', async () => {
    for (const who of ['caller', 'callee'] as const) {
      const callId = `call-bye-${who}`;
      const [invite] = await ring(callId, [bob]);
      const ours = invite!.getAll('record-route')[0]!;
      await bob.answer(port, invite!, 200, { toTag: 'b1' });
      await alice.status(200, callId);
      const aliceField = '"Alice" <sip:alice@example.com>;tag=a1';
      const bobField = '<sip:bob@example.com>;tag=b1';
      const [from, to, fromField, toField, source] =
        who === 'caller'
          ? [alice, bob, aliceField, bobField, aliceFlow()]
          : [bob, alice, bobField, aliceField, { ...bob.flow, localAddress: '127.0.0.1', localPort: port }];
      relayInDialog(inDialog(from, { method: 'BYE', ruri: to.contact, route: [ours], fromField, toField, callId, cseq: 2 }), source);
      const bye = await to.request('BYE', callId);
      assert.equal(proxy.calls.query({ callId }).items[0]!.state, 'ending');
      await to.answer(port, bye, 200);
      await from.status(200, callId, 'BYE');
      await until(() => proxy.calls.query({ callId }).total === 0, 'the call to end');
      assert.deepEqual(eventsOf(callId), ['call.started', 'call.answered', 'call.ended 200 bye'], who);
    }
  });

  it('rejected (486), cancelled (CANCEL: 487), hung up before the answer (CANCEL downstream, 487 upstream)', async () => {
    const [busy] = await ring('call-busy', [bob]);
    await bob.answer(port, busy!, 486);
    await alice.status(486, 'call-busy');
    await until(() => proxy.calls.query({ callId: 'call-busy' }).total === 0, 'the rejected call to end');
    assert.deepEqual(eventsOf('call-busy'), ['call.started', 'call.ended 486 rejected']);

    for (const how of ['cancel', 'hangup'] as const) {
      const callId = `call-${how}`;
      const [invite] = await ring(callId, [bob]);
      if (how === 'cancel') {
        const text = [
          `CANCEL sip:bob@example.com SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${alice.port};branch=z9hG4bKcall${n}`,
          'Max-Forwards: 70',
          'From: "Alice" <sip:alice@example.com>;tag=a1',
          'To: <sip:bob@example.com>',
          `Call-ID: ${callId}`,
          'CSeq: 1 CANCEL',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n');
        const cancel = parse(text) as SipRequest;
        const got = server.transactions.receiveRequest(cancel, aliceFlow());
        proxy.cancel(cancel, got.tx!);
      } else {
        assert.equal(proxy.hangup(callId), true);
      }
      const cancelled = await bob.request('CANCEL', callId);
      await bob.answer(port, cancelled, 200);
      await bob.answer(port, invite!, 487, { toTag: 'b1' });
      await alice.status(487, callId);
      await until(() => proxy.calls.query({ callId }).total === 0, `the ${how} call to end`);
      assert.deepEqual(eventsOf(callId), ['call.started', `call.ended 487 ${how}`]);
    }
  });

  it('a forked call is one call: the branch that answers is the callee leg', async () => {
    const callId = 'call-forked';
    const [first, second] = await ring(callId, [bob, bob2]);
    assert.equal(proxy.calls.query({ callId }).total, 1);
    await bob2.answer(port, second!, 200, { toTag: 'b2' });
    await alice.status(200, callId);
    const cancel = await bob.request('CANCEL', callId);
    await bob.answer(port, cancel, 200);
    await bob.answer(port, first!, 487, { toTag: 'b1' });
    const [view] = proxy.calls.query({ callId }).items;
    assert.equal(view!.state, 'answered');
    assert.equal(view!.callee.tag, 'b2');
    assert.equal(view!.callee.source, `udp:127.0.0.1:${bob2.port}`);
    assert.deepEqual(eventsOf(callId), ['call.started', 'call.answered']);
    assert.equal(proxy.hangup(callId), true);
    const bye = await bob2.request('BYE', callId);
    assert.equal(bye.get('to'), '<sip:bob@example.com>;tag=b2');
    await bob2.answer(port, bye, 200);
    await alice.answer(port, await alice.request('BYE', callId), 200);
    await until(() => proxy.calls.query({ callId }).total === 0, 'the call to end');
  });

  it('a request not record-routed is no call (an INVITE relayed without Record-Route)', async () => {
    const invite = inviteFrom(alice, 'call-no-rr');
    const got = server.transactions.receiveRequest(invite, aliceFlow());
    proxy.forward(invite, got.tx!, [toBob(bob)], { recordRoute: false });
    const inv = await bob.request('INVITE', 'call-no-rr');
    assert.equal(proxy.calls.query({ callId: 'call-no-rr' }).total, 0);
    assert.equal(events.length, 0);
    await bob.answer(port, inv, 486, { toTag: 'b1' });
    await alice.status(486, 'call-no-rr');
  });
});
