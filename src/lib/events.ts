/**
 * What happens in a running Parley, as typed events (issue 18): made where it happens (a SIP
 * core, the TURN thread, the script host), carried to the main thread, and from there to the
 * event stream of the API (`GET /api/v1/events`, WebSocket and SSE), the log, and the dashboard.
 * Plain data only: events cross threads by structured clone.
 *
 * Every event has `type` and `time` (ms since the epoch, Date.now in the thread that made it).
 */
export type ParleyEvent =
  | RegistrationEvent
  | AuthFailedEvent
  | SourceBlockedEvent
  | CallEvent
  | ScriptReloadedEvent
  | TurnAllocationEvent;

interface EventBase {
  readonly time: number;
}

/** A binding added, refreshed, removed (expires=0 or the API) or expired (no refresh in time). */
export interface RegistrationEvent extends EventBase {
  readonly type: 'registration.added' | 'registration.refreshed' | 'registration.removed' | 'registration.expired';
  /** `user@domain`. */
  readonly aor: string;
  /** The Contact URI as registered. */
  readonly contact: string;
  /** Seconds granted (0 for removed and expired). */
  readonly expires: number;
  /** Where the REGISTER came from, `transport:address:port` (absent for expired). */
  readonly source?: string;
  readonly userAgent?: string;
}

/** A request or TURN message failed digest authentication (wrong password, unknown user alike). */
export interface AuthFailedEvent extends EventBase {
  readonly type: 'auth.failed';
  /** Source address (no port: the limiter counts by address). */
  readonly source: string;
  /** The username it tried, when it gave one. */
  readonly username?: string;
  readonly realm?: string;
  /** SIP method, or `TURN`, or `HTTP` (the TURN credentials route, the API). */
  readonly method: string;
}

/** The failed-auth limiter blocked a source. */
export interface SourceBlockedEvent extends EventBase {
  readonly type: 'source.blocked';
  readonly source: string;
  readonly seconds: number;
}

/** A call (an INVITE dialog the proxy relayed and record-routed). */
export interface CallEvent extends EventBase {
  readonly type: 'call.started' | 'call.answered' | 'call.ended';
  readonly callId: string;
  /** From URI (the caller). */
  readonly from: string;
  /** To URI (who was called). */
  readonly to: string;
  /** call.ended: the final status (200 for an answered call ended by BYE; 487 for a CANCEL; …). */
  readonly status?: number;
  /** call.ended: `bye` (either side), `cancel`, `rejected` (a final non-2xx), `timeout`, `hangup` (the API/CLI). */
  readonly reason?: 'bye' | 'cancel' | 'rejected' | 'timeout' | 'hangup';
  /** call.ended: seconds from answer to end (0 when never answered). */
  readonly duration?: number;
}

/** The routing script was reloaded (or a reload was refused). */
export interface ScriptReloadedEvent extends EventBase {
  readonly type: 'script.reloaded';
  /** The active version after the reload. */
  readonly version: number;
  readonly outcome: 'reloaded' | 'unchanged' | 'refused';
  /** `command`, `signal`, `watch`, `api`. */
  readonly trigger: string;
  /** When refused: why. */
  readonly error?: string;
}

/** A TURN allocation made or ended (expired, refreshed to 0, connection closed). */
export interface TurnAllocationEvent extends EventBase {
  readonly type: 'turn.allocation.created' | 'turn.allocation.ended';
  readonly username: string;
  /** Client's transport address, `transport:address:port`. */
  readonly client: string;
  /** Relayed transport address, `address:port`. */
  readonly relayed: string;
  /** turn.allocation.ended: bytes relayed each way over its life. */
  readonly bytesToPeer?: number;
  readonly bytesToClient?: number;
}

export type ParleyEventType = ParleyEvent['type'];

/** Every event type, for filters and schemas. */
export const EVENT_TYPES: readonly ParleyEventType[] = [
  'registration.added',
  'registration.refreshed',
  'registration.removed',
  'registration.expired',
  'auth.failed',
  'source.blocked',
  'call.started',
  'call.answered',
  'call.ended',
  'script.reloaded',
  'turn.allocation.created',
  'turn.allocation.ended',
];

/** Where a part hands its events (never throws, never blocks: the receiver batches). */
export type EventSink = (event: ParleyEvent) => void;
