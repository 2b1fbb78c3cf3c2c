/**
 * The operator's dashboard on Parley's web server (fastify):
 *
 *   GET /dashboard             the page (also /dashboard/ and /dashboard/index.html)
 *   GET /dashboard/<file>      dashboard.js, dashboard.css, uPlot.min.css, the source map
 *
 * A static page: everything it shows comes from the REST API (/api/v1, a bearer token the person
 * pastes or gets from POST /api/v1/session), so the page itself needs no authentication. The
 * files are the build's (`npm run build` bundles web/dashboard into dist/web/dashboard).
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { defaultBuiltRoot, ownOriginCsp, registerBuiltPage } from './built-page.js';

export interface DashboardPageOptions {
  /** The built page (index.html, dashboard.js, dashboard.css); default: dist/web/dashboard. */
  readonly root?: string;
}

/** dist/web/dashboard beside the compiled module, or the repository's when running from the sources. */
export function defaultDashboardRoot(): string {
  return defaultBuiltRoot('dashboard');
}

/**
 * Content-Security-Policy of the dashboard: its own scripts and styles, API calls and the event
 * WebSocket to its own origin (`'self'` covers `wss:` to the same host in CSP Level 3), no frames:
 * a page that holds an admin token runs nothing from elsewhere.
 */
export const DASHBOARD_CSP = ownOriginCsp();

/** Register the dashboard's routes on `app` (before `app.listen`). */
export async function registerDashboardPage(app: FastifyInstance, o: DashboardPageOptions = {}): Promise<void> {
  await registerBuiltPage(app, { name: 'dashboard', root: o.root ?? defaultDashboardRoot(), title: 'The dashboard', csp: DASHBOARD_CSP, headers: [['X-Frame-Options', 'DENY']], hidden: true });
}

/** The dashboard's routes as a fastify plugin, for the web server's `plugins` (src/app/web-server.ts). */
export function dashboardPagePlugin(o: DashboardPageOptions = {}): FastifyPluginAsync {
  return async (app) => registerDashboardPage(app, o);
}
