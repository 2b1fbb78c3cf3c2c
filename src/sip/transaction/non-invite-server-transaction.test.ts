import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { createResponse } from '../message/build.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import type { Flow } from './transaction-transport.js';
import { environment, RecordingTransport, RecordingUser, request, TCP, UDP } from './testdata/fixtures.js';

function receive(flow: Flow = UDP) {
  const clock = new FakeClock();
  const transport = new RecordingTransport(clock);
  const user = new RecordingUser();
  const bye = request({ method: 'BYE', toTag: 'a6c85cf' });
  const tx = new NonInviteServerTransaction(bye, flow, environment(clock, transport), user);
  const reply = (status: number) => createResponse(bye, status);
  return { clock, transport, user, tx, bye, reply };
}

test('NonInviteServerTransaction starts in trying, sends no 100 Trying and runs no timer', () => {
  const { clock, transport, tx } = receive();
  clock.advance(10_000);
  assert.equal(tx.state, 'trying');
  assert.deepEqual(transport.lines, []);
  assert.equal(clock.size, 0);
});

test('NonInviteServerTransaction in trying discards request retransmissions', () => {
  const { transport, user, tx, bye } = receive();
  assert.equal(tx.receiveRequest(bye), true);
  assert.deepEqual(transport.lines, []);
  assert.deepEqual(user.events, []);
});

test('NonInviteServerTransaction moves to proceeding on a provisional from the TU and sends it', () => {
  const { transport, tx, reply } = receive();
  tx.respond(reply(100));
  assert.equal(tx.state, 'proceeding');
  tx.respond(reply(183));
  assert.deepEqual(transport.lines, ['100', '183']);
  assert.equal(transport.sent[0]!.flow, UDP);
});

test('NonInviteServerTransaction in proceeding resends the last provisional on a request retransmission', () => {
  const { transport, tx, bye, reply } = receive();
  tx.respond(reply(100));
  tx.respond(reply(183));
  tx.receiveRequest(bye);
  assert.deepEqual(transport.lines, ['100', '183', '183']);
});

test('NonInviteServerTransaction moves to completed on a final response from trying or proceeding and sends it', () => {
  const direct = receive();
  direct.tx.respond(direct.reply(200));
  assert.equal(direct.tx.state, 'completed');
  assert.deepEqual(direct.transport.lines, ['200']);

  const via = receive();
  via.tx.respond(via.reply(100));
  via.tx.respond(via.reply(481));
  assert.equal(via.tx.state, 'completed');
  assert.deepEqual(via.transport.lines, ['100', '481']);
});

test('NonInviteServerTransaction in completed resends the final response on each request retransmission', () => {
  const { transport, tx, bye, reply } = receive();
  tx.respond(reply(200));
  tx.receiveRequest(bye);
  tx.receiveRequest(bye);
  assert.deepEqual(transport.lines, ['200', '200', '200']);
});

test('NonInviteServerTransaction in completed discards any other response from the TU', () => {
  const { transport, tx, reply } = receive();
  tx.respond(reply(200));
  tx.respond(reply(500));
  tx.respond(reply(180));
  assert.deepEqual(transport.lines, ['200']);
});

test('NonInviteServerTransaction over UDP terminates on Timer J, 64*T1 after entering completed', () => {
  const { clock, user, tx, reply } = receive();
  tx.respond(reply(200));
  assert.deepEqual(tx.dump().timers, ['J']);
  clock.advance(31_999);
  assert.equal(tx.state, 'completed');
  clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['terminated']);
});

test('NonInviteServerTransaction over TCP has a zero Timer J', () => {
  const { clock, tx, reply } = receive(TCP);
  tx.respond(reply(200));
  assert.equal(tx.state, 'completed');
  clock.advance(0);
  assert.equal(tx.state, 'terminated');
});

test('NonInviteServerTransaction tells the TU of a transport error in proceeding and terminates', () => {
  const { transport, user, tx, reply } = receive(TCP);
  tx.respond(reply(100));
  transport.failLast(new Error('connection reset'));
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['transport error: connection reset', 'terminated']);
});

test('NonInviteServerTransaction tells the TU of a transport error in completed and terminates', () => {
  const { clock, transport, user, tx, reply } = receive();
  transport.failure = new Error('ICMP port unreachable');
  tx.respond(reply(200));
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['transport error: ICMP port unreachable', 'terminated']);
  assert.equal(clock.size, 0);
});
