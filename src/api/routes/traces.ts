// the OpenAPI fields of a route schema (tags, summary), from @fastify/swagger's types
import type {} from '@fastify/swagger';
import type { ApiRoutes } from '../api-routes.js';
import { ERROR_SCHEMA, LADDER_SCHEMA, PAGE_QUERY, pageOf } from './schemas.js';

/**
 * Routing traces of test calls (routing.traceCallIdPrefix; Kamailio's cfgt), as `parley trace`
 * shows them, and the ladder diagram of a call (the dashboard draws it):
 *
 *   GET /api/v1/traces                   traced calls, newest first (paged)
 *   GET /api/v1/traces/:callId           every report of the call, in order
 *   GET /api/v1/traces/:callId/ladder    the call's messages between its participants, in time order
 */
export const traceRoutes: ApiRoutes = async (app, opts) => {
  const tags = ['traces'];
  const callIdParams = {
    type: 'object',
    required: ['callId'],
    properties: { callId: { type: 'string', minLength: 1, maxLength: 1024, description: 'The Call-ID of the traced call (URL-encoded).' } },
  } as const;

  // OpsError (404 for an unknown call) becomes its status and `{ error, field }` in api-plugin.ts's error handler
  app.get<{ Querystring: { offset?: number; limit?: number } }>(
    '/traces',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'List traced calls, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: PAGE_QUERY,
        },
        response: {
          200: pageOf({
            type: 'object',
            required: ['callId', 'requests', 'modified'],
            properties: { callId: { type: 'string' }, requests: { type: 'integer' }, modified: { type: 'string', format: 'date-time' } },
          }),
          400: ERROR_SCHEMA,
        },
      },
    },
    async (req) =>
      opts.ops().traces.list({ ...(req.query.offset === undefined ? {} : { offset: req.query.offset }), ...(req.query.limit === undefined ? {} : { limit: req.query.limit }) }),
  );

  app.get<{ Params: { callId: string } }>(
    '/traces/:callId',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "A traced call's reports: each request's routing steps and messages (parley-trace/1)",
        params: callIdParams,
        response: {
          200: { type: 'array', items: { type: 'object', additionalProperties: true, properties: { format: { type: 'string' }, seq: { type: 'integer' }, method: { type: 'string' } } } },
          404: ERROR_SCHEMA,
        },
      },
    },
    async (req) => opts.ops().traces.get(req.params.callId),
  );

  app.get<{ Params: { callId: string } }>(
    '/traces/:callId/ladder',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "A traced call's ladder diagram: participants (columns) and messages (arrows) in time order",
        params: callIdParams,
        response: {
          200: LADDER_SCHEMA,
          404: ERROR_SCHEMA,
        },
      },
    },
    async (req) => opts.ops().traces.ladder(req.params.callId),
  );
};
