import type { FastifyPluginAsync } from 'fastify';
import type { Operations, TokenScope } from './operations.js';

/**
 * What every group of API routes gets (src/api/routes/*): the running server's operations. A
 * getter, because the web server starts before the SIP cores it reports on: until they run it
 * throws OpsError 503.
 */
export interface ApiRouteOptions {
  readonly ops: () => Operations;
  /** `metrics.allowLoopback` (default true): `/metrics` is answered without a token from loopback. */
  readonly metricsAllowLoopback?: boolean;
}

/** A group of routes: a fastify plugin, registered under `/api/v1` (or at the root) by api-plugin.ts. */
export type ApiRoutes = FastifyPluginAsync<ApiRouteOptions>;

/**
 * Who may call a route: a token of this scope or a wider one (read < write < admin), or anyone
 * (`public`: health checks, the OpenAPI document). Every route sets it in `config.scope`; a route
 * without one needs `admin` (fail closed).
 */
export type RouteScope = TokenScope | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    scope?: RouteScope;
    /**
     * The auth hook lets a request without a token through when it comes from a loopback address
     * (127.0.0.0/8, ::1): `/metrics` with `metrics.allowLoopback` (a Prometheus on the same host).
     */
    loopbackAnonymous?: boolean;
  }
}
