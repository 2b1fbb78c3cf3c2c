import type { ParleyEvent, ParleyEventType } from '../lib/events.js';

/**
 * What the operator's interfaces (the REST API in src/api, the control socket behind the
 * `parley status|registrations|calls|stats|…` commands, the dashboard through the API) may ask of a
 * running server: one facade, implemented by the composition root (src/app/ops/*), so that every
 * CLI action is also an API call and both give the same answers.
 *
 * Each part says which file implements it. Views are plain JSON (they travel over the control
 * socket and HTTP as they are). Methods reject with OpsError for what the caller got wrong.
 */
export interface Operations {
  readonly server: ServerOps;
  readonly metrics: MetricsOps;
  readonly registrar: RegistrarOps;
  readonly subscribers: SubscriberOps;
  readonly calls: CallOps;
  readonly events: EventOps;
  readonly traces: TraceOps;
  readonly script: ScriptOps;
  readonly turn: TurnOps;
  readonly media: MediaOps;
  readonly tokens: TokenOps;
  readonly configuration: ConfigurationOps;
  readonly captures: CaptureOps;
}

/** An error the caller caused: `status` is what HTTP answers (404, 409, 400, …); the CLI exits 1. */
export class OpsError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413 | 422 | 503,
    message: string,
    /** The request field at fault, when one is (`username`, `script`, …). */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'OpsError';
  }
}

export interface Page<T> {
  readonly items: readonly T[];
  /** How many match the filter in all. */
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
}

export interface PageQuery {
  /** Default 0. */
  readonly offset?: number;
  /** Default 100, at most 1000. */
  readonly limit?: number;
}

// ---- server (src/app/ops/server-ops.ts) ------------------------------------------------------

export interface ServerStatus {
  readonly version: string;
  readonly pid: number;
  readonly node: string;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  /** `udp:0.0.0.0:5060`, `wss:0.0.0.0:8443`, TURN's `turn-udp:…`. */
  readonly listeners: readonly string[];
  /** SIP worker threads (0: the SIP core runs in the main thread). */
  readonly workers: number;
  readonly script: { readonly version: number; readonly source: string };
  readonly turn: boolean;
  readonly media: boolean;
  /** The counters of MetricsOps.stats(), for `parley status`. */
  readonly counters: StatsSnapshot;
}

export interface ReadyReport {
  readonly ready: boolean;
  /** Each check: listeners up, store reachable, every SIP worker answering, TURN/media threads. */
  readonly checks: ReadonlyArray<{ readonly name: string; readonly ok: boolean; readonly detail?: string }>;
}

export interface ServerOps {
  status(): Promise<ServerStatus>;
  ready(): Promise<ReadyReport>;
  /** The effective configuration, secrets replaced by `"[redacted]"`. */
  config(): Record<string, unknown>;
}

// ---- metrics (src/app/ops/metrics-ops.ts) ----------------------------------------------------

/** Counters now, summed over the SIP cores (totals since start unless said). */
export interface StatsSnapshot {
  /** ms since the epoch. */
  readonly time: number;
  readonly requests: number;
  readonly responses: number;
  readonly transactions: number;
  readonly registrations: number;
  readonly calls: number;
  readonly callsAnswered: number;
  readonly authFailures: number;
  readonly blockedSources: number;
  readonly connections: number;
  readonly turnAllocations: number;
  readonly turnBytes: number;
  readonly mediaSessions: number;
  readonly mediaPackets: number;
}

export interface MetricsOps {
  /** Prometheus text exposition (`/metrics`), with the content type to answer it with. */
  prometheus(): Promise<{ readonly contentType: string; readonly body: string }>;
  stats(): Promise<StatsSnapshot>;
  /** Samples of the last hour (one per 10 s), oldest first: the dashboard's charts. */
  history(): readonly StatsSnapshot[];
}

// ---- registrar (src/app/ops/registrar-ops.ts) ------------------------------------------------

export interface BindingView {
  readonly aor: string;
  readonly contact: string;
  /** ISO 8601. */
  readonly expires: string;
  readonly expiresIn: number;
  readonly q: number;
  /** `udp:198.51.100.7:5060`: where the REGISTER came from. */
  readonly source: string;
  readonly userAgent?: string;
  readonly instance?: string;
  readonly regId?: number;
  /** ISO 8601 of the last refresh. */
  readonly updatedAt: string;
}

export interface RegistrarOps {
  /** `aor`: exact; `search`: a substring of aor, contact or user agent. */
  bindings(query: PageQuery & { readonly aor?: string; readonly search?: string }): Promise<Page<BindingView>>;
  /** Remove the AOR's bindings (one contact, or all): returns how many went. 404 for none. */
  unregister(aor: string, contact?: string): Promise<number>;
}

// ---- subscribers (src/app/ops/subscriber-ops.ts) ---------------------------------------------

export interface SubscriberView {
  readonly username: string;
  readonly domain: string;
  /** May log in to the dashboard with the password. */
  readonly admin: boolean;
  readonly createdAt: string;
}

export interface SubscriberOps {
  list(query: PageQuery & { readonly domain?: string; readonly search?: string }): Promise<Page<SubscriberView>>;
  get(username: string, domain: string): Promise<SubscriberView>;
  /** 409 when it exists. */
  create(s: { readonly username: string; readonly domain: string; readonly password: string; readonly admin?: boolean }): Promise<SubscriberView>;
  update(username: string, domain: string, change: { readonly password?: string; readonly admin?: boolean }): Promise<SubscriberView>;
  remove(username: string, domain: string): Promise<void>;
  /** All or nothing; `progress` is told after each chunk. */
  importMany(
    subscribers: ReadonlyArray<{ readonly username: string; readonly domain: string; readonly password: string }>,
    progress?: (done: number, total: number) => void,
  ): Promise<{ readonly imported: number }>;
  /** A subscriber with `admin` and this password (the dashboard's login): undefined otherwise, in the same time. */
  checkAdmin(username: string, domain: string, password: string): Promise<SubscriberView | undefined>;
}

// ---- calls (src/app/ops/call-ops.ts) ---------------------------------------------------------

export interface CallLegView {
  /** From/To URI of this side. */
  readonly uri: string;
  /** Its Contact, once known. */
  readonly contact?: string;
  /** `udp:198.51.100.7:5060`: where its messages come from. */
  readonly source?: string;
  readonly tag?: string;
}

export interface CallView {
  readonly callId: string;
  readonly state: 'trying' | 'ringing' | 'answered' | 'ending';
  readonly caller: CallLegView;
  readonly callee: CallLegView;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly answeredAt?: string;
  /** Seconds since start. */
  readonly duration: number;
  /** Seconds since answer (0 before). */
  readonly talkTime: number;
  /** The media plane anchors it. */
  readonly media: boolean;
  /** The SIP core that holds it (0: main thread). */
  readonly core: number;
}

export interface CallOps {
  list(query?: PageQuery & { readonly search?: string }): Promise<Page<CallView>>;
  get(callId: string): Promise<CallView>;
  /** BYE to both sides (CANCEL/487 before the answer); 404 when no such call. */
  hangup(callId: string): Promise<void>;
}

// ---- events (src/app/ops/event-hub.ts) -------------------------------------------------------

export interface EventOps {
  /**
   * Events from now on, of these types (all when undefined); returns the unsubscribe. `id`: the
   * event's number (growing by one per event published, from 1), as in SSE `id:`.
   */
  subscribe(types: ReadonlySet<ParleyEventType> | undefined, listener: (e: ParleyEvent, id: number) => void): () => void;
  /** The last events kept (at most 1000), oldest first. */
  recent(types?: ReadonlySet<ParleyEventType>): readonly ParleyEvent[];
  /** The kept events numbered above `afterId`, oldest first (a reconnecting stream's Last-Event-ID). */
  since(afterId: number, types?: ReadonlySet<ParleyEventType>): readonly NumberedEvent[];
}

/** An event as the hub numbered it: `id` grows by one per event from 1 (SSE `id:`, `Last-Event-ID`). */
export interface NumberedEvent {
  readonly id: number;
  readonly event: ParleyEvent;
}

// ---- traces (src/app/ops/trace-ops.ts) -------------------------------------------------------

export interface TraceSummary {
  readonly callId: string;
  readonly requests: number;
  readonly modified: string;
}

export interface TraceOps {
  list(query?: PageQuery): Promise<Page<TraceSummary>>;
  /** Every report of the call (routing/trace-recorder.ts TraceReportJson), in order. */
  get(callId: string): Promise<readonly unknown[]>;
  /** The call's messages in time order, for a ladder diagram. */
  ladder(callId: string): Promise<Ladder>;
}

export interface Ladder {
  readonly callId: string;
  /** Columns: `udp:198.51.100.7:5060` for each peer, and `parley` for this server. */
  readonly participants: readonly string[];
  readonly arrows: ReadonlyArray<{
    /** ms since the first message. */
    readonly t: number;
    readonly from: string;
    readonly to: string;
    /** `INVITE`, `100 Trying`, … */
    readonly label: string;
    readonly message: string;
  }>;
}

// ---- calls captured over HEP (src/app/ops/captures.ts) ---------------------------------------

/** A call whose messages the HEP collector (`hep.listen`) stored, grouped by Call-ID. */
export interface CaptureSummary {
  readonly callId: string;
  readonly messages: number;
  /** The first and the last message's capture time. */
  readonly firstAt: string;
  readonly lastAt: string;
  /** The From and To URIs of the call's first message that has them. */
  readonly from?: string;
  readonly to?: string;
  /** The request methods seen, sorted (`ACK`, `BYE`, `INVITE`). */
  readonly methods: readonly string[];
}

export interface CaptureQuery extends PageQuery {
  /** Part of the Call-ID (any case). */
  readonly search?: string;
}

/** One SIP message as a capture agent sent it over HEP. */
export interface CapturedMessage {
  /** The capture agent's time of the message (HEP chunks 0x0009/0x000a), ISO 8601. */
  readonly time: string;
  /** `udp`, `tcp`, `tls`, `ws`, `wss`, `sctp` (HEP's IP protocol; TLS and WS when the agent says so). */
  readonly transport: string;
  /** `198.51.100.7:5060`, `[2001:db8::1]:5060`. */
  readonly source: string;
  readonly destination: string;
  /** HEP's capture agent id (chunk 0x000c), when sent. */
  readonly agentId?: number;
  readonly message: string;
}

export interface CapturedCall {
  readonly callId: string;
  readonly messages: readonly CapturedMessage[];
  /** The same diagram as a traced call's: a column per `transport:address:port`. */
  readonly ladder: Ladder;
}

export interface CaptureOps {
  /** Captured calls, the latest first; OpsError 503 when no collector runs (`hep.listen`). */
  list(query?: CaptureQuery): Promise<Page<CaptureSummary>>;
  /** One call's messages in capture order, and its ladder; OpsError 404 when none. */
  get(callId: string): Promise<CapturedCall>;
}

// ---- routing script (src/app/ops/script-ops.ts) ----------------------------------------------

export interface ScriptCheck {
  readonly ok: boolean;
  readonly errors: ReadonlyArray<{ readonly message: string; readonly line?: number; readonly column?: number }>;
}

export interface ScriptInfo {
  readonly version: number;
  readonly source: string;
  /** ISO 8601 of its activation. */
  readonly activatedAt: string;
  /** Versions that may be rolled back to, newest first. */
  readonly history: ReadonlyArray<{ readonly version: number; readonly source: string; readonly activatedAt: string }>;
}

export interface ScriptOps {
  info(): Promise<ScriptInfo>;
  /** Compile and load-check without activating; `name` is what error locations call the code (default `script.ts`). */
  check(code: string, name?: string): Promise<ScriptCheck>;
  /** Check, then activate on every core (a refused script leaves the old one running: 422). */
  upload(code: string): Promise<ScriptInfo>;
  /** Reload the configured file (as `parley reload`). */
  reload(): Promise<ScriptInfo>;
  /** Activate the version before the active one (or `version`). */
  rollback(version?: number): Promise<ScriptInfo>;
}

// ---- configuration file (src/app/ops/configuration-ops.ts) -----------------------------------

/** What a configuration reload applied (docs/configuration.md, "Reloading the file"). */
export interface ConfigReloadView {
  /** The file read again. */
  readonly file: string;
  /** Keys changed and applied now. */
  readonly applied: readonly string[];
  /** Keys changed that apply only after a restart (the running value stays). */
  readonly restart: readonly string[];
}

export interface ConfigurationOps {
  /**
   * Read the configuration file again, as SIGHUP and `parley reload` do, and apply what can change
   * live. A file that fails its check: 422 naming `file:line: key` (field: the key), nothing
   * changes. A server started without a file: 409.
   */
  reload(): Promise<ConfigReloadView>;
  /**
   * Check a configuration's text as `parley config check` checks a file (nothing is applied):
   * every key in error with its line, empty when the server would take it.
   */
  check(text: string): ConfigCheckView;
}

export interface ConfigCheckView {
  readonly ok: boolean;
  readonly errors: ReadonlyArray<{ readonly key: string; readonly line?: number; readonly error: string; readonly message: string }>;
}

// ---- TURN and media (src/app/ops/turn-ops.ts, media-ops.ts) ---------------------------------

export interface TurnAllocationView {
  readonly username: string;
  readonly client: string;
  readonly relayed: string;
  readonly expiresIn: number;
  readonly permissions: number;
  readonly channels: number;
  readonly bytesToPeer: number;
  readonly bytesToClient: number;
}

export interface TurnOps {
  readonly enabled: boolean;
  allocations(): Promise<readonly TurnAllocationView[]>;
  /** Time-limited REST credentials (coturn's use-auth-secret) for `user`. */
  credentials(user: string, ttlSeconds?: number): { readonly username: string; readonly password: string; readonly ttl: number; readonly uris: readonly string[] };
}

export interface MediaSessionView {
  readonly callId: string;
  readonly legs: ReadonlyArray<{ readonly tag: string; readonly local: string; readonly remote?: string; readonly protocol: string; readonly codec?: string; readonly packetsIn: number; readonly packetsOut: number }>;
  readonly startedAt: string;
}

export interface MediaOps {
  readonly enabled: boolean;
  sessions(): Promise<readonly MediaSessionView[]>;
}

// ---- API tokens (src/app/ops/token-ops.ts; `parley token` works on the store directly) -----

export type TokenScope = 'read' | 'write' | 'admin';

export interface TokenView {
  readonly id: string;
  readonly name: string;
  readonly scope: TokenScope;
  readonly createdAt: string;
  readonly lastUsedAt?: string;
  /** ISO 8601: dashboard sessions expire; operators' tokens do not. */
  readonly expiresAt?: string;
}

export interface TokenOps {
  list(): Promise<readonly TokenView[]>;
  /** The secret is in `token`, shown this once. */
  create(name: string, scope: TokenScope, options?: { readonly ttlSeconds?: number }): Promise<TokenView & { readonly token: string }>;
  revoke(id: string): Promise<void>;
  /**
   * The token this text is, when valid (not revoked or expired), else undefined: for checks outside
   * the API plugin's hook (a WebSocket upgrade, the control socket). Unknown and wrong take one path.
   */
  verify(text: string): Promise<TokenView | undefined>;
}
