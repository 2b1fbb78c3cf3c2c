/**
 * `POST /phone/turn-credentials`: fresh time-limited TURN credentials for a page of Parley's (the
 * phone, /ice), authorised by the person's SIP login, so that the browser relays through Parley's
 * own TURN server with nothing configured (docs/turn.md, "How the phone gets its credentials").
 *
 *   POST /phone/turn-credentials
 *   Authorization: Basic base64(user[@domain]:password)          (RFC 7617, charset UTF-8)
 *
 *   200 {"username":"1700086400:alice","password":"…","ttl":86400,"uris":["turn:host:3478?transport=udp",…]}
 *       the REST credentials (draft-uberti-behave-turn-rest-00 §2.2, as coturn's use-auth-secret checks them)
 *   401 the same answer for an unknown user, a wrong password, a malformed or missing Authorization
 *   403 plain HTTP on a listener that is not loopback (the password would cross the network in clear)
 *   404 TURN is off (`turn.enabled: false`, or its port could not be bound): the page keeps `phone.iceServers`
 *   429 the source is blocked by the failed-authentication limiter (the one SIP counts in)
 *
 * The password is checked against the subscriber's stored HA1s: MD5 and SHA-256 of
 * `user:domain:password` (RFC 7616 §3.4.2, realm = domain) must both match, compared in constant
 * time. An unknown user gets both hashes computed and compared against a stand-in, so that it
 * costs what a wrong password costs, and the same 401. Every 401 but the one to a request with no
 * Authorization header at all (every client's first try) counts as a failure of the source.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isLoopbackAddress } from '../lib/loopback-address.js';
import type { Subscriber } from '../store/subscriber-store.js';

/** The route's path. */
export const TURN_CREDENTIALS_PATH = '/phone/turn-credentials';

/** Longest Authorization header read: a 128-character user, a domain and a 1024-character password in base64, and room. */
export const MAX_AUTHORIZATION_LENGTH = 2048;

/** The body of a 200 (the REST API answer of draft-uberti-behave-turn-rest-00 §2.2). */
export interface TurnCredentialsAnswer {
  readonly username: string;
  readonly password: string;
  readonly ttl: number;
  readonly uris: readonly string[];
}

/** What the route needs of the TURN server, while it runs. */
export interface TurnCredentialSource {
  /** REST credentials for `user` (signed with the first secret), valid `ttl` seconds. */
  make(user: string): { readonly username: string; readonly password: string; readonly ttl: number };
  /** The TURN URLs for a page loaded from `pageHost` (a host name or address, no port, IPv6 without brackets). */
  uris(pageHost: string): readonly string[];
}

export interface TurnCredentialsRouteOptions {
  readonly subscribers: { get(username: string, domain: string): Promise<Subscriber | undefined> };
  /** The SIP domain a user without `@domain` belongs to (read at each request). */
  readonly domain: () => string;
  /** The TURN server's side; undefined while TURN is off. */
  readonly turn: () => TurnCredentialSource | undefined;
  /** The failed-authentication limiter SIP counts in (shared), when it is on. */
  readonly limiter?: { isBlocked(address: string): boolean; recordFailure(address: string): unknown } | undefined;
}

/** A user and password from an `Authorization: Basic` header (RFC 7617 §2), or undefined when it is not one. */
export function parseBasicAuthorization(header: string | undefined): { readonly user: string; readonly password: string } | undefined {
  if (header === undefined || header.length > MAX_AUTHORIZATION_LENGTH) return undefined;
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'basic') return undefined;
  const token = header.slice(space + 1).trim();
  if (token === '' || !isBase64(token)) return undefined;
  // RFC 7617 §2.1: with charset="UTF-8" the user-id and password are UTF-8 (what the pages send)
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(token, 'base64'));
  } catch {
    return undefined;
  }
  // RFC 7617 §2: "a user-id containing a colon character is invalid": the first colon splits
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  for (let i = 0; i < decoded.length; i++) {
    const c = decoded.charCodeAt(i);
    // RFC 7617 §2: no control characters in either
    if (c < 0x20 || c === 0x7f) return undefined;
  }
  return { user, password };
}

function isBase64(s: string): boolean {
  if (s.length % 4 !== 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47;
    const pad = c === 61 && i >= s.length - 2 && (i === s.length - 1 || s.charCodeAt(s.length - 1) === 61);
    if (!alnum && !pad) return false;
  }
  return true;
}

/** Stand-ins compared against for an unknown user (so that it costs what a wrong password costs). */
const NO_HA1_MD5 = '0'.repeat(32);
const NO_HA1_SHA256 = '0'.repeat(64);

/**
 * Does `password` give the subscriber's stored HA1s (MD5 and SHA-256 of user:domain:password)?
 * Both are computed and compared whatever the outcome; an undefined subscriber never matches.
 */
export function passwordMatches(subscriber: Subscriber | undefined, user: string, domain: string, password: string): boolean {
  const text = `${user}:${domain}:${password}`;
  const md5 = createHash('md5').update(text, 'utf8').digest();
  const sha256 = createHash('sha256').update(text, 'utf8').digest();
  const a = equalHex(md5, subscriber?.ha1Md5 ?? NO_HA1_MD5);
  const b = equalHex(sha256, subscriber?.ha1Sha256 ?? NO_HA1_SHA256);
  return subscriber !== undefined && a && b;
}

function equalHex(digest: Buffer, hex: string): boolean {
  const stored = Buffer.from(hex, 'hex');
  if (stored.length !== digest.length) {
    timingSafeEqual(digest, digest);
    return false;
  }
  return timingSafeEqual(digest, stored);
}

/**
 * May this request carry a password? Over TLS, yes; over plain HTTP only when both ends of the
 * connection are loopback (the development listener), as the HTTP server's defaults have it.
 */
export function mayCarryPassword(socket: { readonly encrypted?: boolean; readonly localAddress?: string | undefined; readonly remoteAddress?: string | undefined }): boolean {
  if (socket.encrypted === true) return true;
  return isLoopbackAddress(socket.localAddress) && isLoopbackAddress(socket.remoteAddress);
}

/**
 * The host the page was loaded from, for TURN URLs on a wildcard listener: the Host header's host
 * without its port and IPv6 brackets, when it is a plain host name or address; else undefined.
 */
export function pageHost(hostHeader: string | undefined): string | undefined {
  if (hostHeader === undefined || hostHeader.length === 0 || hostHeader.length > 260) return undefined;
  let host = hostHeader;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) return undefined;
    host = host.slice(1, close);
    for (let i = 0; i < host.length; i++) {
      const c = host.charCodeAt(i);
      if (!(c === 58 || c === 46 || (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102))) return undefined;
    }
    return host.length > 0 ? host : undefined;
  }
  const colon = host.indexOf(':');
  if (colon >= 0) host = host.slice(0, colon);
  if (host.length === 0) return undefined;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (!(c === 45 || c === 46 || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return undefined;
  }
  return host.toLowerCase();
}

/** Register the route on `app`. */
export function registerTurnCredentialsRoute(app: FastifyInstance, o: TurnCredentialsRouteOptions): void {
  const refuse = (reply: FastifyReply, code: number, error: string): FastifyReply => reply.code(code).header('Cache-Control', 'no-store').send({ error });
  const unauthorized = (reply: FastifyReply): FastifyReply =>
    reply.header('WWW-Authenticate', `Basic realm="${o.domain().split('"').join('').split('\\').join('')}", charset="UTF-8"`).code(401).header('Cache-Control', 'no-store').send({ error: 'wrong username or password' });

  app.post(
    TURN_CREDENTIALS_PATH,
    {
      // nothing is read from the body: a small one is tolerated, a large one refused (413) unread
      bodyLimit: 1024,
      schema: {
        description: 'Time-limited TURN credentials for the browser phone, authorised by its SIP login (HTTP Basic).',
        response: {
          200: {
            type: 'object',
            required: ['username', 'password', 'ttl', 'uris'],
            properties: { username: { type: 'string' }, password: { type: 'string' }, ttl: { type: 'integer' }, uris: { type: 'array', items: { type: 'string' } } },
          },
        },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const socket = request.raw.socket as { encrypted?: boolean; localAddress?: string; remoteAddress?: string };
      if (!mayCarryPassword(socket)) return refuse(reply, 403, 'TURN credentials are given over HTTPS only (plain HTTP only on loopback)');
      const source = socket.remoteAddress ?? '';
      if (o.limiter?.isBlocked(source) === true) return refuse(reply.header('Retry-After', '60'), 429, 'too many failed logins from this address: try again later');
      const turn = o.turn();
      if (turn === undefined) return refuse(reply, 404, 'this server runs no TURN server (turn.enabled: false, or its port could not be bound)');
      const header = request.headers.authorization;
      const basic = parseBasicAuthorization(header);
      if (basic === undefined) {
        // no Authorization at all is every client's first try; a malformed one is a failure
        if (header !== undefined) o.limiter?.recordFailure(source);
        return unauthorized(reply);
      }
      let user = basic.user;
      let domain = o.domain();
      const at = user.lastIndexOf('@');
      if (at > 0) {
        domain = user.slice(at + 1).toLowerCase();
        user = user.slice(0, at);
      }
      const subscriber = user.length <= 128 && domain.length <= 255 ? await o.subscribers.get(user, domain) : undefined;
      if (!passwordMatches(subscriber, user, domain, basic.password)) {
        o.limiter?.recordFailure(source);
        return unauthorized(reply);
      }
      const c = turn.make(user);
      const host = pageHost(request.headers.host) ?? domain;
      return reply.header('Cache-Control', 'no-store').send({ username: c.username, password: c.password, ttl: c.ttl, uris: [...turn.uris(host)] } satisfies TurnCredentialsAnswer);
    },
  );
}

/** The route as a fastify plugin, for HttpServer's `plugins` (src/app/web-server.ts). */
export function turnCredentialsPlugin(o: TurnCredentialsRouteOptions): FastifyPluginAsync {
  return async (app) => registerTurnCredentialsRoute(app, o);
}

/**
 * TURN URLs (RFC 7065) for the bound listeners: `turn:` with `?transport=udp|tcp`, `turns:` for TLS;
 * a listener on a wildcard address is named by the host the page was loaded from.
 */
export function turnUris(listeners: ReadonlyArray<{ readonly transport: 'udp' | 'tcp' | 'tls'; readonly address: string; readonly port: number }>, pageHostName: string): string[] {
  const out: string[] = [];
  for (const l of listeners) {
    const wildcard = l.address === '0.0.0.0' || l.address === '::';
    const host = wildcard ? pageHostName : l.address;
    const h = host.includes(':') ? `[${host}]` : host;
    const uri = l.transport === 'tls' ? `turns:${h}:${l.port}?transport=tcp` : `turn:${h}:${l.port}?transport=${l.transport}`;
    if (!out.includes(uri)) out.push(uri);
  }
  return out;
}
