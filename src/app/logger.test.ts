// The stdout logger when its output fails for good (EIO from a closed terminal, here EBADF from a
// descriptor open for reading only): it mutes itself, so that pino's exit hook — a synchronous
// flush that retries a failed write every 100 ms for as long as it fails — returns.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { symbols } from 'pino';
import { flushThenMute, setLogLevel, stdoutLogger } from './logger.js';

async function unwritableFd(): Promise<{ fd: number; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-logger-'));
  const file = join(dir, 'read-only');
  await writeFile(file, '');
  const fd = openSync(file, 'r');
  return {
    fd,
    done: async () => {
      closeSync(fd);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('stdoutLogger: an output that fails for good', () => {
  it('a failed write mutes the stream: lines of the logger and its children are dropped', async () => {
    const { fd, done } = await unwritableFd();
    try {
      const log = stdoutLogger('info', fd);
      const child = log.child({ module: 'x' });
      const stream = (log as unknown as Record<symbol, { on(e: string, f: () => void): void }>)[symbols.streamSym]!;
      const failed = new Promise<void>((res) => stream.on('error', () => res()));
      log.info('first line');
      await failed;
      child.info('a line of a child logger, still at level info');
      assert.equal(log.level, 'silent');
    } finally {
      await done();
    }
  });

  it('process.exit() returns after a failed write (pino flushes synchronously on exit)', async () => {
    // in a process of its own: before the fix, its exit never ended (a loop without an event loop)
    const { fd, done } = await unwritableFd();
    try {
      const code = `
        import { stdoutLogger } from ${JSON.stringify(new URL('./logger.ts', import.meta.url).href)};
        const log = stdoutLogger('info', 3);
        log.info('a line that fails');
        setTimeout(() => { log.info('another'); process.exit(0); }, 200);
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe', fd] });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const [status, signal] = (await once(child, 'exit')) as [number | null, string | null];
      clearTimeout(timer);
      assert.equal(signal, null, `the process did not exit: killed after 20 s\n${stderr}`);
      assert.equal(status, 0, stderr);
    } finally {
      await done();
    }
  });

  it('flushThenMute calls back within its bound, also when nothing can be written', async () => {
    const { fd, done } = await unwritableFd();
    try {
      const log = stdoutLogger('info', fd);
      log.info('a line');
      await new Promise<void>((res) => flushThenMute(log, 200, res));
      const stream = (log as unknown as Record<symbol, { flushSync(): void }>)[symbols.streamSym]!;
      stream.flushSync();
    } finally {
      await done();
    }
  });
});

describe('stdoutLogger: formats (log.format)', () => {
  async function written(format: 'json' | 'pretty' | 'auto', lines: number, write: (log: ReturnType<typeof stdoutLogger>) => void): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'parley-logger-'));
    const file = join(dir, 'out.log');
    const fd = openSync(file, 'w');
    try {
      const log = stdoutLogger('info', fd, format);
      write(log);
      // the writes are asynchronous: wait (bounded) until every line is in the file
      for (let i = 0; i < 100 && readFileSync(file, 'utf8').split('\n').length <= lines; i++) await new Promise((r) => setTimeout(r, 20));
      return readFileSync(file, 'utf8');
    } finally {
      closeSync(fd);
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('pretty: one readable line per entry (time, level, module: message, fields), not JSON', async () => {
    const text = await written('pretty', 2, (log) => {
      log.child({ module: 'events' }).info({ event: 'registration.added', aor: 'alice@example.com' }, 'registered alice@example.com');
      log.warn('second');
    });
    const lines = text.split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, 2, text);
    assert.throws(() => JSON.parse(lines[0]!), SyntaxError);
    assert.match(lines[0]!, /INFO.*events: registered alice@example\.com .*"aor":"alice@example\.com"/);
    assert.match(lines[1]!, /WARN.*second/);
  });

  it('json, and auto on a file (not a terminal): JSON lines', async () => {
    for (const format of ['json', 'auto'] as const) {
      const text = await written(format, 1, (log) => log.info({ a: 1 }, 'hello'));
      const line = JSON.parse(text.trim()) as { msg: string; a: number };
      assert.equal(line.msg, 'hello');
      assert.equal(line.a, 1);
    }
  });

  it('a pretty logger whose output fails mutes itself too (flushThenMute reaches the real destination)', async () => {
    const { fd, done } = await unwritableFd();
    try {
      const log = stdoutLogger('info', fd, 'pretty');
      log.info('a line');
      await new Promise<void>((res) => flushThenMute(log, 200, res));
    } finally {
      await done();
    }
  });
});

describe('setLogLevel (a configuration reload changes log.level)', () => {
  it('reaches the logger, its children and grandchildren made before, and children made after', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-logger-'));
    const file = join(dir, 'log');
    const fd = openSync(file, 'w');
    try {
      const log = stdoutLogger('info', fd);
      const child = log.child({ module: 'routing' });
      const grandchild = child.child({ part: 'host' });
      grandchild.debug('before');
      // asked through any member of the family: the whole family changes
      assert.equal(setLogLevel(grandchild, 'debug'), true);
      const later = log.child({ module: 'later' });
      log.debug('root');
      child.debug('child');
      grandchild.debug('grandchild');
      later.debug('later');
      setLogLevel(log, 'warn');
      child.info('after warn');
      log.warn('last');
      // the destination writes asynchronously: wait (bounded) for the last line
      for (let i = 0; i < 100 && !readFileSync(file, 'utf8').includes('"last"'); i++) await new Promise((res) => setTimeout(res, 20));
      const msgs = readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg);
      assert.deepEqual(msgs, ['root', 'child', 'grandchild', 'later', 'last']);
    } finally {
      closeSync(fd);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
