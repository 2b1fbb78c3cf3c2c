import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { ContactBinding } from '../store/binding-store.js';
import { SqliteBindingStore } from '../store/sqlite/sqlite-binding-store.js';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import type { FromWriter, ToWriter, WriterControl } from '../sip-server/workers/worker-messages.js';
import { StoreError } from '../store/store-error.js';
import { ForwardingBindingStore } from '../sip-server/workers/forwarding-binding-store.js';
import { startWorker } from '../sip-server/workers/start-worker.js';
import type { BindingWriterData } from './binding-writer.js';

const binding = (user: string, expires: number): ContactBinding => ({
  aor: `${user}@example.com`,
  contact: `sip:${user}@192.0.2.1:5060`,
  expires,
  q: 1,
  callId: `${user}-call`,
  cseq: 1,
  path: [],
  received: { transport: 'udp', address: '192.0.2.1', port: 5060 },
  node: 'test',
  updatedAt: 1,
});

const startWriter = (data: BindingWriterData) => startWorker(new URL('./binding-writer.ts', import.meta.url), { workerData: data });

/** A writer thread, ready. */
async function readyWriter(dir: string, checkpointer?: boolean) {
  const writer = startWriter({ dataDir: dir, logLevel: 'silent', synchronous: 'normal', ...(checkpointer === undefined ? {} : { checkpointer }) });
  const ready = await new Promise<{ k: string }>((resolve, reject) => {
    writer.once('message', resolve);
    writer.once('error', reject);
  });
  assert.equal(ready.k, 'ready');
  return writer;
}

/** A channel to `writer`: the worker's end. */
function channelTo(writer: Worker): MessagePort {
  const c = new MessageChannel();
  writer.postMessage({ k: 'port', port: c.port1 } satisfies WriterControl, [c.port1]);
  return c.port2;
}

async function stored(dir: string): Promise<string[]> {
  const db = SqliteDatabase.open(dir);
  try {
    return (await new SqliteBindingStore(db).loadAll(Date.now())).map((r) => r.aor).sort();
  } finally {
    db.close();
  }
}

/** Rows of bindings in the database file alone (a copy without its write-ahead log): what a checkpoint copied there. */
async function inFileAlone(dir: string): Promise<number> {
  const copy = join(dir, 'copy.db');
  await copyFile(join(dir, SqliteDatabase.FILE_NAME), copy);
  const db = new DatabaseSync(copy);
  try {
    // before the first checkpoint even the schema is only in the log
    const table = db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'bindings'").get();
    return table === undefined ? 0 : (db.prepare('SELECT count(*) AS n FROM bindings').get() as { n: number }).n;
  } finally {
    db.close();
    await rm(copy, { force: true });
  }
}

const far = Date.now() + 3_600_000;
const noReader = { loadAll: async () => [] };

describe('the binding writer thread', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-binding-writer-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('answers each write once committed, over the channel it came on; commits what is queued at stop, then ends', async () => {
    const writer = await readyWriter(dir);
    const a = channelTo(writer);
    const b = channelTo(writer);
    const viaA = new ForwardingBindingStore(noReader, a);
    const viaB = new ForwardingBindingStore(noReader, b);
    // many writes of both channels at once: they resolve once the writer has committed them
    const writes = [];
    for (let i = 0; i < 20; i++) writes.push(viaA.apply({ save: [binding(`a${i}`, far)], remove: [] }), viaB.save(binding(`b${i}`, far)));
    await Promise.all(writes);
    assert.equal((await stored(dir)).length, 40, 'what was answered is in the file (read by another connection)');
    assert.equal(viaA.waiting + viaB.waiting, 0);
    await viaA.remove('a0@example.com', 'sip:a0@192.0.2.1:5060');
    // sent right behind the stop: the writer must still commit it
    void viaB.save(binding('last', far)).catch(() => {});
    const exited = new Promise<number>((resolve) => writer.once('exit', resolve));
    writer.postMessage({ k: 'stop' } satisfies WriterControl);
    assert.equal(await exited, 0);
    viaA.close();
    viaB.close();
    const rows = await stored(dir);
    assert.equal(rows.length, 40);
    assert.ok(rows.includes('last@example.com') && !rows.includes('a0@example.com'));
  });

  it('copies the log into the database file from a thread of its own, not in its commits (and ends it at stop)', async () => {
    for (const checkpointer of [true, false]) {
      const d = join(dir, String(checkpointer));
      const writer = await readyWriter(d, checkpointer);
      const via = new ForwardingBindingStore(noReader, channelTo(writer));
      await Promise.all(Array.from({ length: 20 }, (_, i) => via.save(binding(`u${i}`, far))));
      // a few pages of log: far below the automatic checkpoint's threshold, so only the
      // checkpointer thread (every 500 ms) copies them into the file
      let rows = 0;
      for (let i = 0; i < 30 && rows < 20; i++) {
        await new Promise((r) => setTimeout(r, 100));
        rows = await inFileAlone(d);
      }
      assert.equal(rows, checkpointer ? 20 : 0, `checkpointer ${checkpointer}: ${rows} rows in the file without its log`);
      const exited = new Promise<number>((resolve) => writer.once('exit', resolve));
      writer.postMessage({ k: 'stop' } satisfies WriterControl);
      assert.equal(await exited, 0);
      via.close();
      // the last connection closed checkpointed the rest: the file holds everything
      assert.equal(await inFileAlone(d), 20);
    }
  });

  it('a write that cannot be committed fails alone: the others of its group commit are committed and answered', async () => {
    const writer = await readyWriter(dir);
    const viaA = new ForwardingBindingStore(noReader, channelTo(writer));
    const viaB = new ForwardingBindingStore(noReader, channelTo(writer));
    const good1 = viaA.save(binding('good1', far));
    const bad = viaA.save({ ...binding('bad', far), q: 7 });
    const good2 = viaB.save(binding('good2', far));
    const good3 = viaA.save(binding('good3', far));
    await assert.rejects(bad, (e: unknown) => e instanceof StoreError && /q: must be between 0 and 1/.test(e.message));
    await Promise.all([good1, good2, good3]);
    assert.deepEqual(await stored(dir), ['good1@example.com', 'good2@example.com', 'good3@example.com']);
    viaA.close();
    viaB.close();
    await writer.terminate();
  });

  it('purges expired rows at most once per interval, whichever worker asks (a purge scans the table)', async () => {
    const writer = await readyWriter(dir);
    const viaA = new ForwardingBindingStore(noReader, channelTo(writer));
    const viaB = new ForwardingBindingStore(noReader, channelTo(writer));
    const soon = Date.now() + 60_000;
    await viaA.save(binding('gone', soon));
    await viaA.purgeExpired(soon + 1); // the first purge runs
    assert.deepEqual(await stored(dir), []);
    await viaB.save(binding('kept', soon));
    await viaB.purgeExpired(soon + 1); // another worker's, right after: skipped, answered all the same
    assert.deepEqual(await stored(dir), ['kept@example.com']);
    viaA.close();
    viaB.close();
    await writer.terminate();
  });
});

describe('ForwardingBindingStore', () => {
  /** The test plays the writer on the other end of the channel. */
  function fakeWriter() {
    const c = new MessageChannel();
    const got: ToWriter[] = [];
    c.port2.on('message', (m: ToWriter) => got.push(m));
    const answer = (n: number, error?: string): void => c.port2.postMessage({ k: 'done', n, ...(error === undefined ? {} : { error }) } satisfies FromWriter);
    return { port: c.port1, got, answer, close: () => c.port2.close() };
  }
  /** Wait (bounded) until `cond` holds: messages between two ports of one thread take a few turns. */
  async function until(cond: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
    assert.ok(cond(), what);
  }

  it('a write resolves only once the writer answers its number (or a later one); an error fails that write alone', async () => {
    const w = fakeWriter();
    const store = new ForwardingBindingStore({ loadAll: async () => [binding('carol', far)] }, w.port);
    const states: string[] = ['waiting', 'waiting', 'waiting', 'waiting'];
    const track = (i: number, p: Promise<unknown>) => p.then(() => (states[i] = 'ok'), (e: Error) => (states[i] = e.message));
    track(0, store.save(binding('carol', far)));
    track(1, store.apply({ save: [], remove: [['x@example.com', 'sip:x@192.0.2.9']] }));
    track(2, store.removeAor('y@example.com'));
    track(3, store.purgeExpired(42));
    await until(() => w.got.length === 4, 'four writes posted');
    assert.deepEqual(w.got.map((m) => [m.k, m.n]), [['apply', 1], ['apply', 2], ['remove-aor', 3], ['purge', 4]]);
    assert.deepEqual(w.got[1], { k: 'apply', n: 2, save: [], remove: [['x@example.com', 'sip:x@192.0.2.9']] });
    assert.deepEqual(states, ['waiting', 'waiting', 'waiting', 'waiting'], 'nothing resolves before the answer');
    w.answer(2); // 1 and 2 committed
    await until(() => states[1] !== 'waiting', 'answered');
    assert.deepEqual(states, ['ok', 'ok', 'waiting', 'waiting']);
    w.answer(3, 'database: disk I/O error');
    w.answer(4);
    await until(() => states[3] !== 'waiting', 'answered');
    assert.deepEqual(states, ['ok', 'ok', 'database: disk I/O error', 'ok']);
    assert.equal(store.waiting, 0);
    assert.deepEqual((await store.loadAll(1)).map((b) => b.aor), ['carol@example.com'], 'reads through its own reader');
    store.close();
    w.close();
  });

  it('a new writer gets every unanswered write again, in order; without a writer, writes fail', async () => {
    const dead = fakeWriter();
    const store = new ForwardingBindingStore(noReader, dead.port);
    const first = store.save(binding('one', far));
    const second = store.save(binding('two', far));
    await until(() => dead.got.length === 2, 'two writes');
    dead.answer(1);
    await first;
    dead.close(); // the writer died with write 2 unanswered
    const next = fakeWriter();
    store.setWriter(next.port);
    const third = store.save(binding('three', far));
    await until(() => next.got.length === 2, 'two writes to the new writer');
    assert.deepEqual(next.got.map((m) => m.n), [2, 3], 'write 2 again, then the new one');
    next.answer(3);
    await Promise.all([second, third]);
    const fourth = store.save(binding('four', far));
    store.setWriter(undefined); // the writer could not be restarted
    await assert.rejects(fourth, /no binding writer/);
    await assert.rejects(store.save(binding('five', far)), /no binding writer/);
    next.close();
  });

  it('a write the writer does not answer in time fails (its REGISTERs get 500), and is still sent to a new writer', async () => {
    const hung = fakeWriter();
    const store = new ForwardingBindingStore(noReader, hung.port, { timeoutMs: 20 });
    await assert.rejects(store.save(binding('slow', far)), /did not answer within 20 ms/);
    const next = fakeWriter();
    store.setWriter(next.port);
    await until(() => next.got.length === 1, 'resent');
    assert.deepEqual(next.got.map((m) => m.n), [1]);
    next.answer(1);
    await until(() => store.waiting === 0, 'answered');
    store.close();
    hung.close();
    next.close();
  });
});
