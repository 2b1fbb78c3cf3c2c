// Registrations survive a restart (bindings are written through to SQLite in the data
// directory): bob registers from a sipp phone, Parley is stopped with SIGTERM and started again
// on the same ports and data directory, and alice's call still reaches bob's phone.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertBasicCall, call, registerPhone, startUas } from './support/calls.js';
import { assertCleanExit, ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { skipWithoutSipp, type SippEndpoint } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret1' };
const BOB = { user: 'bob', password: 'secret2' };
const pool = portPool(import.meta.url);

describe('a restart keeps the registrations', { skip: skipWithoutSipp(), timeout: 90_000 }, () => {
  let parley: ParleyServer;
  let bobPhone: SippEndpoint;

  before(async () => {
    parley = await ParleyServer.start({ pool, logLevel: 'debug', transports: ['udp', 'tcp'], subscribers: [ALICE, BOB] });
  });

  after(() => stopCleanly(parley));

  it('bob registers from his phone', async () => {
    bobPhone = (await registerPhone(parley, BOB)).endpoint;
  });

  it('SIGTERM ends Parley cleanly; a new process on the same ports and data directory restores the binding', async () => {
    assert.ok(bobPhone, 'bob registered');
    const before = { pid: parley.pid, listeners: parley.listeners };
    assertCleanExit(parley, await parley.restart());
    assert.notEqual(parley.pid, before.pid, 'a new process');
    assert.deepEqual(parley.listeners, before.listeners, 'the same listeners');
    assert.equal(parley.readyLine?.restoredBindings, 1, `the ready line should count bob's binding:\n${JSON.stringify(parley.readyLine)}`);
  });

  it("after the restart alice's call reaches bob's phone (INVITE/407/ACK/INVITE/180/200/ACK/BYE)", async () => {
    assert.ok(bobPhone, 'bob registered');
    const uas = await startUas(parley, bobPhone, 'uas-answer.xml');
    const uac = await call(parley, 'call-basic.xml', { caller: ALICE, callee: 'bob' });
    const bobRun = await uas.done;
    assertBasicCall({ parley, uac, uas: bobRun, callee: bobPhone, callerTransport: 'udp', calleeTransport: 'udp' });
  });

  it('Parley logged no error and is still running', () => {
    assert.equal(parley.alive, true);
    assert.deepEqual(parley.logs.filter((l) => (l.level ?? 0) >= 50), []);
  });
});
