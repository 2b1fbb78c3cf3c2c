import type { Logger as PinoLogger } from 'pino';
import type { ParleyEvent, ParleyEventType } from '../lib/events.js';

/**
 * The log line of each event the event hub writes (issue 18: at info level one line per
 * registration change, auth failure, blocked source and call end), and its level.
 *
 * - registration.added, .removed, .expired: info. registration.refreshed: debug — a phone
 *   refreshes every few minutes, so at scale refreshes are most of the log and say nothing new
 *   (Kamailio's registrar logs none); the event stream still carries them.
 * - auth.failed: info (one per wrong password or unknown user; retransmissions are absorbed by
 *   the transaction layer before authentication, so they add none).
 * - source.blocked: not here: the failed-auth limiter writes its warning when it blocks (one line).
 * - script.reloaded: not here: the script host writes one line per outcome.
 * - call.*: not here: the call tracking writes the call-end line (with status and duration).
 * - turn.allocation.*: debug lines of the TURN thread.
 */
const LEVELS: Partial<Record<ParleyEventType, 'info' | 'debug'>> = {
  'registration.added': 'info',
  'registration.refreshed': 'debug',
  'registration.removed': 'info',
  'registration.expired': 'info',
  'auth.failed': 'info',
};

/** The types the hub logs (subscribe with these). */
export const LOGGED_EVENT_TYPES: ReadonlySet<ParleyEventType> = new Set(Object.keys(LEVELS) as ParleyEventType[]);

/** Write the line of `e` (nothing for a type not logged here). */
export function logEvent(log: Pick<PinoLogger, 'info' | 'debug'>, e: ParleyEvent): void {
  const level = LEVELS[e.type];
  if (level === undefined) return;
  const { type, time: _time, ...fields } = e;
  void _time;
  log[level]({ event: type, ...fields }, eventMessage(e));
}

/** The message of an event's line: what happened, to whom, in words (the fields carry the rest). */
export function eventMessage(e: ParleyEvent): string {
  switch (e.type) {
    case 'registration.added':
      return `registered ${e.aor} at ${e.contact} for ${e.expires} s`;
    case 'registration.refreshed':
      return `registration of ${e.aor} at ${e.contact} refreshed for ${e.expires} s`;
    case 'registration.removed':
      return `unregistered ${e.aor} at ${e.contact}`;
    case 'registration.expired':
      return `registration of ${e.aor} at ${e.contact} expired`;
    case 'auth.failed':
      return `authentication failed for ${e.username ?? '(no username)'}${e.realm === undefined ? '' : `@${e.realm}`} from ${e.source} (${e.method})`;
    default:
      return e.type;
  }
}
