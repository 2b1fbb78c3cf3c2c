// Calls through Parley, the stateful record-routing proxy (RFC 3261 §16), between sipp phones
// over UDP: bob is a sipp UAS registered from the port it listens on, alice a sipp UAC who
// must authenticate (407). Each check reads both sipp exit codes and their message traces.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { assertBasicCall, call, describeCall, registerPhone, startUas } from './support/calls.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { clearBindings } from './support/registration.js';
import { contacts, flow, header, received, sent, tagOf, vias } from './support/sip-trace.js';
import { skipWithoutSipp } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret1' };
const BOB = { user: 'bob', password: 'secret2' };
const pool = portPool(import.meta.url);

/** The caller's flow up to the authenticated INVITE. */
const CHALLENGED = ['> INVITE', '< 407', '> ACK', '> INVITE'];

describe('calls through Parley between sipp phones over UDP', { skip: skipWithoutSipp(), timeout: 150_000 }, () => {
  let parley: ParleyServer;

  before(async () => {
    parley = await ParleyServer.start({ pool, logLevel: 'debug', transports: ['udp'], subscribers: [ALICE, BOB] });
  });

  // each test starts with bob not registered anywhere (Contact: *, Expires: 0)
  beforeEach(async () => {
    if (parley !== undefined) await clearBindings(parley, BOB);
  });

  after(() => stopCleanly(parley));

  it('alice calls bob: INVITE/407/ACK/INVITE/180/200/ACK, then BYE along the Record-Route through Parley', async () => {
    const bob = await registerPhone(parley, BOB);
    const uas = await startUas(parley, bob.endpoint, 'uas-answer.xml');
    const uac = await call(parley, 'call-basic.xml', { caller: ALICE, callee: 'bob' });
    const bobRun = await uas.done;
    assertBasicCall({ parley, uac, uas: bobRun, callee: bob.endpoint, callerTransport: 'udp', calleeTransport: 'udp' });
  });

  it('486 Busy Here from bob reaches alice; Parley ACKs it toward bob', async () => {
    const bob = await registerPhone(parley, BOB);
    const uas = await startUas(parley, bob.endpoint, 'uas-busy.xml');
    const uac = await call(parley, 'call-busy.xml', { caller: ALICE, callee: 'bob' });
    const bobRun = await uas.done;
    const both = describeCall(uac, bobRun);
    assert.equal(uac.code, 0, `alice's sipp failed:\n${both}`);
    assert.equal(bobRun.code, 0, `bob's sipp failed:\n${both}`);
    assert.deepEqual(flow(uac.trace), [...CHALLENGED, '< 486', '> ACK'], both);
    assert.deepEqual(flow(bobRun.trace), ['< INVITE', '> 486', '< ACK'], both);

    const [invite] = received(bobRun.trace, { method: 'INVITE' });
    const [ack] = received(bobRun.trace, { method: 'ACK' });
    const [busy] = received(uac.trace, { status: 486 });
    // the ACK of a non-2xx is hop-by-hop: Parley's own, on the INVITE's branch (RFC 3261 §17.1.1.3)
    assert.equal(vias(ack!).length, 1, `Parley's ACK has its Via only:\n${ack!.text}`);
    assert.equal(vias(ack!)[0]!.params.get('branch'), vias(invite!)[0]!.params.get('branch'));
    assert.equal(header(ack!, 'CSeq'), '2 ACK');
    // alice got bob's response (his To tag), with Parley's Via removed
    assert.equal(tagOf(header(busy!, 'To')), tagOf(header(sent(bobRun.trace, { status: 486 })[0]!, 'To')));
    assert.equal(vias(busy!).length, 1, busy!.text);
  });

  it('alice CANCELs while bob rings: 200 for the CANCEL and 487 for the INVITE; bob got the CANCEL', async () => {
    const bob = await registerPhone(parley, BOB);
    const uas = await startUas(parley, bob.endpoint, 'uas-ring-cancel.xml');
    const uac = await call(parley, 'call-cancel.xml', { caller: ALICE, callee: 'bob' });
    const bobRun = await uas.done;
    const both = describeCall(uac, bobRun);
    assert.equal(uac.code, 0, `alice's sipp failed:\n${both}`);
    assert.equal(bobRun.code, 0, `bob's sipp failed:\n${both}`);
    assert.deepEqual(flow(uac.trace), [...CHALLENGED, '< 180', '> CANCEL', '< 200', '< 487', '> ACK'], both);
    assert.deepEqual(flow(bobRun.trace), ['< INVITE', '> 180', '< CANCEL', '> 200', '> 487', '< ACK'], both);

    const [ok] = received(uac.trace, { status: 200 });
    const [terminated] = received(uac.trace, { status: 487 });
    assert.equal(header(ok!, 'CSeq'), '2 CANCEL');
    assert.equal(header(terminated!, 'CSeq'), '2 INVITE');
    // Parley's CANCEL matches the INVITE it forwarded: same branch, its Via only (RFC 3261 §9.1, §16.10)
    const [invite] = received(bobRun.trace, { method: 'INVITE' });
    const [cancel] = received(bobRun.trace, { method: 'CANCEL' });
    assert.equal(vias(cancel!).length, 1, cancel!.text);
    assert.equal(vias(cancel!)[0]!.params.get('branch'), vias(invite!)[0]!.params.get('branch'));
    assert.equal(cancel!.startLine, invite!.startLine.replace(/^INVITE/, 'CANCEL'));
    assert.equal(header(cancel!, 'CSeq'), '2 CANCEL');
  });

  it('bob registered twice: both phones ring, one answers, the other gets CANCEL and answers 487', async () => {
    const first = await registerPhone(parley, BOB);
    const second = await registerPhone(parley, BOB);
    const [ok] = received(second.run.trace, { status: 200 });
    assert.equal(contacts(ok!).length, 2, `bob has two bindings:\n${ok!.text}`);

    // the answering phone rings for 500 ms first, so that the other one has rung too
    const answering = await startUas(parley, first.endpoint, 'uas-answer.xml', { pauseMs: 500 });
    const ringing = await startUas(parley, second.endpoint, 'uas-ring-cancel.xml', { recvTimeoutMs: 8000 });
    const uac = await call(parley, 'call-basic.xml', { caller: ALICE, callee: 'bob' });
    const [answered, cancelled] = await Promise.all([answering.done, ringing.done]);
    const all = describeCall(uac, answered, cancelled);

    assertBasicCall({ parley, uac, uas: answered, callee: first.endpoint, callerTransport: 'udp', calleeTransport: 'udp' });
    assert.equal(cancelled.code, 0, `the phone that did not answer failed:\n${all}`);
    assert.deepEqual(flow(cancelled.trace), ['< INVITE', '> 180', '< CANCEL', '> 200', '> 487', '< ACK'], all);
    // parallel forking: both INVITEs left before either answered, on branches of their own
    const inviteA = received(answered.trace, { method: 'INVITE' })[0]!;
    const inviteB = received(cancelled.trace, { method: 'INVITE' })[0]!;
    assert.notEqual(vias(inviteA)[0]!.params.get('branch'), vias(inviteB)[0]!.params.get('branch'));
    assert.equal(header(inviteA, 'Call-ID'), header(inviteB, 'Call-ID'));
    const [cancel] = received(cancelled.trace, { method: 'CANCEL' });
    assert.equal(vias(cancel!)[0]!.params.get('branch'), vias(inviteB)[0]!.params.get('branch'));
    // alice sees only the answer: one 200 (from the phone that answered), never the 487
    assert.deepEqual(received(uac.trace, { status: 487 }), [], all);
    const oks = received(uac.trace).filter((e) => e.status === 200 && /INVITE$/.test(header(e, 'CSeq') ?? ''));
    assert.equal(oks.length, 1, all);
    assert.equal(tagOf(header(oks[0]!, 'To')), tagOf(header(sent(answered.trace, { status: 200 })[0]!, 'To')));
  });

  it('bob with no binding: alice gets 480 Temporarily Unavailable', async () => {
    const uac = await call(parley, 'call-unavailable.xml', { caller: ALICE, callee: 'bob' });
    assert.equal(uac.code, 0, `alice's sipp failed:\n${uac.describe()}`);
    assert.deepEqual(flow(uac.trace), [...CHALLENGED, '< 480', '> ACK'], uac.describe());
  });

  it('a callee the domain does not have: alice gets 404 Not Found', async () => {
    const uac = await call(parley, 'call-unknown.xml', { caller: ALICE, callee: 'nobody' });
    assert.equal(uac.code, 0, `alice's sipp failed:\n${uac.describe()}`);
    assert.deepEqual(flow(uac.trace), [...CHALLENGED, '< 404', '> ACK'], uac.describe());
  });

  it('Parley logged no error and is still running', () => {
    assert.equal(parley.alive, true);
    assert.deepEqual(parley.logs.filter((l) => (l.level ?? 0) >= 50), []);
  });
});
