import type { MessagePort } from 'node:worker_threads';
import type { BindingChanges, BindingStore, ContactBinding } from '../../store/binding-store.js';
import { StoreError } from '../../store/store-error.js';
import type { FromWriter, ToWriter } from './worker-messages.js';
import { RenewingMap } from '../../lib/renewing-map.js';

/** Options of a ForwardingBindingStore. */
export interface ForwardingBindingStoreOptions {
  /**
   * A write the writer has not answered within this many ms fails (its REGISTERs get 500): a
   * writer that hangs must not hold their transactions forever. It is still resent to a new
   * writer. Default 10,000 (the writer's SQLite busy timeout is 5 s).
   */
  readonly timeoutMs?: number;
}

/** A write sent to the writer and not answered yet. */
interface Unanswered {
  readonly message: ToWriter;
  /** Settled already (it timed out, or the writer is gone): the answer only removes it. */
  settled: boolean;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The BindingStore of a SIP worker thread: writes go to the binding writer thread
 * (app/binding-writer.ts), which alone writes bindings to SQLite; reads (`loadAll` at start) use
 * the worker's own connection. Two workers writing one SQLite file take turns for its single
 * write lock, and a worker that waits sleeps in SQLite's busy handler (1, 2, 5, 10 … ms) with
 * its SIP messages queued behind it; a checkpoint of the write-ahead log stalls the thread
 * that commits, too. Measured with two workers at 4,000 REGISTER/s: batch commits of 5-15 ms
 * every few hundred ms in each worker, and a burst of late responses after each.
 *
 * A write resolves once the writer has committed it (it answers by number over the same
 * channel), so the registrar's 200 (OK) follows the commit. When the writer dies, the socket
 * thread starts another and gives this store a new channel (`setWriter`): every write not yet
 * answered is sent again, in order (the writes are upserts and deletes by key, and no other
 * worker knows of these changes before they are committed: sending one twice is harmless).
 * Without a writer (it could not be restarted) every write fails (500 to the REGISTER).
 */
export class ForwardingBindingStore implements BindingStore {
  private port: MessagePort | undefined;
  private next = 1;
  /** By number, in the order sent. */
  private readonly unanswered = new RenewingMap<number, Unanswered>();
  private readonly timeoutMs: number;

  constructor(
    private readonly reader: Pick<BindingStore, 'loadAll'>,
    writer: MessagePort | undefined,
    options: ForwardingBindingStoreOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.setWriter(writer);
  }

  /** Writes sent and not answered yet (tests, stats). */
  get waiting(): number {
    return this.unanswered.size;
  }

  /**
   * The channel to a (new) binding writer: unanswered writes are sent to it again, in order.
   * `undefined`: there is no writer any more; unanswered and later writes fail.
   */
  setWriter(port: MessagePort | undefined): void {
    this.port?.close();
    this.port = port;
    if (port === undefined) {
      for (const [n, u] of this.unanswered) this.fail(n, u, new StoreError('ERR_STORE_IO', 'no binding writer'));
      return;
    }
    port.on('message', (m: FromWriter) => this.answered(m));
    for (const u of this.unanswered.values()) port.postMessage(u.message);
  }

  /** Close the channel (the worker stops; its last writes have been answered). */
  close(): void {
    this.port?.close();
    this.port = undefined;
  }

  async save(binding: ContactBinding): Promise<void> {
    return this.send({ k: 'apply', n: this.next++, save: [binding], remove: [] });
  }

  apply(changes: BindingChanges): Promise<void> {
    return this.send({ k: 'apply', n: this.next++, save: changes.save, remove: changes.remove, ...(changes.touch === undefined ? {} : { touch: changes.touch }) });
  }

  async remove(aor: string, contact: string): Promise<void> {
    return this.send({ k: 'apply', n: this.next++, save: [], remove: [[aor, contact]] });
  }

  async removeAor(aor: string): Promise<void> {
    return this.send({ k: 'remove-aor', n: this.next++, aor });
  }

  loadAll(now: number): Promise<ContactBinding[]> {
    return this.reader.loadAll(now);
  }

  /** The writer purges; how many rows went is not known here (0). */
  async purgeExpired(now: number): Promise<number> {
    await this.send({ k: 'purge', n: this.next++, now });
    return 0;
  }

  private send(message: ToWriter): Promise<void> {
    const port = this.port;
    if (port === undefined) return Promise.reject(new StoreError('ERR_STORE_IO', 'no binding writer'));
    return new Promise<void>((resolve, reject) => {
      const u: Unanswered = { message, settled: false, resolve, reject, timer: undefined };
      u.timer = setTimeout(() => this.fail(message.n, u, new StoreError('ERR_STORE_IO', `the binding writer did not answer within ${this.timeoutMs} ms`), false), this.timeoutMs);
      u.timer.unref();
      this.unanswered.set(message.n, u);
      port.postMessage(message);
    });
  }

  /** Every write up to `m.n` is committed, but `m.n` itself when the writer says why not. */
  private answered(m: FromWriter): void {
    for (const [n, u] of this.unanswered) {
      if (n > m.n) break;
      this.unanswered.delete(n);
      clearTimeout(u.timer);
      if (u.settled) continue;
      u.settled = true;
      if (n === m.n && m.error !== undefined) u.reject(new StoreError('ERR_STORE_IO', m.error));
      else u.resolve();
    }
  }

  /** Settle `u` as failed; `forget`: drop it too (no writer will get it), else keep it for a new writer. */
  private fail(n: number, u: Unanswered, e: Error, forget = true): void {
    clearTimeout(u.timer);
    if (forget) this.unanswered.delete(n);
    if (u.settled) return;
    u.settled = true;
    u.reject(e);
  }
}
