import type { ApiRoutes } from '../api-routes.js';
import { errorResponses } from './schemas.js';

const STATS = {
  type: 'object',
  properties: Object.fromEntries(
    ['time', 'requests', 'responses', 'transactions', 'registrations', 'calls', 'callsAnswered', 'authFailures', 'blockedSources', 'connections', 'turnAllocations', 'turnBytes', 'mediaSessions', 'mediaPackets'].map((k) => [k, { type: 'number' }]),
  ),
} as const;

const STATUS = {
  type: 'object',
  required: ['version', 'pid', 'node', 'startedAt', 'uptimeSeconds', 'listeners', 'workers', 'script', 'turn', 'media', 'counters'],
  properties: {
    version: { type: 'string' },
    pid: { type: 'integer' },
    node: { type: 'string' },
    startedAt: { type: 'string', format: 'date-time' },
    uptimeSeconds: { type: 'integer' },
    listeners: { type: 'array', items: { type: 'string' } },
    workers: { type: 'integer', description: 'SIP worker threads (0: the SIP core runs in the main thread).' },
    script: { type: 'object', properties: { version: { type: 'integer' }, source: { type: 'string' } } },
    turn: { type: 'boolean' },
    media: { type: 'boolean' },
    counters: STATS,
  },
} as const;

const READY = {
  type: 'object',
  required: ['ready', 'checks'],
  properties: {
    ready: { type: 'boolean' },
    checks: { type: 'array', items: { type: 'object', required: ['name', 'ok'], properties: { name: { type: 'string' }, ok: { type: 'boolean' }, detail: { type: 'string' } } } },
  },
} as const;

/** `GET /api/v1/status` and `GET /api/v1/config` (ServerOps). */
export const serverRoutes: ApiRoutes = async (app, { ops }) => {
  app.get(
    '/status',
    { config: { scope: 'read' }, schema: { tags: ['server'], summary: 'What runs: version, listeners, workers, uptime, counters', response: { 200: STATUS, ...errorResponses(503) } } },
    async () => ops().server.status(),
  );
  app.get(
    '/config',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['server'],
        summary: 'The effective configuration, secrets redacted',
        description: 'Every key with its value after defaults; the value of every secret (`auth.nonceSecret`, `proxy.recordRouteSecret`, `turn.restSecrets`, ICE server credentials) is "[redacted]".',
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses() },
      },
    },
    async () => ops().server.config(),
  );
};

/** `GET /readyz` at the root: 200 when ready, 503 with the failed checks otherwise (public, for probes). */
export const readyRoutes: ApiRoutes = async (app, { ops }) => {
  app.get(
    '/readyz',
    {
      config: { scope: 'public' },
      schema: {
        tags: ['server'],
        summary: 'Readiness: listeners up, the store answering, every SIP core answering within 2 s',
        response: { 200: READY, 503: { ...READY, description: 'Not ready (or still starting): the checks say what.' } },
      },
    },
    async (_request, reply) => {
      let report;
      try {
        report = await ops().server.ready();
      } catch (e) {
        report = { ready: false, checks: [{ name: 'server', ok: false, detail: (e as Error).message }] };
      }
      return reply.code(report.ready ? 200 : 503).header('Cache-Control', 'no-store').send(report);
    },
  );
};
