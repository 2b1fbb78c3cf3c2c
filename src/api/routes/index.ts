import type { ApiRoutes } from '../api-routes.js';
import { bindingRoutes } from './bindings.js';
import { readyRoutes, serverRoutes } from './server.js';
import { sessionRoutes } from './session.js';
import { subscriberRoutes } from './subscribers.js';
import { tokenRoutes } from './tokens.js';
import { scriptRoutes } from './script.js';
import { callRoutes } from './calls.js';
import { traceRoutes } from './traces.js';
import { metricsRoutes } from './metrics.js';
import { statsRoutes } from './stats.js';
import { turnRoutes } from './turn.js';
import { mediaRoutes } from './media.js';
import { eventRoutes } from './events.js';
import { configurationRoutes } from './configuration.js';
import { captureRoutes } from './captures.js';

/**
 * The API's route groups (one file each in this folder), in the order they appear in the
 * OpenAPI document. Registered under `/api/v1` by api-plugin.ts.
 */
export const API_V1_ROUTES: ReadonlyArray<ApiRoutes> = [
  serverRoutes,
  subscriberRoutes,
  bindingRoutes,
  tokenRoutes,
  sessionRoutes,
  scriptRoutes,
  callRoutes,
  traceRoutes,
  statsRoutes,
  turnRoutes,
  mediaRoutes,
  eventRoutes,
  configurationRoutes,
  captureRoutes,
];

/** Route groups served at the root, outside `/api/v1` (`/metrics`, `/readyz`). */
export const ROOT_ROUTES: ReadonlyArray<ApiRoutes> = [
  metricsRoutes,
  readyRoutes,
];
