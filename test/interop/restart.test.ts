// Registrations survive a restart (bindings are written through to SQLite in the data
// directory): bob registers from a sipp phone, Parley is stopped with SIGTERM and started again
// on the same ports and data directory, and alice's call still reaches bob's phone.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertBasicCall, call, registerPhone, startUas } from './support/calls.js';
import { ParleyServer } from './support/parley-server.js';
import { PortPool } from './support/port-pool.js';
import type { SippEndpoint } from './support/sipp-peer.js';
import { skipWithoutSipp } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret1' };
const BOB = { user: 'bob', password: 'secret2' };
const pool = new PortPool('restart');

describe('a restart keeps the registrations', { skip: skipWithoutSipp(), timeout: 90_000 }, () => {
  let parley: ParleyServer;
  let bobPhone: SippEndpoint;

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['udp', 'tcp'], subscribers: [ALICE, BOB] });
  });

  after(async () => {
    if (parley === undefined) return;
    const exit = await parley.stop();
    assert.equal(exit.killed, false, 'Parley did not stop on SIGTERM within 5 s');
    assert.equal(exit.code, 0, `Parley exited with ${exit.code}:\n${parley.outputTail()}`);
  });

  it('bob registers from his phone', async () => {
    bobPhone = (await registerPhone(parley, pool, BOB)).endpoint;
  });

  it('SIGTERM ends Parley cleanly; a new process on the same ports and data directory restores the binding', async () => {
    assert.ok(bobPhone, 'bob registered');
    const before = { pid: parley.pid, listeners: parley.readyLine?.listeners };
    const exit = await parley.restart();
    assert.equal(exit.killed, false, 'Parley did not stop on SIGTERM within 5 s');
    assert.equal(exit.code, 0, `Parley exited with ${exit.code}:\n${parley.outputTail()}`);
    assert.notEqual(parley.pid, before.pid, 'a new process');
    assert.deepEqual(parley.readyLine?.listeners, before.listeners, 'the same listeners');
    assert.equal(parley.readyLine?.restoredBindings, 1, `the ready line should count bob's binding:\n${JSON.stringify(parley.readyLine)}`);
  });

  it("after the restart alice's call reaches bob's phone (INVITE/407/ACK/INVITE/180/200/ACK/BYE)", async () => {
    assert.ok(bobPhone, 'bob registered');
    const uas = await startUas(parley, pool, bobPhone, 'uas-answer.xml');
    const uac = await call(parley, pool, 'call-basic.xml', { caller: ALICE, callee: 'bob' });
    const bobRun = await uas.done;
    assertBasicCall({ parley, uac, uas: bobRun, callee: bobPhone, callerTransport: 'udp', calleeTransport: 'udp' });
  });

  it('Parley logged no error and is still running', () => {
    assert.equal(parley.alive, true);
    assert.deepEqual(parley.logs.filter((l) => (l.level ?? 0) >= 50), []);
  });
});
