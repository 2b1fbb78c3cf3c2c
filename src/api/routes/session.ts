import type { ApiRoutes } from '../api-routes.js';
import { ERROR_SCHEMA } from './schemas.js';

/** How long a dashboard session's token is valid. */
export const SESSION_TTL_SECONDS = 12 * 3600;

/**
 * `POST /api/v1/session`: the dashboard's login with a subscriber's SIP password. A subscriber with
 * `admin` gets an admin-scope token valid 12 h. An unknown user, a wrong password and a subscriber
 * without `admin` get the same 401 (checkAdmin takes the same time for each), and count as a failed
 * authentication of the source in the limiter SIP uses.
 */
export const sessionRoutes: ApiRoutes = async (app, { ops }) => {
  app.post<{ Body: { username: string; domain?: string; password: string } }>(
    '/session',
    {
      config: { scope: 'public', credentials: true },
      schema: {
        tags: ['session'],
        summary: "Log in with an admin subscriber's password: a 12-hour admin token",
        description: 'No token needed. `username` may be `user@domain` instead of giving `domain`.',
        security: [],
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: { username: { type: 'string', minLength: 1, maxLength: 400 }, domain: { type: 'string', minLength: 1, maxLength: 253 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
        },
        response: {
          200: { type: 'object', required: ['token', 'expiresAt'], properties: { token: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } } },
          400: { ...ERROR_SCHEMA, description: 'The body fails its schema.' },
          401: { ...ERROR_SCHEMA, description: 'Unknown user, wrong password, or not an admin (one answer for all).' },
          403: { ...ERROR_SCHEMA, description: 'Plain HTTP off loopback.' },
          429: { ...ERROR_SCHEMA, description: 'The source is blocked after too many failures.' },
        },
      },
    },
    async (request, reply) => {
      let { username, domain } = request.body;
      const at = username.lastIndexOf('@');
      if (domain === undefined && at > 0) {
        domain = username.slice(at + 1);
        username = username.slice(0, at);
      }
      const admin = await ops().subscribers.checkAdmin(username, domain ?? '', request.body.password);
      if (admin === undefined) {
        request.recordAuthFailure();
        throw new OpsError401();
      }
      const made = await ops().tokens.create(`dashboard ${admin.username}@${admin.domain}`, 'admin', { ttlSeconds: SESSION_TTL_SECONDS });
      return reply.header('Cache-Control', 'no-store').send({ token: made.token, expiresAt: made.expiresAt });
    },
  );
};

/** OpsError has no 401 (callers of the operations are authorised already): the session route's own. */
class OpsError401 extends Error {
  readonly statusCode = 401;
  constructor() {
    super('wrong username or password, or not an admin');
  }
}
