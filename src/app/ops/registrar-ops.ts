import type { StatementSync } from 'node:sqlite';
import { OpsError, type BindingView, type Page, type RegistrarOps } from '../../api/operations.js';
import { containsPattern } from '../../store/sqlite/like-pattern.js';
import type { ServerParts } from './server-parts.js';
import { pageOf } from './subscriber-ops.js';

interface BindingRow {
  aor: string;
  contact: string;
  expires: number;
  q: number;
  received: string;
  instance: string | null;
  reg_id: number | null;
  user_agent: string | null;
  updated_at: number;
}

const COLUMNS = 'aor, contact, expires, q, received, instance, reg_id, user_agent, updated_at';

/**
 * RegistrarOps. The list is read from the database, where every SIP core's bindings meet (with
 * worker threads each core holds a replica; the store has them all): a REGISTER's binding is
 * committed before its 200 is sent, so the list lags the registrar by the commit of the batch
 * (milliseconds; with worker threads, the binding writer's batch). Unregistering goes through the
 * cores (CoreQuery `unregister`), so their replicas and the store agree.
 */
export function registrarOps(parts: Pick<ServerParts, 'db' | 'askCores'>, now: () => number = Date.now): RegistrarOps {
  const db = parts.db.handle;
  const statements = new Map<string, { rows: StatementSync; count: StatementSync }>();
  const prepared = (clause: string): { rows: StatementSync; count: StatementSync } => {
    let s = statements.get(clause);
    if (s === undefined) {
      // ordered by the primary key (aor, contact): an AOR's rows are one range of its index
      s = { rows: db.prepare(`SELECT ${COLUMNS} FROM bindings WHERE ${clause} ORDER BY aor, contact LIMIT ? OFFSET ?`), count: db.prepare(`SELECT count(*) AS n FROM bindings WHERE ${clause}`) };
      statements.set(clause, s);
    }
    return s;
  };
  return {
    bindings: async (query) => {
      const { offset, limit } = pageOf(query);
      const t = now();
      const where = ['expires > ?'];
      const params: Array<string | number> = [t];
      if (query.aor !== undefined) {
        where.push('aor = ?');
        params.push(canonicalAor(query.aor));
      }
      if (query.search !== undefined && query.search !== '') {
        where.push("(aor LIKE ? ESCAPE '\\' OR contact LIKE ? ESCAPE '\\' OR user_agent LIKE ? ESCAPE '\\')");
        const pattern = containsPattern(query.search);
        params.push(pattern, pattern, pattern);
      }
      const s = prepared(where.join(' AND '));
      const rows = s.rows.all(...params, limit, offset) as unknown as BindingRow[];
      const total = Number((s.count.get(...params) as { n: number }).n);
      return { items: rows.map((r) => view(r, t)), total, offset, limit } satisfies Page<BindingView>;
    },
    unregister: async (aor, contact) => {
      const canonical = canonicalAor(aor);
      const answers = await parts.askCores({ q: 'unregister', aor: canonical, ...(contact === undefined ? {} : { contact }) });
      let removed = 0;
      let answered = 0;
      for (const a of answers) {
        if ('error' in a) continue;
        answered++;
        removed = Math.max(removed, Number((a.answer as { removed?: unknown }).removed ?? 0));
      }
      if (answered === 0) throw new OpsError(503, 'no SIP core answered');
      if (removed === 0) throw new OpsError(404, contact === undefined ? `no bindings for ${canonical}` : `no binding of ${contact} for ${canonical}`, contact === undefined ? 'aor' : 'contact');
      return removed;
    },
  };
}

/** `sip:alice@Example.com` or `alice@Example.com` → `alice@example.com` (the store's form). */
export function canonicalAor(aor: string): string {
  let a = aor;
  const lower = a.slice(0, 5).toLowerCase();
  if (lower.startsWith('sips:')) a = a.slice(5);
  else if (lower.startsWith('sip:')) a = a.slice(4);
  const at = a.lastIndexOf('@');
  return at < 0 ? a.toLowerCase() : `${a.slice(0, at)}@${a.slice(at + 1).toLowerCase()}`;
}

function view(r: BindingRow, now: number): BindingView {
  let source = '';
  try {
    const rec = JSON.parse(r.received) as { transport?: string; address?: string; port?: number };
    const host = rec.address?.includes(':') === true ? `[${rec.address}]` : rec.address;
    source = `${rec.transport}:${host}:${rec.port}`;
  } catch {
    // a row written by another program: no source
  }
  return {
    aor: r.aor,
    contact: r.contact,
    expires: new Date(r.expires).toISOString(),
    expiresIn: Math.max(0, Math.round((r.expires - now) / 1000)),
    q: r.q,
    source,
    ...(r.user_agent === null ? {} : { userAgent: r.user_agent }),
    ...(r.instance === null ? {} : { instance: r.instance }),
    ...(r.reg_id === null ? {} : { regId: r.reg_id }),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}
