// Nothing acknowledged is lost (issue 14): sipp registers a few thousand distinct users with
// digest authentication at a few hundred a second; Parley is killed with SIGKILL in the middle of
// the load, then started again on the same data directory; every registration sipp saw answered
// 200 (read from its message trace) must be there, as a query REGISTER (no Contact) to the new
// process shows; likewise no removal (Expires: 0) answered 200 may come back. With and without SIP
// worker threads (the binding writer thread, or the main thread writing SQLite itself). With the
// former 50 ms write-behind, the registrations answered in the last 0-50 ms before the kill were
// gone.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import { signalPid } from './support/child.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { contacts, header, received, type SippTraceEntry } from './support/sip-trace.js';
import { reserveEndpoint, runSipp, skipWithoutSipp, startSipp, type SippEndpoint, type SippResult } from './support/sipp.js';
import type { Credentials } from './support/subscribers.js';

const pool = portPool(import.meta.url);

/** Distinct users, each registered once; the rate keeps the run a few seconds long. */
const USERS = 2000;
const RATE = 400;

const users: Credentials[] = Array.from({ length: USERS }, (_, i) => ({ user: `dur${String(i).padStart(4, '0')}`, password: `pw${i}x` }));
const byName = new Map(users.map((u) => [u.user, u]));

/** The user of a traced message's To header (`<sip:USER@host>`). */
function userOf(entry: SippTraceEntry): string {
  const to = header(entry, 'To') ?? '';
  const m = /sip:([^@>;]+)@/.exec(to);
  assert.ok(m, `no user in To: ${to}`);
  return m[1]!;
}

/**
 * Register every user (reg-register.xml, one call each; `expires` 0: remove the contact) from one
 * sipp endpoint; with `killAfterMs`, Parley is killed with SIGKILL that long into the run.
 * Returns sipp's run and the Contact values of each 200.
 */
async function registerAll(parley: ParleyServer, endpoint: SippEndpoint, expires: number, killAfterMs?: number): Promise<{ run: SippResult; acknowledged: Map<string, string[]> }> {
  const sipp = await startSipp(
    {
      ...parley.sippTarget('udp'),
      scenario: 'reg-register.xml',
      endpoint,
      calls: USERS,
      rate: RATE,
      credentials: users,
      timeoutSecs: 40,
      recvTimeoutMs: 2000,
      keys: { expires: String(expires) },
    },
    false,
  );
  if (killAfterMs !== undefined) {
    await new Promise((r) => setTimeout(r, killAfterMs));
    const pid = parley.pid;
    assert.ok(pid !== undefined && parley.alive, 'Parley runs');
    signalPid(pid, 'SIGKILL');
  }
  const run = await sipp.done;
  const acknowledged = new Map<string, string[]>();
  for (const ok of received(run.trace, { status: 200 })) acknowledged.set(userOf(ok), contacts(ok).map((c) => c.uri));
  return { run, acknowledged };
}

/** Query the bindings of `who` (reg-query.xml, one call each); each user's listed contact URIs. */
async function queryAll(parley: ParleyServer, who: readonly Credentials[]): Promise<{ run: SippResult; bound: Map<string, string[]> }> {
  const run = await runSipp({ ...parley.sippTarget('udp'), scenario: 'reg-query.xml', calls: who.length, rate: 300, credentials: who, timeoutSecs: 60, recvTimeoutMs: 5000 });
  const bound = new Map<string, string[]>();
  for (const ok of received(run.trace, { status: 200 })) bound.set(userOf(ok), contacts(ok).map((c) => c.uri));
  return { run, bound };
}

/** Somewhere in the middle of the load (it lasts USERS / RATE = 5 s). */
const killMoment = (): number => 1500 + Math.floor(Math.random() * 2000);

function killTest(workers: number): (t: TestContext) => Promise<void> {
  let parley: ParleyServer | undefined;
  after(() => stopCleanly(parley));
  return async (t) => {
    parley = await ParleyServer.start({ pool, transports: ['udp'], workers, subscribers: users, readyTimeoutMs: 30_000 });
    const killAfterMs = killMoment();
    const { run, acknowledged } = await registerAll(parley, await reserveEndpoint(pool), 3600, killAfterMs);
    assert.ok(acknowledged.size >= 100, `sipp saw only ${acknowledged.size} registrations answered 200 before the kill:\n${run.describe().slice(0, 3000)}`);
    assert.ok(acknowledged.size < USERS, `the kill (${killAfterMs} ms in) came after the whole load: every one of ${USERS} was answered`);
    for (const [user, bound] of acknowledged) assert.equal(bound.length, 1, `the 200 of ${user} lists its one binding: ${bound.join(', ')}`);

    // a new process on the same ports and data directory (the old one is gone: nothing to stop)
    await parley.restart();
    const asked = [...acknowledged.keys()].map((u) => byName.get(u)!);
    const { run: query, bound } = await queryAll(parley, asked);
    const unanswered = asked.filter((u) => !bound.has(u.user)).map((u) => u.user);
    assert.deepEqual(unanswered, [], `queries not answered 200:\n${query.describe().slice(0, 3000)}`);
    const lost = [...acknowledged].filter(([user, [contact]]) => !(bound.get(user) ?? []).includes(contact!)).map(([user]) => user);
    assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.size} registrations answered 200 were gone after kill -9 (${killAfterMs} ms into the load) and restart`);
    t.diagnostic(`killed ${killAfterMs} ms into the load: ${acknowledged.size} of ${USERS} registrations answered 200, all found after the restart`);
    const restored = Number(parley.readyLine?.restoredBindings);
    assert.ok(restored >= acknowledged.size, `restoredBindings ${restored} < ${acknowledged.size} registrations answered 200`);
  };
}

describe('kill -9 under REGISTER load loses no acknowledged registration', { skip: skipWithoutSipp(), timeout: 180_000 }, () => {
  it('with two SIP worker threads (the binding writer thread commits)', killTest(2));
  it('without worker threads (sip.workers 0: the main thread commits)', killTest(0));
});

describe('kill -9 under un-REGISTER load brings no acknowledged removal back', { skip: skipWithoutSipp(), timeout: 180_000 }, () => {
  let parley: ParleyServer | undefined;
  after(() => stopCleanly(parley));

  it('every user registered, then removed (Expires: 0) under load with a kill -9: a removal answered 200 stays removed after the restart (two SIP workers)', async (t) => {
    parley = await ParleyServer.start({ pool, transports: ['udp'], workers: 2, subscribers: users, readyTimeoutMs: 30_000 });
    const phone = await reserveEndpoint(pool);
    const first = await registerAll(parley, phone, 3600);
    assert.equal(first.acknowledged.size, USERS, `every user registered:\n${first.run.describe().slice(0, 3000)}`);
    const killAfterMs = killMoment();
    const { run, acknowledged: removed } = await registerAll(parley, phone, 0, killAfterMs);
    assert.ok(removed.size >= 100 && removed.size < USERS, `${removed.size} removals answered 200 with the kill ${killAfterMs} ms in:\n${run.describe().slice(0, 3000)}`);
    for (const [user, bound] of removed) assert.deepEqual(bound, [], `the 200 of ${user}'s removal lists no binding`);

    await parley.restart();
    const asked = [...removed.keys()].map((u) => byName.get(u)!);
    const { run: query, bound } = await queryAll(parley, asked);
    const unanswered = asked.filter((u) => !bound.has(u.user)).map((u) => u.user);
    assert.deepEqual(unanswered, [], `queries not answered 200:\n${query.describe().slice(0, 3000)}`);
    const back = [...bound].filter(([, contacts]) => contacts.length > 0).map(([user]) => user);
    assert.deepEqual(back, [], `${back.length} of ${removed.size} removals answered 200 were undone by kill -9 (${killAfterMs} ms into the load) and restart`);
    t.diagnostic(`killed ${killAfterMs} ms into the removals: ${removed.size} of ${USERS} answered 200, none came back`);
  });
});
