/**
 * The ICE check page on Parley's HTTPS server: what `parley turn-check` does, in the browser.
 *
 *   GET /ice             the page (also /ice/ and /ice/index.html)
 *   GET /ice/ice.js      its bundle (web/ice, no JsSIP), ice.css, source map
 *
 * The page gathers candidates with an RTCPeerConnection from a STUN/TURN URL the person types, or
 * from Parley's own TURN server with credentials from `POST /phone/turn-credentials`
 * (turn-credentials-route.ts), and says in words why no relay candidate came. Built by
 * scripts/build-web.mjs into dist/web/ice, beside the phone's.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import { PHONE_CSP } from './phone-page.js';

/** Where the built page is: dist/web/ice beside the compiled module, or the repository's dist/web/ice (tests with tsx). */
export function defaultIceRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'ice'), resolve(here, '../../dist/web/ice')];
  return candidates.find((c) => existsSync(join(c, 'index.html'))) ?? candidates[0]!;
}

/** The page needs no camera or microphone: gathering candidates asks for no device. */
const ICE_PERMISSIONS = 'camera=(), microphone=()';

export async function registerIcePage(app: FastifyInstance, o: { readonly root?: string } = {}): Promise<void> {
  const root = o.root ?? defaultIceRoot();
  const sendIndex = async (reply: FastifyReply): Promise<FastifyReply> => {
    let html: Buffer;
    try {
      html = await readFile(join(root, 'index.html'));
    } catch {
      return reply.code(503).type('text/plain; charset=utf-8').send(`The ICE page is not built (${join(root, 'index.html')} is missing): run "npm run build".\n`);
    }
    return reply
      .header('Content-Security-Policy', PHONE_CSP)
      .header('Referrer-Policy', 'no-referrer')
      .header('X-Content-Type-Options', 'nosniff')
      .header('Cache-Control', 'no-cache')
      .header('Permissions-Policy', ICE_PERMISSIONS)
      .type('text/html; charset=utf-8')
      .send(html);
  };
  app.get('/ice', (_req, reply) => sendIndex(reply));
  app.get('/ice/', (_req, reply) => sendIndex(reply));
  app.get('/ice/index.html', (_req, reply) => sendIndex(reply));
  await app.register(fastifyStatic, {
    root,
    prefix: '/ice/',
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

/** The page as a fastify plugin, for HttpServer's `plugins` (src/app/run-server.ts). */
export function icePagePlugin(o: { readonly root?: string } = {}): FastifyPluginAsync {
  return async (app) => registerIcePage(app, o);
}
