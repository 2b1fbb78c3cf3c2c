/**
 * The entry of the binding writer thread (server/workers): with SIP worker threads, the one
 * thread that writes location bindings to SQLite. Every worker sends it the writes of its
 * location service over a channel of its own (ForwardingBindingStore); it applies each as it
 * comes, one transaction per batch, so the workers never wait for SQLite's write lock or for a
 * checkpoint. On `stop` (sent once the workers have stopped and handed over their last writes)
 * it applies what is still queued on every channel, closes the database and ends.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { ToWriter, WriterControl } from '../server/workers/worker-messages.js';
import { SqliteBindingStore } from '../store/sqlite/sqlite-binding-store.js';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { stdoutLogger } from './logger.js';

/** What the socket thread gives the writer. */
export interface BindingWriterData {
  readonly dataDir: string;
  readonly logLevel: string;
}

function main(control: MessagePort, data: BindingWriterData): void {
  const log = stdoutLogger(data.logLevel).child({ module: 'binding-writer' });
  const db = SqliteDatabase.open(data.dataDir);
  const store = new SqliteBindingStore(db);
  const channels = new Set<MessagePort>();
  let failures = 0;

  const write = (m: ToWriter): void => {
    // the store's calls are synchronous underneath (better-sqlite3): an error surfaces as a rejection
    const done = m.k === 'apply' ? store.apply(m) : m.k === 'remove-aor' ? store.removeAor(m.aor) : store.purgeExpired(m.now);
    done.catch((e: unknown) => {
      // logged, not fatal: the bindings stay in every worker's memory, and their next refresh writes again
      if (failures++ % 1000 === 0) log.error({ err: e, failures }, 'could not write bindings');
    });
  };

  control.on('message', (m: WriterControl) => {
    if (m.k === 'port') {
      channels.add(m.port);
      m.port.on('message', write);
      m.port.on('close', () => channels.delete(m.port));
      return;
    }
    // stop: what the workers sent last may still be queued on their channels
    for (const port of channels) {
      for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) write(next.message as ToWriter);
      port.close();
    }
    db.close();
    control.close();
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
