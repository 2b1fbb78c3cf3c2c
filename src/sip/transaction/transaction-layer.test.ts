import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { ParleyError } from '../../lib/errors.js';
import { createResponse } from '../message/build.js';
import { InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import { TransactionLayer, type TransactionLayerOptions } from './transaction-layer.js';
import { BRANCH, PackingTransport, RecordingTransport, RecordingUser, request, response, TCP, UDP } from './testdata/fixtures.js';

function setup(options: Partial<TransactionLayerOptions> = {}, Transport: typeof RecordingTransport = RecordingTransport) {
  const clock = new FakeClock();
  const transport = new Transport(clock);
  const serverUser = new RecordingUser();
  const layer = new TransactionLayer({ clock, transport, serverUser, ...options });
  return { clock, transport, serverUser, layer };
}

/** RFC 2543 requests: a top Via without a branch. */
const LEGACY_VIA = 'SIP/2.0/UDP pc33.atlanta.com:5060';

const isInvalidArgument = (e: unknown) => e instanceof ParleyError && e.code === 'ERR_INVALID_ARGUMENT';

// ---- server side: §17.2.3 -----------------------------------------------------------------

test('TransactionLayer.receiveRequest creates an InviteServerTransaction for a new INVITE, a NonInviteServerTransaction otherwise', () => {
  const { layer } = setup();
  const invite = layer.receiveRequest(request(), UDP);
  const options = layer.receiveRequest(request({ method: 'OPTIONS', branch: 'z9hG4bKother' }), UDP);
  assert.equal(invite.kind, 'new');
  assert.ok(invite.kind === 'new' && invite.tx instanceof InviteServerTransaction);
  assert.equal(invite.tx.source, UDP);
  assert.ok(options.kind === 'new' && options.tx instanceof NonInviteServerTransaction);
  assert.equal(layer.size, 2);
});

test('TransactionLayer.receiveRequest absorbs a request with the same branch, sent-by and method and resends the last response', () => {
  const { layer, transport } = setup();
  const first = layer.receiveRequest(request(), UDP);
  assert.equal(first.kind, 'new');
  first.tx!.respond(createResponse(first.tx!.request, 180, { toTag: 'x' }));
  const again = layer.receiveRequest(request(), UDP);
  assert.deepEqual(again, { kind: 'absorbed', tx: first.tx });
  assert.deepEqual(transport.lines, ['180', '180']);
  assert.equal(layer.size, 1);
});

test('TransactionLayer matches branches case-insensitively (§7.3.1)', () => {
  const { layer } = setup();
  const first = layer.receiveRequest(request({ branch: 'z9hG4bKabc' }), UDP);
  assert.deepEqual(layer.receiveRequest(request({ branch: 'z9hG4bKABC' }), UDP), { kind: 'absorbed', tx: first.tx });
});

test('TransactionLayer makes a new transaction for the same branch from another sent-by', () => {
  const { layer } = setup();
  layer.receiveRequest(request(), UDP);
  const other = layer.receiveRequest(request({ via: `SIP/2.0/UDP pc34.atlanta.com;branch=${BRANCH}` }), UDP);
  assert.equal(other.kind, 'new');
  assert.equal(layer.size, 2);
});

test('TransactionLayer gives a CANCEL with the INVITE\'s branch a transaction of its own', () => {
  const { layer } = setup();
  const invite = layer.receiveRequest(request(), UDP);
  const cancel = layer.receiveRequest(request({ method: 'CANCEL' }), UDP);
  assert.equal(cancel.kind, 'new');
  assert.ok(cancel.kind === 'new' && cancel.tx instanceof NonInviteServerTransaction);
  assert.notEqual(cancel.tx, invite.tx);
});

test('TransactionLayer absorbs an ACK with the INVITE\'s branch after a non-2xx and confirms the INVITE transaction', () => {
  const { layer } = setup();
  const invite = layer.receiveRequest(request(), UDP);
  invite.tx!.respond(createResponse(invite.tx!.request, 486, { toTag: 'x' }));
  const ack = layer.receiveRequest(request({ method: 'ACK', toTag: 'x' }), UDP);
  assert.deepEqual(ack, { kind: 'absorbed', tx: invite.tx });
  assert.equal(invite.tx!.state, 'confirmed');
});

test('TransactionLayer hands back an ACK with a new branch (ACK for a 2xx) for the TU, matching no transaction', () => {
  const { layer } = setup();
  const invite = layer.receiveRequest(request(), UDP);
  invite.tx!.respond(createResponse(invite.tx!.request, 200, { toTag: 'x' }));
  assert.deepEqual(layer.receiveRequest(request({ method: 'ACK', toTag: 'x', branch: 'z9hG4bKack' }), UDP), { kind: 'ack' });
  assert.equal(layer.size, 1);
});

test('TransactionLayer hands back an ACK that matches an INVITE transaction in accepted, with it (RFC 6026 §7.1)', () => {
  const { layer } = setup();
  const invite = layer.receiveRequest(request(), UDP);
  invite.tx!.respond(createResponse(invite.tx!.request, 200, { toTag: 'x' }));
  assert.deepEqual(layer.receiveRequest(request({ method: 'ACK', toTag: 'x' }), UDP), { kind: 'ack', tx: invite.tx });
  assert.equal(invite.tx!.state, 'accepted');
});

test('TransactionLayer matches an RFC 2543 INVITE retransmission by Request-URI, tags, Call-ID, CSeq and top Via', () => {
  const { layer } = setup();
  const first = layer.receiveRequest(request({ via: LEGACY_VIA }), UDP);
  assert.equal(first.kind, 'new');
  // equal by §19.1.4 URI comparison and header comparison, though written differently
  const again = request({ via: 'SIP/2.0/udp PC33.atlanta.com:5060', uri: 'sip:bob@BILOXI.com' });
  assert.deepEqual(layer.receiveRequest(again, UDP), { kind: 'absorbed', tx: first.tx });
});

test('TransactionLayer makes a new RFC 2543 transaction when Request-URI, a tag, the CSeq method or the top Via differ', () => {
  const differing = {
    'Request-URI': { uri: 'sip:carol@biloxi.com' },
    'From tag': { fromTag: 'other' },
    'To tag': { toTag: 'other' },
    'CSeq method': { method: 'OPTIONS' },
    'top Via': { via: 'SIP/2.0/UDP pc33.atlanta.com:5070' },
  };
  for (const [what, template] of Object.entries(differing)) {
    const { layer } = setup();
    layer.receiveRequest(request({ via: LEGACY_VIA }), UDP);
    assert.equal(layer.receiveRequest(request({ via: LEGACY_VIA, ...template }), UDP).kind, 'new', what);
  }
});

test('TransactionLayer matches an RFC 2543 ACK by the To tag of the response the transaction sent', () => {
  const { layer } = setup();
  const invite = layer.receiveRequest(request({ via: LEGACY_VIA }), UDP);
  invite.tx!.respond(createResponse(invite.tx!.request, 404, { toTag: 'sent' }));
  assert.deepEqual(layer.receiveRequest(request({ method: 'ACK', via: LEGACY_VIA, toTag: 'other' }), UDP), { kind: 'ack' });
  const ack = request({ method: 'ACK', via: LEGACY_VIA, toTag: 'sent' });
  assert.deepEqual(layer.receiveRequest(ack, UDP), { kind: 'absorbed', tx: invite.tx });
  assert.equal(invite.tx!.state, 'confirmed');
});

test('TransactionLayer.findInviteForCancel finds the INVITE server transaction by branch and sent-by (§9.2)', () => {
  const { layer } = setup();
  const invite = layer.receiveRequest(request(), UDP);
  layer.receiveRequest(request({ method: 'OPTIONS', branch: 'z9hG4bKoptions' }), UDP);
  assert.equal(layer.findInviteForCancel(request({ method: 'CANCEL' })), invite.tx);
  assert.equal(layer.findInviteForCancel(request({ method: 'CANCEL', branch: 'z9hG4bKother' })), undefined);
  assert.equal(layer.findInviteForCancel(request({ method: 'CANCEL', branch: 'z9hG4bKoptions' })), undefined);
});

test('TransactionLayer.findInviteForCancel applies the RFC 2543 rules to a CANCEL without magic cookie', () => {
  const { layer } = setup();
  const invite = layer.receiveRequest(request({ via: LEGACY_VIA }), UDP);
  assert.equal(layer.findInviteForCancel(request({ method: 'CANCEL', via: LEGACY_VIA })), invite.tx);
  assert.equal(layer.findInviteForCancel(request({ method: 'CANCEL', via: LEGACY_VIA, cseq: 1 })), undefined);
  assert.equal(layer.findInviteForCancel(request({ method: 'CANCEL', via: LEGACY_VIA, fromTag: 'x' })), undefined);
});

test('TransactionLayer sends 100 Trying for a new INVITE unless autoTrying is off', () => {
  for (const autoTrying of [true, false]) {
    const { clock, layer, transport } = setup({ autoTrying });
    layer.receiveRequest(request(), UDP);
    clock.advance(200);
    assert.deepEqual(transport.lines, autoTrying ? ['100'] : []);
  }
});

// ---- client side: §17.1.3 ------------------------------------------------------------------

test('TransactionLayer.createClientTransaction picks the machine by method and sends the request at once', () => {
  const { layer, transport } = setup();
  const user = new RecordingUser();
  const invite = layer.createClientTransaction(request(), UDP, user);
  const bye = layer.createClientTransaction(request({ method: 'BYE', branch: 'z9hG4bKbye' }), TCP, user);
  assert.ok(invite instanceof InviteClientTransaction);
  assert.ok(bye instanceof NonInviteClientTransaction);
  assert.deepEqual(transport.lines, ['INVITE', 'BYE']);
  assert.deepEqual(transport.sent.map((s) => s.flow), [UDP, TCP]);
});

test('TransactionLayer.createClientTransaction rejects an ACK, a branch without magic cookie and a branch and method in use', () => {
  const { layer } = setup();
  const user = new RecordingUser();
  layer.createClientTransaction(request(), UDP, user);
  assert.throws(() => layer.createClientTransaction(request({ method: 'ACK', branch: 'z9hG4bKack' }), UDP, user), isInvalidArgument);
  assert.throws(() => layer.createClientTransaction(request({ via: LEGACY_VIA }), UDP, user), isInvalidArgument);
  assert.throws(() => layer.createClientTransaction(request(), UDP, user), isInvalidArgument);
  assert.equal(layer.size, 1);
});

test('TransactionLayer.receiveResponse matches by branch and CSeq method, so a CANCEL\'s response misses the INVITE', () => {
  const { layer } = setup();
  const inviteUser = new RecordingUser();
  const cancelUser = new RecordingUser();
  const invite = layer.createClientTransaction(request(), UDP, inviteUser);
  const cancel = layer.createClientTransaction(request({ method: 'CANCEL' }), UDP, cancelUser);
  assert.deepEqual(layer.receiveResponse(response(cancel.request, 200)), { kind: 'matched', tx: cancel });
  assert.deepEqual(layer.receiveResponse(response(invite.request, 487)), { kind: 'matched', tx: invite });
  assert.deepEqual(cancelUser.events, ['response 200']);
  assert.deepEqual(inviteUser.events, ['response 487']);
});

test('TransactionLayer.receiveResponse reports a response that matches no client transaction as stray', () => {
  const { layer } = setup();
  layer.createClientTransaction(request(), UDP, new RecordingUser());
  assert.deepEqual(layer.receiveResponse(response(request({ branch: 'z9hG4bKunknown' }), 200)), { kind: 'stray' });
  assert.deepEqual(layer.receiveResponse(response(request({ method: 'OPTIONS' }), 200)), { kind: 'stray' });
});

test('TransactionLayer routes a response the transport delivers during the first send to the new transaction', () => {
  const clock = new FakeClock();
  const user = new RecordingUser();
  const layer: TransactionLayer = new TransactionLayer({
    clock,
    serverUser: new RecordingUser(),
    transport: {
      sendRequest: (req) => assert.equal(layer.receiveResponse(response(req, 100)).kind, 'matched'),
      sendResponse: () => undefined,
      resendResponse: () => {},
    },
  });
  const tx = layer.createClientTransaction(request(), TCP, user);
  assert.equal(tx.state, 'proceeding');
  assert.deepEqual(user.events, ['response 100']);
});

// ---- tables -----------------------------------------------------------------------------------

test('TransactionLayer drops transactions from its tables as they terminate, before the TU hears onTerminated', () => {
  const { clock, layer, serverUser } = setup();
  const user = new RecordingUser();
  const client = layer.createClientTransaction(request({ method: 'OPTIONS' }), TCP, user);
  const server = layer.receiveRequest(request({ method: 'BYE', via: LEGACY_VIA }), TCP);
  layer.receiveResponse(response(client.request, 200));
  server.tx!.respond(createResponse(server.tx!.request, 200));
  assert.equal(layer.size, 2);
  clock.advance(0);
  assert.equal(layer.size, 0);
  assert.deepEqual(user.events, ['response 200', 'terminated']);
  assert.deepEqual(serverUser.events, ['terminated']);
  // the next retransmission finds no transaction: it is new
  assert.equal(layer.receiveRequest(request({ method: 'BYE', via: LEGACY_VIA }), TCP).kind, 'new');
  assert.deepEqual(layer.receiveResponse(response(client.request, 200)), { kind: 'stray' });
});

test('TransactionLayer drops a terminated transaction by its key, without reading its request again (a proxy drops the parsed forms of what it has done with)', () => {
  const { clock, layer } = setup();
  const user = new RecordingUser();
  const client = layer.createClientTransaction(request({ method: 'INVITE', branch: 'z9hG4bKclient' }), UDP, user);
  const server = layer.receiveRequest(request(), UDP);
  layer.receiveResponse(response(client.request, 200));
  server.tx!.respond(createResponse(server.tx!.request, 200, { toTag: 'x' }));
  // both wait out Timer M / L (RFC 6026) with their requests as text only; reading the top Via
  // again would parse the header section anew
  for (const r of [client.request, server.tx!.request]) {
    r.dropParsed();
    Object.defineProperty(r, 'topVia', { get: () => assert.fail('the request was read again to leave the table') });
  }
  assert.equal(layer.size, 2);
  clock.advance(64 * 500);
  assert.equal(layer.size, 0);
});

test('TransactionLayer.close terminates every transaction without telling the TUs and clears every timer', () => {
  const { clock, layer, serverUser } = setup();
  const user = new RecordingUser();
  const client = layer.createClientTransaction(request(), UDP, user);
  const server = layer.receiveRequest(request({ branch: 'z9hG4bKin' }), UDP);
  layer.receiveRequest(request({ via: LEGACY_VIA }), UDP);
  assert.ok(clock.size > 0);
  layer.close();
  assert.equal(clock.size, 0);
  assert.equal(layer.size, 0);
  assert.equal(client.state, 'terminated');
  assert.equal(server.tx!.state, 'terminated');
  assert.deepEqual([...user.events, ...serverUser.events], []);
});

test('TransactionLayer.dump lists each transaction with kind, state, method, branch, Call-ID, flow and running timers', () => {
  const { layer } = setup({ autoTrying: false });
  layer.createClientTransaction(request({ method: 'REGISTER', uri: 'sip:atlanta.com' }), UDP, new RecordingUser());
  layer.receiveRequest(request({ via: LEGACY_VIA }), TCP);
  const callId = 'a84b4c76e66710@pc33.atlanta.com';
  assert.deepEqual(layer.dump(), {
    client: [{ kind: 'non-invite-client', state: 'trying', method: 'REGISTER', branch: BRANCH, callId, flow: UDP, timers: ['F', 'E'] }],
    server: [{ kind: 'invite-server', state: 'proceeding', method: 'INVITE', branch: undefined, callId, flow: TCP, timers: [] }],
  });
});

test('TransactionLayer derives the transactions\' timers from its T1, T2 and T4', () => {
  const { clock, layer, transport } = setup({ timers: { T1: 100 } });
  layer.createClientTransaction(request(), UDP, new RecordingUser());
  clock.advance(6400);
  assert.deepEqual(transport.times, [0, 100, 300, 700, 1500, 3100, 6300]);
  assert.equal(layer.size, 0);
});

// ---- Completed non-INVITE server transactions over UDP (CompletedTable) ------------------------
// Run with a transport that keeps objects and with one that packs responses into bytes (as
// MessagePath does: CompletedTable then keeps them in PackedRecords).
for (const [name, Transport] of [['objects', RecordingTransport], ['packed', PackingTransport]] as const) {
  test(`${name}: TransactionLayer keeps a completed non-INVITE UDP transaction as its response until Timer J: retransmissions get it again`, () => {
    const { clock, layer, transport, serverUser } = setup({}, Transport);
    const first = layer.receiveRequest(request({ method: 'REGISTER' }), UDP);
    assert.equal(first.kind, 'new');
    const tx = first.tx!;
    tx.respond(createResponse(tx.request, 401, { toTag: 'x' }));
    // the object is done with: the TU hears onTerminated now, not after Timer J
    assert.equal(tx.state, 'terminated');
    assert.deepEqual(serverUser.events, ['terminated']);
    assert.equal(layer.size, 1);
    // with a packing transport the response is kept as bytes, not as the object
    assert.equal(transport instanceof PackingTransport ? transport.packed : 0, name === 'packed' ? 1 : 0);
    // §17.2.2: a retransmission in Completed gets the final response again, the same bytes
    clock.advance(31_000);
    assert.deepEqual(layer.receiveRequest(request({ method: 'REGISTER' }), UDP), { kind: 'absorbed' });
    assert.deepEqual(transport.lines, ['401', '401']);
    assert.equal(transport.sent[1]!.message, transport.sent[0]!.message);
    // a later final response from the TU is discarded, as in Completed
    tx.respond(createResponse(tx.request, 200, { toTag: 'x' }));
    assert.deepEqual(transport.lines, ['401', '401']);
    // Timer J (64*T1 = 32 s) ends it: the same branch is then a new transaction
    clock.advance(1_500);
    assert.equal(layer.size, 0);
    assert.equal(layer.receiveRequest(request({ method: 'REGISTER' }), UDP).kind, 'new');
  });

  test(`${name}: TransactionLayer expires completed UDP transactions in order, each after its own Timer J`, () => {
    const { clock, layer, transport } = setup({ timers: { T1: 100 } }, Transport); // Timer J = 6.4 s
    for (const branch of ['z9hG4bKa', 'z9hG4bKb', 'z9hG4bKc']) {
      const r = layer.receiveRequest(request({ method: 'OPTIONS', branch }), UDP);
      r.tx!.respond(createResponse(r.tx!.request, 200, { toTag: 't' }));
      clock.advance(2_000);
    }
    // a at 0 s, b at 2 s, c at 4 s; now 6 s
    assert.equal(layer.size, 3);
    clock.advance(1_000); // 7 s: a has expired (at 6.4 s)
    assert.equal(layer.receiveRequest(request({ method: 'OPTIONS', branch: 'z9hG4bKa' }), UDP).kind, 'new');
    assert.deepEqual(layer.receiveRequest(request({ method: 'OPTIONS', branch: 'z9hG4bKb' }), UDP), { kind: 'absorbed' });
    clock.advance(4_000); // 11 s: b (8.4 s) and c (10.4 s) have expired
    assert.equal(layer.receiveRequest(request({ method: 'OPTIONS', branch: 'z9hG4bKc' }), UDP).kind, 'new');
    assert.deepEqual(transport.lines, ['200', '200', '200', '200']);
  });

  test(`${name}: TransactionLayer keeps reliable, RFC 2543 and INVITE transactions as objects in Completed`, () => {
    const { layer } = setup({}, Transport);
    const tcp = layer.receiveRequest(request({ method: 'OPTIONS', branch: 'z9hG4bKtcp' }), TCP);
    const legacy = layer.receiveRequest(request({ method: 'OPTIONS', via: LEGACY_VIA }), UDP);
    const invite = layer.receiveRequest(request({ branch: 'z9hG4bKinv' }), UDP);
    for (const r of [tcp, legacy, invite]) r.tx!.respond(createResponse(r.tx!.request, 486, { toTag: 't' }));
    assert.equal(tcp.tx!.state, 'completed');
    assert.equal(legacy.tx!.state, 'completed');
    assert.equal(invite.tx!.state, 'completed');
    assert.deepEqual(layer.receiveRequest(request({ method: 'OPTIONS', via: LEGACY_VIA }), UDP), { kind: 'absorbed', tx: legacy.tx });
  });

  test(`${name}: TransactionLayer does not keep a UDP transaction whose final response could not be sent`, () => {
    const { layer, transport, serverUser } = setup({}, Transport);
    transport.failure = new Error('unreachable');
    const r = layer.receiveRequest(request({ method: 'REGISTER' }), UDP);
    r.tx!.respond(createResponse(r.tx!.request, 200, { toTag: 't' }));
    assert.equal(r.tx!.state, 'terminated');
    assert.equal(layer.size, 0);
    assert.deepEqual(serverUser.events, ['transport error: unreachable', 'terminated']);
  });

  test(`${name}: TransactionLayer.close forgets completed UDP transactions`, () => {
    const { clock, layer } = setup({}, Transport);
    const r = layer.receiveRequest(request({ method: 'REGISTER' }), UDP);
    r.tx!.respond(createResponse(r.tx!.request, 200, { toTag: 't' }));
    layer.close();
    assert.equal(layer.size, 0);
    assert.equal(clock.size, 0);
  });
}
