import type { FastifyPluginAsync } from 'fastify';
import type { Operations } from '../../api/operations.js';
import { metricsRoutes } from '../../api/routes/metrics.js';

/**
 * INTERIM (issue 18): `/metrics` on the web server until the API plugin (src/api/api-plugin.ts,
 * with its token auth hook) mounts ROOT_ROUTES; then this file and its line in run-server.ts go.
 * Without the API's tokens it answers only loopback sources, and only with
 * `metrics.allowLoopback`; anyone else gets 401. Registered after the other web plugins, it
 * adds nothing when `/metrics` is there already (the API plugin's).
 */
export function interimMetricsPlugin(ops: () => Operations, allowLoopback: boolean): FastifyPluginAsync {
  return async (app) => {
    if (app.hasRoute({ method: 'GET', url: '/metrics' })) return;
    await app.register(async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        const a = (request.socket.remoteAddress ?? '').toLowerCase();
        const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
        if (!(allowLoopback && (v4.startsWith('127.') || a === '::1'))) await reply.code(401).send({ error: 'a valid API token is required' });
      });
      await scope.register(metricsRoutes, { ops, metricsAllowLoopback: allowLoopback });
    });
  };
}
