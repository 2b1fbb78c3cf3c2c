// Registrations survive a restart (bindings are written through to SQLite in the data
// directory): bob registers from a sipp phone, Parley is stopped with SIGTERM and started again
// on the same ports and data directory, and alice's call still reaches bob's phone.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { assertBasicCall, call, registerPhone, startUas } from './support/calls.js';
import { signalPid } from './support/child.js';
import { assertCleanExit, PARLEY_CLI, ParleyServer, REPO_ROOT, stopCleanly } from './support/parley.js';
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

describe('a signal while Parley starts', { timeout: 60_000 }, () => {
  it('SIGTERM as soon as its first listener opens (before "Parley is ready"): it finishes starting, then stops cleanly (exit 0)', async () => {
    const port = await pool.block(1);
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-interop-'));
    try {
      // two workers: the longest start (threads, the binding writer) after the listener opens
      const child = spawn(process.execPath, [PARLEY_CLI, 'serve', '--listen', `udp:127.0.0.1:${port}`, '--data-dir', dataDir, '--workers', '2'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      const watchdog = setTimeout(() => signalPid(child.pid!, 'SIGKILL'), 30_000);
      const lines: Array<{ msg?: string; level?: number }> = [];
      let signalled = false;
      createInterface({ input: child.stdout }).on('line', (line) => {
        try {
          lines.push(JSON.parse(line) as { msg?: string });
        } catch {
          return;
        }
        if (!signalled && /^listening on udp/.test(lines.at(-1)?.msg ?? '')) {
          signalled = true;
          signalPid(child.pid!, 'SIGTERM');
        }
      });
      child.stderr.resume();
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => child.once('exit', (c, s) => res([c, s])));
      clearTimeout(watchdog);
      const msgs = lines.map((l) => l.msg);
      assert.ok(signalled, `no "listening on udp" line:\n${msgs.join('\n')}`);
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, `Parley did not stop cleanly:\n${msgs.join('\n')}`);
      const ready = msgs.indexOf('Parley is ready');
      assert.ok(ready >= 0 && msgs.indexOf('shutting down') > ready && msgs.indexOf('Parley stopped') > ready, `expected ready, shutting down, stopped in that order:\n${msgs.join('\n')}`);
      assert.deepEqual(lines.filter((l) => (l.level ?? 0) >= 50), [], 'errors were logged');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
