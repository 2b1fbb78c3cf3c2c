// the OpenAPI fields of a route schema (tags, summary), from @fastify/swagger's types
import type {} from '@fastify/swagger';
import type { ApiRoutes } from '../api-routes.js';
import { ERROR_SCHEMA, LADDER_SCHEMA, PAGE_QUERY, pageOf } from './schemas.js';

/**
 * Calls captured over HEP by the collector `parley serve` runs with `hep.listen` (messages grouped
 * by Call-ID), and one call's messages with its ladder diagram (the dashboard's "Captured" view):
 *
 *   GET /api/v1/captures            captured calls, the latest first (search, paged)
 *   GET /api/v1/captures/:callId    the call's messages in capture order, and its ladder
 *
 * Without a collector both answer 503.
 */
export const captureRoutes: ApiRoutes = async (app, opts) => {
  const tags = ['captures'];

  app.get<{ Querystring: { search?: string; offset?: number; limit?: number } }>(
    '/captures',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'List calls captured over HEP, the latest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { search: { type: 'string', maxLength: 256, description: 'Part of the Call-ID (any case).' }, ...PAGE_QUERY },
        },
        response: {
          200: pageOf({
            type: 'object',
            required: ['callId', 'messages', 'firstAt', 'lastAt', 'methods'],
            properties: {
              callId: { type: 'string' },
              messages: { type: 'integer', description: 'Messages captured (SIP, and RTCP or logs the agent tied to the call)' },
              firstAt: { type: 'string', format: 'date-time' },
              lastAt: { type: 'string', format: 'date-time' },
              from: { type: 'string', description: "The From URI of the call's first message that has one" },
              to: { type: 'string', description: "The To URI of the call's first message that has one" },
              methods: { type: 'array', items: { type: 'string' }, description: 'Request methods seen, sorted' },
            },
          }),
          400: ERROR_SCHEMA,
          503: ERROR_SCHEMA,
        },
      },
    },
    async (req) => {
      const q = req.query;
      return opts.ops().captures.list({
        ...(q.search === undefined ? {} : { search: q.search }),
        ...(q.offset === undefined ? {} : { offset: q.offset }),
        ...(q.limit === undefined ? {} : { limit: q.limit }),
      });
    },
  );

  app.get<{ Params: { callId: string } }>(
    '/captures/:callId',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "A captured call's SIP messages (addresses as captured, transport, agent) and its ladder diagram",
        params: {
          type: 'object',
          required: ['callId'],
          properties: { callId: { type: 'string', minLength: 1, maxLength: 1024, description: 'The Call-ID of the captured call (URL-encoded).' } },
        },
        response: {
          200: {
            type: 'object',
            required: ['callId', 'messages', 'ladder'],
            properties: {
              callId: { type: 'string' },
              messages: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['time', 'transport', 'source', 'destination', 'message'],
                  properties: {
                    time: { type: 'string', format: 'date-time', description: "The capture agent's time" },
                    transport: { type: 'string', description: '`udp`, `tcp`, …' },
                    source: { type: 'string', description: '`198.51.100.7:5060`, `[2001:db8::1]:5060`' },
                    destination: { type: 'string' },
                    agentId: { type: 'integer', description: "HEP's capture agent id, when sent" },
                    message: { type: 'string' },
                  },
                },
              },
              ladder: LADDER_SCHEMA,
            },
          },
          404: ERROR_SCHEMA,
          503: ERROR_SCHEMA,
        },
      },
    },
    async (req) => opts.ops().captures.get(req.params.callId),
  );
};
