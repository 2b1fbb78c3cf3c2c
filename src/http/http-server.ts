import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { fastify, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { refuseUpgrade } from '../lib/http-refusal.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import { normalizeAddress } from '../sip-server/transport/flow.js';
import { listenError } from '../sip-server/transport/listen-error.js';
import { sourcePrefix } from '../sip-server/transport/source-prefix.js';
import { formatHostPort } from '../sip-server/transport/message-path.js';
import type { TlsCertificate } from '../sip-server/transport/tls-certificate.js';
import { TLS_MIN_VERSION, TLS_SERVER_CIPHERS } from '../sip-server/transport/tls-transport.js';
import { OriginPolicy } from './origin-policy.js';

/** One HTTP listener: `https` (TLS 1.2+, the SIP TLS certificate) or plain `http` (development). */
export interface HttpListenerOptions {
  readonly transport: 'https' | 'http';
  /** IP address to bind: `0.0.0.0`, `::`, `127.0.0.1`, … */
  readonly address: string;
  /** Port; 0 for an ephemeral one. */
  readonly port: number;
}

/** A bound HTTP listener (the real port when 0 was asked for). */
export interface HttpListenerInfo {
  readonly transport: 'https' | 'http';
  readonly address: string;
  readonly port: number;
}

/** Where an upgrade request came in. */
export interface UpgradeContext {
  readonly listener: HttpListenerInfo;
  /** It came over TLS (an `https` listener): a WebSocket on it is `wss`. */
  readonly secure: boolean;
  /** The request path, without the query. */
  readonly path: string;
}

/**
 * Takes an HTTP upgrade request for one path (after the Origin check unless the route opted out)
 * and owns the socket from then on: completes a handshake or refuses (see refuseUpgrade).
 */
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer, context: UpgradeContext) => void;

export interface UpgradeRouteOptions {
  /** Check the Origin header against the OriginPolicy before the handler runs (403 if refused). Default true. */
  readonly checkOrigin?: boolean;
}

export interface HttpServerOptions {
  readonly listeners: readonly HttpListenerOptions[];
  /** Certificate and key of the `https` listeners (required when there is one). */
  readonly certificate?: TlsCertificate;
  /** Origins allowed to open WebSockets besides the same origin; `*` for any (see OriginPolicy). */
  readonly origins?: readonly string[];
  /** Most sockets (HTTP keep-alive and upgraded) open at once on each listener. Default 10,000. */
  readonly maxSockets?: number;
  /**
   * Most sockets open at once from one source (an IPv4 address, an IPv6 /64: sourcePrefix), over
   * all listeners; a socket beyond it is closed at once. Default 100. Without it one host that
   * trickles its headers (slowloris: each socket lives up to the 10-s headers timeout, checked
   * every 30 s by Node) held every socket of the listener, and every browser was refused.
   */
  readonly maxSocketsPerSource?: number;
  /**
   * Fastify plugins registered before start, e.g. the pages of the browser phone. Modules can
   * also call `httpServer.app.register(…)` / `httpServer.app.get(…)` themselves before start().
   */
  readonly plugins?: ReadonlyArray<FastifyPluginAsync>;
  readonly log?: Logger;
}

/** Time allowed for the request header section (and the TLS handshake): slow clients are cut off. */
const HEADERS_TIMEOUT_MS = 10_000;
/** Time allowed for a whole request. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Parley's web server: one fastify application (routes for the REST API and pages, added by the
 * modules that own them) served on any number of HTTPS and HTTP listeners, "decorated" with a
 * dispatch of HTTP upgrades by path — `/sip` to SIP over WebSocket (RFC 7118), later other
 * WebSocket services — after an Origin check (RFC 6455 §10.2).
 *
 *   request ─▶ fastify routes (GET /, /healthz, what modules add)
 *   upgrade ─▶ path known? (404) ─ Upgrade: websocket? (400) ─ Origin allowed? (403) ─▶ handler
 *
 * HTTPS is TLS 1.2 or later with the certificate SIP over TLS uses. Headers must arrive within
 * 10 s and a request within 30 s; each listener holds at most `maxSockets` sockets, and one
 * source (an IPv4 address, an IPv6 /64) at most `maxSocketsPerSource` over all listeners.
 */
export class HttpServer {
  /** The fastify application: add routes and plugins here before start(). */
  readonly app: FastifyInstance;
  private readonly options: HttpServerOptions;
  private readonly log: Logger;
  private readonly origins: OriginPolicy;
  private readonly upgradeRoutes = new Map<string, { handler: UpgradeHandler; checkOrigin: boolean }>();
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  /** Open sockets by source (sourcePrefix), for maxSocketsPerSource. */
  private readonly bySource = new Map<string, number>();
  private readonly maxPerSource: number;
  private readonly bound: HttpListenerInfo[] = [];
  private state: 'new' | 'starting' | 'started' | 'stopped' = 'new';

  constructor(options: HttpServerOptions) {
    this.options = options;
    this.maxPerSource = options.maxSocketsPerSource ?? 100;
    this.log = (options.log ?? silentLogger).child({ module: 'http' });
    this.origins = new OriginPolicy({ allowed: options.origins ?? [] });
    if (options.listeners.some((l) => l.transport === 'https') && options.certificate === undefined) {
      throw new TypeError('an https listener needs a certificate');
    }
    // fastify's own server is never listened on: ours hand their requests to app.routing
    this.app = fastify({ logger: false, return503OnClosing: true });
    this.app.addHook('onError', async (request, reply, error) => {
      // runs after the error handler: a 4xx is the client's mistake, answered as meant (the REST
      // API's 400, 404, 409, …), not a failure of the server
      const log = reply.statusCode < 500 ? this.log.debug : this.log.warn;
      log.call(this.log, { method: request.method, url: request.url.slice(0, 200), status: reply.statusCode, err: error.message }, 'HTTP request failed');
    });
    for (const plugin of options.plugins ?? []) void this.app.register(plugin);
    this.addBuiltInRoutes();
  }

  /** The bound listeners (real ports when 0 was configured). */
  get listeners(): readonly HttpListenerInfo[] {
    return this.bound;
  }

  /** Paths that accept upgrades. */
  get upgradePaths(): string[] {
    return [...this.upgradeRoutes.keys()];
  }

  /**
   * Route WebSocket upgrades for `path` (exact match, query ignored) to `handler`. Before
   * start(); a path has one handler.
   */
  addUpgradeRoute(path: string, handler: UpgradeHandler, options: UpgradeRouteOptions = {}): void {
    if (!path.startsWith('/')) throw new TypeError(`upgrade path "${path}" must start with /`);
    if (this.upgradeRoutes.has(path)) throw new TypeError(`upgrade path ${path} already has a handler`);
    this.upgradeRoutes.set(path, { handler, checkOrigin: options.checkOrigin ?? true });
  }

  /** Bind every listener; rejects, with nothing left bound, if one fails (a ListenError naming it). */
  async start(): Promise<readonly HttpListenerInfo[]> {
    if (this.state !== 'new') throw new Error(`HttpServer.start: already ${this.state}`);
    this.state = 'starting';
    try {
      await this.app.ready();
      for (const [index, l] of this.options.listeners.entries()) {
        let info: HttpListenerInfo;
        try {
          info = await this.listen(l);
        } catch (e) {
          throw listenError(index, l, e);
        }
        this.bound.push(info);
        this.log.info({ transport: info.transport, address: info.address, port: info.port }, `listening on ${info.transport} ${formatHostPort(info.address, info.port)}`);
      }
    } catch (e) {
      this.state = 'started';
      await this.stop();
      throw e;
    }
    this.state = 'started';
    return this.bound;
  }

  /** Close every listener and socket (upgraded ones too). Safe to call more than once. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    const closing = this.servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await Promise.all(closing);
    await this.app.close();
    this.bound.splice(0);
  }

  private async listen(l: HttpListenerOptions): Promise<HttpListenerInfo> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.app.routing(req, res);
    const c = this.options.certificate;
    const server =
      l.transport === 'https'
        ? createHttpsServer({ cert: c!.cert, key: c!.key, minVersion: TLS_MIN_VERSION, ciphers: TLS_SERVER_CIPHERS, handshakeTimeout: HEADERS_TIMEOUT_MS }, handler)
        : createHttpServer(handler);
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    server.maxConnections = this.options.maxSockets ?? 10_000;
    server.on('connection', (socket: Socket) => {
      const source = sourcePrefix(socket.remoteAddress ?? '');
      const held = this.bySource.get(source) ?? 0;
      if (held >= this.maxPerSource) {
        this.log.debug({ source, held }, 'HTTP socket refused: too many from its source (maxConnectionsPerSource)');
        socket.destroy();
        return;
      }
      this.bySource.set(source, held + 1);
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        const n = (this.bySource.get(source) ?? 1) - 1;
        if (n <= 0) this.bySource.delete(source);
        else this.bySource.set(source, n);
      });
    });
    // the listener's real port is known once bound; upgrades are handled from the first one
    let info: HttpListenerInfo = { transport: l.transport, address: normalizeAddress(l.address), port: l.port };
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head, info));
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        server.close();
        reject(e);
      };
      server.once('error', onError);
      server.listen({ host: l.address, port: l.port, exclusive: true }, () => {
        server.off('error', onError);
        server.on('error', (e) => this.log.warn({ err: e.message }, 'HTTP listener error'));
        resolve();
      });
    });
    this.servers.push(server);
    const a = server.address();
    info = {
      transport: l.transport,
      address: normalizeAddress(typeof a === 'object' && a !== null ? a.address : l.address),
      port: typeof a === 'object' && a !== null ? a.port : l.port,
    };
    return info;
  }

  private onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, listener: HttpListenerInfo): void {
    // an upgraded socket has no error listener of its own: a reset must not reach the process
    socket.on('error', () => {});
    const path = pathOf(request.url);
    const route = path === undefined ? undefined : this.upgradeRoutes.get(path);
    const remote = `${(socket as Socket).remoteAddress ?? '?'}:${(socket as Socket).remotePort ?? '?'}`;
    if (route === undefined) {
      this.log.debug({ remote, url: request.url?.slice(0, 200) }, 'upgrade refused: no WebSocket service on this path');
      refuseUpgrade(socket, 404, `no WebSocket service at ${path ?? 'this path'}`);
      return;
    }
    if ((request.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      refuseUpgrade(socket, 400, 'only WebSocket upgrades are accepted');
      return;
    }
    const secure = listener.transport === 'https';
    if (route.checkOrigin) {
      const refusal = this.origins.refusal(request.headers.origin, request.headers.host, secure);
      if (refusal !== undefined) {
        this.log.info({ remote, path, origin: request.headers.origin?.slice(0, 200) }, `upgrade refused: ${refusal}`);
        refuseUpgrade(socket, 403, refusal);
        return;
      }
    }
    try {
      route.handler(request, socket, head, { listener, secure, path: path! });
    } catch (e) {
      this.log.error({ path, err: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 'upgrade handler threw');
      socket.destroy();
    }
  }

  private addBuiltInRoutes(): void {
    // liveness for load balancers and orchestrators
    this.app.get('/healthz', async () => ({ status: 'ok' }));
    // the browser phone when a module serves it, else where the WebSocket services are
    this.app.get('/', async (request, reply) => {
      if (this.app.hasRoute({ method: 'GET', url: '/phone' })) return reply.redirect('/phone', 302);
      const secure = (request.raw.socket as { encrypted?: boolean }).encrypted === true;
      const host = request.headers.host ?? 'HOST';
      const services = this.upgradePaths.map((p) => `  ${secure ? 'wss' : 'ws'}://${host}${p}`);
      return reply
        .type('text/plain; charset=utf-8')
        .send(['Parley', '', 'WebSocket services (SIP over WebSocket, RFC 7118: subprotocol "sip"):', ...services, ''].join('\n'));
    });
  }
}

/** The path of a request target (origin-form or absolute-form), without the query; undefined if unreadable. */
function pathOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  if (url.startsWith('/')) {
    const q = url.search(/[?#]/);
    return q < 0 ? url : url.slice(0, q);
  }
  try {
    return new URL(url).pathname; // absolute-form (RFC 9112 §3.2.2)
  } catch {
    return undefined;
  }
}
