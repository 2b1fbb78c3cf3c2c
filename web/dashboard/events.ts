import type { ParleyEvent } from '../../src/lib/events.js';

/** An event as a line of the feed: a short title, what it is about, and how it should look. */
export interface EventLine {
  readonly title: string;
  readonly detail: string;
  readonly kind: 'good' | 'bad' | 'neutral';
}

/**
 * The event types the feed subscribes to (`?types=`): every one but `registration.refreshed`.
 * A phone refreshes its registration every minute or so, a thousand phones many times a second:
 * a feed of them is unreadable, and the registrations table shows when each was refreshed.
 */
export const FEED_TYPES = ['registration.added', 'registration.removed', 'registration.expired', 'auth.*', 'source.*', 'call.*', 'script.*', 'turn.*'] as const;

const bytes = (n: number): string => (n >= 1_048_576 ? `${(n / 1_048_576).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} kB` : `${n} B`);

/** How the dashboard's feed shows an event. */
export function describeEvent(e: ParleyEvent): EventLine {
  switch (e.type) {
    case 'registration.added':
      return { title: 'registered', detail: `${e.aor} at ${e.contact}${e.source === undefined ? '' : ` from ${e.source}`} for ${e.expires} s`, kind: 'good' };
    case 'registration.refreshed':
      return { title: 'refreshed', detail: `${e.aor} at ${e.contact} for ${e.expires} s`, kind: 'neutral' };
    case 'registration.removed':
      return { title: 'unregistered', detail: `${e.aor} at ${e.contact}`, kind: 'neutral' };
    case 'registration.expired':
      return { title: 'expired', detail: `${e.aor} at ${e.contact}`, kind: 'neutral' };
    case 'auth.failed':
      return { title: 'auth failed', detail: `${e.method} from ${e.source}${e.username === undefined ? '' : ` as ${e.username}`}`, kind: 'bad' };
    case 'source.blocked':
      return { title: 'blocked', detail: `${e.source} for ${e.seconds} s`, kind: 'bad' };
    case 'call.started':
      return { title: 'call', detail: `${e.from} → ${e.to}`, kind: 'neutral' };
    case 'call.answered':
      return { title: 'answered', detail: `${e.from} → ${e.to}`, kind: 'good' };
    case 'call.ended':
      return {
        title: 'call ended',
        detail: `${e.from} → ${e.to}${e.status === undefined ? '' : ` · ${e.status}`}${e.reason === undefined ? '' : ` ${e.reason}`}${e.duration === undefined ? '' : ` · ${e.duration} s`}`,
        kind: e.status !== undefined && e.status >= 300 && e.reason !== 'cancel' ? 'bad' : 'neutral',
      };
    case 'script.reloaded':
      return { title: `script ${e.outcome}`, detail: `v${e.version} (${e.trigger})${e.error === undefined ? '' : `: ${e.error}`}`, kind: e.outcome === 'refused' ? 'bad' : 'neutral' };
    case 'turn.allocation.created':
      return { title: 'TURN allocation', detail: `${e.username} ${e.client} → ${e.relayed}`, kind: 'neutral' };
    case 'turn.allocation.ended': {
      const moved = e.bytesToPeer === undefined ? '' : ` · ${bytes(e.bytesToPeer)} to the peer, ${bytes(e.bytesToClient ?? 0)} to the client`;
      return { title: 'TURN ended', detail: `${e.username} ${e.relayed}${moved}`, kind: 'neutral' };
    }
    default:
      return { title: (e as { type: string }).type, detail: '', kind: 'neutral' };
  }
}
