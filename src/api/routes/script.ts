import type { ApiRoutes } from '../api-routes.js';
import { ERROR_SCHEMA } from './schemas.js';

/** The longest script a request may carry (ScriptOps takes 1 MiB of text; JSON escapes add some). */
const SCRIPT_BODY_LIMIT = 2 * 1024 * 1024;

const scriptInfo = {
  type: 'object',
  required: ['version', 'source', 'activatedAt', 'history'],
  properties: {
    version: { type: 'integer', description: 'The active version (numbered from 1 at start; each reload, upload or rollback is the next number).' },
    source: { type: 'string', description: 'Its file: the configured script, an uploaded one (`<dataDir>/routing/uploaded/N.ts`), or `builtin:default`.' },
    activatedAt: { type: 'string', format: 'date-time' },
    history: {
      type: 'array',
      description: 'Earlier versions of this run that may be rolled back to, newest first.',
      items: {
        type: 'object',
        required: ['version', 'source', 'activatedAt'],
        properties: { version: { type: 'integer' }, source: { type: 'string' }, activatedAt: { type: 'string', format: 'date-time' } },
      },
    },
  },
} as const;

const scriptCheck = {
  type: 'object',
  required: ['ok', 'errors'],
  properties: {
    ok: { type: 'boolean', description: 'The script compiles, loads and exports the handlers: it could be activated.' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['message'],
        properties: { message: { type: 'string', description: '`name:line:column: what is wrong`' }, line: { type: 'integer' }, column: { type: 'integer' } },
      },
    },
  },
} as const;

/** A script as the body: `text/plain` (the file as it is) or JSON `{ "code": "…" }`. */
const scriptBody = {
  anyOf: [
    { type: 'string', description: 'The script, as `text/plain`.' },
    { type: 'object', required: ['code'], additionalProperties: false, properties: { code: { type: 'string', description: 'The script (TypeScript or JavaScript, one file).' } } },
  ],
} as const;

const codeOf = (body: unknown): string => (typeof body === 'string' ? body : (body as { code: string }).code);

/**
 * The routing script (`parley script …` over the control socket is the same operations):
 * what runs, a check that activates nothing, an upload that becomes the next version on every
 * SIP core (422 when refused: the running one stays), a reload of the configured file, a rollback.
 */
export const scriptRoutes: ApiRoutes = async (app, opts) => {
  app.get(
    '/script',
    {
      config: { scope: 'read' },
      schema: { tags: ['routing script'], summary: 'The active routing script version and the earlier ones of this run', response: { 200: scriptInfo } },
    },
    async () => opts.ops().script.info(),
  );

  app.post(
    '/script/check',
    {
      // admin, not write: loading a script to check it runs its top level in the server, as
      // activating it does (a write token must not be a way to run code there)
      config: { scope: 'admin' },
      bodyLimit: SCRIPT_BODY_LIMIT,
      schema: {
        tags: ['routing script'],
        summary: 'Compile and load a routing script without activating it',
        description: 'Answers 200 with `ok: false` and the errors (line and column) for a script that would be refused. Needs `admin`: loading the script runs its top level in the server.',
        querystring: { type: 'object', additionalProperties: false, properties: { name: { type: 'string', maxLength: 256, description: 'What error messages call the script (default `script.ts`).' } } },
        consumes: ['text/plain', 'application/json'],
        body: scriptBody,
        response: { 200: scriptCheck, 400: ERROR_SCHEMA, 413: ERROR_SCHEMA },
      },
    },
    async (req) => {
      const { name } = req.query as { name?: string };
      return name === undefined ? opts.ops().script.check(codeOf(req.body)) : opts.ops().script.check(codeOf(req.body), name);
    },
  );

  app.put(
    '/script',
    {
      config: { scope: 'admin' },
      bodyLimit: SCRIPT_BODY_LIMIT,
      schema: {
        tags: ['routing script'],
        summary: 'Upload a routing script and activate it on every SIP core',
        description: 'Kept as `<dataDir>/routing/uploaded/N.ts`; every core loads it, then all switch (as `parley reload`). A script that does not compile, load or export the handlers is refused with 422 and the running version keeps serving. A change to the configured, watched script file replaces it again.',
        consumes: ['text/plain', 'application/json'],
        body: scriptBody,
        response: { 200: scriptInfo, 400: ERROR_SCHEMA, 413: ERROR_SCHEMA, 422: ERROR_SCHEMA },
      },
    },
    async (req) => opts.ops().script.upload(codeOf(req.body)),
  );

  app.post(
    '/script/reload',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['routing script'],
        summary: 'Reload the configured routing script file (as `parley reload` and SIGHUP)',
        response: { 200: scriptInfo, 409: ERROR_SCHEMA, 422: ERROR_SCHEMA },
      },
    },
    async () => opts.ops().script.reload(),
  );

  app.post(
    '/script/rollback',
    {
      config: { scope: 'admin' },
      // no body at all: the version before the active one
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
      schema: {
        tags: ['routing script'],
        summary: 'Activate an earlier version of this run again (default: the one before the active one)',
        body: { type: 'object', additionalProperties: false, properties: { version: { type: 'integer', minimum: 1 } } },
        response: { 200: scriptInfo, 404: ERROR_SCHEMA, 409: ERROR_SCHEMA, 422: ERROR_SCHEMA },
      },
    },
    async (req) => {
      const version = (req.body as { version?: number } | undefined)?.version;
      return version === undefined ? opts.ops().script.rollback() : opts.ops().script.rollback(version);
    },
  );
};
