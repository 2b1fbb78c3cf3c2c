// No user enumeration by callers from other domains (issue 14): a request for sip:USER@our-domain
// with a From in another domain is not challenged, so its answer must not tell a user who exists
// (and is offline) from one who does not — 480 for both — and probes for users who do not exist
// count as failures of their source in the failure limiter, so that a scanner walking through
// names (sipvicious svwar) is blocked as a password guesser is. sipp plays the scanner.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { register } from './support/registration.js';
import { headerFields, received, type SippTraceEntry } from './support/sip-trace.js';
import { runSipp, SCENARIOS, skipWithoutSipp, type SippResult } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret-a1' };
const pool = portPool(import.meta.url);
/** auth.failureLimit.maxFailures, Parley's default. */
const MAX_FAILURES = 10;

/** probe.xml with its METHOD (sipp takes no keyword there), written once per method. */
async function probeScenario(method: string): Promise<string> {
  if (method === 'INVITE') return 'probe-invite.xml';
  const dir = await mkdtemp(join(tmpdir(), 'parley-probe-'));
  const file = join(dir, `probe-${method.toLowerCase()}.xml`);
  await writeFile(file, (await readFile(join(SCENARIOS, 'probe.xml'), 'latin1')).replace(/\bMETHOD\b/g, method), 'latin1');
  scenarioDirs.push(dir);
  return file;
}
const scenarioDirs: string[] = [];

/** Probe `users` (one sipp call each, in order) with `method`, from a From in another domain. */
async function probe(parley: ParleyServer, method: string, users: readonly string[], rate?: number): Promise<SippResult> {
  return runSipp({
    ...parley.sippTarget('udp'),
    scenario: await probeScenario(method),
    calls: users.length,
    timeoutSecs: 30,
    recvTimeoutMs: 5000,
    credentials: users.map((user) => ({ user, password: 'unused' })),
    ...(rate === undefined ? {} : { rate }),
  });
}

/** The final responses a run received, in order. */
function finals(run: SippResult): SippTraceEntry[] {
  return received(run.trace).filter((e) => e.status !== undefined && e.status >= 200);
}

/** A response as a scanner compares them: status line and header names (values that vary per request left out). */
function shape(e: SippTraceEntry): string {
  return [e.startLine, ...headerFields(e).map(([name]) => name)].join(' | ');
}

describe('user enumeration by unauthenticated callers', { skip: skipWithoutSipp(), timeout: 120_000 }, () => {
  const servers: ParleyServer[] = [];
  after(async () => {
    for (const s of servers) await stopCleanly(s);
    for (const d of scenarioDirs) await rm(d, { recursive: true, force: true });
  });

  it('a user who exists (offline) and one who does not get the same answer: 480 to INVITE, OPTIONS and MESSAGE', async () => {
    const parley = await ParleyServer.start({ pool, transports: ['udp'], subscribers: [ALICE], logLevel: 'debug' });
    servers.push(parley);
    for (const method of ['INVITE', 'OPTIONS', 'MESSAGE']) {
      const run = await probe(parley, method, ['alice', 'nosuchuser']);
      assert.equal(run.code, 0, run.describe());
      const [known, unknown] = finals(run);
      assert.ok(known !== undefined && unknown !== undefined, run.describe());
      assert.equal(known.status, 480, `${method} for alice (exists, no binding):\n${known.text}`);
      assert.equal(shape(unknown), shape(known), `${method}: the answers for alice and for nobody differ:\n${known.text}\n---\n${unknown.text}`);
    }
    // a handful of probes stays under the limit: alice can still register from here
    const reg = await register(parley, ALICE);
    assert.equal(reg.code, 0, reg.describe());
  });

  it('a burst of probes for users who do not exist blocks the source, as wrong passwords do: 403 for any user, and for a REGISTER with the right password', async () => {
    const parley = await ParleyServer.start({ pool, transports: ['udp'], subscribers: [ALICE], logLevel: 'debug' });
    servers.push(parley);
    const users = Array.from({ length: MAX_FAILURES + 6 }, (_, i) => `ghost${100 + i}`);
    const run = await probe(parley, 'OPTIONS', users, 20);
    assert.equal(run.code, 0, run.describe());
    const statuses = finals(run).map((e) => e.status);
    assert.equal(statuses.length, users.length, run.describe());
    const firstBlocked = statuses.indexOf(403);
    assert.ok(firstBlocked >= 0, `never blocked: ${statuses.join(' ')}`);
    // blocked only once the limit is reached, and from then on
    assert.ok(firstBlocked >= MAX_FAILURES, `blocked too early: ${statuses.join(' ')}`);
    assert.deepEqual(statuses.slice(0, firstBlocked), Array(firstBlocked).fill(480), statuses.join(' '));
    assert.deepEqual(statuses.slice(firstBlocked), Array(statuses.length - firstBlocked).fill(403), statuses.join(' '));
    assert.ok(parley.logs.some((l) => /source blocked/.test(String(l.msg))), 'the block is logged');

    // the block holds for users who exist, for calls, and for the registrar (the password is right)
    const known = await probe(parley, 'INVITE', ['alice']);
    assert.deepEqual(finals(known).map((e) => e.status), [403], known.describe());
    const reg = await register(parley, ALICE);
    assert.notEqual(reg.code, 0);
    assert.deepEqual(finals(reg).map((e) => e.status), [403], reg.describe());
  });

  it('Parley logged no error', () => {
    for (const s of servers) {
      assert.equal(s.alive, true);
      assert.deepEqual(s.logs.filter((l) => (l.level ?? 0) >= 50), []);
    }
  });
});
