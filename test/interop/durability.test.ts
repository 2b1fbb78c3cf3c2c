// Nothing acknowledged is lost (issue 14): sipp registers a few thousand distinct users with
// digest authentication at a few hundred a second; Parley is killed with SIGKILL in the middle of
// the load, then started again on the same data directory; every registration sipp saw answered
// 200 (read from its message trace) must be there, as a query REGISTER (no Contact) to the new
// process shows. With and without SIP worker threads (the binding writer thread, or the main
// thread writing SQLite itself). With the former 50 ms write-behind, the registrations answered in
// the last 0-50 ms before the kill were gone.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import { signalPid } from './support/child.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { contacts, header, received, type SippTraceEntry } from './support/sip-trace.js';
import { runSipp, skipWithoutSipp, startSipp, type SippResult } from './support/sipp.js';
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
 * Register every user (reg-register.xml, one call each) while Parley is killed with SIGKILL
 * `killAfterMs` into the run; returns sipp's run and the contact of each registration answered 200.
 */
async function registerUnderKill(parley: ParleyServer, killAfterMs: number): Promise<{ run: SippResult; acknowledged: Map<string, string> }> {
  const sipp = await startSipp(
    {
      ...parley.sippTarget('udp'),
      scenario: 'reg-register.xml',
      calls: USERS,
      rate: RATE,
      credentials: users,
      timeoutSecs: 40,
      recvTimeoutMs: 2000,
      keys: { expires: '3600' },
    },
    false,
  );
  await new Promise((r) => setTimeout(r, killAfterMs));
  const pid = parley.pid;
  assert.ok(pid !== undefined && parley.alive, 'Parley runs');
  signalPid(pid, 'SIGKILL');
  const run = await sipp.done;
  const acknowledged = new Map<string, string>();
  for (const ok of received(run.trace, { status: 200 })) {
    const user = userOf(ok);
    const bound = contacts(ok);
    assert.equal(bound.length, 1, `the 200 of ${user} lists its one binding:\n${ok.text}`);
    acknowledged.set(user, bound[0]!.uri);
  }
  return { run, acknowledged };
}

/** Query the bindings of `who` (reg-query.xml, one call each); each user's listed contact URIs. */
async function queryAll(parley: ParleyServer, who: readonly Credentials[]): Promise<{ run: SippResult; bound: Map<string, string[]> }> {
  const run = await runSipp({ ...parley.sippTarget('udp'), scenario: 'reg-query.xml', calls: who.length, rate: 300, credentials: who, timeoutSecs: 60, recvTimeoutMs: 5000 });
  const bound = new Map<string, string[]>();
  for (const ok of received(run.trace, { status: 200 })) bound.set(userOf(ok), contacts(ok).map((c) => c.uri));
  return { run, bound };
}

function killTest(workers: number): (t: TestContext) => Promise<void> {
  let parley: ParleyServer | undefined;
  after(() => stopCleanly(parley));
  return async (t) => {
    parley = await ParleyServer.start({ pool, transports: ['udp'], workers, subscribers: users, readyTimeoutMs: 30_000 });
    // somewhere in the middle of the load (it lasts USERS / RATE = 5 s)
    const killAfterMs = 1500 + Math.floor(Math.random() * 2000);
    const { run, acknowledged } = await registerUnderKill(parley, killAfterMs);
    assert.ok(acknowledged.size >= 100, `sipp saw only ${acknowledged.size} registrations answered 200 before the kill:\n${run.describe().slice(0, 3000)}`);
    assert.ok(acknowledged.size < USERS, `the kill (${killAfterMs} ms in) came after the whole load: every one of ${USERS} was answered`);

    // a new process on the same ports and data directory (the old one is gone: nothing to stop)
    await parley.restart();
    const asked = [...acknowledged.keys()].map((u) => byName.get(u)!);
    const { run: query, bound } = await queryAll(parley, asked);
    const unanswered = asked.filter((u) => !bound.has(u.user)).map((u) => u.user);
    assert.deepEqual(unanswered, [], `queries not answered 200:\n${query.describe().slice(0, 3000)}`);
    const lost = [...acknowledged].filter(([user, contact]) => !(bound.get(user) ?? []).includes(contact)).map(([user]) => user);
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
