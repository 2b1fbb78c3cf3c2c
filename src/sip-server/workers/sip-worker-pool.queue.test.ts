// The pool's bound on each worker's queue and its watchdog, with a stand-in worker
// (testdata/queue-worker.ts) that can be held (blocked until released), hung (an endless loop)
// or kept busy for a while.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Logger } from '../../lib/logger.js';
import type { Flow } from '../transport/flow.js';
import type { TransportLayer } from '../transport/transport-layer.js';
import { SipWorkerPool } from './sip-worker-pool.js';

const ENTRY = new URL('./testdata/queue-worker.ts', import.meta.url);
const UDP: Flow = { transport: 'udp', remoteAddress: '192.0.2.1', remotePort: 5060, localAddress: '127.0.0.1', localPort: 5060 };
const tcp = (connectionId: number): Flow => ({ transport: 'tcp', remoteAddress: '192.0.2.1', remotePort: 40000 + connectionId, localAddress: '127.0.0.1', localPort: 5060, connectionId });

/** A connection of the fake socket side: counts how often it was paused and resumed. */
class FakeConnection {
  paused = 0;
  resumed = 0;
  pauseReading(): void {
    this.paused++;
  }
  resumeReading(): void {
    this.resumed++;
  }
}

/** The socket side: records the replies the worker asks for; connections by id. */
function fakeTransports(): { transports: TransportLayer; replies: () => number; connection: (id: number) => FakeConnection } {
  let replies = 0;
  const connections = new Map<number, FakeConnection>();
  const connection = (id: number): FakeConnection => {
    let c = connections.get(id);
    if (c === undefined) connections.set(id, (c = new FakeConnection()));
    return c;
  };
  const transports = {
    connections: { on: () => undefined, values: () => [], get: (id: number) => connection(id) },
    sendToTarget: () => void replies++,
    sendBytes: () => undefined,
  } as unknown as TransportLayer;
  return { transports, replies: () => replies, connection };
}

/** A logger that keeps every line as [level, message, fields]. */
function recordingLog(): { log: Logger; lines: Array<[string, string, Record<string, unknown>]> } {
  const lines: Array<[string, string, Record<string, unknown>]> = [];
  const at =
    (level: string) =>
    (o: unknown, m?: string): void =>
      void lines.push([level, m ?? String(o), typeof o === 'object' && o !== null ? (o as Record<string, unknown>) : {}]);
  const log: Logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug'), child: () => log };
  return { log, lines };
}

const message = (body: string): Uint8Array => new TextEncoder().encode(`MESSAGE sip:a@b SIP/2.0\r\nCall-ID: q\r\n\r\n${body}`);

async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(done(), `still waiting for: ${what}`);
}

describe('SipWorkerPool: the bound on what is in flight to a worker', () => {
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const side = fakeTransports();
  const { log, lines } = recordingLog();
  let pool: SipWorkerPool;

  before(async () => {
    pool = new SipWorkerPool({ count: 1, entry: ENTRY, workerData: () => ({ gate: gate.buffer }), queue: { maxMessages: 10, maxBytes: 1 << 20 }, log });
    await pool.start(side.transports);
  });
  after(async () => {
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await pool.stop();
  });

  /** Hand the worker a message that holds it, and wait until it is held. */
  async function hold(): Promise<void> {
    Atomics.store(gate, 0, 0);
    Atomics.store(gate, 1, 0);
    pool.onBytes(message('hold'), UDP, true);
    await until('the worker is held', () => Atomics.load(gate, 1) === 1);
  }
  function release(): void {
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
  }
  const warnings = (): number => lines.filter(([level, m]) => level === 'warn' && /not keeping up/.test(m)).length;
  const ends = (): Array<Record<string, unknown>> => lines.filter(([level, m]) => level === 'info' && /queue drained/.test(m)).map(([, , f]) => f);

  it('beyond the bound, datagrams are shed and counted; one warning when it starts, one line with the count when it ends', async () => {
    await hold();
    const repliesBefore = side.replies();
    for (let i = 0; i < 30; i++) pool.onBytes(message('echo'), UDP, true);
    // the held message and 9 more are in flight; 21 are shed
    assert.equal(pool.queueStats().shedDatagrams, 21);
    assert.equal(warnings(), 1);
    assert.equal(ends().length, 0);
    release();
    await until('the episode ends', () => ends().length === 1);
    assert.equal(ends()[0]!.shedDatagrams, 21);
    await until('the 9 taken are answered', () => side.replies() - repliesBefore === 9);
    // under the bound again: nothing shed, no new warning
    for (let i = 0; i < 5; i++) pool.onBytes(message('echo'), UDP, true);
    await until('answered', () => side.replies() - repliesBefore === 14);
    assert.equal(pool.queueStats().shedDatagrams, 21);
    assert.equal(warnings(), 1);
  });

  it('stream messages beyond the bound are handed over, never dropped; their connections pause, and resume when the queue drains', async () => {
    await hold();
    const repliesBefore = side.replies();
    const shedBefore = pool.queueStats().shedDatagrams;
    for (let i = 0; i < 20; i++) pool.onBytes(message('echo'), tcp(i % 2 === 0 ? 7 : 8), false);
    assert.equal(pool.queueStats().shedDatagrams, shedBefore);
    assert.deepEqual([side.connection(7).paused, side.connection(8).paused], [1, 1]);
    assert.equal(pool.queueStats().pausedConnections, 2);
    assert.deepEqual([side.connection(7).resumed, side.connection(8).resumed], [0, 0]);
    release();
    await until('every stream message is answered', () => side.replies() - repliesBefore === 20);
    await until('the connections read again', () => side.connection(7).resumed === 1 && side.connection(8).resumed === 1);
    assert.equal(pool.queueStats().pausedConnections, 0);
    assert.equal(ends().at(-1)!.pausedConnections, 2);
  });
});

describe('SipWorkerPool: the watchdog', () => {
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const side = fakeTransports();
  const { log, lines } = recordingLog();
  let pool: SipWorkerPool;

  before(async () => {
    pool = new SipWorkerPool({
      count: 1,
      entry: ENTRY,
      workerData: () => ({ gate: gate.buffer }),
      watchdogMs: 1000,
      queue: { maxMessages: 4, maxBytes: 1 << 20 },
      // no restarts after crashes: a worker the watchdog ended is replaced all the same
      maxRestartsPerMinute: 0,
      log,
    });
    await pool.start(side.transports);
  });
  after(() => pool.stop());

  it('a worker busy for a while, far under the threshold, is left alone', async () => {
    const before = side.replies();
    pool.onBytes(message('busy 100'), UDP, true);
    pool.onBytes(message('echo'), UDP, true);
    await until('answered after the burst', () => side.replies() === before + 1);
    // a few more periods of the watchdog
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(pool.queueStats().silentWorkers, 0);
  });

  it('a hung worker is reported, terminated and replaced; what was queued for it is counted lost; its Call-IDs are answered again', async () => {
    pool.onBytes(message('hang'), UDP, true);
    // the hang and 3 more fill the bound of 4; 2 datagrams are shed; a stream message goes on and pauses its connection
    for (let i = 0; i < 5; i++) pool.onBytes(message('echo'), UDP, true);
    pool.onBytes(message('echo'), tcp(9), false);
    assert.equal(side.connection(9).paused, 1);
    await until('the watchdog reports it', () => lines.some(([level, m]) => level === 'error' && /SIP worker 0 silent for/.test(m)));
    const stats = pool.queueStats();
    assert.deepEqual([stats.silentWorkers, stats.shedDatagrams, stats.lostMessages], [1, 2, 5]);
    await until('the exit is seen and a new worker started', () => lines.some(([level, m]) => level === 'error' && /SIP worker exited; starting a new one/.test(m)));
    // the paused connection reads again once the new worker is there
    assert.equal(side.connection(9).resumed, 1);
    const before = side.replies();
    pool.onBytes(message('echo'), UDP, true);
    pool.onBytes(message('echo'), tcp(9), false);
    await until('the new worker answers', () => side.replies() === before + 2);
  });

  it('hung again, it is replaced again (the budget of restarts is for crash loops)', async () => {
    pool.onBytes(message('hang'), UDP, true);
    await until('the second report', () => pool.queueStats().silentWorkers === 2);
    await until('a new worker started', () => lines.filter(([, m]) => /SIP worker exited; starting a new one/.test(m)).length === 2);
    const before = side.replies();
    pool.onBytes(message('echo'), UDP, true);
    await until('the new worker answers', () => side.replies() === before + 1);
  });
});
