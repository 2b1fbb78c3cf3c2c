import { OpsError, type TurnAllocationView, type TurnOps } from '../../api/operations.js';
import type { AllocationInfo } from '../../turn/allocation.js';
import { RestSecrets } from '../../turn/rest-credentials.js';
import { turnUris } from '../../web/turn-credentials-route.js';
import type { ServerParts } from './server-parts.js';

/**
 * TurnOps: the TURN thread's allocations, and time-limited REST credentials (coturn's
 * use-auth-secret, signed with the secret the TURN thread checks) with the TURN URIs to use them
 * with: `turn.urls` when configured, else one per TURN listener (a wildcard one named by the
 * first SIP domain, else the first external TURN address, else the SIP listener's address).
 */
export function createTurnOps(parts: Pick<ServerParts, 'turn' | 'config' | 'turnRestSecrets' | 'listeners'>): TurnOps {
  const secrets = parts.turnRestSecrets.length > 0 ? new RestSecrets(parts.turnRestSecrets) : undefined;
  return {
    get enabled() {
      return parts.turn() !== undefined;
    },
    allocations: async () => {
      const turn = parts.turn();
      if (turn === undefined) return [];
      return ((await turn.allocations()) as AllocationInfo[]).map(allocationView);
    },
    credentials: (user, ttlSeconds) => {
      const turn = parts.turn();
      if (turn === undefined || secrets === undefined) throw new OpsError(503, 'TURN is not running');
      const ttl = ttlSeconds ?? parts.config.turn.restTtl;
      const made = secrets.make(user, ttl, Math.floor(Date.now() / 1000));
      const host = parts.config.sip.domains[0] ?? parts.config.turn.externalAddresses[0] ?? parts.listeners.find((l) => l.address !== '0.0.0.0' && l.address !== '::')?.address ?? '127.0.0.1';
      const uris = parts.config.turn.urls.length > 0 ? parts.config.turn.urls : turnUris(turn.listeners, host);
      return { username: made.username, password: made.password, ttl: made.ttl, uris };
    },
  };
}

export function allocationView(a: AllocationInfo): TurnAllocationView {
  return {
    username: a.username,
    client: a.client,
    relayed: a.relayed,
    expiresIn: a.expiresInS,
    permissions: a.permissions,
    channels: a.channels,
    bytesToPeer: a.counters.bytesToPeer,
    bytesToClient: a.counters.bytesFromPeer,
  };
}
