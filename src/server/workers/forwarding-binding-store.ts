import type { BindingStore, ContactBinding } from '../../store/binding-store.js';
import type { ToWriter } from './worker-messages.js';

/**
 * The BindingStore of a SIP worker thread: writes go to the binding writer thread
 * (app/binding-writer.ts), which alone writes bindings to SQLite; reads (`loadAll` at start) use
 * the worker's own connection. Two workers writing one SQLite file take turns for its single
 * write lock, and a worker that waits sleeps in SQLite's busy handler (1, 2, 5, 10 … ms) with
 * its SIP messages queued behind it; a checkpoint of the write-ahead log stalls the thread
 * that commits, too. Measured with two workers at 4,000 REGISTER/s: batch commits of 5-15 ms
 * every few hundred ms in each worker, and a burst of late responses after each.
 *
 * A write resolves once it is handed over, not once it is on disk: the location service writes
 * behind anyway (every 50 ms), and the writer commits what it got within one batch.
 * A `post` that fails (the writer is gone) throws, and the location service logs it.
 */
export class ForwardingBindingStore implements BindingStore {
  constructor(
    private readonly reader: Pick<BindingStore, 'loadAll'>,
    private readonly post: (message: ToWriter) => void,
  ) {}

  async save(binding: ContactBinding): Promise<void> {
    this.post({ k: 'apply', save: [binding], remove: [] });
  }

  async apply(changes: { readonly save: readonly ContactBinding[]; readonly remove: ReadonlyArray<readonly [string, string]> }): Promise<void> {
    this.post({ k: 'apply', save: changes.save, remove: changes.remove });
  }

  async remove(aor: string, contact: string): Promise<void> {
    this.post({ k: 'apply', save: [], remove: [[aor, contact]] });
  }

  async removeAor(aor: string): Promise<void> {
    this.post({ k: 'remove-aor', aor });
  }

  loadAll(now: number): Promise<ContactBinding[]> {
    return this.reader.loadAll(now);
  }

  /** The writer purges; how many rows went is not known here (0). */
  async purgeExpired(now: number): Promise<number> {
    this.post({ k: 'purge', now });
    return 0;
  }
}
