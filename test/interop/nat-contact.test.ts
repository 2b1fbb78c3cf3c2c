// Where Parley sends a call to a phone registered over UDP: to its Contact when nothing in the
// REGISTER says NAT, to the address and port the REGISTER came from when something does (a
// private Contact address from a public source, a top Via whose sent-by is not the source: as
// Kamailio's nat_uac_test 19), and over the flow for a registration made over a connection (TCP)
// or with RFC 5626 outbound (+sip.instance, reg-id, ;ob). sipp phones on loopback; each call is
// answered 486 by the phone that gets the INVITE, and a plain UDP socket on the other port shows
// that nothing went there. Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, beforeEach, describe, it } from 'node:test';
import { call, describeCall, startUas } from './support/calls.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { registrationRun } from './support/registration.js';
import { contacts, flow, received } from './support/sip-trace.js';
import { reserveEndpoint, runSipp, skipWithoutSipp, startSipp, type SippEndpoint, type SippRun, type SippTransport } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret1' };
const BOB = { user: 'bob', password: 'secret2' };
const pool = portPool(import.meta.url);
const INSTANCE = '+sip.instance="<urn:uuid:6b0ee222-6483-436d-9214-40536c1d9824>"';

/** The caller's flow of a call answered 486 (call-busy.xml). */
const BUSY = ['> INVITE', '< 407', '> ACK', '> INVITE', '< 486', '> ACK'];
/** The callee's flow of such a call, after its registration (reg-contact-busy.xml). */
const REGISTERED_BUSY = ['> REGISTER', '< 401', '> REGISTER', '< 200', '< INVITE', '> 486', '< ACK'];

interface Registration {
  /** The Via sent-by (host:port). */
  readonly viaSentBy: string;
  /** The whole Contact header field value. */
  readonly contact: string;
  readonly transport?: SippTransport;
}

function keys(r: Registration): Record<string, string> {
  return { via_sent_by: r.viaSentBy, contact: r.contact };
}

/** A UDP socket on 127.0.0.1:port that keeps what reaches it (a port where no phone should be called). */
async function listen(port: number): Promise<{ socket: Socket; got: Buffer[] }> {
  const socket = createSocket('udp4');
  const got: Buffer[] = [];
  socket.on('message', (m) => got.push(m));
  await new Promise<void>((res, rej) => {
    socket.once('error', rej);
    socket.bind(port, '127.0.0.1', () => res());
  });
  return { socket, got };
}

const close = (s: Socket): Promise<void> => new Promise((res) => s.close(() => res()));

/** How many bindings bob has (a REGISTER without Contact, from `admin`). */
async function bobsBindings(parley: ParleyServer, admin: SippEndpoint): Promise<number> {
  const run = await registrationRun(parley, 'reg-query.xml', BOB, { endpoint: admin });
  assert.equal(run.code, 0, run.describe());
  const ok = received(run.trace, { status: 200 });
  return ok.length === 1 ? contacts(ok[0]!).length : 0;
}

/**
 * A phone on `endpoint` that registers `r` and then waits, on the same socket or connection,
 * for a call it answers 486 (reg-contact-busy.xml); resolves once bob's binding is listed.
 */
async function registeredPhone(parley: ParleyServer, admin: SippEndpoint, endpoint: SippEndpoint, r: Registration, callId: string): Promise<SippRun> {
  const run = await startSipp({
    ...parley.sippTarget(r.transport ?? 'udp'), scenario: 'reg-contact-busy.xml', endpoint, callId, calls: 1, timeoutSecs: 25, recvTimeoutMs: 15_000,
    credentials: [BOB], keys: keys(r),
  });
  for (let i = 0; i < 40; i++) {
    if ((await bobsBindings(parley, admin)) > 0) return run;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`bob did not register:\n${(await run.done).describe()}`);
}

describe('NAT detection: a UDP binding is called at its Contact, or at its source when NAT is detected', { skip: skipWithoutSipp(), timeout: 180_000 }, () => {
  let parley: ParleyServer;
  let seq = 0;
  /** One endpoint for every query and removal of bob's bindings, run one after the other (the slice has 250 ports). */
  let admin: SippEndpoint;

  before(async () => {
    parley = await ParleyServer.start({ pool, logLevel: 'debug', transports: ['udp', 'tcp'], subscribers: [ALICE, BOB] });
    admin = await reserveEndpoint(pool);
  });

  // each test starts with bob not registered anywhere (Contact: *, Expires: 0)
  beforeEach(async () => {
    if (parley === undefined) return;
    const run = await registrationRun(parley, 'reg-clear.xml', BOB, { endpoint: admin });
    assert.equal(run.code, 0, `removing bob's bindings failed:\n${run.describe()}`);
  });

  after(() => stopCleanly(parley));

  /** alice calls bob (call-busy.xml) with the Call-ID the phone's call waits on. */
  function aliceCalls(callId: string) {
    return call(parley, 'call-busy.xml', { caller: ALICE, callee: 'bob', callId, recvTimeoutMs: 12_000 });
  }

  const nextCallId = (): string => `nat-${process.pid}-${++seq}`;

  it('(a) no sign of NAT: REGISTER from port A (Via A) with Contact port B: the call reaches B, nothing reaches A', async () => {
    const a = await reserveEndpoint(pool);
    const b = await reserveEndpoint(pool);
    // a provisioning tool on A registers the phone that listens on B
    const reg = await runSipp({
      ...parley.sippTarget('udp'), scenario: 'reg-contact.xml', endpoint: a, calls: 1, timeoutSecs: 10, recvTimeoutMs: 3000, credentials: [BOB],
      keys: keys({ viaSentBy: `127.0.0.1:${a.port}`, contact: `<sip:bob@127.0.0.1:${b.port};transport=UDP>` }),
    });
    assert.equal(reg.code, 0, reg.describe());
    const atA = await listen(a.port);
    try {
      const phone = await startUas(parley, b, 'uas-busy.xml', { recvTimeoutMs: 12_000 });
      const uac = await call(parley, 'call-busy.xml', { caller: ALICE, callee: 'bob', recvTimeoutMs: 12_000 });
      const bob = await phone.done;
      const both = describeCall(uac, bob);
      assert.deepEqual(flow(bob.trace), ['< INVITE', '> 486', '< ACK'], both);
      assert.deepEqual(flow(uac.trace), BUSY, both);
      assert.equal(received(bob.trace, { method: 'INVITE' })[0]!.startLine, `INVITE sip:bob@127.0.0.1:${b.port};transport=UDP SIP/2.0`);
      assert.equal(atA.got.length, 0, `the REGISTER's source got ${atA.got.length} datagrams:\n${atA.got.map(String).join('\n')}`);
    } finally {
      await close(atA.socket);
    }
  });

  const toSource: ReadonlyArray<[string, (a: SippEndpoint, b: SippEndpoint) => Registration]> = [
    ['(b) the Via sent-by port is not the source port (Via and Contact say B, the phone sends from A)', (_a, b) => ({ viaSentBy: `127.0.0.1:${b.port}`, contact: `<sip:bob@127.0.0.1:${b.port};transport=UDP>` })],
    ['(b) the Via sent-by address is not the source address (127.0.0.2 from 127.0.0.1)', (a) => ({ viaSentBy: `127.0.0.2:${a.port}`, contact: `<sip:bob@127.0.0.2:${a.port};transport=UDP>` })],
    // fd00::/7 (unique local) keeps a wrong target on this host: Parley listens on IPv4 only and cannot send there
    ['(b) a private Contact address (fd00::1, unique local) from a public source', (a, b) => ({ viaSentBy: `127.0.0.1:${a.port}`, contact: `<sip:bob@[fd00::1]:${b.port};transport=UDP>` })],
    ['(d) RFC 5626 outbound (+sip.instance, reg-id, ;ob), Via and source agree, Contact port B', (a, b) => ({ viaSentBy: `127.0.0.1:${a.port}`, contact: `<sip:bob@127.0.0.1:${b.port};transport=UDP;ob>;${INSTANCE};reg-id=1` })],
  ];

  for (const [name, registration] of toSource) {
    it(`${name}: the call goes to the source A, nothing to B`, async () => {
      const a = await reserveEndpoint(pool);
      const b = await reserveEndpoint(pool);
      const callId = nextCallId();
      const atB = await listen(b.port);
      try {
        const phone = await registeredPhone(parley, admin, a, registration(a, b), callId);
        const uac = await aliceCalls(callId);
        const bob = await phone.done;
        const both = describeCall(uac, bob);
        assert.equal(bob.code, 0, `bob's sipp failed:\n${both}`);
        assert.deepEqual(flow(bob.trace), REGISTERED_BUSY, both);
        assert.deepEqual(flow(uac.trace), BUSY, both);
        assert.equal(atB.got.length, 0, `the Contact's port got ${atB.got.length} datagrams`);
      } finally {
        await close(atB.socket);
      }
    });
  }

  it('(c) registered over TCP with Contact port B: the call comes over the phone\'s connection', async () => {
    const a = await reserveEndpoint(pool);
    const b = await reserveEndpoint(pool);
    const callId = nextCallId();
    const phone = await registeredPhone(parley, admin, a, { transport: 'tcp', viaSentBy: `127.0.0.1:${a.port}`, contact: `<sip:bob@127.0.0.1:${b.port};transport=TCP>` }, callId);
    const uac = await aliceCalls(callId);
    const bob = await phone.done;
    const both = describeCall(uac, bob);
    assert.equal(bob.code, 0, `bob's sipp failed:\n${both}`);
    assert.deepEqual(flow(bob.trace), REGISTERED_BUSY, both);
    assert.ok(bob.trace.every((e) => e.transport === 'TCP'), 'bob spoke TCP only');
    assert.deepEqual(flow(uac.trace), BUSY, both);
  });

  it('Parley logged no error and is still running', () => {
    assert.equal(parley.alive, true);
    assert.deepEqual(parley.logs.filter((l) => (l.level ?? 0) >= 50), []);
  });
});

describe('registrar.natDetection: always (every UDP binding called at its source)', { skip: skipWithoutSipp(), timeout: 90_000 }, () => {
  let parley: ParleyServer;
  let admin: SippEndpoint;

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['udp'], subscribers: [ALICE, BOB], config: { registrar: { natDetection: 'always' } } });
    admin = await reserveEndpoint(pool);
  });

  after(() => stopCleanly(parley));

  it('no sign of NAT, Contact port B: the call still goes to the source A', async () => {
    const a = await reserveEndpoint(pool);
    const b = await reserveEndpoint(pool);
    const callId = `nat-always-${process.pid}`;
    const atB = await listen(b.port);
    try {
      const phone = await registeredPhone(parley, admin, a, { viaSentBy: `127.0.0.1:${a.port}`, contact: `<sip:bob@127.0.0.1:${b.port};transport=UDP>` }, callId);
      const uac = await call(parley, 'call-busy.xml', { caller: ALICE, callee: 'bob', callId, recvTimeoutMs: 12_000 });
      const bob = await phone.done;
      const both = describeCall(uac, bob);
      assert.deepEqual(flow(bob.trace), REGISTERED_BUSY, both);
      assert.deepEqual(flow(uac.trace), BUSY, both);
      assert.equal(atB.got.length, 0, `the Contact's port got ${atB.got.length} datagrams`);
    } finally {
      await close(atB.socket);
    }
  });
});
