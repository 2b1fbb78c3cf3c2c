// Reload under load: sipp places calls at a steady rate through Parley while its routing script
// is replaced ten times — alternating between version A (calls go to sipp UAS A) and version B
// (to UAS B) — and once with a broken version, each time with `parley reload`. What must hold:
// no call fails; each call is routed by the version active when it started (its INVITE went to
// the UAS of that version, and the version number Parley wrote into it lies between the versions
// active just before and just after); each call's responses were handled by the same version that
// routed its INVITE, also when a reload happened while it rang (transactions finish on the version
// they started with); the broken version is refused with its file:line and logged, and the running
// version keeps serving. Run with one SIP core and with the default (one per CPU core).
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { workerOf } from '../../src/sip-server/workers/call-id-hash.js';
import { signalPid } from './support/child.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { header, received, sent, type SippTraceEntry } from './support/sip-trace.js';
import { reserveEndpoint, skipWithoutSipp, startSipp, type SippEndpoint } from './support/sipp.js';

const pool = portPool(import.meta.url);
const RATE = 20; // calls per second
const CALLS = 240; // 12 s of calls
const RING_MS = 300; // the UAS rings this long before answering: reloads land while INVITEs are pending
const GOOD_RELOADS = 10;
const BROKEN_AT = 5; // the broken version comes after this many good reloads
const RELOAD_GAP_MS = 700;

/** A routing script version that sends every call to `target` and stamps its version on the INVITE and the responses. */
function versionText(label: 'A' | 'B', target: string): string {
  return `import type { ReplyContext, RequestContext } from 'parley/routing';

const TARGET = '${target}';

export function onRequest(ctx: RequestContext): void {
  if (!ctx.sanityCheck()) return;
  if (ctx.method === 'CANCEL') return ctx.relay();
  ctx.looseRoute();
  ctx.addHeader('X-Routed-By', ctx.version + ' ${label}');
  if (ctx.method === 'INVITE') ctx.recordRoute();
  ctx.relay(TARGET);
}

export function onResponse(ctx: ReplyContext): void {
  ctx.addHeader('X-Reply-By', String(ctx.version));
}
`;
}

/** The broken version: a syntax error on line 5, column 24. */
const BROKEN = `import type { RequestContext } from 'parley/routing';

export function onRequest(ctx: RequestContext): void {
  if (!ctx.sanityCheck()) return;
  ctx.relay('sip:x@127.0.0.1' +);
}
`;

/** sipp's trace time ("2026-11-23 10:00:00.123456", local time) in ms since the epoch. */
function traceTime(e: SippTraceEntry): number {
  const m = /(\d{4})-(\d\d)-(\d\d)\s+(\d\d):(\d\d):(\d\d)(?:\.(\d+))?/.exec(e.time);
  if (m === null) throw new Error(`cannot read sipp's trace time "${e.time}"`);
  const ms = Number(((m[7] ?? '0') + '000').slice(0, 3));
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms).getTime();
}

interface Reload {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly broken: boolean;
  /** The version it made active (good reloads). */
  readonly version?: number;
  readonly label?: 'A' | 'B';
}

function reloadUnderLoad(workers: number | undefined): void {
  const name = workers === undefined ? 'the default worker threads (one per CPU core)' : workers === 0 ? 'no worker threads (the SIP core in the main thread)' : `${workers} worker thread${workers === 1 ? '' : 's'}`;
  describe(`routing script reloaded under load, ${name}`, { skip: skipWithoutSipp(), timeout: 180_000 }, () => {
    let parley: ParleyServer;
    let dir: string;
    let script: string;
    let uasA: SippEndpoint;
    let uasB: SippEndpoint;

    const install = async (text: string): Promise<void> => {
      await writeFile(`${script}.tmp`, text);
      await rename(`${script}.tmp`, script);
    };

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'parley-reload-'));
      script = join(dir, 'routes.ts');
      uasA = await reserveEndpoint(pool);
      uasB = await reserveEndpoint(pool);
      await install(versionText('A', `sip:service@127.0.0.1:${uasA.port}`));
      parley = await ParleyServer.start({
        pool, transports: ['udp'], script, config: { routing: { watch: false } },
        ...(workers === undefined ? {} : { workers }),
      });
      assert.equal(parley.readyLine?.script, 1);
    });

    after(async () => {
      await stopCleanly(parley);
      await rm(dir, { recursive: true, force: true });
    });

    it(`${CALLS} calls at ${RATE}/s, ${GOOD_RELOADS} reloads A/B and one broken: no call fails, each is routed and answered by the version active when it started`, async (t) => {
      const a = await startSipp({ ...parley.sippTarget(), scenario: 'uas-answer.xml', endpoint: uasA, calls: CALLS, pauseMs: RING_MS, timeoutSecs: 90, recvTimeoutMs: 10_000 });
      const b = await startSipp({ ...parley.sippTarget(), scenario: 'uas-answer.xml', endpoint: uasB, calls: CALLS, pauseMs: RING_MS, timeoutSecs: 90, recvTimeoutMs: 10_000 });
      const uac = await startSipp(
        { ...parley.sippTarget(), scenario: 'call-noauth.xml', calls: CALLS, rate: RATE, service: 'service', pauseMs: 100, timeoutSecs: 60, recvTimeoutMs: 5000, callId: 'reload-%u@interop' },
        false,
      );

      // the reloads, while the calls go on
      const reloads: Reload[] = [];
      let label: 'A' | 'B' = 'A';
      await new Promise((r) => setTimeout(r, 1000));
      for (let i = 0; i < GOOD_RELOADS + 1; i++) {
        const broken = i === BROKEN_AT;
        if (!broken) label = label === 'A' ? 'B' : 'A';
        await install(broken ? BROKEN : versionText(label, `sip:service@127.0.0.1:${(label === 'A' ? uasA : uasB).port}`));
        const startedAt = Date.now();
        const r = await parley.cli(['reload']);
        const endedAt = Date.now();
        const version = /version (\d+) active/.exec(r.stdout)?.[1];
        reloads.push({ startedAt, endedAt, ...r, broken, ...(broken ? {} : { label, ...(version === undefined ? {} : { version: Number(version) }) }) });
        await new Promise((res) => setTimeout(res, RELOAD_GAP_MS));
      }

      const caller = await uac.done;
      // the UASes have answered every call they got: end them (sipp's soft quit on SIGUSR1)
      signalPid(a.pid, 'SIGUSR1');
      signalPid(b.pid, 'SIGUSR1');
      const [runA, runB] = await Promise.all([a.done, b.done]);
      const all = [caller, runA, runB].map((r) => r.describe().slice(0, 3000)).join('\n---\n');

      // every good reload made a new version, in order; the broken one was refused with its place
      const good = reloads.filter((r) => !r.broken);
      assert.deepEqual(good.map((r) => [r.code, r.version]), good.map((_, i) => [0, i + 2]), reloads.map((r) => `${r.code} ${r.stdout}${r.stderr}`).join('\n'));
      const bad = reloads.find((r) => r.broken)!;
      assert.equal(bad.code, 1, `the broken version was not refused:\n${bad.stdout}${bad.stderr}`);
      assert.ok(bad.stderr.includes(`${script}:5:`), `the refusal names the file and line:\n${bad.stderr}`);
      assert.match(bad.stderr, new RegExp(`version ${BROKEN_AT + 1} keeps serving`));
      const refusals = parley.logs.filter((l) => l.msg === 'routing script refused; the running version keeps serving');
      assert.equal(refusals.length, 1, 'the refusal is logged once');
      assert.equal((refusals[0]!.location as { line?: number } | undefined)?.line, 5);
      assert.deepEqual(parley.logs.filter((l) => (l.level ?? 0) >= 50).filter((l) => l !== refusals[0]), [], 'no other error was logged');

      // zero failed calls
      assert.equal(caller.code, 0, `calls failed:\n${all}`);
      const invitesSent = sent(caller.trace, { method: 'INVITE' });
      const callIds = new Set(invitesSent.map((e) => header(e, 'Call-ID')));
      assert.equal(callIds.size, CALLS);
      const oks = received(caller.trace, { status: 200 }).filter((e) => /INVITE$/.test(header(e, 'CSeq') ?? ''));
      assert.equal(new Set(oks.map((e) => header(e, 'Call-ID'))).size, CALLS, 'every call was answered');

      // which version routed each call, and where it went
      const versionLabel = new Map<number, 'A' | 'B'>([[1, 'A'], ...good.map((r) => [r.version!, r.label!] as [number, 'A' | 'B'])]);
      const routedBy = new Map<string, number>();
      for (const [uas, want] of [[runA, 'A'], [runB, 'B']] as const) {
        for (const invite of received(uas.trace, { method: 'INVITE' })) {
          const [v, l] = (header(invite, 'X-Routed-By') ?? '').split(' ');
          assert.equal(l, want, `UAS ${want} got an INVITE routed by version ${v} (${l})`);
          assert.equal(versionLabel.get(Number(v)), want, `version ${v} routes to ${versionLabel.get(Number(v))}, not ${want}`);
          routedBy.set(header(invite, 'Call-ID')!, Number(v));
        }
      }
      assert.equal(routedBy.size, CALLS, 'every call reached a UAS once');

      // routed by the version active when the call started: not older than a reload that had
      // finished before its INVITE left, not newer than one that had not started yet
      const firstInvite = new Map<string, number>();
      for (const e of invitesSent) if (!firstInvite.has(header(e, 'Call-ID')!)) firstInvite.set(header(e, 'Call-ID')!, traceTime(e));
      const wrong: string[] = [];
      for (const [callId, t] of firstInvite) {
        const lower = Math.max(1, ...good.filter((r) => r.endedAt < t).map((r) => r.version!));
        const upper = Math.min(Number.MAX_SAFE_INTEGER, ...good.filter((r) => r.startedAt > t).map((r) => r.version! - 1));
        const v = routedBy.get(callId)!;
        if (v < lower || v > upper) wrong.push(`${callId}: version ${v}, expected ${lower}..${upper}`);
      }
      assert.deepEqual(wrong, []);

      // answered on the version that routed it, also across a reload while it rang
      let straddling = 0;
      for (const ok of oks) {
        const callId = header(ok, 'Call-ID')!;
        assert.equal(Number(header(ok, 'X-Reply-By')), routedBy.get(callId), `call ${callId}: routed by ${routedBy.get(callId)}, its 200 handled by ${header(ok, 'X-Reply-By')}`);
        // routed by an older version than one made active before its 200 came: a reload happened while it rang
        const t1 = traceTime(ok);
        if (good.some((r) => r.version! > routedBy.get(callId)! && r.endedAt < t1)) straddling++;
      }
      assert.ok(straddling > 0, 'no call rang while a reload happened: the test did not exercise in-flight transactions');

      // both versions carried calls; with several cores, calls reached each of them
      assert.ok(received(runA.trace, { method: 'INVITE' }).length > 0 && received(runB.trace, { method: 'INVITE' }).length > 0, all);
      const cores = Number(parley.readyLine?.workers ?? 1);
      if (cores > 1) {
        const used = new Set([...callIds].map((id) => workerOf(new TextEncoder().encode(`X\r\nCall-ID: ${id}\r\n\r\n`), cores)));
        assert.equal(used.size, cores, 'the calls did not reach every SIP core');
      }
      const times = good.map((r) => r.endedAt - r.startedAt);
      t.diagnostic(`${name}: reload round trips (parley reload, incl. node start) ${Math.min(...times)}-${Math.max(...times)} ms; ${straddling} calls rang through a reload`);
    });
  });
}

reloadUnderLoad(0);
reloadUnderLoad(undefined);
