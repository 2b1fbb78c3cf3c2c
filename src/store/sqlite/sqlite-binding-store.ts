import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { BindingChanges, BindingStore, BindingTouch, ContactBinding } from '../binding-store.js';
import { StoreError } from '../store-error.js';
import type { SqliteDatabase } from './sqlite-database.js';
import { withStoreErrors } from './to-store-error.js';
import { inTransaction } from './transaction.js';

interface BindingRow {
  aor: string;
  contact: string;
  expires: number;
  q: number;
  call_id: string;
  cseq: number;
  path: string;
  instance: string | null;
  reg_id: number | null;
  received: string;
  send_to: string;
  connection_id: number | null;
  node: string;
  user_agent: string | null;
  updated_at: number;
}

/** The columns of a binding row; toValues gives the upsert's parameters in this order. */
const COLUMNS: readonly (keyof BindingRow)[] = [
  'aor',
  'contact',
  'expires',
  'q',
  'call_id',
  'cseq',
  'path',
  'instance',
  'reg_id',
  'received',
  'send_to',
  'connection_id',
  'node',
  'user_agent',
  'updated_at',
];

const TRANSPORTS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls', 'ws', 'wss']);
const SEND_TO: ReadonlySet<string> = new Set(['source', 'contact']);

/**
 * Location bindings in Parley's SQLite database, one row per (aor, contact): `save` replaces the
 * row a refresh of the same contact finds (RFC 3261 §10.3 step 7). Path and received are JSON
 * columns; optional fields are NULL when absent. The location service keeps bindings in memory and
 * writes through, so these calls are off the hot path of a lookup.
 */
export class SqliteBindingStore implements BindingStore {
  private readonly upsert: StatementSync;
  private readonly touchOne: StatementSync;
  private readonly deleteOne: StatementSync;
  private readonly deleteAor: StatementSync;
  private readonly selectLive: StatementSync;
  private readonly deleteExpired: StatementSync;

  private readonly db: DatabaseSync;

  constructor(database: SqliteDatabase) {
    const db = database.handle;
    this.db = db;
    const keyed = new Set<string>(['aor', 'contact']);
    // Positional parameters, bound from an array in COLUMNS order: binding the 15 values from an
    // object by name cost the binding writer about a third more CPU per row (bench/store/README.md).
    this.upsert = db.prepare(
      `INSERT INTO bindings (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})
       ON CONFLICT (aor, contact) DO UPDATE SET ${COLUMNS.filter((c) => !keyed.has(c))
         .map((c) => `${c} = excluded.${c}`)
         .join(', ')}`,
    );
    this.touchOne = db.prepare('UPDATE bindings SET expires = ?, cseq = ?, updated_at = ?, call_id = ? WHERE aor = ? AND contact = ?');
    this.deleteOne = db.prepare('DELETE FROM bindings WHERE aor = ? AND contact = ?');
    this.deleteAor = db.prepare('DELETE FROM bindings WHERE aor = ?');
    this.selectLive = db.prepare(`SELECT ${COLUMNS.join(', ')} FROM bindings WHERE expires > ? ORDER BY aor, contact`);
    this.deleteExpired = db.prepare('DELETE FROM bindings WHERE expires <= ?');
  }

  /** Insert or replace the binding of (aor, contact). Throws StoreError ERR_STORE_INVALID naming a bad field. */
  async save(binding: ContactBinding): Promise<void> {
    const values = toValues(binding);
    withStoreErrors(() => this.upsert.run(...values));
  }

  /** Saves and removals in one SQLite transaction: one commit for a whole batch. */
  async apply(changes: BindingChanges): Promise<void> {
    this.transaction(() => this.applyRows(changes));
  }

  async remove(aor: string, contact: string): Promise<void> {
    withStoreErrors(() => this.deleteOne.run(aor, contact));
  }

  async removeAor(aor: string): Promise<void> {
    this.removeAorRows(aor);
  }

  /**
   * Run `fn` in one transaction, synchronously (the binding writer commits the writes of several
   * workers at once this way); rolled back when it throws, as a StoreError.
   */
  transaction<T>(fn: () => T): T {
    return withStoreErrors(() => inTransaction(this.db, fn));
  }

  /** The writes of `apply`, synchronously, in the caller's transaction (`transaction`). Throws StoreError. */
  applyRows(changes: BindingChanges): void {
    const rows = changes.save.map(toValues);
    const touches = changes.touch ?? [];
    for (const t of touches) checkTouch(t);
    withStoreErrors(() => {
      for (const values of rows) this.upsert.run(...values);
      for (const [aor, contact, expires, cseq, updatedAt, callId] of touches) this.touchOne.run(expires, cseq, updatedAt, callId, aor, contact);
      for (const [aor, contact] of changes.remove) this.deleteOne.run(aor, contact);
    });
  }

  /** `removeAor`, synchronously. */
  removeAorRows(aor: string): void {
    withStoreErrors(() => this.deleteAor.run(aor));
  }

  /** `purgeExpired`, synchronously. */
  purgeRows(now: number): number {
    return Number(withStoreErrors(() => this.deleteExpired.run(now)).changes);
  }

  /** Bindings with `expires > now`, ordered by aor then contact. */
  async loadAll(now: number): Promise<ContactBinding[]> {
    return (withStoreErrors(() => this.selectLive.all(now)) as unknown as BindingRow[]).map(toBinding);
  }

  async purgeExpired(now: number): Promise<number> {
    return this.purgeRows(now);
  }
}

function invalid(field: string, problem: string): StoreError {
  return new StoreError('ERR_STORE_INVALID', `${field}: ${problem}`);
}

/** Throws StoreError ERR_STORE_INVALID naming a bad field of a touch. */
function checkTouch([aor, contact, expires, cseq, updatedAt, callId]: BindingTouch): void {
  if (aor.length === 0) throw invalid('aor', 'must not be empty');
  if (contact.length === 0) throw invalid('contact', 'must not be empty');
  if (!Number.isFinite(expires)) throw invalid('expires', 'must be a finite number of ms since the epoch');
  if (!Number.isFinite(updatedAt)) throw invalid('updatedAt', 'must be a finite number of ms since the epoch');
  if (!Number.isSafeInteger(cseq) || cseq < 0) throw invalid('cseq', 'must be a non-negative integer');
  if (typeof callId !== 'string') throw invalid('callId', 'must be a string');
}

/** The upsert's parameters: the row of `b` in COLUMNS order. Throws StoreError ERR_STORE_INVALID naming a bad field. */
function toValues(b: ContactBinding): SQLInputValue[] {
  if (b.aor.length === 0) throw invalid('aor', 'must not be empty');
  if (b.contact.length === 0) throw invalid('contact', 'must not be empty');
  if (!Number.isFinite(b.expires)) throw invalid('expires', 'must be a finite number of ms since the epoch');
  if (!Number.isFinite(b.updatedAt)) throw invalid('updatedAt', 'must be a finite number of ms since the epoch');
  if (!(b.q >= 0 && b.q <= 1)) throw invalid('q', 'must be between 0 and 1');
  if (!Number.isSafeInteger(b.cseq) || b.cseq < 0) throw invalid('cseq', 'must be a non-negative integer');
  if (!TRANSPORTS.has(b.received.transport)) throw invalid('received.transport', `must be one of ${[...TRANSPORTS].join(', ')}`);
  if (b.sendTo !== undefined && !SEND_TO.has(b.sendTo)) throw invalid('sendTo', `must be one of ${[...SEND_TO].join(', ')}`);
  const received: ContactBinding['received'] = {
    transport: b.received.transport,
    address: b.received.address,
    port: b.received.port,
    ...(b.received.localAddress === undefined ? {} : { localAddress: b.received.localAddress }),
    ...(b.received.localPort === undefined ? {} : { localPort: b.received.localPort }),
  };
  return [
    b.aor,
    b.contact,
    b.expires,
    b.q,
    b.callId,
    b.cseq,
    JSON.stringify(b.path),
    b.instance ?? null,
    b.regId ?? null,
    JSON.stringify(received),
    b.sendTo ?? 'source',
    b.connectionId ?? null,
    b.node,
    b.userAgent ?? null,
    b.updatedAt,
  ];
}

function toBinding(row: BindingRow): ContactBinding {
  let path: string[];
  let received: ContactBinding['received'];
  try {
    path = JSON.parse(row.path) as string[];
    received = JSON.parse(row.received) as ContactBinding['received'];
  } catch (e) {
    throw new StoreError('ERR_STORE_IO', `database: binding ${row.aor} ${row.contact} has a corrupt JSON column`, { cause: e });
  }
  return {
    aor: row.aor,
    contact: row.contact,
    expires: row.expires,
    q: row.q,
    callId: row.call_id,
    cseq: row.cseq,
    path,
    ...(row.instance === null ? {} : { instance: row.instance }),
    ...(row.reg_id === null ? {} : { regId: row.reg_id }),
    received,
    sendTo: row.send_to === 'contact' ? 'contact' : 'source',
    ...(row.connection_id === null ? {} : { connectionId: row.connection_id }),
    node: row.node,
    ...(row.user_agent === null ? {} : { userAgent: row.user_agent }),
    updatedAt: row.updated_at,
  };
}

