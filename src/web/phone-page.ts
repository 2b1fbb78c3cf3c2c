/**
 * The browser phone's routes on Parley's HTTPS server (fastify):
 *
 *   GET /phone              the page (also /phone/ and /phone/index.html); URL parameters are read by the page
 *   GET /phone/phone.js     the bundle (JsSIP included), phone.css, source map
 *   GET /phone/config.json  what the page needs from the server's configuration: the SIP domain
 *                           and the ICE servers (`phone.iceServers`)
 *
 * The files are the build's (`npm run build` bundles web/phone into dist/web/phone, beside this
 * module's compiled file). The page talks SIP over `wss://<same host>/sip`, the WebSocket route
 * of the same server.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { defaultBuiltRoot, ownOriginCsp, registerBuiltPage } from './built-page.js';

/** An ICE server as RTCPeerConnection takes it (RTCIceServer). */
export interface PhoneIceServer {
  readonly urls: readonly string[];
  readonly username?: string | undefined;
  readonly credential?: string | undefined;
}

export interface PhonePageOptions {
  /**
   * The SIP domain the page registers users under (sip:user@domain); a function when it is known
   * only once the listeners are bound (it is read at each request for config.json).
   */
  readonly domain: string | (() => string);
  /** ICE servers for the page's RTCPeerConnection (`phone.iceServers`). */
  readonly iceServers: readonly PhoneIceServer[];
  /** The built page (index.html, phone.js, phone.css); default: dist/web/phone. */
  readonly root?: string;
}

/** The body of GET /phone/config.json. */
export interface PhoneClientConfig {
  readonly domain: string;
  readonly wsPath: string;
  readonly iceServers: ReadonlyArray<{ urls: readonly string[]; username?: string; credential?: string }>;
}

/**
 * Where the built page is: dist/web/phone beside the compiled module (dist/web/phone-page.js),
 * or, when running from the sources (tests with tsx), the repository's dist/web/phone.
 */
export function defaultPhoneRoot(): string {
  return defaultBuiltRoot('phone');
}

/**
 * Content-Security-Policy of the page: its own scripts, styles and connections only (a
 * `wss:` to its own host is `'self'` in CSP Level 3); camera streams are `blob:`/`mediastream:`.
 */
export const PHONE_CSP = ownOriginCsp("media-src 'self' blob: mediastream:");

/** Register the phone's routes on `app` (call before `app.listen`). */
export async function registerPhonePage(app: FastifyInstance, o: PhonePageOptions): Promise<void> {
  const root = o.root ?? defaultPhoneRoot();
  const domainOf = typeof o.domain === 'function' ? o.domain : () => o.domain as string;
  const clientConfig: Omit<PhoneClientConfig, 'domain'> = {
    wsPath: '/sip',
    iceServers: o.iceServers.map((s) => ({
      urls: [...s.urls],
      ...(s.username === undefined ? {} : { username: s.username }),
      ...(s.credential === undefined ? {} : { credential: s.credential }),
    })),
  };

  app.get(
    '/phone/config.json',
    {
      schema: {
        description: "The browser phone's settings: SIP domain, WebSocket path, ICE servers (phone.iceServers).",
        response: {
          200: {
            type: 'object',
            required: ['domain', 'wsPath', 'iceServers'],
            properties: {
              domain: { type: 'string' },
              wsPath: { type: 'string' },
              iceServers: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['urls'],
                  properties: { urls: { type: 'array', items: { type: 'string' } }, username: { type: 'string' }, credential: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
    (_req, reply) => reply.header('Cache-Control', 'no-store').send({ domain: domainOf(), ...clientConfig } satisfies PhoneClientConfig),
  );

  // the page, and phone.js, phone.css, phone.js.map
  await registerBuiltPage(app, { name: 'phone', root, title: 'The phone page', csp: PHONE_CSP, headers: [['Permissions-Policy', 'camera=(self), microphone=(self)']] });
}

/** The phone's routes as a fastify plugin, for HttpServer's `plugins` (src/app/web-server.ts). */
export function phonePagePlugin(o: PhonePageOptions): FastifyPluginAsync {
  return async (app) => registerPhonePage(app, o);
}
