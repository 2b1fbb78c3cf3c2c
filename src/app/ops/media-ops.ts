import type { MediaOps, MediaSessionView } from '../../api/operations.js';
import type { MediaSessionInfo } from '../../media/media-sessions.js';
import type { ServerParts } from './server-parts.js';

/** MediaOps: the media thread's open sessions (none when the media plane is off). */
export function createMediaOps(parts: Pick<ServerParts, 'media'>): MediaOps {
  return {
    enabled: parts.media !== undefined,
    sessions: async () => ((await parts.media?.sessions()) ?? []).map(sessionView),
  };
}

export function sessionView(s: MediaSessionInfo): MediaSessionView {
  return { callId: s.callId, startedAt: new Date(s.startedAt).toISOString(), legs: s.legs };
}
