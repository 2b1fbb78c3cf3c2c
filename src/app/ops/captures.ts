import { OpsError, type CaptureOps, type CaptureQuery, type CaptureSummary, type CapturedCall, type Page } from '../../api/operations.js';
import { captureLadder, hostPort, type StoredCapture } from './capture-ladder.js';
import { pageBounds } from './trace-ops.js';

/** A stored call's figures, as the collector's store lists them (times in ms since the epoch). */
export interface StoredCallSummary {
  readonly callId: string;
  readonly messages: number;
  readonly firstAt: number;
  readonly lastAt: number;
  readonly from?: string;
  readonly to?: string;
  readonly methods: readonly string[];
}

/** A captured message as stored, with what the API shows besides the ladder. */
export interface StoredCaptureMessage extends StoredCapture {
  readonly agentId?: number;
}

/**
 * What the captures operations read: the store of the HEP collector that `parley serve` runs
 * with `hep.listen` (messages grouped by Call-ID). The collector's own store answers it through
 * a small adapter in run-server.ts.
 */
export interface CaptureSource {
  /** Calls whose Call-ID contains `search` (any case; all without), the latest message first. */
  calls(query: { readonly search?: string; readonly offset: number; readonly limit: number }): Promise<{ readonly items: readonly StoredCallSummary[]; readonly total: number }>;
  /** The call's messages in the order stored; empty when none. */
  messages(callId: string): Promise<readonly StoredCaptureMessage[]>;
}

/** The longest search text (a Call-ID is rarely over 100 characters). */
const MAX_SEARCH = 256;

/**
 * The calls captured over HEP (`hep.listen`): list them and read one, with the ladder the
 * dashboard draws. Without a collector every call answers 503 and says which key turns it on.
 */
export function createCaptureOps(source: CaptureSource | undefined): CaptureOps {
  const need = (): CaptureSource => {
    if (source === undefined) throw new OpsError(503, 'no HEP collector runs here: set hep.listen.address to capture calls over HEP');
    return source;
  };
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    list: async (query: CaptureQuery = {}): Promise<Page<CaptureSummary>> => {
      const { offset, limit } = pageBounds(query);
      const search = query.search?.trim();
      if (search !== undefined && search.length > MAX_SEARCH) throw new OpsError(400, `search is at most ${MAX_SEARCH} characters`, 'search');
      const page = await need().calls({ ...(search === undefined || search === '' ? {} : { search }), offset, limit });
      return {
        items: page.items.map((c) => ({
          callId: c.callId,
          messages: c.messages,
          firstAt: iso(c.firstAt),
          lastAt: iso(c.lastAt),
          ...(c.from === undefined ? {} : { from: c.from }),
          ...(c.to === undefined ? {} : { to: c.to }),
          methods: c.methods,
        })),
        total: page.total,
        offset,
        limit,
      };
    },
    get: async (callId: string): Promise<CapturedCall> => {
      const stored = await need().messages(callId);
      if (stored.length === 0) throw new OpsError(404, `no captured call ${callId}`, 'callId');
      return {
        callId,
        messages: stored.map((m) => ({
          time: iso(m.at),
          transport: m.transport.toLowerCase(),
          source: hostPort(m.sourceAddress, m.sourcePort),
          destination: hostPort(m.destinationAddress, m.destinationPort),
          ...(m.agentId === undefined ? {} : { agentId: m.agentId }),
          message: m.message,
        })),
        ladder: captureLadder(callId, stored),
      };
    },
  };
}
