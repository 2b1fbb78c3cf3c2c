// tags, summary, description in route schemas (OpenAPI)
import type {} from '@fastify/swagger';
import type { ApiRoutes } from '../api-routes.js';

const allocationSchema = {
  type: 'object',
  required: ['username', 'client', 'relayed', 'expiresIn', 'permissions', 'channels', 'bytesToPeer', 'bytesToClient'],
  properties: {
    username: { type: 'string' },
    client: { type: 'string', description: 'The client transport address' },
    relayed: { type: 'string', description: 'Relayed address(es), space-separated when IPv4 and IPv6' },
    expiresIn: { type: 'number', description: 'Seconds' },
    permissions: { type: 'integer' },
    channels: { type: 'integer' },
    bytesToPeer: { type: 'number' },
    bytesToClient: { type: 'number' },
  },
} as const;

/** `GET /api/v1/turn/allocations`, `POST /api/v1/turn/credentials`. */
export const turnRoutes: ApiRoutes = async (app, opts) => {
  app.get(
    '/turn/allocations',
    {
      schema: { tags: ['turn'], summary: 'TURN allocations open now', response: { 200: { type: 'object', required: ['enabled', 'items'], properties: { enabled: { type: 'boolean' }, items: { type: 'array', items: allocationSchema } } } } },
      config: { scope: 'read' },
    },
    async () => {
      const turn = opts.ops().turn;
      return { enabled: turn.enabled, items: await turn.allocations() };
    },
  );
  app.post<{ Body: { user: string; ttl?: number } }>(
    '/turn/credentials',
    {
      schema: {
        tags: ['turn'],
        summary: "Time-limited TURN REST credentials (coturn's use-auth-secret) for a user",
        body: {
          type: 'object',
          required: ['user'],
          additionalProperties: false,
          properties: {
            user: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^:]+$', description: 'Who the credentials are for (no colon: the username is `expiry:user`)' },
            ttl: { type: 'integer', minimum: 60, maximum: 604800, description: 'Seconds; default turn.restTtl' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['username', 'password', 'ttl', 'uris'],
            properties: { username: { type: 'string' }, password: { type: 'string' }, ttl: { type: 'integer' }, uris: { type: 'array', items: { type: 'string' } } },
          },
        },
      },
      config: { scope: 'write' },
    },
    async (request) => opts.ops().turn.credentials(request.body.user, request.body.ttl),
  );
};
