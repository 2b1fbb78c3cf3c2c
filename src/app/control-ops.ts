import { OpsError, type Operations } from '../api/operations.js';

/**
 * The operations the control socket carries (`parley status`, `parley calls`, …), by part and
 * method, with the most arguments each takes. Nothing else is reachable: a request names a pair
 * from this table, never a property to look up. Left out: what takes a function (events,
 * subscribers.importMany), what answers whether a password is right (subscribers.checkAdmin), and
 * token creation (`parley token` works on the store itself).
 */
export const CONTROL_OPS: { readonly [P in keyof Operations]?: { readonly [method: string]: number } } = {
  server: { status: 0, ready: 0, config: 0 },
  metrics: { stats: 0, history: 0, prometheus: 0 },
  registrar: { bindings: 1, unregister: 2 },
  subscribers: { list: 1, get: 2, create: 1, update: 3, remove: 2 },
  calls: { list: 1, get: 1, hangup: 1 },
  traces: { list: 1, get: 1, ladder: 1 },
  script: { info: 0, check: 2, upload: 1, reload: 0, rollback: 1 },
  turn: { allocations: 0 },
  media: { sessions: 0 },
  tokens: { list: 0, revoke: 1 },
  captures: { list: 1, get: 1 },
};

/** An operation asked over the control socket. */
export interface OpRequest {
  readonly cmd: 'op';
  readonly part: string;
  readonly method: string;
  readonly args?: readonly unknown[];
}

/** Its answer: the result, or the OpsError's status, message and field (500: the server failed). */
export type OpAnswer =
  | { readonly ok: true; readonly result?: unknown }
  | { readonly ok: false; readonly status: number; readonly error: string; readonly field?: string };

/** The arity of an allowed pair, or undefined (own properties of the table only). */
export function allowedOp(part: unknown, method: unknown): number | undefined {
  if (typeof part !== 'string' || typeof method !== 'string') return undefined;
  if (!Object.hasOwn(CONTROL_OPS, part)) return undefined;
  const methods = CONTROL_OPS[part as keyof Operations]!;
  return Object.hasOwn(methods, method) ? methods[method] : undefined;
}

/**
 * Run one operation for the control socket. Never rejects: what the caller got wrong (a pair not
 * in the table, too many arguments, an OpsError of the operation) and what failed in the server
 * become the answer.
 */
export async function runOp(ops: () => Operations, request: OpRequest): Promise<OpAnswer> {
  const arity = allowedOp(request.part, request.method);
  if (arity === undefined) return { ok: false, status: 404, error: `no operation ${String(request.part)}.${String(request.method)}` };
  const args = request.args ?? [];
  if (!Array.isArray(args)) return { ok: false, status: 400, error: 'args is a list', field: 'args' };
  if (args.length > arity) return { ok: false, status: 400, error: `${request.part}.${request.method} takes at most ${arity} argument${arity === 1 ? '' : 's'}`, field: 'args' };
  try {
    const part = ops()[request.part as keyof Operations] as unknown as Record<string, (...a: unknown[]) => unknown>;
    const result = await part[request.method]!(...args);
    return result === undefined ? { ok: true } : { ok: true, result };
  } catch (e) {
    if (e instanceof OpsError) return { ok: false, status: e.status, error: e.message, ...(e.field === undefined ? {} : { field: e.field }) };
    return { ok: false, status: 500, error: e instanceof Error ? e.message : String(e) };
  }
}
