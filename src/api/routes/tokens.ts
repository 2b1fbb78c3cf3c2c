import type { ApiRoutes } from '../api-routes.js';
import type { TokenScope } from '../operations.js';
import { errorResponses } from './schemas.js';

const TOKEN = {
  type: 'object',
  required: ['id', 'name', 'scope', 'createdAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    scope: { type: 'string', enum: ['read', 'write', 'admin'] },
    createdAt: { type: 'string', format: 'date-time' },
    lastUsedAt: { type: 'string', format: 'date-time', description: 'Recorded at most once a minute.' },
    expiresAt: { type: 'string', format: 'date-time' },
  },
} as const;

const TAGS = ['tokens'];

/** API tokens (TokenOps), admin only: the same as `parley token create|list|revoke`. */
export const tokenRoutes: ApiRoutes = async (app, { ops }) => {
  app.get('/tokens', { config: { scope: 'admin' }, schema: { tags: TAGS, summary: 'List tokens (never their secrets)', response: { 200: { type: 'array', items: TOKEN }, ...errorResponses() } } }, async () => ops().tokens.list());

  app.post<{ Body: { name: string; scope: TokenScope } }>(
    '/tokens',
    {
      config: { scope: 'admin' },
      schema: {
        tags: TAGS,
        summary: 'Create a token (its text is in this answer only)',
        body: { type: 'object', required: ['name', 'scope'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, scope: { type: 'string', enum: ['read', 'write', 'admin'] } } },
        response: { 201: { ...TOKEN, required: [...TOKEN.required, 'token'], properties: { ...TOKEN.properties, token: { type: 'string', description: '`pk_<id>_<secret>`: shown once.' } } }, ...errorResponses(400, 413, 415) },
      },
    },
    async (request, reply) => reply.code(201).header('Cache-Control', 'no-store').send(await ops().tokens.create(request.body.name, request.body.scope)),
  );

  app.delete<{ Params: { id: string } }>(
    '/tokens/:id',
    {
      config: { scope: 'admin' },
      schema: { tags: TAGS, summary: 'Revoke a token (at once)', params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } }, response: { 204: { type: 'null', description: 'Revoked.' }, ...errorResponses(404) } },
    },
    async (request, reply) => {
      await ops().tokens.revoke(request.params.id);
      return reply.code(204).send();
    },
  );
};
