// tags, summary, description in route schemas (OpenAPI)
import type {} from '@fastify/swagger';
import type { ApiRoutes } from '../api-routes.js';

const legSchema = {
  type: 'object',
  required: ['tag', 'local', 'protocol', 'packetsIn', 'packetsOut'],
  properties: {
    tag: { type: 'string', description: 'The side\'s tag, once known (empty before)' },
    local: { type: 'string', description: 'Parley\'s address and port towards the side' },
    remote: { type: 'string', description: 'The side\'s address and port from its SDP' },
    protocol: { type: 'string', enum: ['rtp', 'sdes', 'webrtc'] },
    codec: { type: 'string' },
    packetsIn: { type: 'number' },
    packetsOut: { type: 'number' },
  },
} as const;

/** `GET /api/v1/media/sessions`: the anchored calls' media sessions. */
export const mediaRoutes: ApiRoutes = async (app, opts) => {
  app.get(
    '/media/sessions',
    {
      schema: {
        tags: ['media'],
        summary: 'Media sessions of anchored calls open now',
        response: {
          200: {
            type: 'object',
            required: ['enabled', 'items'],
            properties: {
              enabled: { type: 'boolean' },
              items: { type: 'array', items: { type: 'object', required: ['callId', 'legs', 'startedAt'], properties: { callId: { type: 'string' }, startedAt: { type: 'string', format: 'date-time' }, legs: { type: 'array', items: legSchema } } } },
            },
          },
        },
      },
      config: { scope: 'read' },
    },
    async () => {
      const media = opts.ops().media;
      return { enabled: media.enabled, items: await media.sessions() };
    },
  );
};
