import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BroadcastChannel, type Worker } from 'node:worker_threads';
import type { Flow } from '../transport/flow.js';
import type { ResponseTarget } from '../transport/response-target.js';
import type { TransportLayer } from '../transport/transport-layer.js';
import { TransportError } from '../transport/transport-error.js';
import { SipWorkerPool } from './sip-worker-pool.js';

/** Sockets that fail at once every send to port 13 (as a UDP send fails: synchronously). */
const transports = {
  connections: { on: () => undefined, values: () => [] },
  sendToTarget: (_bytes: Uint8Array, target: ResponseTarget, onError: (e: TransportError) => void) => {
    if (target.port === 13) onError(new TransportError('EPERM'));
  },
  sendBytes: () => undefined,
} as unknown as TransportLayer;

const FLOW: Flow = { transport: 'udp', remoteAddress: '192.0.2.1', remotePort: 5060, localAddress: '127.0.0.1', localPort: 5060 };

describe('SipWorkerPool: what a worker learns of its sends', () => {
  let pool: SipWorkerPool;
  let channel: BroadcastChannel;
  let got: Array<{ k: string; s: number }> = [];

  before(async () => {
    channel = new BroadcastChannel('sends-worker');
    channel.onmessage = (e) => got.push((e as { data: { k: string; s: number } }).data);
    pool = new SipWorkerPool({ count: 1, entry: new URL('./testdata/sends-worker.ts', import.meta.url), workerData: () => ({}) });
    await pool.start(transports);
  });
  after(async () => {
    await pool.stop();
    channel.close();
  });

  /** Hand the worker a message whose body is `body`; resolve once it has reported `count` items. */
  async function exchange(body: string, count: number): Promise<Array<{ k: string; s: number }>> {
    got = [];
    pool.onBytes(new TextEncoder().encode(`MESSAGE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n${body}`), FLOW, true);
    for (let i = 0; i < 200 && got.length < count; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50)); // and nothing more
    return got;
  }

  it('a failure in a batch comes before the "handled" that covers it', async () => {
    assert.deepEqual(await exchange('5060 13 5060', 2), [{ k: 'send-error', s: 2 }, { k: 'sent', s: 3 }]);
  });

  it('a batch without failures: one "handled" with its last number', async () => {
    assert.deepEqual(await exchange('5060 5060', 1), [{ k: 'sent', s: 5 }]);
  });

  it('batches handled in one turn share one "handled", raised to the last number; a failure splits it', async () => {
    const items = await exchange('split 5060 5060 13 5060', 3);
    assert.deepEqual(items.at(-1), { k: 'sent', s: 9 });
    const error = items.findIndex((m) => m.k === 'send-error');
    assert.deepEqual(items[error], { k: 'send-error', s: 8 });
    // what was handled before the failure is said before it, and never past it
    assert.ok(items.slice(0, error).every((m) => m.k === 'sent' && m.s < 8), JSON.stringify(items));
    // four batches: however the socket thread's turns fall (under load, one batch a turn), never
    // more than one "handled" for each
    assert.ok(items.filter((m) => m.k === 'sent').length <= 4, `at most one "handled" per batch: ${JSON.stringify(items)}`);
  });
});

describe('SipWorkerPool: a binding writer that dies', () => {
  let dir: string;
  let reports: Array<{ k: string; user?: string; n?: number; hang?: boolean; error?: string }>;
  let channels: BroadcastChannel[];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-writer-restart-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function startPool(maxRestartsPerMinute: number): Promise<SipWorkerPool> {
    reports = [];
    channels = ['binding-worker', 'hanging-writer'].map((name) => {
      const c = new BroadcastChannel(name);
      c.onmessage = (e) => reports.push((e as { data: (typeof reports)[number] }).data);
      return c;
    });
    const pool = new SipWorkerPool({
      count: 1,
      entry: new URL('./testdata/binding-worker.ts', import.meta.url),
      workerData: (_index, writer) => ({ writer }),
      writer: { entry: new URL('./testdata/hanging-writer.ts', import.meta.url), workerData: { dataDir: dir } },
      maxRestartsPerMinute,
    });
    await pool.start(transports);
    return pool;
  }
  async function until(what: string, cond: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(cond(), `${what}: ${JSON.stringify(reports)}`);
  }
  const register = (pool: SipWorkerPool, user: string): void => pool.onBytes(new TextEncoder().encode(`REGISTER sip:b SIP/2.0\r\nCall-ID: ${user}\r\n\r\n${user}`), FLOW, true);
  const writerOf = (pool: SipWorkerPool): Worker => (pool as unknown as { writer: Worker }).writer;

  it('is restarted, and the write it left unanswered is sent to the new one, which answers it', async () => {
    writeFileSync(join(dir, 'hang'), '');
    const pool = await startPool(5);
    try {
      register(pool, 'alice');
      await until('the writer got the write', () => reports.some((r) => r.k === 'got' && r.hang === true));
      assert.ok(!reports.some((r) => r.k === 'committed'), 'not answered while the writer hangs');
      rmSync(join(dir, 'hang'));
      await writerOf(pool).terminate();
      await until('the write answered by the new writer', () => reports.some((r) => r.k === 'committed' && r.user === 'alice'));
      assert.deepEqual(reports.filter((r) => r.k === 'got').map((r) => [r.n, r.hang]), [[1, true], [1, false]], 'the same write, sent again');
    } finally {
      await pool.stop();
      for (const c of channels) c.close();
    }
  });

  it('that cannot be restarted fails the writes waiting for it (their REGISTERs get 500, not 200)', async () => {
    writeFileSync(join(dir, 'hang'), '');
    const pool = await startPool(0);
    try {
      register(pool, 'bob');
      await until('the writer got the write', () => reports.some((r) => r.k === 'got'));
      await writerOf(pool).terminate();
      await until('the write failed', () => reports.some((r) => r.k === 'failed' && r.user === 'bob'));
      assert.match(reports.find((r) => r.k === 'failed')!.error ?? '', /no binding writer/);
      register(pool, 'carol');
      await until('a later write fails too', () => reports.some((r) => r.k === 'failed' && r.user === 'carol'));
    } finally {
      rmSync(join(dir, 'hang'), { force: true });
      await pool.stop();
      for (const c of channels) c.close();
    }
  });
});

