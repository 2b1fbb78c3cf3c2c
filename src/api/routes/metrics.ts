// tags, summary, description in route schemas (OpenAPI)
import type {} from '@fastify/swagger';
import type { ApiRoutes } from '../api-routes.js';

/**
 * `GET /metrics`: the Prometheus text exposition of every thread's metrics, aggregated
 * (MetricsOps.prometheus). Scope `read`; anonymous from loopback unless `metrics.allowLoopback`
 * is false (the auth hook honours `loopbackAnonymous`).
 */
export const metricsRoutes: ApiRoutes = async (app, opts) => {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['metrics'],
        summary: 'Prometheus metrics (text exposition format 0.0.4)',
        description: 'Every metric of every thread, aggregated on each scrape; docs/operations.md lists them.',
        produces: ['text/plain'],
        response: { 200: { type: 'string', description: 'Prometheus text exposition' } },
      },
      config: { scope: 'read', loopbackAnonymous: opts.metricsAllowLoopback ?? true },
    },
    async (_request, reply) => {
      const { contentType, body } = await opts.ops().metrics.prometheus();
      return reply.type(contentType).send(body);
    },
  );
};
