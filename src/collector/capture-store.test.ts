import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import type { CapturedMessage } from './captured-message.js';
import { CaptureStore } from './capture-store.js';

const enc = new TextEncoder();

function msg(over: Partial<CapturedMessage> & { callId: string; timeUs: number }): CapturedMessage {
  return {
    receivedUs: over.timeUs, srcAddr: '192.0.2.1', srcPort: 5060, dstAddr: '192.0.2.2', dstPort: 5060, transport: 'udp', protocolType: 1,
    payload: enc.encode(`SIP ${over.callId} ${over.timeUs}`), ...over,
  };
}

describe('CaptureStore', () => {
  it('groups messages by Call-ID: first and last time, count, From and To of the first, methods', () => {
    const s = CaptureStore.open(':memory:', { flushIntervalMs: 0 });
    s.add(msg({ callId: 'a', timeUs: 10, method: 'INVITE', fromUri: 'sip:alice@x', toUri: 'sip:bob@x', cseq: '1 INVITE' }));
    s.add(msg({ callId: 'b', timeUs: 15, method: 'OPTIONS' }));
    s.add(msg({ callId: 'a', timeUs: 20, status: 200, reason: 'OK', fromUri: 'sip:other@x', toUri: 'sip:bob@x' }));
    s.add(msg({ callId: 'a', timeUs: 30, method: 'BYE', fromUri: 'sip:alice@x' }));
    s.add(msg({ callId: 'a', timeUs: 25, method: 'ACK' }));
    assert.deepEqual(s.listCalls(), [
      { callId: 'a', firstUs: 10, lastUs: 30, messages: 4, fromUri: 'sip:alice@x', toUri: 'sip:bob@x', methods: ['ACK', 'BYE', 'INVITE'] },
      { callId: 'b', firstUs: 15, lastUs: 15, messages: 1, methods: ['OPTIONS'] },
    ]);
    const a = s.messagesOfCall('a');
    assert.deepEqual(a.map((m) => m.timeUs), [10, 20, 25, 30], 'in capture order, not arrival order');
    assert.equal(a[1]!.status, 200);
    assert.equal(a[1]!.reason, 'OK');
    assert.equal(a[0]!.cseq, '1 INVITE');
    assert.equal(a[0]!.method, 'INVITE');
    assert.equal('status' in a[0]!, false, 'absent fields stay absent');
    assert.deepEqual(Buffer.from(a[0]!.payload).toString(), 'SIP a 10');
    s.close();
  });

  it('time range: calls with a message in it, messages in it, both ends included', () => {
    const s = CaptureStore.open(':memory:');
    for (let t = 0; t < 10; t++) s.add(msg({ callId: t < 5 ? 'early' : 'late', timeUs: t * 100 }));
    assert.deepEqual(s.listCalls({ sinceUs: 500 }).map((c) => c.callId), ['late']);
    assert.deepEqual(s.listCalls({ untilUs: 400 }).map((c) => c.callId), ['early']);
    assert.deepEqual(s.listCalls({ sinceUs: 400, untilUs: 500 }).map((c) => c.callId), ['early', 'late']);
    assert.deepEqual(s.messagesBetween({ sinceUs: 300, untilUs: 600 }).map((m) => m.timeUs), [300, 400, 500, 600]);
    assert.deepEqual([...s.iterateMessages({ sinceUs: 300 }, 'early')].map((m) => m.timeUs), [300, 400]);
    s.close();
  });

  it('writes in batches, one transaction each: by size, before a query and on close', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-capture-store-'));
    try {
      const file = join(dir, 'hep.db');
      const s = CaptureStore.open(file, { batchSize: 3, flushIntervalMs: 0 });
      const onDisk = (): number => {
        const r = new DatabaseSync(file, { readOnly: true });
        try {
          return (r.prepare('SELECT count(*) AS n FROM hep_messages').get() as { n: number }).n;
        } finally {
          r.close();
        }
      };
      s.add(msg({ callId: 'x', timeUs: 1 }));
      s.add(msg({ callId: 'x', timeUs: 2 }));
      assert.equal(onDisk(), 0, 'queued');
      assert.deepEqual(s.stats, { stored: 0, pending: 2, batches: 0 });
      s.add(msg({ callId: 'x', timeUs: 3 }));
      assert.equal(onDisk(), 3, 'the third fills the batch');
      s.add(msg({ callId: 'x', timeUs: 4 }));
      assert.equal(s.count(), 4, 'a query writes the queue first');
      s.add(msg({ callId: 'x', timeUs: 5 }));
      s.close();
      assert.equal(onDisk(), 5, 'close writes the rest');
      assert.equal(statSync(file).mode & 0o777, 0o600, 'owner-only: captured SIP carries credentials');
      const again = CaptureStore.open(file);
      assert.equal(again.count(), 5, 'reopened: the same file, the same schema');
      again.close();
      const r = new DatabaseSync(file, { readOnly: true });
      assert.equal((r.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
      r.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the timer writes a queued message without a query', async () => {
    const s = CaptureStore.open(':memory:', { flushIntervalMs: 5 });
    s.add(msg({ callId: 'x', timeUs: 1 }));
    for (let i = 0; i < 200 && s.stats.pending > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(s.stats, { stored: 1, pending: 0, batches: 1 });
    s.close();
  });

  it('refuses a file that is not a capture database (Parley\'s own, a text file)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-capture-store-'));
    try {
      const other = join(dir, 'parley.db');
      const db = new DatabaseSync(other);
      db.exec('CREATE TABLE subscribers (x)');
      db.close();
      assert.throws(() => CaptureStore.open(other), (e: Error & { storeCode?: string }) => /something else/.test(e.message) && e.storeCode === 'ERR_STORE_IO');
      const text = join(dir, 'notes.txt');
      writeFileSync(text, 'not a database at all, but long enough to have a header '.repeat(10));
      assert.throws(() => CaptureStore.open(text), (e: Error & { storeCode?: string }) => e.storeCode === 'ERR_STORE_IO');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
