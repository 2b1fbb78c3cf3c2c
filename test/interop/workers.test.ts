// Parley with two SIP worker threads (`--workers 2`), against sipp: the main thread keeps the
// sockets and hands each message to the worker its Call-ID hashes to. What must hold whatever
// worker a message lands in: a registration made in one worker routes the calls every
// worker handles (bindings are replicated); a closed TCP connection takes its binding away in
// every worker; failed authentications are counted over all workers. Each check also shows, from
// the Call-IDs sipp used, that both workers really took part.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { workerOf } from '../../src/server/workers/call-id-hash.js';
import { describeCall, registerPhone } from './support/calls.js';
import { spawnBounded } from './support/child.js';
import { assertCleanExit, PARLEY_CLI, ParleyServer, REPO_ROOT, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { clearBindings, registrationRun } from './support/registration.js';
import { header, received, sent, type SippTraceEntry } from './support/sip-trace.js';
import { runSipp, skipWithoutSipp, startSipp } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret1' };
const BOB = { user: 'bob', password: 'secret2' };
const pool = portPool(import.meta.url);
const WORKERS = 2;

/** The workers the Call-IDs of these messages hash to. */
function workersOf(trace: readonly SippTraceEntry[]): Set<number> {
  return new Set(trace.map((e) => workerOf(new TextEncoder().encode(`X\r\nCall-ID: ${header(e, 'Call-ID') ?? ''}\r\n\r\n`), WORKERS)));
}

/** A fresh Call-ID (each registration needs one: sipp starts at CSeq 1) that hashes to worker `w`. */
function callIdIn(w: number, tag: string): string {
  for (let i = 0; ; i++) {
    const id = `cache-${tag}-${i}@interop`;
    if (workerOf(new TextEncoder().encode(`X\r\nCall-ID: ${id}\r\n\r\n`), WORKERS) === w) return id;
  }
}

describe('Parley with two SIP worker threads', { skip: skipWithoutSipp(), timeout: 120_000 }, () => {
  let parley: ParleyServer;

  before(async () => {
    parley = await ParleyServer.start({ pool, logLevel: 'debug', transports: ['udp', 'tcp'], subscribers: [ALICE, BOB], workers: WORKERS });
    assert.equal(parley.readyLine?.workers, WORKERS, 'Parley did not start its workers');
  });

  // each test starts with bob not registered anywhere (Contact: *, Expires: 0)
  beforeEach(async () => {
    if (parley !== undefined) await clearBindings(parley, BOB);
  });

  after(() => stopCleanly(parley));

  it('one registration of bob routes calls whose Call-IDs land in either worker', async () => {
    const CALLS = 8;
    const bob = await registerPhone(parley, BOB);
    const uas = await startSipp({ ...parley.sippTarget(), scenario: 'uas-answer.xml', endpoint: bob.endpoint, calls: CALLS, timeoutSecs: 30, recvTimeoutMs: 5000 });
    const uac = await runSipp({
      ...parley.sippTarget(), scenario: 'call-basic.xml', calls: CALLS, rate: 20, timeoutSecs: 30, recvTimeoutMs: 5000,
      credentials: [ALICE], service: 'bob', pauseMs: 100, callId: 'route-%u@interop',
    });
    const bobRun = await uas.done;
    const both = describeCall(uac, bobRun);
    assert.equal(uac.code, 0, `alice's calls failed:\n${both}`);
    assert.equal(bobRun.code, 0, `bob's sipp failed:\n${both}`);
    const invites = received(bobRun.trace, { method: 'INVITE' });
    assert.equal(new Set(invites.map((e) => header(e, 'Call-ID'))).size, CALLS, both);
    assert.deepEqual([...workersOf(sent(uac.trace, { method: 'INVITE' }))].sort(), [0, 1], 'the calls did not reach both workers');
  });

  it('a binding over TCP goes from every worker when its connection closes: calls in either worker get 480', async () => {
    const CALLS = 6;
    // sipp registers over its own TCP connection and closes it when it exits
    const bob = await registerPhone(parley, BOB, 'tcp');
    assert.ok(bob.run.code === 0);
    // the close reaches both workers before the calls start (the calls below go over UDP)
    await new Promise((r) => setTimeout(r, 300));
    const uac = await runSipp({
      ...parley.sippTarget(), scenario: 'call-unavailable.xml', calls: CALLS, rate: 20, timeoutSecs: 30, recvTimeoutMs: 5000,
      credentials: [ALICE], service: 'bob', callId: 'closed-%u@interop',
    });
    assert.equal(uac.code, 0, `expected 480 for every call:\n${uac.describe()}`);
    assert.equal(received(uac.trace, { status: 480 }).length, CALLS, uac.describe());
    assert.deepEqual([...workersOf(sent(uac.trace, { method: 'INVITE' }))].sort(), [0, 1], 'the calls did not reach both workers');
  });
});

describe('failed authentications are counted over every worker', { skip: skipWithoutSipp(), timeout: 120_000 }, () => {
  let parley: ParleyServer;

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['udp'], subscribers: [ALICE], workers: WORKERS });
  });

  after(() => stopCleanly(parley));

  it('ten wrong passwords under ten Call-IDs block the source in both workers (default auth.failureLimit.maxFailures: 10)', async () => {
    const guesses = await runSipp({
      ...parley.sippTarget(), scenario: 'reg-wrong-password.xml', calls: 10, rate: 20, timeoutSecs: 30, recvTimeoutMs: 3000,
      credentials: [{ user: 'alice', password: 'not-her-password' }], keys: { expires: '3600' }, callId: 'guess-%u@interop',
    });
    assert.equal(guesses.code, 0, guesses.describe());
    const callIds = sent(guesses.trace, { method: 'REGISTER' });
    assert.deepEqual([...workersOf(callIds)].sort(), [0, 1], 'the guesses did not reach both workers');
    // now the right password, from the same address, under new Call-IDs: refused in either worker
    // (Call-IDs chosen to hash to worker 0 and worker 1; sipp's -cid_str: %u is the call number)
    const refusedIn = new Set<number>();
    for (const callId of ['blocked-a@interop', 'blocked-b@interop']) {
      const run = await registrationRun(parley, 'reg-register.xml', ALICE, { expires: 3600, callId });
      assert.notEqual(run.code, 0, `a blocked source registered:\n${run.describe()}`);
      assert.equal(received(run.trace, { status: 403 }).length, 1, run.describe());
      assert.equal(received(run.trace, { status: 200 }).length, 0, run.describe());
      for (const w of workersOf(sent(run.trace, { method: 'REGISTER' }))) refusedIn.add(w);
    }
    assert.deepEqual([...refusedIn].sort(), [0, 1], 'the block was not seen in both workers');
    assert.ok(parley.logs.some((l) => l.msg === 'auth: too many failed authentications; source blocked'), 'the block was not logged');
  });
});

describe('`parley user` changes count at once in every worker (auth.subscriberCache)', { skip: skipWithoutSipp(), timeout: 120_000 }, () => {
  let parley: ParleyServer;
  const CAROL = { user: 'carol', password: 'first-pw' };
  const registerIn = async (who: { user: string; password: string }, w: number, tag: string) =>
    registrationRun(parley, 'reg-register.xml', who, { expires: 60, callId: callIdIn(w, tag) });
  const parleyUser = async (...args: string[]) => {
    const r = await spawnBounded(process.execPath, [PARLEY_CLI, 'user', ...args, '--data-dir', parley.dataDir], { cwd: REPO_ROOT, timeoutMs: 30_000 }).done;
    assert.equal(r.code, 0, `parley user ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  };

  before(async () => {
    // a cache far longer than the test: only the control socket's message can make it forget
    parley = await ParleyServer.start({ pool, transports: ['udp'], subscribers: [CAROL], workers: WORKERS, config: { auth: { subscriberCache: 3600 } } });
  });

  after(() => stopCleanly(parley));

  it('a new password is required, and a removed user refused, in both workers right after the command', async () => {
    for (const w of [0, 1]) {
      const run = await registerIn(CAROL, w, 'first');
      assert.equal(run.code, 0, `carol could not register in worker ${w} (her subscriber is now cached there):\n${run.describe()}`);
    }
    await parleyUser('passwd', 'carol@127.0.0.1', '--password', 'second-pw');
    for (const w of [0, 1]) {
      const old = await registerIn(CAROL, w, 'old');
      assert.equal(received(old.trace, { status: 200 }).length, 0, `the old password still worked in worker ${w}:\n${old.describe()}`);
      const fresh = await registerIn({ ...CAROL, password: 'second-pw' }, w, 'new');
      assert.equal(fresh.code, 0, `the new password did not work in worker ${w}:\n${fresh.describe()}`);
    }
    await parleyUser('remove', 'carol@127.0.0.1');
    for (const w of [0, 1]) {
      const gone = await registerIn({ ...CAROL, password: 'second-pw' }, w, 'gone');
      assert.equal(received(gone.trace, { status: 200 }).length, 0, `a removed user registered in worker ${w}:\n${gone.describe()}`);
    }
  });
});

describe('one binding writer stores the registrations of every worker', { skip: skipWithoutSipp(), timeout: 120_000 }, () => {
  let parley: ParleyServer;
  const DAVE = { user: 'dave', password: 'pw-dave' };
  const ERIN = { user: 'erin', password: 'pw-erin' };

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['udp'], subscribers: [DAVE, ERIN], workers: WORKERS });
  });

  after(() => stopCleanly(parley));

  it('dave registers in worker 0 and erin in worker 1; after SIGTERM and a new process both bindings are restored', async () => {
    for (const [who, w] of [[DAVE, 0], [ERIN, 1]] as const) {
      const run = await registrationRun(parley, 'reg-register.xml', who, { expires: 600, callId: callIdIn(w, `writer-${who.user}`) });
      assert.equal(run.code, 0, `${who.user} could not register in worker ${w}:\n${run.describe()}`);
    }
    assertCleanExit(parley, await parley.restart());
    assert.equal(parley.readyLine?.restoredBindings, 2, `both bindings should be restored:\n${JSON.stringify(parley.readyLine)}`);
    assert.deepEqual(parley.logs.filter((l) => (l.level ?? 0) >= 50), [], 'errors were logged');
  });
});
