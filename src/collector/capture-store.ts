/**
 * The collector's store: captured messages in one SQLite file (node:sqlite), grouped by Call-ID.
 * As Parley's own database (src/store/sqlite): WAL mode (readers never block the writer, a crash
 * of the process loses no commit), synchronous NORMAL, statements prepared once. Messages are
 * queued and written in batches, one transaction each (a commit per message would cap the
 * collector at the disk's commit rate): when `batchSize` are waiting, every `flushIntervalMs`,
 * before any query, and on `close`.
 *
 * The file is the collector's own (not parley.db): `parley hep listen --db FILE` makes it, and
 * `parley hep export` reads it.
 */
import { closeSync, openSync } from 'node:fs';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { withStoreErrors } from '../store/sqlite/to-store-error.js';
import { inTransaction } from '../store/sqlite/transaction.js';
import type { CaptureTransport, CapturedMessage } from './captured-message.js';

/** The schema version this code writes (PRAGMA user_version). */
export const CAPTURE_SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS hep_messages (
  id INTEGER PRIMARY KEY,
  time_us INTEGER NOT NULL,
  received_us INTEGER NOT NULL,
  call_id TEXT NOT NULL,
  src_addr TEXT NOT NULL,
  src_port INTEGER NOT NULL,
  dst_addr TEXT NOT NULL,
  dst_port INTEGER NOT NULL,
  transport TEXT NOT NULL,
  protocol_type INTEGER NOT NULL,
  method TEXT,
  status INTEGER,
  reason TEXT,
  cseq TEXT,
  from_uri TEXT,
  to_uri TEXT,
  from_tag TEXT,
  to_tag TEXT,
  capture_agent_id INTEGER,
  node_name TEXT,
  payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS hep_messages_call ON hep_messages (call_id, time_us, id);
CREATE INDEX IF NOT EXISTS hep_messages_time ON hep_messages (time_us, id);
`;

const COLUMNS = [
  'time_us', 'received_us', 'call_id', 'src_addr', 'src_port', 'dst_addr', 'dst_port', 'transport', 'protocol_type', 'method', 'status', 'reason',
  'cseq', 'from_uri', 'to_uri', 'from_tag', 'to_tag', 'capture_agent_id', 'node_name', 'payload',
] as const;

interface MessageRow {
  id: number;
  time_us: number;
  received_us: number;
  call_id: string;
  src_addr: string;
  src_port: number;
  dst_addr: string;
  dst_port: number;
  transport: string;
  protocol_type: number;
  method: string | null;
  status: number | null;
  reason: string | null;
  cseq: string | null;
  from_uri: string | null;
  to_uri: string | null;
  from_tag: string | null;
  to_tag: string | null;
  capture_agent_id: number | null;
  node_name: string | null;
  payload: Uint8Array;
}

/** A stored message: what was captured, and its row id (the order of arrival). */
export interface StoredMessage extends CapturedMessage {
  readonly id: number;
}

/** One call (one Call-ID) as `listCalls` sums it up. */
export interface CallSummary {
  readonly callId: string;
  /** The first and last message's capture time, microseconds since 1970 UTC. */
  readonly firstUs: number;
  readonly lastUs: number;
  readonly messages: number;
  /** From and To URIs of the call's first message that has them. */
  readonly fromUri?: string;
  readonly toUri?: string;
  /** The request methods seen, sorted. */
  readonly methods: readonly string[];
}

/** A time range, microseconds since 1970 UTC, both ends included; either may be left open. */
export interface TimeRange {
  readonly sinceUs?: number;
  readonly untilUs?: number;
}

export interface CaptureStoreOptions {
  /** Messages per transaction. Default 500. */
  readonly batchSize?: number;
  /** The longest a queued message waits for its commit, ms; 0: only by size, query and close. Default 200. */
  readonly flushIntervalMs?: number;
}

/** The counters of a store. */
export interface CaptureStoreStats {
  readonly stored: number;
  readonly pending: number;
  readonly batches: number;
}

const FAR_PAST = -Number.MAX_SAFE_INTEGER;
const FAR_FUTURE = Number.MAX_SAFE_INTEGER;

export class CaptureStore {
  private readonly db: DatabaseSync;
  private readonly insert: StatementSync;
  private readonly selectCalls: StatementSync;
  private readonly selectCall: StatementSync;
  private readonly selectRange: StatementSync;
  private readonly selectRangeCall: StatementSync;
  private readonly countAll: StatementSync;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private queue: CapturedMessage[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stored = 0;
  private batches = 0;

  /** Open (creating when missing) the capture database `file` (`:memory:` for tests). Throws StoreError ERR_STORE_IO. */
  static open(file: string, options: CaptureStoreOptions = {}): CaptureStore {
    return withStoreErrors(() => {
      let db: DatabaseSync | undefined;
      try {
        // captured SIP carries digest responses and phone numbers: owner-only from the start
        if (file !== ':memory:') closeSync(openSync(file, 'a', 0o600));
        db = new DatabaseSync(file, { timeout: 5000 });
        if (file !== ':memory:') {
          const row = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode?: unknown } | undefined;
          if (row?.journal_mode !== 'wal') throw new Error(`could not switch to WAL mode (journal_mode is ${String(row?.journal_mode)})`);
        }
        db.exec('PRAGMA synchronous = NORMAL');
        const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
        if (version > CAPTURE_SCHEMA_VERSION) throw new Error(`${file}: capture schema ${version} is newer than this Parley's (${CAPTURE_SCHEMA_VERSION})`);
        if (version === 0) {
          const other = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name <> 'hep_messages'").get() as { n: number };
          if (other.n > 0) throw new Error(`${file} is a database of something else (it has other tables)`);
        }
        db.exec(SCHEMA);
        db.exec(`PRAGMA user_version = ${CAPTURE_SCHEMA_VERSION}`);
        return new CaptureStore(db, options);
      } catch (e) {
        db?.close();
        throw e;
      }
    });
  }

  private constructor(db: DatabaseSync, options: CaptureStoreOptions) {
    this.db = db;
    this.batchSize = Math.max(1, options.batchSize ?? 500);
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.insert = db.prepare(`INSERT INTO hep_messages (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
    const firstOf = (column: string): string =>
      `(SELECT ${column} FROM hep_messages f WHERE f.call_id = m.call_id AND f.${column} IS NOT NULL ORDER BY f.time_us, f.id LIMIT 1)`;
    this.selectCalls = db.prepare(
      `SELECT m.call_id AS call_id, MIN(m.time_us) AS first_us, MAX(m.time_us) AS last_us, COUNT(*) AS messages,
         ${firstOf('from_uri')} AS from_uri, ${firstOf('to_uri')} AS to_uri, GROUP_CONCAT(DISTINCT m.method) AS methods
       FROM hep_messages m WHERE m.time_us BETWEEN ? AND ? GROUP BY m.call_id ORDER BY first_us, m.call_id`,
    );
    const all = `id, ${COLUMNS.join(', ')}`;
    this.selectCall = db.prepare(`SELECT ${all} FROM hep_messages WHERE call_id = ? ORDER BY time_us, id`);
    this.selectRange = db.prepare(`SELECT ${all} FROM hep_messages WHERE time_us BETWEEN ? AND ? ORDER BY time_us, id`);
    this.selectRangeCall = db.prepare(`SELECT ${all} FROM hep_messages WHERE call_id = ? AND time_us BETWEEN ? AND ? ORDER BY time_us, id`);
    this.countAll = db.prepare('SELECT count(*) AS n FROM hep_messages');
  }

  /** Queue a message; written with its batch. */
  add(m: CapturedMessage): void {
    this.queue.push(m);
    if (this.queue.length >= this.batchSize) this.flush();
    else if (this.timer === undefined && this.flushIntervalMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Write what is queued, in one transaction. Throws StoreError ERR_STORE_IO (the batch stays queued). */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.queue.length === 0) return;
    const batch = this.queue;
    withStoreErrors(() =>
      inTransaction(
        this.db,
        () => {
          for (const m of batch) this.insert.run(...toRow(m));
        },
        'immediate',
      ),
    );
    this.queue = [];
    this.stored += batch.length;
    this.batches++;
  }

  get stats(): CaptureStoreStats {
    return { stored: this.stored, pending: this.queue.length, batches: this.batches };
  }

  /** Messages in the file (written ones). */
  count(): number {
    this.flush();
    return withStoreErrors(() => (this.countAll.get() as { n: number }).n);
  }

  /** The calls with a message in `range`, by their first message's time. */
  listCalls(range: TimeRange = {}): CallSummary[] {
    this.flush();
    const rows = withStoreErrors(() => this.selectCalls.all(range.sinceUs ?? FAR_PAST, range.untilUs ?? FAR_FUTURE)) as unknown as {
      call_id: string;
      first_us: number;
      last_us: number;
      messages: number;
      from_uri: string | null;
      to_uri: string | null;
      methods: string | null;
    }[];
    return rows.map((r) => ({
      callId: r.call_id,
      firstUs: r.first_us,
      lastUs: r.last_us,
      messages: r.messages,
      ...(r.from_uri !== null ? { fromUri: r.from_uri } : {}),
      ...(r.to_uri !== null ? { toUri: r.to_uri } : {}),
      // method names are tokens: no comma in them (RFC 3261 §25.1)
      methods: r.methods === null ? [] : r.methods.split(',').sort(),
    }));
  }

  /** The messages of one call, in capture order. */
  messagesOfCall(callId: string): StoredMessage[] {
    this.flush();
    return (withStoreErrors(() => this.selectCall.all(callId)) as unknown as MessageRow[]).map(fromRow);
  }

  /** The messages in `range` (of one call when `callId` is given), in capture order, one at a time: constant memory on a large file. */
  *iterateMessages(range: TimeRange = {}, callId?: string): Generator<StoredMessage> {
    this.flush();
    const since = range.sinceUs ?? FAR_PAST;
    const until = range.untilUs ?? FAR_FUTURE;
    const it = callId === undefined ? this.selectRange.iterate(since, until) : this.selectRangeCall.iterate(callId, since, until);
    for (const row of it) yield fromRow(row as unknown as MessageRow);
  }

  /** The messages in `range`, in capture order. */
  messagesBetween(range: TimeRange): StoredMessage[] {
    return [...this.iterateMessages(range)];
  }

  /** Write what is queued and close. Idempotent. */
  close(): void {
    if (!this.db.isOpen) return;
    try {
      this.flush();
    } finally {
      this.db.close();
    }
  }
}

function toRow(m: CapturedMessage): SQLInputValue[] {
  return [
    m.timeUs, m.receivedUs, m.callId, m.srcAddr, m.srcPort, m.dstAddr, m.dstPort, m.transport, m.protocolType, m.method ?? null, m.status ?? null,
    m.reason ?? null, m.cseq ?? null, m.fromUri ?? null, m.toUri ?? null, m.fromTag ?? null, m.toTag ?? null, m.captureAgentId ?? null,
    m.nodeName ?? null, m.payload,
  ];
}

function fromRow(r: MessageRow): StoredMessage {
  const opt = <K extends string, V>(k: K, v: V | null): { [P in K]?: V } => (v === null ? {} : ({ [k]: v } as { [P in K]?: V }));
  return {
    id: r.id,
    timeUs: r.time_us,
    receivedUs: r.received_us,
    callId: r.call_id,
    srcAddr: r.src_addr,
    srcPort: r.src_port,
    dstAddr: r.dst_addr,
    dstPort: r.dst_port,
    transport: r.transport as CaptureTransport,
    protocolType: r.protocol_type,
    ...opt('method', r.method),
    ...opt('status', r.status),
    ...opt('reason', r.reason),
    ...opt('cseq', r.cseq),
    ...opt('fromUri', r.from_uri),
    ...opt('toUri', r.to_uri),
    ...opt('fromTag', r.from_tag),
    ...opt('toTag', r.to_tag),
    ...opt('captureAgentId', r.capture_agent_id),
    ...opt('nodeName', r.node_name),
    payload: r.payload,
  };
}
