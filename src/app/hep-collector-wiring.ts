import { join } from 'node:path';
import type { Logger as PinoLogger } from 'pino';
import { CaptureStore, HepCollector, type CallSummary, type HepCollectorStats, type StoredMessage } from '../collector/index.js';
import { HepProtocolType } from '../hep/index.js';
import { parseNgListen } from '../media/ng/start-ng-control.js';
import type { ConfigLocator, ParleyConfig } from './config.js';
import type { CaptureSource, StoredCallSummary, StoredCaptureMessage } from './ops/captures.js';
import { StartError } from './start-error.js';

/** The capture database of the collector inside `parley serve`, in the data directory. */
export const CAPTURES_FILE = 'hep-captures.db';

/** The collector `hep.listen` runs: where it listens, what the operations read, how it stops. */
export interface RunningHepCollector {
  /** `udp:127.0.0.1:9060`, `tcp:127.0.0.1:9060`: as bound. */
  readonly listening: readonly string[];
  readonly source: CaptureSource;
  stats(): HepCollectorStats;
  stop(): Promise<void>;
}

const utf8 = new TextDecoder();

/** A stored message that is SIP (what a ladder draws): a method or a status was read from it. */
function isSip(m: StoredMessage): boolean {
  return (m.protocolType === HepProtocolType.SIP || m.protocolType === 0) && (m.method !== undefined || m.status !== undefined);
}

/**
 * The collector's store as the captures operations read it (src/app/ops/captures.ts): calls
 * filtered by Call-ID, the latest message first, paged; a call's SIP messages as text.
 * `listCalls` sums every call up at each request: fine for the dashboard's hundreds of calls,
 * a query of its own when captures grow to millions.
 */
export function captureSource(store: CaptureStore): CaptureSource {
  return {
    calls: async ({ search, offset, limit }) => {
      const needle = search?.toLowerCase();
      // messages that name no call (a log line without a correlation id) are not a call
      const matching = store.listCalls().filter((c) => c.callId !== '' && (needle === undefined || c.callId.toLowerCase().includes(needle)));
      matching.sort((a, b) => b.lastUs - a.lastUs || (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0));
      return { items: matching.slice(offset, offset + limit).map(summary), total: matching.length };
    },
    messages: async (callId) => store.messagesOfCall(callId).filter(isSip).map(message),
  };
}

function summary(c: CallSummary): StoredCallSummary {
  return {
    callId: c.callId,
    messages: c.messages,
    firstAt: c.firstUs / 1000,
    lastAt: c.lastUs / 1000,
    ...(c.fromUri === undefined ? {} : { from: c.fromUri }),
    ...(c.toUri === undefined ? {} : { to: c.toUri }),
    methods: c.methods,
  };
}

function message(m: StoredMessage): StoredCaptureMessage {
  return {
    at: m.timeUs / 1000,
    transport: m.transport,
    sourceAddress: m.srcAddr,
    sourcePort: m.srcPort,
    destinationAddress: m.dstAddr,
    destinationPort: m.dstPort,
    ...(m.captureAgentId === undefined ? {} : { agentId: m.captureAgentId }),
    message: utf8.decode(m.payload),
  };
}

/**
 * Start the HEP collector of `hep.listen` (undefined when `hep.listen.address` is unset): its
 * store in `<dataDir>/hep-captures.db`, UDP and/or TCP on the address's port. An address that is
 * not one, a port in use or a store that cannot open is a StartError naming the key.
 */
export async function startHepCollector(config: ParleyConfig, locate: ConfigLocator, log: PinoLogger): Promise<RunningHepCollector | undefined> {
  const { address, transports, authKey } = config.hep.listen;
  if (address === undefined) return undefined;
  // any IP address may listen: a collector takes what agents on other hosts send
  const parsed = parseNgListen(address, true);
  if (!parsed.ok) throw new StartError(locate(['hep', 'listen', 'address']), parsed.error);
  let store: CaptureStore;
  try {
    store = CaptureStore.open(join(config.dataDir, CAPTURES_FILE));
  } catch (e) {
    throw new StartError(locate(['dataDir']), `cannot open the HEP capture store: ${(e as Error).message}`, { cause: e });
  }
  const at = { host: parsed.value.address, port: parsed.value.port };
  let dropped = 0;
  const collector = new HepCollector({
    ...(transports.includes('udp') ? { udp: at } : {}),
    ...(transports.includes('tcp') ? { tcp: at } : {}),
    ...(authKey === undefined ? {} : { authKey }),
    store,
    // every drop counted; the first few said, then one line per 1000 (a flood must not flood the log)
    onDrop: (reason, detail, from) => {
      dropped++;
      if (dropped <= 10 || dropped % 1000 === 0) log.warn({ reason, detail, from, dropped }, 'HEP packet dropped');
    },
  });
  try {
    await collector.start();
  } catch (e) {
    store.close();
    const code = (e as NodeJS.ErrnoException).code;
    throw new StartError(locate(['hep', 'listen', 'address']), code === 'EADDRINUSE' ? `${address} is in use` : (e as Error).message, { cause: e });
  }
  const bound = collector.addresses();
  const name = (t: string, a: { host: string; port: number } | undefined): string[] => (a === undefined ? [] : [`${t}:${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`]);
  return {
    listening: [...name('udp', bound.udp), ...name('tcp', bound.tcp)],
    source: captureSource(store),
    stats: () => collector.stats,
    stop: async () => {
      try {
        await collector.stop();
      } finally {
        store.close();
      }
    },
  };
}
