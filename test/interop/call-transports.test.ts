// A call whose two legs use different transports: alice reaches Parley over TCP or TLS, bob is
// a sipp UAS over UDP. Parley must record-route twice, once per side (RFC 3261 §16.6 step 4,
// RFC 5658 double Record-Route), so that the ACK and BYE cross back from one transport to the
// other. Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { assertBasicCall, call, registerPhone, startUas } from './support/calls.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { clearBindings } from './support/registration.js';
import { received, recordRoutes } from './support/sip-trace.js';
import { sippInfo, skipWithoutSipp } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret1' };
const BOB = { user: 'bob', password: 'secret2' };
const pool = portPool(import.meta.url);

describe('calls across transports: alice over TCP or TLS, bob over UDP', { skip: skipWithoutSipp(), timeout: 90_000 }, () => {
  let parley: ParleyServer;

  before(async () => {
    parley = await ParleyServer.start({ pool, logLevel: 'debug', transports: ['udp', 'tcp', 'tls'], subscribers: [ALICE, BOB] });
  });

  beforeEach(async () => {
    if (parley !== undefined) await clearBindings(parley, BOB);
  });

  after(() => stopCleanly(parley));

  it('alice over TCP calls bob over UDP: bob sees two Record-Route entries (UDP side, TCP side)', async () => {
    const bob = await registerPhone(parley, BOB, 'udp');
    const uas = await startUas(parley, bob.endpoint, 'uas-answer.xml');
    const uac = await call(parley, 'call-basic.xml', { caller: ALICE, callee: 'bob', transport: 'tcp' });
    const bobRun = await uas.done;
    assertBasicCall({ parley, uac, uas: bobRun, callee: bob.endpoint, callerTransport: 'tcp', calleeTransport: 'udp' });
    assert.ok(uac.trace.every((e) => e.transport === 'TCP'), 'alice spoke TCP only');
    assert.ok(bobRun.trace.every((e) => e.transport === 'UDP'), 'bob spoke UDP only');
    const rr = recordRoutes(received(bobRun.trace, { method: 'INVITE' })[0]!);
    assert.equal(rr[1]!.uriParams.get('transport')?.toLowerCase(), 'tcp');
  });

  it('alice over TLS calls bob over UDP: two Record-Route entries (UDP side, TLS side)', async () => {
    const bob = await registerPhone(parley, BOB, 'udp');
    const uas = await startUas(parley, bob.endpoint, 'uas-answer.xml');
    const uac = await call(parley, 'call-basic.xml', { caller: ALICE, callee: 'bob', transport: 'tls' });
    const bobRun = await uas.done;
    assertBasicCall({ parley, uac, uas: bobRun, callee: bob.endpoint, callerTransport: 'tls', calleeTransport: 'udp' });
    if (uac.tlsRelay !== undefined) {
      // this sipp has no OpenSSL: it spoke TCP to a local relay that carried it over TLS to Parley
      assert.deepEqual(uac.tlsRelay.errors, []);
      assert.equal(uac.tlsRelay.sessions.length, 1, 'one TLS connection carried the whole call');
      assert.match(uac.tlsRelay.sessions[0]!.protocol ?? '', /^TLSv1\.[23]$/);
    } else {
      assert.ok(sippInfo().tls);
      assert.ok(uac.trace.every((e) => e.transport === 'TLS'), 'alice spoke TLS only');
    }
    assert.ok(bobRun.trace.every((e) => e.transport === 'UDP'), 'bob spoke UDP only');
  });

  it('Parley logged no error and is still running', () => {
    assert.equal(parley.alive, true);
    assert.deepEqual(parley.logs.filter((l) => (l.level ?? 0) >= 50), []);
  });
});
