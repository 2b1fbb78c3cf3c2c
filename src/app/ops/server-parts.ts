import type { Logger as PinoLogger } from 'pino';
import type { ListenerInfo, TransportLayer } from '../../sip-server/transport/index.js';
import type { CoreQuery } from '../../sip-server/workers/worker-messages.js';
import type { SqliteDatabase } from '../../store/sqlite/sqlite-database.js';
import type { SubscriberStore } from '../../store/subscriber-store.js';
import type { ScriptHost } from '../../routing/script-host.js';
import type { ParleyConfig } from '../config.js';
import type { ConfigReloadOutcome } from '../config-reload.js';
import type { TurnThread } from '../turn-thread.js';
import type { MediaThread } from '../media-thread.js';
import type { WebServer } from '../web-server.js';
import type { Registry } from 'prom-client';
import type { EventHub } from './event-hub.js';
import type { CaptureSource } from './captures.js';

/** One SIP core's answer to a CoreQuery, or why it gave none. */
export type CoreAnswer = { readonly core: number; readonly answer: unknown } | { readonly core: number; readonly error: Error };

/**
 * The running server's parts the operations (src/app/ops/*) work on, handed over by run-server.ts
 * once everything is up. The same whether the SIP core runs in this thread (one core, 0) or in
 * worker threads (askCores asks each).
 */
export interface ServerParts {
  readonly config: ParleyConfig;
  readonly log: PinoLogger;
  /** The main thread's connection to the database (subscribers, bindings as written, tokens). */
  readonly db: SqliteDatabase;
  readonly subscribers: SubscriberStore;
  /** ms since the epoch. */
  readonly startedAt: number;
  /** SIP worker threads (0: the core runs in this thread). */
  readonly workers: number;
  /** Every listener as bound: SIP, then the web server's. */
  readonly listeners: readonly ListenerInfo[];
  readonly transports: TransportLayer;
  readonly scripts: ScriptHost;
  readonly web: WebServer | undefined;
  readonly media: MediaThread | undefined;
  /** The TURN thread (it starts last, and may not run). */
  turn(): TurnThread | undefined;
  /** Every event of the server, published once (the API's stream subscribes; ops/event-hub.ts). */
  readonly events: EventHub;
  /** Ask every SIP core (app/sip-core.ts `query`). */
  askCores(q: CoreQuery, timeoutMs?: number): Promise<readonly CoreAnswer[]>;
  /** A subscriber changed in the store: every core (and TURN) forgets its cached copy. */
  subscriberChanged(username?: string, domain?: string): void;
  /** The main thread's Prometheus metrics (metrics/main-metrics.ts): its sockets, limiter, worker queues, process. */
  readonly mainMetrics: Registry;
  /** The secrets TURN checks REST credentials with (`turn.restSecrets`, else the data directory's); empty when TURN is off. */
  readonly turnRestSecrets: readonly string[];
  /** Read the configuration file again and apply what can change live (run-server.ts; config-reload.ts). */
  reloadConfig(trigger: 'command' | 'signal' | 'api'): Promise<ConfigReloadOutcome>;
  /** The store of the HEP collector (`hep.listen`); undefined when none runs. */
  readonly captures?: CaptureSource;
  /** Call `fn` when the server stops (timers of the operations). */
  onStop(fn: () => void): void;
}
