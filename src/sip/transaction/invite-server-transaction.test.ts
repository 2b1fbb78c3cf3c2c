import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { ParleyError } from '../../lib/errors.js';
import { createResponse } from '../message/build.js';
import type { SipRequest } from '../message/sip-message.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import type { Flow } from './transaction-transport.js';
import { environment, RecordingTransport, RecordingUser, request, TCP, UDP } from './testdata/fixtures.js';

function receive(flow: Flow = UDP, autoTrying = true) {
  const clock = new FakeClock();
  const transport = new RecordingTransport(clock);
  const user = new RecordingUser();
  const invite = request();
  const tx = new InviteServerTransaction(invite, flow, environment(clock, transport), user, autoTrying);
  const reply = (status: number) => createResponse(invite, status, { toTag: 'a6c85cf' });
  return { clock, transport, user, tx, invite, reply };
}

const ack = (invite: SipRequest) => request({ method: 'ACK', toTag: 'a6c85cf', cseq: invite.cseq.seq });

test('InviteServerTransaction starts in proceeding and sends 100 Trying when the TU is silent for 200 ms', () => {
  const { clock, transport, tx } = receive();
  assert.equal(tx.state, 'proceeding');
  clock.advance(199);
  assert.deepEqual(transport.lines, []);
  clock.advance(1);
  assert.deepEqual(transport.lines, ['100']);
  assert.equal(transport.sent[0]!.flow, UDP);
  assert.equal(tx.state, 'proceeding');
});

test('InviteServerTransaction sends no 100 Trying when the TU responds within 200 ms', () => {
  const { clock, transport, tx, reply } = receive();
  clock.advance(150);
  tx.respond(reply(180));
  clock.advance(1000);
  assert.deepEqual(transport.lines, ['180']);
});

test('InviteServerTransaction with autoTrying off leaves the 100 Trying to the TU', () => {
  const { clock, transport, tx } = receive(UDP, false);
  clock.advance(1000);
  assert.deepEqual(transport.lines, []);
  assert.equal(clock.size, 0);
  assert.equal(tx.state, 'proceeding');
});

test('InviteServerTransaction sends every provisional from the TU and stays in proceeding', () => {
  const { transport, tx, reply } = receive();
  tx.respond(reply(180));
  tx.respond(reply(183));
  assert.deepEqual(transport.lines, ['180', '183']);
  assert.equal(tx.state, 'proceeding');
});

test('InviteServerTransaction absorbs an INVITE retransmission in proceeding and resends the last provisional', () => {
  const { transport, tx, invite, reply } = receive();
  tx.respond(reply(180));
  tx.respond(reply(183));
  assert.equal(tx.receiveRequest(invite), true);
  assert.deepEqual(transport.lines, ['180', '183', '183']);
});

test('InviteServerTransaction resends the automatic 100 Trying on an INVITE retransmission', () => {
  const { clock, transport, tx, invite } = receive();
  clock.advance(500);
  tx.receiveRequest(invite);
  assert.deepEqual(transport.lines, ['100', '100']);
});

test('InviteServerTransaction absorbs an INVITE retransmission silently when nothing was sent yet', () => {
  const { transport, tx, invite } = receive(UDP, false);
  assert.equal(tx.receiveRequest(invite), true);
  assert.deepEqual(transport.lines, []);
});

test('InviteServerTransaction moves to accepted on a 2xx from the TU (RFC 6026), sends it once and starts Timer L', () => {
  const { clock, transport, tx, reply } = receive();
  tx.respond(reply(200));
  assert.equal(tx.state, 'accepted');
  assert.deepEqual(tx.dump().timers, ['L']);
  clock.advance(31_999);
  assert.deepEqual(transport.lines, ['200']);
});

test('InviteServerTransaction in accepted absorbs INVITE retransmissions without resending the 2xx', () => {
  const { transport, user, tx, invite, reply } = receive();
  tx.respond(reply(200));
  assert.equal(tx.receiveRequest(invite), true);
  assert.deepEqual(transport.lines, ['200']);
  assert.deepEqual(user.events, []);
});

test('InviteServerTransaction in accepted sends the 2xx retransmissions the TU passes and discards other responses', () => {
  const { transport, tx, reply } = receive();
  tx.respond(reply(200));
  tx.respond(reply(200));
  tx.respond(reply(202));
  tx.respond(reply(180));
  tx.respond(reply(486));
  assert.deepEqual(transport.lines, ['200', '200', '202']);
  assert.equal(tx.state, 'accepted');
});

test('InviteServerTransaction in accepted passes an ACK to the TU instead of absorbing it (RFC 6026 §7.1)', () => {
  const { tx, invite, reply } = receive();
  tx.respond(reply(200));
  assert.equal(tx.receiveRequest(ack(invite)), false);
  assert.equal(tx.state, 'accepted');
});

test('InviteServerTransaction terminates on Timer L, 64*T1 after entering accepted', () => {
  const { clock, user, tx, reply } = receive();
  tx.respond(reply(200));
  clock.advance(31_999);
  assert.equal(tx.state, 'accepted');
  clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['terminated']);
});

test('InviteServerTransaction moves to completed on a 300-699 from the TU and retransmits it on Timer G, doubling from T1 up to T2', () => {
  const { clock, transport, tx, reply } = receive();
  tx.respond(reply(486));
  assert.equal(tx.state, 'completed');
  clock.advance(31_999);
  assert.deepEqual(transport.times, [0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]);
  assert.deepEqual(new Set(transport.lines), new Set(['486']));
});

test('InviteServerTransaction tells the TU of a timeout when Timer H fires with no ACK, then terminates', () => {
  const { clock, user, tx, reply } = receive();
  tx.respond(reply(486));
  clock.advance(32_000);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['timeout', 'terminated']);
  assert.equal(clock.size, 0);
});

test('InviteServerTransaction in completed resends the final response on an INVITE retransmission', () => {
  const { transport, tx, invite, reply } = receive(TCP);
  tx.respond(reply(180));
  tx.respond(reply(486));
  assert.equal(tx.receiveRequest(invite), true);
  assert.deepEqual(transport.lines, ['180', '486', '486']);
});

test('InviteServerTransaction discards responses from the TU once completed', () => {
  const { transport, tx, reply } = receive(TCP);
  tx.respond(reply(486));
  tx.respond(reply(200));
  tx.respond(reply(500));
  assert.deepEqual(transport.lines, ['486']);
  assert.equal(tx.state, 'completed');
});

test('InviteServerTransaction moves to confirmed on the ACK, stops Timers G and H, and terminates on Timer I (T4)', () => {
  const { clock, transport, user, tx, invite, reply } = receive();
  tx.respond(reply(486));
  clock.advance(600);
  assert.equal(tx.receiveRequest(ack(invite)), true);
  assert.equal(tx.state, 'confirmed');
  assert.deepEqual(tx.dump().timers, ['I']);
  clock.advance(4999);
  assert.deepEqual(transport.lines, ['486', '486']);
  assert.equal(tx.state, 'confirmed');
  clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['terminated']);
});

test('InviteServerTransaction in confirmed absorbs further ACKs and INVITE retransmissions', () => {
  const { transport, tx, invite, reply } = receive();
  tx.respond(reply(486));
  tx.receiveRequest(ack(invite));
  assert.equal(tx.receiveRequest(ack(invite)), true);
  assert.equal(tx.receiveRequest(invite), true);
  assert.deepEqual(transport.lines, ['486']);
  assert.equal(tx.state, 'confirmed');
});

test('InviteServerTransaction over TCP has no Timer G, keeps Timer H, and a zero Timer I', () => {
  const { clock, transport, tx, invite, reply } = receive(TCP);
  tx.respond(reply(486));
  assert.deepEqual(tx.dump().timers, ['H']);
  clock.advance(10_000);
  assert.deepEqual(transport.lines, ['486']);
  tx.receiveRequest(ack(invite));
  assert.equal(tx.state, 'confirmed');
  clock.advance(0);
  assert.equal(tx.state, 'terminated');
});

test('InviteServerTransaction absorbs an ACK that arrives before any final response', () => {
  const { tx, invite, reply } = receive();
  tx.respond(reply(180));
  assert.equal(tx.receiveRequest(ack(invite)), true);
  assert.equal(tx.state, 'proceeding');
});

test('InviteServerTransaction tells the TU of transport errors and keeps its state (RFC 6026 Figure 5)', () => {
  for (const status of [180, 200, 486]) {
    const { transport, user, tx, reply } = receive(TCP);
    transport.failure = new Error('connection reset');
    tx.respond(reply(status));
    assert.deepEqual(user.events, ['transport error: connection reset']);
    assert.equal(tx.state, status < 200 ? 'proceeding' : status < 300 ? 'accepted' : 'completed');
  }
});

test('InviteServerTransaction sends nothing once terminated', () => {
  const { clock, transport, tx, invite, reply } = receive();
  tx.respond(reply(200));
  clock.advance(32_000);
  tx.respond(reply(200));
  tx.receiveRequest(invite);
  assert.deepEqual(transport.lines, ['200']);
});

test('InviteServerTransaction.respond throws ERR_INVALID_ARGUMENT for a status outside 100-699', () => {
  const { tx, reply } = receive();
  for (const status of [99, 700]) {
    assert.throws(
      () => tx.respond(reply(status)),
      (e: unknown) => e instanceof ParleyError && e.code === 'ERR_INVALID_ARGUMENT',
    );
  }
  assert.equal(tx.state, 'proceeding');
});
