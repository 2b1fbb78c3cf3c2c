// ServeSignals with a stand-in server (a stop that ends when the test says) and a recorded exit:
// which signal stops, reloads, forces the exit or is ignored, and the bound of a stop. The real
// signals, terminals and processes are in test/interop/packaging.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import type { RunningServer } from '../app/run-server.js';
import { ServeSignals, type ServeSignalsOptions } from './serve-signals.js';

interface Fake {
  readonly server: RunningServer;
  readonly lines: Array<Record<string, unknown>>;
  readonly reloads: string[];
  stops: number;
  /** Ends the stop (resolves its promise). */
  finishStop(): void;
}

function fakeServer(): Fake {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const log = pino({ level: 'info' }, sink);
  let finish: () => void = () => {};
  const fake: Fake = {
    lines,
    reloads: [],
    stops: 0,
    finishStop: () => finish(),
    server: {
      log,
      reloadConfig: async (trigger?: string) => {
        fake.reloads.push(`config ${trigger ?? 'command'}`);
        return { ok: true, file: undefined, applied: [], restart: [] };
      },
      reload: async (trigger?: string) => {
        fake.reloads.push(trigger ?? 'command');
        return { ok: true };
      },
      stop: () => {
        fake.stops++;
        return new Promise<void>((res) => (finish = res));
      },
    } as unknown as RunningServer,
  };
  return fake;
}

function signals(o: Partial<ServeSignalsOptions> = {}): { s: ServeSignals; exits: number[]; exited: Promise<number>; reports: string[] } {
  const exits: number[] = [];
  const reports: string[] = [];
  let resolve: (code: number) => void = () => {};
  const exited = new Promise<number>((res) => (resolve = res));
  const s = new ServeSignals({
    foreground: false,
    exit: (code) => {
      exits.push(code);
      resolve(code);
    },
    report: (l) => reports.push(l),
    ...o,
  });
  return { s, exits, exited, reports };
}

describe('parley serve: what each signal does', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal}: the stop, logged, then exit 0`, async () => {
      const f = fakeServer();
      const { s, exited } = signals();
      s.started(f.server);
      s.handle(signal);
      assert.equal(f.stops, 1);
      f.finishStop();
      assert.equal(await exited, 0);
      assert.ok(f.lines.some((l) => l.msg === 'shutting down' && l.signal === signal && l.action === 'stop'));
    });
  }

  it('a second SIGINT/SIGTERM during the stop exits at once with 1, logged', async () => {
    const f = fakeServer();
    const { s, exited } = signals();
    s.started(f.server);
    s.handle('SIGTERM');
    s.handle('SIGINT');
    assert.equal(await exited, 1);
    assert.equal(f.stops, 1);
    assert.ok(f.lines.some((l) => l.signal === 'SIGINT' && l.action === 'exit' && l.stopStartedBy === 'SIGTERM'));
  });

  it('a stop that does not finish within the bound exits with 1, logged', async () => {
    const f = fakeServer();
    const { s, exited } = signals({ stopBoundMs: 50 });
    s.started(f.server);
    s.handle('SIGTERM');
    assert.equal(await exited, 1);
    assert.ok(f.lines.some((l) => l.action === 'exit' && l.boundMs === 50));
  });

  it('SIGHUP reloads a daemon (no terminal): the configuration, then the routing script, logged; it does not stop it', async () => {
    const f = fakeServer();
    const { s, exits } = signals({ foreground: false, terminalPresent: () => false });
    s.started(f.server);
    s.handle('SIGHUP');
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(f.reloads, ['config signal', 'signal']);
    assert.equal(f.stops, 0);
    assert.deepEqual(exits, []);
    assert.ok(f.lines.some((l) => l.signal === 'SIGHUP' && l.action === 'reload'));
  });

  it('SIGHUP reloads a foreground server whose terminal is still there (kill -HUP)', async () => {
    const f = fakeServer();
    const { s } = signals({ foreground: true, terminalPresent: () => true });
    s.started(f.server);
    s.handle('SIGHUP');
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(f.reloads, ['config signal', 'signal']);
    assert.equal(f.stops, 0);
  });

  it('SIGHUP stops a foreground server whose terminal closed; more SIGHUPs do not force the exit', async () => {
    const f = fakeServer();
    const { s, exited, exits } = signals({ foreground: true, terminalPresent: () => false });
    s.started(f.server);
    s.handle('SIGHUP');
    s.handle('SIGHUP');
    assert.deepEqual(f.reloads, []);
    assert.equal(f.stops, 1);
    assert.deepEqual(exits, []);
    assert.ok(f.lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGHUP' && l.reason === 'the terminal closed'));
    assert.ok(f.lines.some((l) => l.signal === 'SIGHUP' && l.action === 'none'));
    f.finishStop();
    assert.equal(await exited, 0);
  });

  it('a signal during the start stops the server once it is up; a second one exits at once', async () => {
    const f = fakeServer();
    const { s, exited } = signals();
    s.handle('SIGTERM');
    assert.equal(s.stopRequested, true);
    s.started(f.server);
    assert.equal(f.stops, 1);
    f.finishStop();
    assert.equal(await exited, 0);

    const again = signals();
    again.s.handle('SIGINT');
    again.s.handle('SIGINT');
    assert.deepEqual(again.exits, [1]);
  });

  it('SIGHUP during the start of a daemon is ignored (the script is read as it starts)', () => {
    const { s, reports } = signals();
    s.handle('SIGHUP');
    assert.equal(s.stopRequested, false);
    assert.match(reports.join('\n'), /SIGHUP while starting/);
  });
});
