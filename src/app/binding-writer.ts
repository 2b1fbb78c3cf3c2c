/**
 * The entry of the binding writer thread (sip-server/workers): with SIP worker threads, the one
 * thread that writes location bindings to SQLite. Every worker sends it the writes of its
 * location service over a channel of its own (ForwardingBindingStore) and waits for the answer
 * before it says 200 to a REGISTER. Group commit: when a write arrives, the writer takes every
 * write waiting on every channel and commits them in one transaction, then answers each channel
 * once (the highest number it committed of that channel's). A transaction that fails is tried
 * again write by write, so that one bad write fails alone. The workers never wait for SQLite's
 * write lock or for a checkpoint. On `stop` (sent once the workers have stopped and had their
 * last writes answered) it commits what is still queued, closes the database and ends.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { FromWriter, ToWriter, WriterControl } from '../sip-server/workers/worker-messages.js';
import { siblingModule, startWorker } from '../sip-server/workers/start-worker.js';
import { SqliteBindingStore } from '../store/sqlite/sqlite-binding-store.js';
import { SqliteDatabase, WAL_AUTOCHECKPOINT_PAGES, type Synchronous } from '../store/sqlite/sqlite-database.js';
import { stdoutLogger, type LogFormat } from './logger.js';
import type { FromCheckpointer, ToCheckpointer, WalCheckpointerData } from './wal-checkpointer.js';

/** Least time between two commits of the writer, ms (see commitSoon). */
const MIN_COMMIT_INTERVAL_MS = 2;

/**
 * Least time between two purges of expired rows, ms. Every worker sweeps its replica every 10 s
 * and sends a purge; the bindings table has no index on expires (migration 5: a refresh would
 * move its entry), so a purge scans it, about 20 ms for 100,000 rows. One scan per interval does
 * for all workers: a purge is housekeeping (loading skips expired rows), never a REGISTER's answer.
 */
const MIN_PURGE_INTERVAL_MS = 5_000;

/** How often the checkpointer thread copies the log into the database file, ms (wal-checkpointer.ts). */
const CHECKPOINT_INTERVAL_MS = 500;

/** How long the checkpointer gets to close its connection at stop before it is ended, ms. */
const CHECKPOINTER_STOP_MS = 2000;

/**
 * The writer's own automatic checkpoint while the checkpointer runs: a backstop only (the log
 * never gets that long while it keeps up), so that the log stays bounded should it be gone.
 */
const BACKSTOP_AUTOCHECKPOINT_PAGES = 4 * WAL_AUTOCHECKPOINT_PAGES;

/** What the socket thread gives the writer. */
export interface BindingWriterData {
  readonly dataDir: string;
  readonly logLevel: string;
  /** `log.format` (default json). */
  readonly logFormat?: LogFormat;
  /** PRAGMA synchronous of the writer's connection (`store.synchronous`). */
  readonly synchronous: Synchronous;
  /** Checkpoint in a thread of its own (default true; false: the commits checkpoint, as SQLite does by itself). */
  readonly checkpointer?: boolean;
}

/** The checkpointer thread of the writer's database. */
interface Checkpointer {
  /** Ask it to close its connection and end; after CHECKPOINTER_STOP_MS, end it. */
  stop(): Promise<void>;
}

/**
 * Start the checkpointer thread of `db` (wal-checkpointer.ts) and make the writer's own automatic
 * checkpoint a backstop; should the thread fail or end, the writer checkpoints as before.
 */
function startCheckpointer(db: SqliteDatabase, log: ReturnType<typeof stdoutLogger>): Checkpointer {
  const worker = startWorker(siblingModule(import.meta.url, 'wal-checkpointer'), { workerData: { file: db.file, intervalMs: CHECKPOINT_INTERVAL_MS } satisfies WalCheckpointerData, name: 'wal-checkpointer' });
  db.handle.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  let stopping = false;
  const fallBack = (why: string): void => {
    if (stopping || !db.isOpen) return;
    stopping = true;
    db.handle.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    log.warn({ why }, 'the checkpointer thread is gone: the binding writer checkpoints the log itself');
  };
  worker.on('message', (m: FromCheckpointer) => fallBack(m.error));
  worker.on('error', (e) => fallBack(e.message));
  worker.on('exit', (code) => fallBack(`exited with code ${code}`));
  return {
    stop: () => {
      stopping = true;
      return new Promise((resolve) => {
        const timer = setTimeout(() => void worker.terminate().finally(resolve), CHECKPOINTER_STOP_MS);
        worker.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        worker.postMessage({ k: 'stop' } satisfies ToCheckpointer);
      });
    },
  };
}

function main(control: MessagePort, data: BindingWriterData): void {
  const log = stdoutLogger(data.logLevel, 1, data.logFormat ?? 'json').child({ module: 'binding-writer' });
  const db = SqliteDatabase.open(data.dataDir, { synchronous: data.synchronous });
  const checkpointer = data.checkpointer === false ? undefined : startCheckpointer(db, log);
  const store = new SqliteBindingStore(db);
  const channels = new Set<MessagePort>();
  let failures = 0;
  let lastPurge = -Infinity;

  const run = (m: ToWriter): void => {
    if (m.k === 'apply') store.applyRows(m);
    else if (m.k === 'remove-aor') store.removeAorRows(m.aor);
    else if (performance.now() - lastPurge >= MIN_PURGE_INTERVAL_MS) {
      store.purgeRows(m.now);
      lastPurge = performance.now();
    }
  };

  /** Commit these writes (in order) and answer their channels. */
  const commit = (writes: ReadonlyArray<readonly [MessagePort, ToWriter]>): void => {
    try {
      store.transaction(() => {
        for (const [, m] of writes) run(m);
      });
      const last = new Map<MessagePort, number>();
      for (const [port, m] of writes) last.set(port, m.n);
      for (const [port, n] of last) port.postMessage({ k: 'done', n } satisfies FromWriter);
      return;
    } catch (e) {
      if (writes.length === 1) {
        answerFailure(writes[0]![0], writes[0]![1], e);
        return;
      }
    }
    // one write made the whole transaction fail: each on its own, so the others are committed
    for (const [port, m] of writes) {
      try {
        store.transaction(() => run(m));
        port.postMessage({ k: 'done', n: m.n } satisfies FromWriter);
      } catch (e) {
        answerFailure(port, m, e);
      }
    }
  };

  const answerFailure = (port: MessagePort, m: ToWriter, e: unknown): void => {
    // the REGISTERs that made it are answered 500; their bindings stay in the workers' memory
    if (failures++ % 1000 === 0) log.error({ err: e, failures }, 'could not write bindings');
    port.postMessage({ k: 'done', n: m.n, error: e instanceof Error ? e.message : String(e) } satisfies FromWriter);
  };

  // Writes that arrived, committed together at most every MIN_COMMIT_INTERVAL_MS: each commit
  // writes whole pages to the log and checkpoints come every WAL_AUTOCHECKPOINT_PAGES
  // (sqlite-database.ts), so a commit per arriving write (a few rows each under load) cost far
  // more per row than one every few ms.
  // When the writer has been idle that long, a write is committed at once (no added latency).
  const waiting: Array<readonly [MessagePort, ToWriter]> = [];
  let lastCommit = 0;
  let scheduled: NodeJS.Timeout | undefined;
  const commitWaiting = (): void => {
    scheduled = undefined;
    lastCommit = performance.now();
    const writes = collect(waiting.splice(0));
    if (writes.length > 0) commit(writes);
  };
  const commitSoon = (): void => {
    if (scheduled !== undefined) return;
    const wait = lastCommit + MIN_COMMIT_INTERVAL_MS - performance.now();
    if (wait <= 0) commitWaiting();
    else scheduled = setTimeout(commitWaiting, wait);
  };

  /** The writes waiting on every channel now, after `first`. */
  const collect = (first: ReadonlyArray<readonly [MessagePort, ToWriter]> = []): Array<readonly [MessagePort, ToWriter]> => {
    const writes: Array<readonly [MessagePort, ToWriter]> = [...first];
    for (const port of channels) {
      for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) writes.push([port, next.message as ToWriter]);
    }
    return writes;
  };

  control.on('message', (m: WriterControl) => {
    if (m.k === 'port') {
      const port = m.port;
      channels.add(port);
      port.on('message', (w: ToWriter) => {
        waiting.push([port, w]);
        commitSoon();
      });
      port.on('close', () => channels.delete(port));
      return;
    }
    // stop: what the workers sent last may still be queued on their channels
    if (scheduled !== undefined) clearTimeout(scheduled);
    const writes = collect(waiting.splice(0));
    if (writes.length > 0) commit(writes);
    for (const port of channels) port.close();
    // the checkpointer's connection first: the last one to close checkpoints the log and removes it
    const closing = checkpointer === undefined ? Promise.resolve() : checkpointer.stop();
    void closing.then(() => {
      db.close();
      control.close();
    });
  });
  control.postMessage({ k: 'ready' });
}

if (parentPort !== null) {
  const port = parentPort;
  try {
    main(port, workerData as BindingWriterData);
  } catch (e) {
    port.postMessage({ k: 'failed', error: e instanceof Error ? e.message : String(e) });
  }
}
