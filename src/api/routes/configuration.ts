import type { ApiRoutes } from '../api-routes.js';

const reloaded = {
  type: 'object',
  required: ['file', 'applied', 'restart'],
  properties: {
    file: { type: 'string', description: 'The configuration file read again (the one the server started with).' },
    applied: { type: 'array', items: { type: 'string' }, description: 'Keys that changed and apply now (`log.level`, `auth.failureLimit.*`, `registrar.*Expires`, `proxy.outbound`, `routing.script`).' },
    restart: { type: 'array', items: { type: 'string' }, description: 'Keys that changed and apply only after a restart; their running values stay.' },
  },
} as const;

const error = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string' }, field: { type: 'string', description: 'The configuration key at fault.' } },
} as const;

/**
 * The configuration file (`parley reload` and SIGHUP read it again too): `POST /config/reload`
 * applies what can change live and names what needs a restart; a file that fails its check is
 * 422 with `file:line: key: …` and the key as `field`, and nothing changes.
 */
export const configurationRoutes: ApiRoutes = async (app, opts) => {
  app.post(
    '/config/reload',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['configuration'],
        summary: 'Read the configuration file again and apply what can change without a restart (as SIGHUP and `parley reload`)',
        response: { 200: reloaded, 409: error, 422: error },
      },
    },
    async () => opts.ops().configuration.reload(),
  );
  app.post(
    '/config/check',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['configuration'],
        summary: 'Check a configuration file\'s text without applying it (as `parley config check FILE`)',
        description: 'The body is the YAML text (`text/plain`, or JSON `{ "text": … }`). The answer lists every key in error with its line; `ok` when the server would take it.',
        consumes: ['text/plain', 'application/json'],
        body: {
          anyOf: [{ type: 'string', maxLength: 1048576 }, { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', maxLength: 1048576 } } }],
        },
        response: {
          200: {
            type: 'object',
            required: ['ok', 'errors'],
            properties: {
              ok: { type: 'boolean' },
              errors: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['key', 'error', 'message'],
                  properties: { key: { type: 'string' }, line: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string', description: '`config:LINE: KEY: what is wrong`' } },
                },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const body = request.body as string | { text: string };
      return opts.ops().configuration.check(typeof body === 'string' ? body : body.text);
    },
  );
};
