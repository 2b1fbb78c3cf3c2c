import type { RouteScope } from '../api/api-routes.js';
import { scopeAllows, type TokenStore } from '../store/token-store.js';

/** The failed-auth limiter the API's logins count in (run-server.ts `authLimiter`). */
export interface AuthLimiter {
  isBlocked(address: string): boolean;
  recordFailure(address: string): unknown;
}

/**
 * The token check of the event stream's WebSocket (`/api/v1/events` as an upgrade: outside
 * fastify, so outside the API plugin's hook), with the same rules: the token store's verify (the
 * same path for an unknown and a wrong token), then its scope (scopeAllows, as the plugin's hook); a blocked source is refused before
 * its token is looked at, and a refused token counts as a failed login of its source, as in the
 * API plugin.
 */
export function tokenAuthorizer(tokens: TokenStore, limiter?: AuthLimiter): (token: string | undefined, scope: RouteScope, source: string) => Promise<boolean> {
  return async (token, scope, source) => {
    if (scope === 'public') return true;
    if (limiter?.isBlocked(source) === true) return false;
    const t = token === undefined || token.length === 0 || token.length > 200 ? undefined : await tokens.verify(token);
    if (t === undefined) {
      limiter?.recordFailure(source);
      return false;
    }
    return scopeAllows(t.scope, scope);
  };
}
