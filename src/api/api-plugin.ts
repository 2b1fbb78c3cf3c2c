/**
 * The REST API (issue 18): a fastify plugin on Parley's web server (src/http/http-server.ts) that
 * serves the route groups of src/api/routes under `/api/v1` (and `/metrics`, `/readyz` at the
 * root), with
 *
 *   - the OpenAPI 3.1 document made from the route schemas at `/api/openapi.json`, a docs page at
 *     `/api/docs` (@fastify/swagger, @fastify/swagger-ui);
 *   - bearer tokens (`Authorization: Bearer pk_<id>_<secret>`, src/store/token-store.ts) checked
 *     against each route's `config.scope` (read < write < admin; none = admin; `public` = anyone);
 *   - the failed-authentication limiter SIP counts in: a wrong token counts, a blocked source gets 429;
 *   - plain HTTP only when the request arrives on a loopback address (`api.allowPlainHttp` to allow more);
 *   - errors as `{ "error": "…", "field"?: "…" }`: 400 naming the field of a body, query or path that
 *     fails its schema, OpsError's status, 404 for unknown paths under /api, 413, 415;
 *   - CORS only for the origins of `api.cors.origins`; an audit line (module `audit`) per write.
 *
 *   request ─▶ CORS preflight? ─ scope public? ─▶ handler
 *                                  │ no
 *              plain HTTP off loopback? (403) ─ source blocked? (429) ─ token? (401) ─ scope? (403) ─▶ handler
 */
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../lib/logger.js';
import { isLoopbackAddress } from '../lib/loopback-address.js';
import { scopeAllows, type ApiToken, type TokenStore } from '../store/token-store.js';
import type { ApiRoutes } from './api-routes.js';
import { OpsError, type Operations } from './operations.js';
import { API_V1_ROUTES, ROOT_ROUTES } from './routes/index.js';

/** The API's settings (`api.*` of the configuration). */
export interface ApiSettings {
  /** Largest request body, bytes (a route may set its own: the bulk import). */
  readonly bodyLimit: number;
  /** Largest body of `POST /api/v1/subscribers/import`, bytes. */
  readonly importBodyLimit: number;
  /** Serve the API over plain HTTP to requests that do not arrive on a loopback address. */
  readonly allowPlainHttp: boolean;
  /** Origins allowed to call the API from a browser (CORS); empty: none (no CORS headers). */
  readonly corsOrigins: readonly string[];
}

export interface ApiPluginOptions {
  /** The running server's operations (throws OpsError 503 while it starts). */
  readonly ops: () => Operations;
  readonly tokens: TokenStore;
  /** The failed-authentication limiter SIP counts in, when it is on. */
  readonly limiter?: { isBlocked(address: string): boolean; recordFailure(address: string): unknown } | undefined;
  readonly settings: ApiSettings;
  readonly log: Logger;
  /** The version for the OpenAPI document's `info`. */
  readonly version: string;
  /** `metrics.allowLoopback`, for the `/metrics` route (ApiRouteOptions). */
  readonly metricsAllowLoopback?: boolean;
  /** Route groups; default the ones of src/api/routes/index.ts (tests pass their own). */
  readonly v1Routes?: readonly ApiRoutes[];
  readonly rootRoutes?: readonly ApiRoutes[];
}

/** Where the OpenAPI document and its page are. */
export const OPENAPI_PATH = '/api/openapi.json';
export const DOCS_PATH = '/api/docs';
/** The Retry-After of a 429 to a blocked source, seconds. */
const RETRY_AFTER_S = 60;
/** Longest Authorization header or `?token=` read. */
const MAX_TOKEN_LENGTH = 256;

/** The body of every error answer. */
export interface ApiErrorBody {
  readonly error: string;
  readonly field?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The token the request was authorised with (none for public routes and anonymous loopback). */
    apiToken: ApiToken | undefined;
    /** Count a failed login from this request's source in the limiter (routes with `config.credentials`). */
    recordAuthFailure(): void;
  }
  interface FastifyContextConfig {
    /** Without a token, allowed from a loopback address (`/metrics` with `metrics.allowLoopback`). */
    loopbackAnonymous?: boolean;
    /** The token may come as `?token=` (event streams: browsers cannot set headers on WebSocket or EventSource). */
    queryToken?: boolean;
    /**
     * A public route that checks credentials itself (`POST /api/v1/session`): HTTPS (or loopback)
     * only, and refused (429) to a source the limiter blocks, like token-authorised routes.
     */
    credentials?: boolean;
    /** The route takes bodies up to `api.importBodyLimit` (the bulk import). */
    largeBody?: boolean;
  }
}

/** The same 401 for a missing, malformed, unknown, wrong, revoked or expired token. */
const UNAUTHORIZED: ApiErrorBody = { error: 'a valid API token is required (Authorization: Bearer pk_…)' };

/** The REST API plugin: register it on the web server's fastify application. */
export function apiPlugin(o: ApiPluginOptions): FastifyPluginAsync {
  const log = o.log.child({ module: 'api' });
  const audit = o.log.child({ module: 'audit' });
  return async (app) => {
    const routeOptions = { ops: o.ops, ...(o.metricsAllowLoopback === undefined ? {} : { metricsAllowLoopback: o.metricsAllowLoopback }) };
    app.decorateRequest('apiToken', undefined);
    app.decorateRequest('recordAuthFailure', function (this: FastifyRequest): void {
      o.limiter?.recordFailure(this.raw.socket.remoteAddress ?? '');
    });

    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'Parley', version: o.version, description: "Parley's operations API: subscribers, registrations, calls, routing script, traces, TURN, media, metrics, events." },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token: `parley token create --name N --scope read|write|admin`.' } } },
        security: [{ bearer: [] }],
      },
      // a route's scope in the document: public routes need no token
      transform: ({ schema, url, route }) => {
        const scope = (route.config as { scope?: string } | undefined)?.scope ?? 'admin';
        const s = { ...(schema as Record<string, unknown>) };
        if (scope === 'public') s.security = [];
        s.description = `${typeof s.description === 'string' ? `${s.description} ` : ''}Scope: ${scope}.`;
        return { schema: s as never, url };
      },
    });

    if (o.settings.corsOrigins.length > 0) {
      const origins = o.settings.corsOrigins;
      await app.register(cors, { origin: origins.includes('*') ? '*' : [...origins], methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], allowedHeaders: ['Authorization', 'Content-Type', 'Accept'] });
    }

    // every route of the API without its own limit gets api.bodyLimit
    app.addHook('onRoute', (route) => {
      if (route.bodyLimit === undefined) route.bodyLimit = route.config?.largeBody === true ? o.settings.importBodyLimit : o.settings.bodyLimit;
    });

    app.addHook('onRequest', async (request, reply) => {
      if (request.is404) return;
      const config = request.routeOptions.config;
      const scope = config.scope ?? 'admin';
      if (scope === 'public' && config.credentials !== true) return;
      const socket = request.raw.socket as { encrypted?: boolean; localAddress?: string; remoteAddress?: string };
      if (socket.encrypted !== true && !o.settings.allowPlainHttp && !isLoopbackAddress(socket.localAddress)) {
        return refuse(reply, 403, { error: 'the API is served over HTTPS only (plain HTTP only on a loopback address; api.allowPlainHttp)' });
      }
      const source = socket.remoteAddress ?? '';
      const header = request.headers.authorization;
      const text = bearerToken(header) ?? (config.queryToken === true || wantsStream(request) ? queryToken(request.url) : undefined);
      if (text === undefined && header === undefined && config.loopbackAnonymous === true && isLoopbackAddress(source)) return;
      if (o.limiter?.isBlocked(source) === true) {
        return refuse(reply.header('Retry-After', String(RETRY_AFTER_S)), 429, { error: 'too many failed authentications from this address: try again later' });
      }
      // a login route: it checks the credentials itself (and calls request.recordAuthFailure)
      if (scope === 'public') return;
      const token = text === undefined ? undefined : await o.tokens.verify(text);
      if (token === undefined) {
        const presented = text !== undefined || header !== undefined;
        // no credentials at all is a client's first try; anything else that fails is a failure
        if (presented) o.limiter?.recordFailure(source);
        // RFC 6750 §3.1: "If the request lacks any authentication information ..., the resource
        // server SHOULD NOT include an error code or other error information." For a token that
        // failed: "invalid_token ... The access token provided is expired, revoked, malformed, or
        // invalid for other reasons." One challenge for all of those: unknown and wrong look alike.
        return refuse(reply.header('WWW-Authenticate', presented ? 'Bearer realm="parley", error="invalid_token"' : 'Bearer realm="parley"'), 401, UNAUTHORIZED);
      }
      // RFC 6750 §3.1: "insufficient_scope: The request requires higher privileges than provided by
      // the access token. The resource server SHOULD respond with the HTTP 403 (Forbidden) status code"
      if (!scopeAllows(token.scope, scope)) {
        return refuse(reply.header('WWW-Authenticate', `Bearer realm="parley", error="insufficient_scope", scope="${scope}"`), 403, { error: `this token's scope is ${token.scope}; ${scope} is needed` });
      }
      request.apiToken = token;
    });

    app.addHook('onResponse', async (request, reply) => {
      const m = request.method;
      if (m === 'GET' || m === 'HEAD' || m === 'OPTIONS' || request.is404) return;
      const url = request.url;
      const q = url.indexOf('?');
      audit.info(
        {
          method: m,
          path: q < 0 ? url : url.slice(0, q),
          status: reply.statusCode,
          token: request.apiToken?.name,
          tokenId: request.apiToken?.id,
          source: request.raw.socket.remoteAddress,
        },
        `${m} ${q < 0 ? url : url.slice(0, q)} ${reply.statusCode}`,
      );
    });

    app.setErrorHandler((error: FastifyError | OpsError | Error, request, reply) => {
      const { status, body } = errorAnswer(error);
      if (status >= 500 && status !== 503) log.error({ err: error, method: request.method, url: request.url.slice(0, 200) }, 'API request failed');
      return reply.code(status).header('Cache-Control', 'no-store').send(body);
    });

    // unknown paths under /api: 404 in the API's shape (no token needed to learn that nothing is there)
    await app.register(
      async (api) => {
        api.setNotFoundHandler((request, reply) => refuse(reply, 404, { error: `no such API path: ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}` }));
        api.get(OPENAPI_PATH.slice('/api'.length), { schema: { hide: true }, config: { scope: 'public' } }, async () => app.swagger());
        await api.register(
          async (docs) => {
            // the page's own routes (HTML, scripts, the document again) are public, like the document
            docs.addHook('onRoute', (route) => {
              route.config = { ...(route.config ?? {}), scope: 'public' };
            });
            await docs.register(swaggerUi, { routePrefix: DOCS_PATH.slice('/api'.length), uiConfig: { persistAuthorization: false } });
          },
        );
        for (const group of o.v1Routes ?? API_V1_ROUTES) await api.register(group, { prefix: '/v1', ...routeOptions });
      },
      { prefix: '/api' },
    );
    for (const group of o.rootRoutes ?? ROOT_ROUTES) await app.register(group, routeOptions);
  };
}

/** A refusal in the API's shape, not to be cached. */
function refuse(reply: FastifyReply, status: number, body: ApiErrorBody): FastifyReply {
  return reply.code(status).header('Cache-Control', 'no-store').send(body);
}

/** The status and body for an error a route threw (or fastify made). */
export function errorAnswer(error: FastifyError | OpsError | Error): { status: number; body: ApiErrorBody } {
  if (error instanceof OpsError) return { status: error.status, body: { error: error.message, ...(error.field === undefined ? {} : { field: error.field }) } };
  const e = error as FastifyError;
  if (e.validation !== undefined && e.validation.length > 0) {
    const v = e.validation[0]!;
    const params = v.params as { missingProperty?: unknown; additionalProperty?: unknown } | undefined;
    const path = v.instancePath.split('/').filter((p) => p !== '');
    if (typeof params?.missingProperty === 'string') path.push(params.missingProperty);
    else if (typeof params?.additionalProperty === 'string') path.push(params.additionalProperty);
    const field = path.join('.');
    const where = e.validationContext ?? 'body';
    const what = field === '' ? where : `${where}.${field}`;
    const message = params?.additionalProperty !== undefined ? `${what}: unknown property` : `${what} ${v.message ?? 'is not valid'}`;
    return { status: 400, body: { error: message, ...(field === '' ? {} : { field }) } };
  }
  const code = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  if (code === 413) return { status: 413, body: { error: 'the request body is too large' } };
  if (code === 415) return { status: 415, body: { error: `unsupported Content-Type (the API takes application/json${e.message.includes('csv') ? '' : ', and text/csv for imports'})` } };
  if (code >= 500) return { status: code, body: { error: 'internal error' } };
  return { status: code, body: { error: e.message } };
}

/**
 * The token of `Authorization: Bearer <token>`, or undefined. RFC 6750 §2.1: `credentials =
 * "Bearer" 1*SP b64token`; the scheme compares case-insensitively (RFC 9110 §11.1). What follows is
 * not checked against b64token here: the token store takes only its own `pk_…` shape.
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length > MAX_TOKEN_LENGTH) return undefined;
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer') return undefined;
  const token = header.slice(space + 1).trim();
  return token === '' ? undefined : token;
}

/**
 * `?access_token=` (RFC 6750 §2.3, "URI Query Parameter") or `?token=` of a URL, or undefined.
 * RFC 6750 §2.3: "Because of the security weaknesses associated with the URI method ..., it SHOULD
 * NOT be used unless it is impossible to transport the access token in the "Authorization"
 * request header field": taken only for event streams (WebSocket, EventSource), which cannot set it.
 */
function queryToken(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0 || url.length - q > 4096) return undefined;
  const params = new URLSearchParams(url.slice(q + 1));
  const value = params.get('access_token') ?? params.get('token');
  return value === null || value === '' || value.length > MAX_TOKEN_LENGTH ? undefined : value;
}

/** A WebSocket upgrade or an EventSource: clients that cannot set an Authorization header. */
function wantsStream(request: FastifyRequest): boolean {
  const upgrade = request.headers.upgrade;
  const accept = request.headers.accept;
  return (typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket') || (typeof accept === 'string' && accept.includes('text/event-stream'));
}

/** For tests and routes: the fastify instance type the plugin registers on. */
export type ApiApp = FastifyInstance;
