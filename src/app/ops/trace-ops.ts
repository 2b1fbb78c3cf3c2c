import { join } from 'node:path';
import { OpsError, type Ladder, type Page, type PageQuery, type TraceOps, type TraceSummary } from '../../api/operations.js';
import { buildLadder } from '../../routing/trace-ladder.js';
import type { TraceReportJson } from '../../routing/trace-recorder.js';
import { listTraces, readTraces } from '../../routing/trace-store.js';
import type { ServerParts } from './server-parts.js';

/** PageQuery's bounds (src/api/operations.ts). */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** A page's bounds from a query: offset ≥ 0, 1 ≤ limit ≤ 1000. */
export function pageBounds(q: PageQuery = {}): { offset: number; limit: number } {
  const offset = q.offset ?? 0;
  const limit = q.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(offset) || offset < 0) throw new OpsError(400, 'offset must be a whole number, 0 or more', 'offset');
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new OpsError(400, `limit must be a whole number from 1 to ${MAX_LIMIT}`, 'limit');
  return { offset, limit };
}

/**
 * The routing traces of test calls (routing.traceCallIdPrefix), as `parley trace` reads them:
 * the files under `<dataDir>/traces/` that every SIP core writes (trace-store.ts).
 */
export function createTraceOps(parts: Pick<ServerParts, 'config'>): TraceOps {
  const dir = join(parts.config.dataDir, 'traces');

  const reports = async (callId: string): Promise<TraceReportJson[]> => {
    let found: TraceReportJson[];
    try {
      found = await readTraces(dir, callId);
    } catch (e) {
      // a file cut short (written right now) or edited by hand
      throw new OpsError(503, `the trace of ${callId} cannot be read now: ${(e as Error).message}`);
    }
    if (found.length === 0) throw new OpsError(404, `no trace of call ${callId}`, 'callId');
    return found;
  };

  return {
    list: async (query?: PageQuery): Promise<Page<TraceSummary>> => {
      const { offset, limit } = pageBounds(query);
      const all = await listTraces(dir);
      return {
        items: all.slice(offset, offset + limit).map((c) => ({ callId: c.callId, requests: c.requests, modified: c.modified.toISOString() })),
        total: all.length,
        offset,
        limit,
      };
    },
    get: async (callId: string): Promise<readonly unknown[]> => reports(callId),
    ladder: async (callId: string): Promise<Ladder> => buildLadder(callId, await reports(callId)),
  };
}
