/**
 * A page of the build on Parley's web server (fastify), as the phone, the ICE check and the
 * dashboard are served:
 *
 *   GET /<name>               index.html with the page's headers (also /<name>/ and /<name>/index.html)
 *   GET /<name>/<file>        its other files (bundle, styles, source map) from @fastify/static:
 *                             content types, ETag and Last-Modified; no dot files, no listing
 *
 * The files are the build's: `npm run build` bundles web/<name> into dist/web/<name>.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

export interface BuiltPage {
  /** The page's path and folder name: `phone` is /phone and dist/web/phone. */
  readonly name: string;
  /** The folder of the built files (index.html, …). */
  readonly root: string;
  /** What the 503 calls the page when it is not built: `The phone page`. */
  readonly title: string;
  /** Content-Security-Policy of index.html (ownOriginCsp). */
  readonly csp: string;
  /** More headers of index.html (after the CSP, Referrer-Policy, X-Content-Type-Options and Cache-Control). */
  readonly headers?: ReadonlyArray<readonly [name: string, value: string]>;
  /** Leave the index routes out of the OpenAPI document. Default false. */
  readonly hidden?: boolean;
}

/**
 * A Content-Security-Policy that lets a page load and connect to its own origin only (a `wss:`
 * to its own host is `'self'` in CSP Level 3), with `more` directives (`media-src …`), no
 * plugins, no <base>, no form posts and no frames.
 */
export function ownOriginCsp(...more: string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    ...more,
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Where a built page is: dist/web/<name> beside the compiled module (dist/web/*.js), or, when
 * running from the sources (tests with tsx), the repository's dist/web/<name>.
 */
export function defaultBuiltRoot(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, name), resolve(here, '../../dist/web', name)];
  return candidates.find((c) => existsSync(join(c, 'index.html'))) ?? candidates[0]!;
}

/** Register a built page's routes on `app` (before `app.listen`). */
export async function registerBuiltPage(app: FastifyInstance, page: BuiltPage): Promise<void> {
  const { name, root } = page;
  const sendIndex = async (reply: FastifyReply): Promise<FastifyReply> => {
    let html: Buffer;
    try {
      html = await readFile(join(root, 'index.html'));
    } catch {
      return reply.code(503).type('text/plain; charset=utf-8').send(`${page.title} is not built (${join(root, 'index.html')} is missing): run "npm run build".\n`);
    }
    reply.header('Content-Security-Policy', page.csp);
    // a link to the phone may carry a password in its fragment: never send a page's address anywhere
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Cache-Control', 'no-cache');
    for (const [header, value] of page.headers ?? []) reply.header(header, value);
    return reply.type('text/html; charset=utf-8').send(html);
  };
  const routeOptions = page.hidden === true ? { schema: { hide: true } } : {};
  for (const path of [`/${name}`, `/${name}/`, `/${name}/index.html`]) app.get(path, routeOptions, (_req, reply) => sendIndex(reply));
  await app.register(fastifyStatic, {
    root,
    prefix: `/${name}/`,
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
