import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { serializeToString } from '../message/serialize.js';
import type { SipRequest } from '../message/sip-message.js';
import { InviteClientTransaction } from './invite-client-transaction.js';
import type { Flow } from './transaction-transport.js';
import { environment, RecordingTransport, RecordingUser, request, response, TCP, UDP } from './testdata/fixtures.js';

function start(flow: Flow = UDP, invite: SipRequest = request()) {
  const clock = new FakeClock();
  const transport = new RecordingTransport(clock);
  const user = new RecordingUser();
  const tx = new InviteClientTransaction(invite, flow, environment(clock, transport), user);
  tx.start();
  return { clock, transport, user, tx, invite };
}

test('InviteClientTransaction sends the INVITE to its destination on start and is calling', () => {
  const { transport, tx, invite } = start();
  assert.equal(tx.state, 'calling');
  assert.equal(transport.sent.length, 1);
  assert.equal(transport.sent[0]!.message, invite);
  assert.equal(transport.sent[0]!.flow, UDP);
});

test('InviteClientTransaction retransmits on Timer A at intervals doubling from T1 until Timer B', () => {
  const { clock, transport, user, tx } = start();
  clock.advance(31_999);
  assert.deepEqual(transport.times, [0, 500, 1500, 3500, 7500, 15_500, 31_500]);
  assert.deepEqual(transport.lines, Array(7).fill('INVITE'));
  assert.deepEqual(user.events, []);
  clock.advance(1);
  assert.equal(tx.state, 'terminated');
});

test('InviteClientTransaction tells the TU of a timeout on Timer B in calling, then terminates', () => {
  const { clock, user, tx } = start();
  clock.advance(64 * 500);
  assert.deepEqual(user.events, ['timeout', 'terminated']);
  assert.equal(tx.state, 'terminated');
  assert.equal(clock.size, 0);
});

test('InviteClientTransaction over TCP sends the INVITE once (no Timer A) and still times out on Timer B', () => {
  const { clock, transport, user, tx } = start(TCP);
  assert.deepEqual(tx.dump().timers, ['B']);
  clock.advance(32_000);
  assert.deepEqual(transport.lines, ['INVITE']);
  assert.deepEqual(user.events, ['timeout', 'terminated']);
});

test('InviteClientTransaction moves to proceeding on a 1xx, passes every 1xx up and stops Timers A and B', () => {
  const { clock, transport, user, tx, invite } = start();
  clock.advance(100);
  tx.receiveResponse(response(invite, 100));
  assert.equal(tx.state, 'proceeding');
  tx.receiveResponse(response(invite, 180));
  tx.receiveResponse(response(invite, 183));
  clock.advance(10 * 64 * 500);
  assert.equal(tx.state, 'proceeding');
  assert.deepEqual(transport.lines, ['INVITE']);
  assert.deepEqual(user.events, ['response 100', 'response 180', 'response 183']);
  assert.equal(clock.size, 0);
});

test('InviteClientTransaction moves to accepted on a 2xx (RFC 6026), passes it up and sends no ACK', () => {
  const { transport, user, tx, invite } = start();
  tx.receiveResponse(response(invite, 200));
  assert.equal(tx.state, 'accepted');
  assert.deepEqual(user.events, ['response 200']);
  assert.deepEqual(transport.lines, ['INVITE']);
  assert.deepEqual(tx.dump().timers, ['M']);
});

test('InviteClientTransaction in accepted passes 2xx retransmissions and other branches\' 2xx up, ignores the rest', () => {
  const { transport, user, tx, invite } = start();
  tx.receiveResponse(response(invite, 180));
  tx.receiveResponse(response(invite, 200, 'branch-a'));
  tx.receiveResponse(response(invite, 200, 'branch-a'));
  tx.receiveResponse(response(invite, 200, 'branch-b'));
  tx.receiveResponse(response(invite, 183));
  tx.receiveResponse(response(invite, 486));
  assert.deepEqual(user.events, ['response 180', 'response 200', 'response 200', 'response 200']);
  assert.deepEqual(user.responses.slice(1).map((r) => r.to.tag), ['branch-a', 'branch-a', 'branch-b']);
  assert.deepEqual(transport.lines, ['INVITE']);
});

test('InviteClientTransaction terminates on Timer M, 64*T1 after entering accepted', () => {
  const { clock, user, tx, invite } = start();
  clock.advance(1000);
  tx.receiveResponse(response(invite, 200));
  clock.advance(31_999);
  assert.equal(tx.state, 'accepted');
  clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['response 200', 'terminated']);
});

test('InviteClientTransaction moves to completed on a 300-699, passes it up once and sends an ACK to the same destination', () => {
  const { clock, transport, user, tx, invite } = start();
  tx.receiveResponse(response(invite, 100));
  tx.receiveResponse(response(invite, 486));
  assert.equal(tx.state, 'completed');
  assert.deepEqual(user.events, ['response 100', 'response 486']);
  assert.deepEqual(transport.lines, ['INVITE', 'ACK']);
  assert.equal(transport.sent[1]!.flow, UDP);
  assert.deepEqual(tx.dump().timers, ['D']);
  clock.advance(10_000);
  assert.deepEqual(transport.lines, ['INVITE', 'ACK']);
});

test('InviteClientTransaction builds the ACK for a non-2xx from the INVITE and the response (§17.1.1.3)', () => {
  const invite = request({
    via: 'SIP/2.0/UDP proxy.atlanta.com;branch=z9hG4bK2d4790.1',
    headers: [
      'Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;received=192.0.2.1',
      'Route: <sip:p1.biloxi.com;lr>',
      'Route: <sip:p2.biloxi.com;lr>, <sip:p3.biloxi.com;lr>',
      'Contact: <sip:alice@pc33.atlanta.com>',
      'Proxy-Authorization: Digest username="alice"',
    ],
  });
  const { transport, tx } = start(UDP, invite);
  tx.receiveResponse(response(invite, 404, '8321234356'));
  assert.equal(
    serializeToString(transport.sent[1]!.message),
    [
      'ACK sip:bob@biloxi.com SIP/2.0',
      'Via: SIP/2.0/UDP proxy.atlanta.com;branch=z9hG4bK2d4790.1',
      'Max-Forwards: 70',
      'Route: <sip:p1.biloxi.com;lr>',
      'Route: <sip:p2.biloxi.com;lr>, <sip:p3.biloxi.com;lr>',
      'From: Alice <sip:alice@atlanta.com>;tag=1928301774',
      'To: Bob <sip:bob@biloxi.com>;tag=8321234356',
      'Call-ID: a84b4c76e66710@pc33.atlanta.com',
      'CSeq: 314159 ACK',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
});

test('InviteClientTransaction in completed resends the ACK for each final response retransmission and keeps it from the TU', () => {
  const { transport, user, tx, invite } = start();
  tx.receiveResponse(response(invite, 486));
  tx.receiveResponse(response(invite, 486));
  tx.receiveResponse(response(invite, 486));
  tx.receiveResponse(response(invite, 180));
  assert.deepEqual(transport.lines, ['INVITE', 'ACK', 'ACK', 'ACK']);
  assert.equal(transport.sent[2]!.message, transport.sent[1]!.message);
  assert.deepEqual(user.events, ['response 486']);
});

test('InviteClientTransaction in completed passes up a 2xx from another branch of a fork', () => {
  const { transport, user, tx, invite } = start();
  tx.receiveResponse(response(invite, 486, 'one'));
  tx.receiveResponse(response(invite, 200, 'two'));
  assert.equal(tx.state, 'completed');
  assert.deepEqual(user.events, ['response 486', 'response 200']);
  assert.deepEqual(transport.lines, ['INVITE', 'ACK']);
});

test('InviteClientTransaction over UDP absorbs retransmissions until Timer D fires at 32 s, then terminates', () => {
  const { clock, transport, user, tx, invite } = start();
  tx.receiveResponse(response(invite, 603));
  clock.advance(31_999);
  tx.receiveResponse(response(invite, 603));
  assert.equal(tx.state, 'completed');
  clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(transport.lines, ['INVITE', 'ACK', 'ACK']);
  assert.deepEqual(user.events, ['response 603', 'terminated']);
});

test('InviteClientTransaction over TCP still sends the ACK but Timer D is zero', () => {
  const { clock, transport, tx, invite } = start(TCP);
  tx.receiveResponse(response(invite, 486));
  assert.deepEqual(transport.lines, ['INVITE', 'ACK']);
  assert.equal(tx.state, 'completed');
  clock.advance(0);
  assert.equal(tx.state, 'terminated');
});

test('InviteClientTransaction tells the TU of a transport error on the INVITE and terminates', () => {
  const clock = new FakeClock();
  const transport = new RecordingTransport(clock);
  transport.failure = new Error('connection refused');
  const user = new RecordingUser();
  const tx = new InviteClientTransaction(request(), TCP, environment(clock, transport), user);
  tx.start();
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['transport error: connection refused', 'terminated']);
  assert.equal(clock.size, 0);
});

test('InviteClientTransaction tells the TU of a transport error on a Timer A retransmission reported later', () => {
  const { clock, transport, user, tx } = start();
  clock.advance(500);
  transport.failLast(new Error('ICMP port unreachable'));
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['transport error: ICMP port unreachable', 'terminated']);
});

test('InviteClientTransaction in completed tells the TU of a transport error on the ACK and terminates', () => {
  const { transport, user, tx, invite } = start(TCP);
  tx.receiveResponse(response(invite, 486));
  transport.failLast(new Error('connection reset'));
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['response 486', 'transport error: connection reset', 'terminated']);
});

test('InviteClientTransaction ignores a transport error reported after it left calling', () => {
  const { transport, user, tx, invite } = start();
  tx.receiveResponse(response(invite, 180));
  transport.failLast(new Error('late'));
  assert.equal(tx.state, 'proceeding');
  assert.deepEqual(user.events, ['response 180']);
});

test('InviteClientTransaction ignores responses once terminated', () => {
  const { clock, transport, user, tx, invite } = start();
  clock.advance(32_000);
  tx.receiveResponse(response(invite, 486));
  tx.receiveResponse(response(invite, 200));
  assert.deepEqual(user.events, ['timeout', 'terminated']);
  assert.equal(transport.lines.includes('ACK'), false);
});
