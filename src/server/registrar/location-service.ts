import type { Clock, TimerHandle } from '../../lib/clock.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import type { BindingStore, ContactBinding } from '../../store/binding-store.js';

export interface LocationServiceOptions {
  /** Where bindings are written through; none keeps them in memory only. */
  readonly store?: BindingStore;
  /** Wall-clock milliseconds (binding expiry is absolute time). Default Date.now. */
  readonly now?: () => number;
  /** Timer source for the expiry sweep. */
  readonly clock: Clock;
  /** How often expired bindings are removed, ms. Default 10 s. */
  readonly sweepIntervalMs?: number;
  /**
   * Changes are written to the store in batches this often, ms (one transaction per batch);
   * 0 writes each change at once. A crash loses at most this much. Default 50.
   */
  readonly writeBehindMs?: number;
  readonly log?: Logger;
  /**
   * Told of every change `update` makes, for replicas of this service in other threads
   * (server/workers), which apply it with `applyRemote`. Not called for expiry or for
   * `removeConnection`, which every replica does for itself.
   */
  readonly onChange?: (delta: BindingDelta) => void;
  /**
   * Whether a stream connection is still open, as this thread knows it (server/workers): a
   * replica's delta can arrive after the close of the connection its binding is tied to (the two
   * travel on different channels), and such a binding is not kept. Default: every one is.
   */
  readonly isConnectionOpen?: (connectionId: number) => boolean;
}

/** One change of an AOR's bindings: upserted by contact, removed by contact. */
export interface BindingDelta {
  readonly aor: string;
  readonly save: readonly ContactBinding[];
  /** Contact URIs (as registered) whose bindings went. */
  readonly remove: readonly string[];
}

/**
 * The location service (RFC 3261 §10): address-of-record → contact bindings. Held in memory for
 * the hot path and written behind to a BindingStore in batches (every `writeBehindMs`, one
 * transaction each), so that a restart keeps registrations and a REGISTER costs no commit.
 * An expiry sweeper removes stale bindings; a lookup never returns an expired one.
 */
export class LocationService {
  private readonly bindings = new Map<string, ContactBinding[]>();
  private readonly store: BindingStore | undefined;
  private readonly now: () => number;
  private readonly clock: Clock;
  private readonly sweepMs: number;
  private readonly log: Logger;
  private sweepTimer: TimerHandle | undefined;
  private closed = false;
  private readonly writeBehindMs: number;
  /** Pending writes: key `aor\0contact` → the binding to save, or null to remove. */
  private pending = new Map<string, ContactBinding | null>();
  private flushTimer: TimerHandle | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly onChange: ((delta: BindingDelta) => void) | undefined;
  private readonly isConnectionOpen: (connectionId: number) => boolean;

  constructor(options: LocationServiceOptions) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.clock = options.clock;
    this.sweepMs = options.sweepIntervalMs ?? 10_000;
    this.log = options.log ?? silentLogger;
    this.writeBehindMs = options.writeBehindMs ?? 50;
    this.onChange = options.onChange;
    this.isConnectionOpen = options.isConnectionOpen ?? (() => true);
  }

  /**
   * Load the stored bindings (those not expired) and start the sweeper. The connections of the
   * process that stored them are gone, and their ids will be reused by this one for other
   * peers: a binding keeps where it came from (a TCP/TLS phone can be reached again there) but
   * not its `connectionId`, and a binding made over a WebSocket is dropped, as its client can be
   * reached over that connection only (it registers again when it reconnects). Returns how many
   * bindings were kept.
   */
  async start(): Promise<number> {
    let n = 0;
    if (this.store) {
      for (const stored of await this.store.loadAll(this.now())) {
        if (stored.connectionId === undefined) {
          this.put(stored);
        } else if (stored.received.transport === 'ws' || stored.received.transport === 'wss') {
          this.pending.set(`${stored.aor}\0${stored.contact}`, null);
          continue;
        } else {
          const { connectionId: _gone, ...kept } = stored;
          this.put(kept);
          this.pending.set(`${kept.aor}\0${kept.contact}`, kept);
        }
        n++;
      }
      if (this.pending.size > 0) await this.flush();
    }
    this.scheduleSweep();
    return n;
  }

  /** Stop the sweeper and write what is pending. */
  async stop(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    await this.flush();
  }

  /** Write the pending changes now (one batch). */
  async flush(): Promise<void> {
    if (this.flushTimer !== undefined) this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.store || this.pending.size === 0) return this.flushing;
    const batch = this.pending;
    this.pending = new Map();
    const save: ContactBinding[] = [];
    const remove: Array<[string, string]> = [];
    for (const [key, b] of batch) {
      if (b !== null) save.push(b);
      else {
        const i = key.indexOf('\0');
        remove.push([key.slice(0, i), key.slice(i + 1)]);
      }
    }
    const store = this.store;
    this.flushing = this.flushing.then(() => store.apply({ save, remove })).catch((e: unknown) => {
      this.log.error({ err: e, bindings: save.length + remove.length }, 'could not write bindings');
    });
    return this.flushing;
  }

  /** Current (unexpired) bindings of an AOR. */
  lookup(aor: string): ContactBinding[] {
    const list = this.bindings.get(aor);
    if (list === undefined) return [];
    const now = this.now();
    return list.filter((b) => b.expires > now);
  }

  /** Number of AORs with at least one binding. */
  get size(): number {
    return this.bindings.size;
  }

  /** Number of bindings over all AORs. */
  get bindingCount(): number {
    let n = 0;
    for (const l of this.bindings.values()) n += l.length;
    return n;
  }

  /** Whether the AOR has ever been seen with a binding (still held, expired or not). */
  known(aor: string): boolean {
    return this.bindings.has(aor);
  }

  /**
   * Replace the bindings of an AOR with `next` (the registrar computed them), writing the change
   * through: saved ones upserted, dropped ones removed.
   */
  async update(aor: string, next: readonly ContactBinding[]): Promise<void> {
    await this.change(aor, next, true);
  }

  /**
   * A change made by a replica in another thread (it has written it to the store): applied to
   * memory only. Changes of different contacts commute, so replicas that apply each other's
   * deltas in any order agree. A saved binding tied to a connection that has closed meanwhile
   * replaces the earlier one of its contact but is not kept (the close came first here).
   */
  applyRemote(delta: BindingDelta): void {
    const list = (this.bindings.get(delta.aor) ?? []).filter(
      (b) => !delta.remove.includes(b.contact) && !delta.save.some((s) => s.contact === b.contact),
    );
    for (const b of delta.save) if (b.connectionId === undefined || this.isConnectionOpen(b.connectionId)) list.push(b);
    if (list.length === 0) this.bindings.delete(delta.aor);
    else this.bindings.set(delta.aor, list);
  }

  private async change(aor: string, next: readonly ContactBinding[], replicate: boolean): Promise<void> {
    const before = this.bindings.get(aor) ?? [];
    if (next.length === 0) this.bindings.delete(aor);
    else this.bindings.set(aor, [...next]);
    if (!this.store && this.onChange === undefined) return;
    const keep = new Set(next.map((b) => b.contact));
    const remove: string[] = [];
    const save: ContactBinding[] = [];
    for (const b of before) if (!keep.has(b.contact)) remove.push(b.contact);
    for (const b of next) {
      const old = before.find((x) => x.contact === b.contact);
      if (old !== b) save.push(b);
    }
    if (replicate && this.onChange !== undefined && (save.length > 0 || remove.length > 0)) this.onChange({ aor, save, remove });
    if (!this.store) return;
    for (const c of remove) this.pending.set(`${aor}\0${c}`, null);
    for (const b of save) this.pending.set(`${aor}\0${b.contact}`, b);
    if (this.writeBehindMs === 0) await this.flush();
    else if (this.flushTimer === undefined) this.flushTimer = this.clock.setTimeout(() => void this.flush(), this.writeBehindMs);
  }

  /** Remove every binding tied to a stream connection that has closed (flows, RFC 5626). */
  async removeConnection(connectionId: number): Promise<number> {
    let n = 0;
    for (const [aor, list] of this.bindings) {
      const keep = list.filter((b) => b.connectionId !== connectionId);
      if (keep.length !== list.length) {
        n += list.length - keep.length;
        await this.change(aor, keep, false);
      }
    }
    return n;
  }

  private put(b: ContactBinding): void {
    const list = this.bindings.get(b.aor);
    if (list === undefined) this.bindings.set(b.aor, [b]);
    else list.push(b);
  }

  private scheduleSweep(): void {
    if (this.closed) return;
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweep().catch((e: unknown) => this.log.error({ err: e }, 'binding sweep failed'));
      this.scheduleSweep();
    }, this.sweepMs);
  }

  /** Remove expired bindings now; returns how many went. */
  async sweep(): Promise<number> {
    const now = this.now();
    let n = 0;
    for (const [aor, list] of this.bindings) {
      const keep = list.filter((b) => b.expires > now);
      if (keep.length !== list.length) {
        n += list.length - keep.length;
        if (keep.length === 0) this.bindings.delete(aor);
        else this.bindings.set(aor, keep);
      }
    }
    if (this.store) {
      await this.flush();
      await this.store.purgeExpired(now);
    }
    if (n > 0) this.log.debug({ expired: n }, 'expired bindings removed');
    return n;
  }
}
