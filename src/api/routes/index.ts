import type { ApiRoutes } from '../api-routes.js';
import { eventRoutes } from './events.js';

/**
 * The API's route groups (one file each in this folder), in the order they appear in the
 * OpenAPI document. Registered under `/api/v1` by api-plugin.ts.
 */
export const API_V1_ROUTES: ReadonlyArray<ApiRoutes> = [eventRoutes];

/** Route groups served at the root, outside `/api/v1` (`/metrics`, `/readyz`). */
export const ROOT_ROUTES: ReadonlyArray<ApiRoutes> = [];
