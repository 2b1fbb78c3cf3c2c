import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { ApiRoutes } from '../api-routes.js';
import { OpsError } from '../operations.js';
import { readSubscriberCsv } from '../../store/subscriber-csv.js';
import { errorResponses, PAGE_QUERY, pageOf, splitAddress } from './schemas.js';

const SUBSCRIBER = {
  type: 'object',
  required: ['username', 'domain', 'admin', 'createdAt'],
  properties: {
    username: { type: 'string' },
    domain: { type: 'string' },
    admin: { type: 'boolean', description: 'May log in to the dashboard with the password.' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

const NEW_SUBSCRIBER = {
  type: 'object',
  required: ['username', 'domain', 'password'],
  additionalProperties: false,
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 128 },
    domain: { type: 'string', minLength: 1, maxLength: 253 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
    admin: { type: 'boolean', default: false },
  },
} as const;

const ADDRESS_PARAMS = {
  type: 'object',
  required: ['address'],
  properties: { address: { type: 'string', minLength: 3, maxLength: 400, description: '`user@domain`' } },
} as const;

const TAGS = ['subscribers'];

/**
 * Subscribers: the users who may register and call (SubscriberOps). `{address}` is `user@domain`.
 * The bulk import takes a JSON array or CSV (the layouts of `parley user import`), all or nothing,
 * and streams progress as NDJSON when asked (`Accept: application/x-ndjson`).
 */
export const subscriberRoutes: ApiRoutes = async (app, { ops }) => {
  // CSV bodies (the import): read here into the same array a JSON body gives, so one schema checks both
  app.addContentTypeParser('text/csv', { parseAs: 'buffer' }, (request, body, done) => {
    const domain = new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1)).get('domain') ?? undefined;
    const { subscribers, problems } = readSubscriberCsv(body as Buffer, domain === '' ? undefined : domain);
    const first = problems.sort((a, b) => a.line - b.line)[0];
    if (first !== undefined) {
      done(new OpsError(400, `line ${first.line}: ${first.field}: ${first.problem}${problems.length > 1 ? ` (and ${problems.length - 1} more bad line${problems.length > 2 ? 's' : ''})` : ''}`, first.field), undefined);
      return;
    }
    done(null, subscribers.map(([, s]) => ({ username: s.username, domain: s.domain, password: s.password })));
  });

  const address = (text: string): { username: string; domain: string } => {
    const a = splitAddress(text);
    if (a === undefined) throw new OpsError(400, `${JSON.stringify(text)}: expected user@domain`, 'address');
    return a;
  };

  app.get<{ Querystring: { domain?: string; search?: string; offset?: number; limit?: number } }>(
    '/subscribers',
    {
      config: { scope: 'read' },
      schema: {
        tags: TAGS,
        summary: 'List subscribers',
        description: 'Ordered by domain, then username.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { domain: { type: 'string', maxLength: 253 }, search: { type: 'string', maxLength: 200, description: 'A substring of `user@domain`.' }, ...PAGE_QUERY },
        },
        response: { 200: pageOf(SUBSCRIBER), ...errorResponses(400) },
      },
    },
    async (request) => ops().subscribers.list(request.query),
  );

  app.get<{ Params: { address: string } }>(
    '/subscribers/:address',
    { config: { scope: 'read' }, schema: { tags: TAGS, summary: 'Get a subscriber', params: ADDRESS_PARAMS, response: { 200: SUBSCRIBER, ...errorResponses(400, 404) } } },
    async (request) => {
      const a = address(request.params.address);
      return ops().subscribers.get(a.username, a.domain);
    },
  );

  app.post<{ Body: { username: string; domain: string; password: string; admin?: boolean } }>(
    '/subscribers',
    { config: { scope: 'write' }, schema: { tags: TAGS, summary: 'Add a subscriber', body: NEW_SUBSCRIBER, response: { 201: SUBSCRIBER, ...errorResponses(400, 409, 413, 415) } } },
    async (request, reply) => reply.code(201).send(await ops().subscribers.create(request.body)),
  );

  app.patch<{ Params: { address: string }; Body: { password?: string; admin?: boolean } }>(
    '/subscribers/:address',
    {
      config: { scope: 'write' },
      schema: {
        tags: TAGS,
        summary: "Change a subscriber's password or admin flag",
        params: ADDRESS_PARAMS,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { password: { type: 'string', minLength: 1, maxLength: 1024 }, admin: { type: 'boolean' } } },
        response: { 200: SUBSCRIBER, ...errorResponses(400, 404, 413, 415) },
      },
    },
    async (request) => {
      const a = address(request.params.address);
      return ops().subscribers.update(a.username, a.domain, request.body);
    },
  );

  app.delete<{ Params: { address: string } }>(
    '/subscribers/:address',
    { config: { scope: 'write' }, schema: { tags: TAGS, summary: 'Remove a subscriber', params: ADDRESS_PARAMS, response: { 204: { type: 'null', description: 'Removed.' }, ...errorResponses(400, 404) } } },
    async (request, reply) => {
      const a = address(request.params.address);
      await ops().subscribers.remove(a.username, a.domain);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: Array<{ username: string; domain: string; password: string }>; Querystring: { domain?: string } }>(
    '/subscribers/import',
    {
      config: { scope: 'write', largeBody: true },
      schema: {
        tags: TAGS,
        summary: 'Import many subscribers, all or nothing',
        description:
          'A JSON array of `{username, domain, password}`, or `text/csv` with lines `user@domain,password` or `username,domain,password` (as `parley user import`; `?domain=` for lines without one). ' +
          'Nothing is imported when any item is bad (400 naming it) or exists (409). With `Accept: application/x-ndjson` the answer is a stream of lines `{"done":n,"total":m}` ending with `{"imported":m}` or `{"error":…,"status":…}`; the body may be up to `api.importBodyLimit`.',
        querystring: { type: 'object', additionalProperties: false, properties: { domain: { type: 'string', maxLength: 253, description: 'Domain of CSV lines that name none.' } } },
        body: { type: 'array', maxItems: 1_000_000, items: NEW_SUBSCRIBER },
        response: { 200: { type: 'object', required: ['imported'], properties: { imported: { type: 'integer' } } }, ...errorResponses(400, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const items = request.body;
      const accept = request.headers.accept;
      if (typeof accept !== 'string' || !accept.includes('application/x-ndjson')) return ops().subscribers.importMany(items);
      return streamImport(reply, items, (progress) => ops().subscribers.importMany(items, progress));
    },
  );
};

/** The import with NDJSON progress: `{"done","total"}` lines, then `{"imported"}` or `{"error","status","field"?}`. */
function streamImport(reply: FastifyReply, items: readonly unknown[], run: (progress: (done: number, total: number) => void) => Promise<{ imported: number }>): FastifyReply {
  const out = new PassThrough();
  const line = (o: unknown): void => void out.write(`${JSON.stringify(o)}\n`);
  line({ done: 0, total: items.length });
  let last = 0;
  run((done, total) => {
    if (done > last) {
      last = done;
      line({ done, total });
    }
  })
    .then(
      (r) => {
        if (last < r.imported) line({ done: r.imported, total: items.length });
        line({ imported: r.imported });
      },
      (e: unknown) => {
        const status = e instanceof OpsError ? e.status : 500;
        line({ error: e instanceof OpsError ? e.message : 'internal error', status, ...(e instanceof OpsError && e.field !== undefined ? { field: e.field } : {}) });
      },
    )
    .finally(() => out.end());
  return reply.type('application/x-ndjson').header('Cache-Control', 'no-store').send(out);
}
