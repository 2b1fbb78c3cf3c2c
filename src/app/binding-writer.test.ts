import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import type { ContactBinding } from '../store/binding-store.js';
import { SqliteBindingStore } from '../store/sqlite/sqlite-binding-store.js';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import type { ToWriter, WriterControl } from '../server/workers/worker-messages.js';
import { ForwardingBindingStore } from '../server/workers/forwarding-binding-store.js';
import { startWorker } from '../server/workers/start-worker.js';
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

describe('the binding writer thread', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-binding-writer-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('applies the writes of two channels, the ones still queued at stop included, then ends', async () => {
    const writer = startWriter({ dataDir: dir, logLevel: 'error' });
    const ready = await new Promise<{ k: string }>((resolve, reject) => {
      writer.once('message', resolve);
      writer.once('error', reject);
    });
    assert.equal(ready.k, 'ready');
    const a = new MessageChannel();
    const b = new MessageChannel();
    writer.postMessage({ k: 'port', port: a.port1 } satisfies WriterControl, [a.port1]);
    writer.postMessage({ k: 'port', port: b.port1 } satisfies WriterControl, [b.port1]);
    const far = Date.now() + 3_600_000;
    const viaA = new ForwardingBindingStore({ loadAll: async () => [] }, (m: ToWriter) => a.port2.postMessage(m));
    const viaB = new ForwardingBindingStore({ loadAll: async () => [] }, (m: ToWriter) => b.port2.postMessage(m));
    await viaA.apply({ save: [binding('alice', far), binding('gone', far)], remove: [] });
    await viaB.save(binding('bob', far));
    await viaA.remove('gone@example.com', 'sip:gone@192.0.2.1:5060');
    // sent right behind the writes: the writer must still apply everything queued on the channels
    const exited = new Promise<number>((resolve) => writer.once('exit', resolve));
    writer.postMessage({ k: 'stop' } satisfies WriterControl);
    assert.equal(await exited, 0);
    a.port2.close();
    b.port2.close();

    const db = SqliteDatabase.open(dir);
    try {
      const rows = await new SqliteBindingStore(db).loadAll(Date.now());
      assert.deepEqual(rows.map((r) => r.aor).sort(), ['alice@example.com', 'bob@example.com']);
    } finally {
      db.close();
    }
  });
});

describe('ForwardingBindingStore', () => {
  it('posts every write in order and reads through its own reader', async () => {
    const posted: ToWriter[] = [];
    const stored = [binding('carol', 5)];
    const store = new ForwardingBindingStore({ loadAll: async (now) => stored.filter((b) => b.expires > now) }, (m) => posted.push(m));
    await store.save(binding('carol', 10));
    await store.apply({ save: [], remove: [['x@example.com', 'sip:x@192.0.2.9']] });
    await store.removeAor('y@example.com');
    assert.equal(await store.purgeExpired(42), 0);
    assert.deepEqual(
      posted.map((m) => m.k),
      ['apply', 'apply', 'remove-aor', 'purge'],
    );
    assert.deepEqual(posted[1], { k: 'apply', save: [], remove: [['x@example.com', 'sip:x@192.0.2.9']] });
    assert.deepEqual(posted[3], { k: 'purge', now: 42 });
    assert.deepEqual(await store.loadAll(1), stored);
    assert.deepEqual(await store.loadAll(6), []);
  });

  it('a post that throws (the writer is gone) rejects the write', async () => {
    const store = new ForwardingBindingStore({ loadAll: async () => [] }, () => {
      throw new Error('port closed');
    });
    await assert.rejects(store.save(binding('dan', 10)), /port closed/);
  });
});
