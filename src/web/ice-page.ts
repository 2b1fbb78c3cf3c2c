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
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { defaultBuiltRoot, registerBuiltPage } from './built-page.js';
import { PHONE_CSP } from './phone-page.js';

/** Where the built page is: dist/web/ice beside the compiled module, or the repository's dist/web/ice (tests with tsx). */
export function defaultIceRoot(): string {
  return defaultBuiltRoot('ice');
}

/** The page needs no camera or microphone: gathering candidates asks for no device. */
const ICE_PERMISSIONS = 'camera=(), microphone=()';

export async function registerIcePage(app: FastifyInstance, o: { readonly root?: string } = {}): Promise<void> {
  await registerBuiltPage(app, {
    name: 'ice',
    root: o.root ?? defaultIceRoot(),
    title: 'The ICE page',
    csp: PHONE_CSP,
    headers: [['Permissions-Policy', ICE_PERMISSIONS]],
  });
}

/** The page as a fastify plugin, for HttpServer's `plugins` (src/app/run-server.ts). */
export function icePagePlugin(o: { readonly root?: string } = {}): FastifyPluginAsync {
  return async (app) => registerIcePage(app, o);
}
