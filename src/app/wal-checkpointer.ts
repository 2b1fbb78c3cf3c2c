/**
 * The entry of the binding writer's checkpointer thread: on a connection of its own it copies the
 * write-ahead log into the database file (`PRAGMA wal_checkpoint(PASSIVE)`) every `intervalMs`, so
 * that the writer's commits never do it. A checkpoint copies every page the log holds and syncs
 * the file: done by a commit (SQLite's automatic checkpoint), it held that commit, the REGISTERs
 * waiting for it and every write arriving meanwhile for 35-45 ms every second or two at 6,000
 * REGISTER/s on this machine, and the 200s of all of them then left in one burst (more than a
 * sipp socket's 128 KB buffer holds). A passive checkpoint runs beside the writer (SQLite's WAL
 * takes the writer's and the checkpointer's locks separately) and never waits for it; the writer
 * keeps a far larger automatic checkpoint as a backstop, should this thread be gone (binding-writer.ts).
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';

/** What the binding writer gives its checkpointer. */
export interface WalCheckpointerData {
  /** The database file (in WAL mode already: the writer opened and migrated it). */
  readonly file: string;
  readonly intervalMs: number;
}

/** Checkpointer → writer: it could not start. */
export interface FromCheckpointer {
  readonly k: 'failed';
  readonly error: string;
}

/** Writer → checkpointer. */
export interface ToCheckpointer {
  readonly k: 'stop';
}

function main(port: MessagePort, data: WalCheckpointerData): void {
  const db = new DatabaseSync(data.file, { timeout: 0 });
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  const timer = setInterval(() => {
    try {
      checkpoint.get();
    } catch {
      // busy (another checkpoint, a writer resetting the log): the next interval tries again
    }
  }, data.intervalMs);
  port.on('message', (m: ToCheckpointer) => {
    if (m.k !== 'stop') return;
    clearInterval(timer);
    db.close();
    port.close();
  });
}

if (parentPort !== null) {
  const port = parentPort;
  try {
    main(port, workerData as WalCheckpointerData);
  } catch (e) {
    port.postMessage({ k: 'failed', error: e instanceof Error ? e.message : String(e) } satisfies FromCheckpointer);
    port.close();
  }
}
