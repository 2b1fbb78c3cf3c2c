import type { Clock, TimerHandle } from '../../lib/clock.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import type { BindingStore, BindingTouch, ContactBinding } from '../../store/binding-store.js';
import type { RegistrationEvent } from '../../lib/events.js';
import { RenewingMap } from '../../lib/renewing-map.js';
import { onlyRefreshes, sharing, touched } from './binding-reuse.js';

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
   * When a batch of changes is committed: `run` is called once for the changes made since the
   * last batch. Default: at the end of the event-loop turn (setImmediate), so the REGISTERs of one
   * turn share one commit (group commit). Tests pass their own.
   */
  readonly schedule?: (run: () => void) => void;
  readonly log?: Logger;
  /**
   * Told of every change `update` makes, for replicas of this service in other threads
   * (sip-server/workers), which apply it with `applyRemote`: once the batch that holds it is
   * committed (or has failed: this replica keeps the change, so the others do too). A replica
   * never learns of a binding before it is on disk, so nothing it does with it (a removal
   * through another worker) can reach the store before the binding does. Not called for expiry
   * or for `removeConnection`, which every replica does for itself.
   */
  readonly onChange?: (delta: BindingDelta) => void;
  /**
   * Whether a stream connection is still open, as this thread knows it (sip-server/workers): a
   * replica's delta can arrive after the close of the connection its binding is tied to (the two
   * travel on different channels), and such a binding is not kept. Default: every one is.
   */
  readonly isConnectionOpen?: (connectionId: number) => boolean;
  /**
   * Told of each binding added, refreshed or removed by `update` (the registrar, the API), and,
   * when `reportsSharedChanges`, of each one removed because its connection closed or expired:
   * the operator's events (lib/events.ts).
   */
  readonly onEvent?: (event: RegistrationEvent) => void;
  /**
   * Whether this replica reports the changes every replica makes for itself (expiry, a closed
   * connection): one of them does (sip-server/workers: worker 0), so that each is told once.
   * Default true.
   */
  readonly reportsSharedChanges?: boolean;
}

/**
 * How long after a binding expired its row may still be purged from the store, ms: a refresh
 * that comes just before the binding expires is a touch (an UPDATE of the row), which must not
 * find the row purged already by another thread's sweep (a touch of a missing row changes
 * nothing). Loading skips expired rows, so a row kept this much longer changes nothing else.
 */
export const PURGE_GRACE_MS = 60_000;

/** A refresh of one of an AOR's bindings, for the replicas: BindingTouch without the AOR. */
export type ReplicaTouch = readonly [contact: string, expires: number, cseq: number, updatedAt: number, callId: string];

/** One change of an AOR's bindings: upserted by contact, refreshed by contact, removed by contact. */
export interface BindingDelta {
  readonly aor: string;
  readonly save: readonly ContactBinding[];
  /**
   * Bindings this replica has that were refreshed and changed in nothing else: contact, new
   * expiry, CSeq, refresh time and Call-ID (a tuple: cheaper across threads than the whole binding).
   */
  readonly touch?: readonly ReplicaTouch[];
  /** Contact URIs (as registered) whose bindings went. */
  readonly remove: readonly string[];
}

/** Changes committed together: one `BindingStore.apply`, one transaction. */
class Batch {
  /** Settles once the store has committed the batch (rejects when it could not). */
  readonly done: Promise<void>;
  /** Deltas for the replicas, told once the batch has settled. */
  readonly deltas: BindingDelta[] = [];
  /** The AORs it changes. */
  readonly aors: string[] = [];
  settle!: (error?: unknown) => void;
  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    // a batch nobody waits for (expiry, a closed connection) must not be an unhandled rejection
    this.done.catch(() => {});
  }
}

/**
 * The location service (RFC 3261 §10): address-of-record → contact bindings. Held in memory for
 * the hot path and committed to a BindingStore before the registrar answers: `update` resolves
 * once the change is committed (group commit: the changes of one event-loop turn go to the store
 * as one batch, one transaction), so a 200 (OK) never names a binding a crash can lose, and a
 * REGISTER costs no commit of its own. An expiry sweeper removes stale bindings; a lookup never
 * returns an expired one.
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
  private readonly schedule: (run: () => void) => void;
  /** Changes not yet handed to the store: key `aor\0contact` → the binding to save, or null to remove. */
  private pending = new Map<string, ContactBinding | null>();
  /** Keys of `pending` whose binding only refreshes the stored one: a touch, not a save. */
  private touchOnly = new Set<string>();
  /**
   * Keys whose latest save or touch failed to commit: memory has the binding, the store may not,
   * so its next refresh is saved whole (a touch of a row the store lacks changes nothing).
   */
  private readonly unstored = new Set<string>();
  /** The batch the pending changes will be committed in (undefined: nothing pending). */
  private open: Batch | undefined;
  /**
   * Batches handed to the store and not settled yet, oldest first (an array, not a Set: see
   * lib/renewing-map.ts on long-lived tables with entries that come and go).
   */
  private readonly inFlight: Batch[] = [];
  /** The batch holding the latest uncommitted change of each AOR. */
  private readonly uncommitted = new RenewingMap<string, Batch>();
  private failures = 0;
  /** Batches handed to the store so far (the stats line: commits per second against REGISTERs). */
  commits = 0;
  private readonly onChange: ((delta: BindingDelta) => void) | undefined;
  private readonly isConnectionOpen: (connectionId: number) => boolean;
  private readonly onEvent: ((event: RegistrationEvent) => void) | undefined;
  private readonly reportsShared: boolean;

  constructor(options: LocationServiceOptions) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.clock = options.clock;
    this.sweepMs = options.sweepIntervalMs ?? 10_000;
    this.log = options.log ?? silentLogger;
    this.schedule = options.schedule ?? setImmediate;
    this.onChange = options.onChange;
    this.isConnectionOpen = options.isConnectionOpen ?? (() => true);
    this.onEvent = options.onEvent;
    this.reportsShared = options.reportsSharedChanges ?? true;
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
      if (this.pending.size > 0) {
        this.openBatch();
        await this.flush();
      }
    }
    this.scheduleSweep();
    return n;
  }

  /** Stop the sweeper and commit what is pending. */
  async stop(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    await this.flush().catch(() => {}); // logged by commit
  }

  /**
   * Hand the pending changes to the store now (one batch); resolves once every batch handed
   * over so far has settled, rejects when this one could not be committed.
   */
  async flush(): Promise<void> {
    const batch = this.open;
    if (batch !== undefined) this.commit(batch);
    const all = this.inFlight.map((b) => b.done.catch(() => {}));
    await Promise.all(all);
    if (batch !== undefined) await batch.done;
  }

  /**
   * Resolves once every change of `aor` made so far is committed (at once when none waits);
   * rejects when the batch that holds the latest could not be. A query REGISTER waits for it, so
   * that its 200 (OK) lists no binding that is not yet stored.
   */
  committed(aor: string): Promise<void> {
    return this.uncommitted.get(aor)?.done ?? Promise.resolve();
  }

  /**
   * The batch pending changes go to, opened when there is none. Its commit is scheduled at the
   * end of the turn, or, while a batch is being committed, when that one settles: one batch in
   * the store's hands at a time, so the slower the commits, the larger the batches (and a
   * worker's round trips to the binding writer do not grow with the load).
   */
  private openBatch(): Batch {
    let batch = this.open;
    if (batch === undefined) {
      const opened = new Batch();
      this.open = batch = opened;
      if (this.inFlight.length === 0) this.schedule(() => this.commit(opened));
    }
    return batch;
  }

  private commit(batch: Batch): void {
    if (this.open !== batch) return; // committed already (flush came first)
    this.open = undefined;
    const changes = this.pending;
    const touchOnly = this.touchOnly;
    this.pending = new Map();
    this.touchOnly = new Set();
    const save: ContactBinding[] = [];
    const touch: BindingTouch[] = [];
    const remove: Array<[string, string]> = [];
    for (const [key, b] of changes) {
      if (b !== null) {
        if (touchOnly.has(key)) touch.push([b.aor, b.contact, b.expires, b.cseq, b.updatedAt, b.callId]);
        else save.push(b);
      } else {
        const i = key.indexOf('\0');
        remove.push([key.slice(0, i), key.slice(i + 1)]);
      }
    }
    this.inFlight.push(batch);
    this.commits++;
    const settled = (error?: unknown): void => {
      const at = this.inFlight.indexOf(batch);
      if (at >= 0) this.inFlight.splice(at, 1);
      for (const aor of batch.aors) if (this.uncommitted.get(aor) === batch) this.uncommitted.delete(aor);
      if (error !== undefined) {
        // what this batch saved or touched may not be stored: saved whole next time, and so is
        // a refresh of it waiting in the next batch
        for (const [key, b] of changes) {
          if (b === null) continue;
          this.unstored.add(key);
          this.touchOnly.delete(key);
        }
      }
      if (error !== undefined && this.failures++ % 1000 === 0) {
        this.log.error({ err: error, bindings: save.length + touch.length + remove.length, failures: this.failures }, 'could not commit bindings; the REGISTERs that made them are answered 500');
      }
      // this replica keeps the changes either way; the others learn of them now
      if (this.onChange !== undefined) for (const d of batch.deltas) this.onChange(d);
      batch.settle(error);
      // the changes made meanwhile: their turn now
      const next = this.open;
      if (next !== undefined && this.inFlight.length === 0) this.schedule(() => this.commit(next));
    };
    let applied: Promise<void>;
    try {
      // BindingStore.apply commits in call order: batches handed over together (flush) settle in order
      applied = this.store!.apply(touch.length === 0 ? { save, remove } : { save, touch, remove });
    } catch (e) {
      applied = Promise.reject(e);
    }
    applied.then(() => settled(), (e: unknown) => settled(e ?? new Error('the binding store failed')));
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
   * Replace the bindings of an AOR with `next` (the registrar computed them): memory at once, the
   * store in the next batch (saved ones upserted, dropped ones removed). Resolves once every
   * change of the AOR so far is committed; rejects when it could not be (memory keeps the change).
   */
  update(aor: string, next: readonly ContactBinding[]): Promise<void> {
    this.change(aor, next, true);
    return this.committed(aor);
  }

  /**
   * A change made by a replica in another thread (it has written it to the store): applied to
   * memory only. Changes of different contacts commute, so replicas that apply each other's
   * deltas in any order agree. A saved binding tied to a connection that has closed meanwhile
   * replaces the earlier one of its contact but is not kept (the close came first here).
   */
  applyRemote(delta: BindingDelta): void {
    const before = this.bindings.get(delta.aor) ?? [];
    const touches = delta.touch ?? [];
    const list = before.filter((b) => !delta.remove.includes(b.contact) && !delta.save.some((s) => s.contact === b.contact) && !touches.some((t) => t[0] === b.contact));
    for (const b of delta.save) {
      if (b.connectionId !== undefined && !this.isConnectionOpen(b.connectionId)) continue;
      const old = before.find((x) => x.contact === b.contact);
      list.push(old === undefined ? b : sharing(b, old));
    }
    // a refresh of a binding this replica does not have (removed here meanwhile) stays removed
    for (const [contact, expires, cseq, updatedAt, callId] of touches) {
      const old = before.find((x) => x.contact === contact);
      if (old !== undefined) list.push(touched(old, expires, cseq, updatedAt, callId));
    }
    if (list.length === 0) this.bindings.delete(delta.aor);
    else this.bindings.set(delta.aor, list);
  }

  private change(aor: string, next: readonly ContactBinding[], replicate: boolean): void {
    const before = this.bindings.get(aor) ?? [];
    if (next.length === 0) this.bindings.delete(aor);
    else this.bindings.set(aor, [...next]);
    if (this.onEvent !== undefined && (replicate || this.reportsShared)) this.report(before, next);
    if (!this.store && this.onChange === undefined) return;
    const keep = new Set(next.map((b) => b.contact));
    const remove: string[] = [];
    const save: ContactBinding[] = [];
    const touch: ReplicaTouch[] = [];
    const refreshed: ContactBinding[] = [];
    for (const b of before) if (!keep.has(b.contact)) remove.push(b.contact);
    for (const b of next) {
      const old = before.find((x) => x.contact === b.contact);
      if (old === b) continue;
      if (old !== undefined && onlyRefreshes(b, old)) {
        touch.push([b.contact, b.expires, b.cseq, b.updatedAt, b.callId]);
        refreshed.push(b);
      } else save.push(b);
    }
    if (save.length === 0 && touch.length === 0 && remove.length === 0) return;
    const delta = replicate && this.onChange !== undefined ? (touch.length === 0 ? { aor, save, remove } : { aor, save, touch, remove }) : undefined;
    if (!this.store) {
      if (delta !== undefined) this.onChange!(delta);
      return;
    }
    for (const c of remove) {
      const key = `${aor}\0${c}`;
      this.pending.set(key, null);
      this.touchOnly.delete(key);
      this.unstored.delete(key);
    }
    for (const b of save) {
      const key = `${aor}\0${b.contact}`;
      this.pending.set(key, b);
      this.touchOnly.delete(key);
      this.unstored.delete(key);
    }
    // a touch only when nothing else of that contact waits in this batch (a save, a removal) and
    // its last write did not fail
    for (const b of refreshed) {
      const key = `${aor}\0${b.contact}`;
      if (this.unstored.delete(key)) this.touchOnly.delete(key);
      else if (!this.pending.has(key) || this.touchOnly.has(key)) this.touchOnly.add(key);
      this.pending.set(key, b);
    }
    const batch = this.openBatch();
    if (delta !== undefined) batch.deltas.push(delta);
    if (this.uncommitted.get(aor) !== batch) {
      this.uncommitted.set(aor, batch);
      batch.aors.push(aor);
    }
  }

  /**
   * The events of one change: a contact new (or whose binding had expired) is added, one kept is
   * refreshed, one gone is removed.
   */
  private report(before: readonly ContactBinding[], next: readonly ContactBinding[]): void {
    const now = this.now();
    const time = Date.now();
    for (const b of next) {
      const old = before.find((x) => x.contact === b.contact);
      if (old === b) continue;
      const type = old === undefined || old.expires <= now ? 'registration.added' : 'registration.refreshed';
      this.onEvent!(registrationEvent(type, b, Math.max(0, Math.round((b.expires - now) / 1000)), time));
    }
    for (const b of before) {
      if (b.expires <= now) continue; // expired already: the sweep tells of it
      if (!next.some((x) => x.contact === b.contact)) this.onEvent!(registrationEvent('registration.removed', b, 0, time));
    }
  }

  /** Remove every binding tied to a stream connection that has closed (flows, RFC 5626). */
  async removeConnection(connectionId: number): Promise<number> {
    let n = 0;
    for (const [aor, list] of this.bindings) {
      const keep = list.filter((b) => b.connectionId !== connectionId);
      if (keep.length !== list.length) {
        n += list.length - keep.length;
        this.change(aor, keep, false);
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
        if (this.onEvent !== undefined && this.reportsShared) {
          const time = Date.now();
          for (const b of list) if (b.expires <= now) this.onEvent({ type: 'registration.expired', time, aor: b.aor, contact: b.contact, expires: 0, ...(b.userAgent === undefined ? {} : { userAgent: b.userAgent }) });
        }
        if (keep.length === 0) this.bindings.delete(aor);
        else this.bindings.set(aor, keep);
      }
    }
    // a binding that expired needs no whole save any more
    for (const key of this.unstored) {
      const i = key.indexOf('\0');
      const contact = key.slice(i + 1);
      if (!(this.bindings.get(key.slice(0, i)) ?? []).some((b) => b.contact === contact)) this.unstored.delete(key);
    }
    if (this.store) {
      await this.flush();
      await this.store.purgeExpired(now - PURGE_GRACE_MS);
    }
    if (n > 0) this.log.debug({ expired: n }, 'expired bindings removed');
    return n;
  }
}

/** A binding's event: `source` is where its REGISTER came from. */
function registrationEvent(type: RegistrationEvent['type'], b: ContactBinding, expires: number, time: number): RegistrationEvent {
  const r = b.received;
  const host = r.address.includes(':') ? `[${r.address}]` : r.address;
  return { type, time, aor: b.aor, contact: b.contact, expires, source: `${r.transport}:${host}:${r.port}`, ...(b.userAgent === undefined ? {} : { userAgent: b.userAgent }) };
}
