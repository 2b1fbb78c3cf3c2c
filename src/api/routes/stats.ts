// tags, summary, description in route schemas (OpenAPI)
import type {} from '@fastify/swagger';
import type { ApiRoutes } from '../api-routes.js';

const snapshotSchema = {
  type: 'object',
  description: 'Counters summed over the SIP cores (totals since start, except the gauges: transactions, registrations, blockedSources, connections, turnAllocations, mediaSessions)',
  required: ['time', 'requests', 'responses', 'transactions', 'registrations', 'calls', 'callsAnswered', 'authFailures', 'blockedSources', 'connections', 'turnAllocations', 'turnBytes', 'mediaSessions', 'mediaPackets'],
  properties: {
    time: { type: 'integer', description: 'ms since the epoch' },
    requests: { type: 'number', description: 'SIP requests received' },
    responses: { type: 'number', description: 'SIP responses sent' },
    transactions: { type: 'number', description: 'SIP transactions in flight' },
    registrations: { type: 'number', description: 'Registered contacts' },
    calls: { type: 'number' },
    callsAnswered: { type: 'number' },
    authFailures: { type: 'number' },
    blockedSources: { type: 'number' },
    connections: { type: 'number', description: 'Open SIP stream connections' },
    turnAllocations: { type: 'number' },
    turnBytes: { type: 'number', description: 'Bytes relayed by TURN, both ways' },
    mediaSessions: { type: 'number' },
    mediaPackets: { type: 'number', description: 'RTP/RTCP packets of anchored calls, both ways' },
  },
} as const;

/** `GET /api/v1/stats` (now) and `GET /api/v1/stats/history` (a sample per 10 s, the last hour). */
export const statsRoutes: ApiRoutes = async (app, opts) => {
  app.get(
    '/stats',
    {
      schema: { tags: ['stats'], summary: 'Counters now, summed over the SIP cores', response: { 200: snapshotSchema } },
      config: { scope: 'read' },
    },
    async () => opts.ops().metrics.stats(),
  );
  app.get(
    '/stats/history',
    {
      schema: {
        tags: ['stats'],
        summary: 'A sample of the counters every 10 s over the last hour, oldest first',
        response: { 200: { type: 'object', required: ['intervalSeconds', 'samples'], properties: { intervalSeconds: { type: 'integer' }, samples: { type: 'array', items: snapshotSchema } } } },
      },
      config: { scope: 'read' },
    },
    async () => ({ intervalSeconds: 10, samples: opts.ops().metrics.history() }),
  );
};
