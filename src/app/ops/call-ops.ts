import { OpsError, type CallOps, type CallView, type Page } from '../../api/operations.js';
import type { CallSnapshot } from '../../sip-server/proxy/calls/call-record.js';
import { byAge } from '../../sip-server/proxy/calls/call-tracker.js';
import type { CoreAnswer, ServerParts } from './server-parts.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/**
 * The live calls (Kamailio's `dlg.list` / `dlg.end_dlg`): every SIP core keeps the calls it relays
 * (a call's messages all reach the core its Call-ID hashes to), so a list asks every core for its
 * first `offset + limit` matches and merges them oldest first; a hang-up asks every core, and the
 * one holding the call sends the BYEs (or the CANCELs).
 */
export function callOps(parts: Pick<ServerParts, 'askCores'>): CallOps {
  const list = async (query: { readonly offset?: number; readonly limit?: number; readonly search?: string; readonly callId?: string } = {}): Promise<Page<CallView>> => {
    const offset = query.offset ?? 0;
    const limit = query.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(offset) || offset < 0) throw new OpsError(400, 'offset must be an integer ≥ 0', 'offset');
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new OpsError(400, `limit must be an integer from 1 to ${MAX_LIMIT}`, 'limit');
    const answers = await parts.askCores({
      q: 'calls',
      limit: offset + limit,
      ...(query.search === undefined ? {} : { search: query.search }),
      ...(query.callId === undefined ? {} : { callId: query.callId }),
    });
    let total = 0;
    const all: CallView[] = [];
    for (const a of answered(answers)) {
      const { total: n, items } = a.answer as { total: number; items: CallSnapshot[] };
      total += n;
      for (const item of items) all.push({ ...item, core: a.core });
    }
    all.sort(byAge);
    return { items: all.slice(offset, offset + limit), total, offset, limit };
  };
  return {
    list,
    get: async (callId) => {
      const page = await list({ callId, limit: 1 });
      const call = page.items[0];
      if (call === undefined) throw new OpsError(404, `no call ${callId}`, 'callId');
      return call;
    },
    hangup: async (callId) => {
      const answers = await parts.askCores({ q: 'hangup', callId });
      if (!answered(answers).some((a) => (a.answer as { found: boolean }).found)) throw new OpsError(404, `no call ${callId}`, 'callId');
    },
  };
}

/** The cores that answered; when none did (every worker failed), 503. */
function answered(answers: readonly CoreAnswer[]): Array<{ readonly core: number; readonly answer: unknown }> {
  const ok = answers.filter((a): a is { readonly core: number; readonly answer: unknown } => 'answer' in a);
  if (ok.length === 0 && answers.length > 0) throw new OpsError(503, `no SIP core answered: ${answers.map((a) => ('error' in a ? a.error.message : '')).join('; ')}`);
  return ok;
}
