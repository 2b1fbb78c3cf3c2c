import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import type { Flow } from './transaction-transport.js';
import { environment, RecordingTransport, RecordingUser, request, response, TCP, UDP } from './testdata/fixtures.js';

function start(flow: Flow = UDP) {
  const clock = new FakeClock();
  const transport = new RecordingTransport(clock);
  const user = new RecordingUser();
  const req = request({ method: 'OPTIONS' });
  const tx = new NonInviteClientTransaction(req, flow, environment(clock, transport), user);
  tx.start();
  return { clock, transport, user, tx, req };
}

test('NonInviteClientTransaction sends the request on start and is trying', () => {
  const { transport, tx } = start();
  assert.equal(tx.state, 'trying');
  assert.deepEqual(transport.lines, ['OPTIONS']);
  assert.deepEqual(tx.dump().timers.toSorted(), ['E', 'F']);
});

test('NonInviteClientTransaction in trying retransmits on Timer E, doubling from T1 and capped at T2', () => {
  const { clock, transport } = start();
  clock.advance(31_999);
  assert.deepEqual(transport.times, [0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]);
});

test('NonInviteClientTransaction in proceeding retransmits on Timer E every T2', () => {
  const { clock, transport, tx, req } = start();
  clock.advance(100);
  tx.receiveResponse(response(req, 100));
  clock.advance(12_400);
  // the Timer E already running fires at 500, then every T2
  assert.deepEqual(transport.times, [0, 500, 4500, 8500, 12_500]);
});

test('NonInviteClientTransaction tells the TU of a timeout on Timer F in trying, then terminates', () => {
  const { clock, user, tx } = start();
  clock.advance(31_999);
  assert.equal(tx.state, 'trying');
  clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['timeout', 'terminated']);
  assert.equal(clock.size, 0);
});

test('NonInviteClientTransaction tells the TU of a timeout on Timer F in proceeding, then terminates', () => {
  const { clock, user, tx, req } = start();
  tx.receiveResponse(response(req, 100));
  clock.advance(32_000);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['response 100', 'timeout', 'terminated']);
});

test('NonInviteClientTransaction moves to proceeding on a 1xx and passes every 1xx up', () => {
  const { user, tx, req } = start();
  tx.receiveResponse(response(req, 100));
  assert.equal(tx.state, 'proceeding');
  tx.receiveResponse(response(req, 180));
  assert.deepEqual(user.events, ['response 100', 'response 180']);
});

test('NonInviteClientTransaction moves to completed on a final response from trying, passes it up and stops E and F', () => {
  const { clock, transport, user, tx, req } = start();
  tx.receiveResponse(response(req, 200));
  assert.equal(tx.state, 'completed');
  assert.deepEqual(tx.dump().timers, ['K']);
  clock.advance(4999);
  assert.deepEqual(transport.lines, ['OPTIONS']);
  assert.deepEqual(user.events, ['response 200']);
});

test('NonInviteClientTransaction moves to completed on a final response from proceeding', () => {
  const { user, tx, req } = start();
  tx.receiveResponse(response(req, 100));
  tx.receiveResponse(response(req, 404));
  assert.equal(tx.state, 'completed');
  assert.deepEqual(user.events, ['response 100', 'response 404']);
});

test('NonInviteClientTransaction in completed absorbs response retransmissions until Timer K (T4), then terminates', () => {
  const { clock, user, tx, req } = start();
  tx.receiveResponse(response(req, 200));
  tx.receiveResponse(response(req, 200));
  tx.receiveResponse(response(req, 100));
  clock.advance(4999);
  assert.equal(tx.state, 'completed');
  clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['response 200', 'terminated']);
});

test('NonInviteClientTransaction over TCP has no Timer E and a zero Timer K', () => {
  const { clock, transport, tx, req } = start(TCP);
  assert.deepEqual(tx.dump().timers, ['F']);
  clock.advance(10_000);
  assert.deepEqual(transport.lines, ['OPTIONS']);
  tx.receiveResponse(response(req, 200));
  assert.equal(tx.state, 'completed');
  clock.advance(0);
  assert.equal(tx.state, 'terminated');
});

test('NonInviteClientTransaction tells the TU of a transport error in trying and terminates', () => {
  const { transport, user, tx } = start(TCP);
  transport.failLast(new Error('connection refused'));
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['transport error: connection refused', 'terminated']);
});

test('NonInviteClientTransaction tells the TU of a transport error on a retransmission in proceeding and terminates', () => {
  const { clock, transport, user, tx, req } = start();
  tx.receiveResponse(response(req, 100));
  clock.advance(500);
  transport.failLast(new Error('ICMP port unreachable'));
  assert.equal(tx.state, 'terminated');
  assert.deepEqual(user.events, ['response 100', 'transport error: ICMP port unreachable', 'terminated']);
});

test('NonInviteClientTransaction ignores a transport error reported once completed', () => {
  const { transport, user, tx, req } = start();
  tx.receiveResponse(response(req, 200));
  transport.failLast(new Error('late'));
  assert.equal(tx.state, 'completed');
  assert.deepEqual(user.events, ['response 200']);
});
