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
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';

export interface DashboardPageOptions {
  /** The built page (index.html, dashboard.js, dashboard.css); default: dist/web/dashboard. */
  readonly root?: string;
}

/** dist/web/dashboard beside the compiled module, or the repository's when running from the sources. */
export function defaultDashboardRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'dashboard'), resolve(here, '../../dist/web/dashboard')];
  return candidates.find((c) => existsSync(join(c, 'index.html'))) ?? candidates[0]!;
}

/**
 * Content-Security-Policy of the dashboard: its own scripts and styles, API calls and the event
 * WebSocket to its own origin (`'self'` covers `wss:` to the same host in CSP Level 3), no frames:
 * a page that holds an admin token runs nothing from elsewhere.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function pageHeaders(reply: FastifyReply): void {
  reply.header('Content-Security-Policy', DASHBOARD_CSP);
  reply.header('Referrer-Policy', 'no-referrer');
  reply.header('X-Content-Type-Options', 'nosniff');
  reply.header('X-Frame-Options', 'DENY');
  reply.header('Cache-Control', 'no-cache');
}

/** Register the dashboard's routes on `app` (before `app.listen`). */
export async function registerDashboardPage(app: FastifyInstance, o: DashboardPageOptions = {}): Promise<void> {
  const root = o.root ?? defaultDashboardRoot();
  const sendIndex = async (reply: FastifyReply): Promise<FastifyReply> => {
    let html: Buffer;
    try {
      html = await readFile(join(root, 'index.html'));
    } catch {
      return reply.code(503).type('text/plain; charset=utf-8').send(`The dashboard is not built (${join(root, 'index.html')} is missing): run "npm run build".\n`);
    }
    pageHeaders(reply);
    return reply.type('text/html; charset=utf-8').send(html);
  };
  app.get('/dashboard', { schema: { hide: true } }, (_req, reply) => sendIndex(reply));
  app.get('/dashboard/', { schema: { hide: true } }, (_req, reply) => sendIndex(reply));
  app.get('/dashboard/index.html', { schema: { hide: true } }, (_req, reply) => sendIndex(reply));
  await app.register(fastifyStatic, {
    root,
    prefix: '/dashboard/',
    decorateReply: false,
    index: false,
    dotfiles: 'deny',
    cacheControl: false,
    setHeaders: (res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('X-Content-Type-Options', 'nosniff');
    },
  });
}

/** The dashboard's routes as a fastify plugin, for the web server's `plugins` (src/app/web-server.ts). */
export function dashboardPagePlugin(o: DashboardPageOptions = {}): FastifyPluginAsync {
  return async (app) => registerDashboardPage(app, o);
}
