import type { FastifyPluginAsync } from 'fastify';
import type { Operations } from '../api/operations.js';
import { OpsError } from '../api/operations.js';
import type { RouteScope } from '../api/api-routes.js';
import { eventRoutes } from '../api/routes/events.js';
import type { TokenStore } from '../store/token-store.js';

/** read < write < admin: a token of a wider scope may use a narrower route. */
const RANK: Record<RouteScope, number> = { public: 0, read: 1, write: 2, admin: 3 };

/**
 * Whether an API token may use a route of `scope`: the token store's verify (the same path for an
 * unknown and a wrong token), then its scope. Until the API plugin (src/api/api-plugin.ts) brings
 * its own, with the failed-auth limiter, this is what the event stream checks.
 */
export function tokenAuthorizer(tokens: TokenStore): (token: string | undefined, scope: RouteScope) => Promise<boolean> {
  return async (token, scope) => {
    if (scope === 'public') return true;
    if (token === undefined || token.length === 0 || token.length > 200) return false;
    const t = await tokens.verify(token);
    return t !== undefined && RANK[t.scope] >= RANK[scope];
  };
}

/**
 * `GET /api/v1/events` (SSE and the kept events) with its token check (Bearer, or `?token=` for
 * EventSource) and OpsError answers, standing alone: for a server built without the API plugin,
 * which registers eventRoutes itself (API_V1_ROUTES) with its auth hook and error handler: when
 * it is registered before this, this adds nothing.
 */
export function standaloneEventRoutes(o: { readonly ops: () => Operations; readonly authorize: (token: string | undefined, scope: RouteScope) => Promise<boolean> }): FastifyPluginAsync {
  return async (app) => {
    // the API plugin, registered before, serves it already (with its own hook)
    if (app.hasRoute({ method: 'GET', url: '/api/v1/events' })) return;
    await app.register(async (scoped) => {
      scoped.setErrorHandler((e, _request, reply) => {
        if (e instanceof OpsError) return reply.code(e.status).send({ error: e.message, ...(e.field === undefined ? {} : { field: e.field }) });
        const status = (e as { statusCode?: number }).statusCode ?? 500;
        return reply.code(status).send({ error: status === 500 ? 'internal error' : (e as Error).message });
      });
      scoped.addHook('onRequest', async (request, reply) => {
        const h = request.headers.authorization;
        const bearer = h !== undefined && h.slice(0, 7).toLowerCase() === 'bearer ' ? h.slice(7).trim() : undefined;
        const query = (request.query as { token?: unknown }).token;
        const token = bearer ?? (typeof query === 'string' ? query : undefined);
        if (!(await o.authorize(token, request.routeOptions.config.scope ?? 'admin'))) {
          return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'a valid API token is needed' });
        }
      });
      await scoped.register(eventRoutes, { prefix: '/api/v1', ops: o.ops });
    });
  };
}
