// the OpenAPI fields of a route schema (tags, summary, description) are typed by @fastify/swagger
import type {} from '@fastify/swagger';
import type { ApiRoutes } from '../api-routes.js';
import { ERROR_SCHEMA, PAGE_QUERY, pageOf } from './schemas.js';

/** One side of a call (CallLegView). */
const leg = {
  type: 'object',
  required: ['uri'],
  properties: {
    uri: { type: 'string', description: 'From URI (caller) or To URI (callee).' },
    contact: { type: 'string', description: 'Its Contact URI, once known.' },
    source: { type: 'string', description: 'The flow Parley reaches it over: `udp:198.51.100.7:5060`.' },
    tag: { type: 'string', description: 'Its dialog tag, once known.' },
  },
} as const;

/** A live call (CallView). */
const call = {
  type: 'object',
  required: ['callId', 'state', 'caller', 'callee', 'startedAt', 'duration', 'talkTime', 'media', 'core'],
  properties: {
    callId: { type: 'string' },
    state: { type: 'string', enum: ['trying', 'ringing', 'answered', 'ending'] },
    caller: leg,
    callee: leg,
    startedAt: { type: 'string', format: 'date-time' },
    answeredAt: { type: 'string', format: 'date-time' },
    duration: { type: 'integer', description: 'Seconds since the INVITE.' },
    talkTime: { type: 'integer', description: 'Seconds since the answer (0 before).' },
    media: { type: 'boolean', description: 'The media plane anchors it.' },
    core: { type: 'integer', description: 'The SIP core (worker thread) holding it; 0: the main thread.' },
  },
} as const;

const callIdParams = {
  type: 'object',
  required: ['callId'],
  properties: { callId: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

/**
 * Live calls (Kamailio's dlg.list, dlg.end_dlg): the INVITE dialogs Parley relays with its own
 * Record-Route, from every SIP core (src/app/ops/call-ops.ts), and the operator's hang-up.
 */
export const callRoutes: ApiRoutes = async (app, opts) => {
  app.get<{ Querystring: { search?: string; offset?: number; limit?: number } }>(
    '/calls',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['calls'],
        summary: 'List the calls in progress',
        description: 'Oldest first. `search`: a substring of the Call-ID, the caller\'s or the callee\'s URI.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            search: { type: 'string', maxLength: 256 },
            ...PAGE_QUERY,
          },
        },
        response: {
          200: pageOf(call),
        },
      },
    },
    (request) => opts.ops().calls.list(request.query),
  );

  app.get<{ Params: { callId: string } }>(
    '/calls/:callId',
    {
      config: { scope: 'read' },
      schema: { tags: ['calls'], summary: 'One call in progress', params: callIdParams, response: { 200: call, 404: ERROR_SCHEMA } },
    },
    (request) => opts.ops().calls.get(request.params.callId),
  );

  app.delete<{ Params: { callId: string } }>(
    '/calls/:callId',
    {
      config: { scope: 'write' },
      schema: {
        tags: ['calls'],
        summary: 'Hang up a call',
        description: 'An answered call: Parley sends BYE to both sides and frees its media session. Before the answer: CANCEL to the callee\'s branches and 487 to the caller. Answers 204 once the BYEs (or CANCELs) are on their way; the call leaves the list when they are answered.',
        params: callIdParams,
        response: { 204: { type: 'null', description: 'Hanging up.' }, 404: ERROR_SCHEMA },
      },
    },
    async (request, reply) => {
      await opts.ops().calls.hangup(request.params.callId);
      return reply.code(204).send();
    },
  );
};
