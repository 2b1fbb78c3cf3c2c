import type { ApiRoutes } from '../api-routes.js';
import { errorResponses, PAGE_QUERY, pageOf } from './schemas.js';

const BINDING = {
  type: 'object',
  required: ['aor', 'contact', 'expires', 'expiresIn', 'q', 'source', 'updatedAt'],
  properties: {
    aor: { type: 'string', description: '`user@domain`' },
    contact: { type: 'string' },
    expires: { type: 'string', format: 'date-time' },
    expiresIn: { type: 'integer', description: 'Seconds left.' },
    q: { type: 'number' },
    source: { type: 'string', description: 'Where the REGISTER came from: `udp:198.51.100.7:5060`.' },
    userAgent: { type: 'string' },
    instance: { type: 'string' },
    regId: { type: 'integer' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const TAGS = ['registrations'];

/**
 * Registrations (RegistrarOps): the bindings the location service holds, read from the store
 * (milliseconds behind the registrar), and unregistering an AOR or one of its contacts.
 */
export const bindingRoutes: ApiRoutes = async (app, { ops }) => {
  app.get<{ Querystring: { aor?: string; search?: string; offset?: number; limit?: number } }>(
    '/bindings',
    {
      config: { scope: 'read' },
      schema: {
        tags: TAGS,
        summary: 'List registrations',
        description: 'Bindings not expired, ordered by AOR then contact.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            aor: { type: 'string', maxLength: 400, description: 'Exactly this AOR (`user@domain`, `sip:` allowed).' },
            search: { type: 'string', maxLength: 200, description: 'A substring of the AOR, the contact or the user agent.' },
            ...PAGE_QUERY,
          },
        },
        response: { 200: pageOf(BINDING), ...errorResponses(400) },
      },
    },
    async (request) => ops().registrar.bindings(request.query),
  );

  app.delete<{ Params: { aor: string }; Querystring: { contact?: string } }>(
    '/bindings/:aor',
    {
      config: { scope: 'write' },
      schema: {
        tags: TAGS,
        summary: 'Unregister an AOR (or one contact)',
        description: 'Removes the bindings on every SIP core and in the store; calls to the AOR find it unregistered at once.',
        params: { type: 'object', required: ['aor'], properties: { aor: { type: 'string', minLength: 1, maxLength: 400 } } },
        querystring: { type: 'object', additionalProperties: false, properties: { contact: { type: 'string', minLength: 1, maxLength: 2000, description: 'Only this contact (as listed).' } } },
        response: { 200: { type: 'object', required: ['removed'], properties: { removed: { type: 'integer' } } }, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => ({ removed: await ops().registrar.unregister(request.params.aor, request.query.contact) }),
  );
};
