import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { UpgradeHandler } from '../../http/http-server.js';
import { EventFilterError, parseEventFilter } from '../../lib/event-filter.js';
import { EVENT_TYPES, type ParleyEventType } from '../../lib/events.js';
import type { ApiRoutes, RouteScope } from '../api-routes.js';
import { EventQueue } from '../event-queue.js';
import { OpsError, type EventOps, type NumberedEvent, type Operations } from '../operations.js';

/** A comment line on an idle SSE stream this often, so that proxies and clients keep it open. */
export const KEEP_ALIVE_MS = 15_000;

/** Bytes a WebSocket may have buffered before its events queue (EventQueue) instead. */
const WS_HIGH_WATER = 64 * 1024;

/** The path of the stream, WebSocket and SSE alike. */
export const EVENTS_PATH = '/api/v1/events';

/** An event on the wire (WebSocket message, SSE `data:`, the JSON list): its fields, and its number. */
function wireEvent(n: NumberedEvent): Record<string, unknown> {
  return { id: n.id, ...n.event };
}

/**
 * One Server-Sent Events message (WHATWG HTML §9.2): `id:` (a reconnecting client sends it back
 * as Last-Event-ID), `event:` (the type, for addEventListener), one `data:` line (JSON.stringify
 * never writes a line break), and the empty line that ends it.
 */
export function sseMessage(n: NumberedEvent): string {
  return `id: ${n.id}\nevent: ${n.event.type}\ndata: ${JSON.stringify(wireEvent(n))}\n\n`;
}

/** The SSE message telling a slow client how many events it lost (its queue was full). */
export function sseDropped(count: number): string {
  return `event: dropped\ndata: ${JSON.stringify({ dropped: count })}\n\n`;
}

/** `?types=` read, or 400 naming the field. */
function typesOf(filter: string | undefined): ReadonlySet<ParleyEventType> | undefined {
  try {
    return parseEventFilter(filter);
  } catch (e) {
    if (e instanceof EventFilterError) throw new OpsError(400, e.message, 'types');
    throw e;
  }
}

/** A Last-Event-ID header or `?lastEventId=`: a non-negative integer, else none. */
function lastIdOf(header: string | string[] | undefined, query: number | undefined): number | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (h !== undefined && h.length > 0 && h.length <= 15) {
    const n = Number(h);
    if (Number.isSafeInteger(n) && n >= 0) return n;
  }
  return query;
}

/**
 * Hands a stream its events as its socket takes them: written at once while the socket keeps up;
 * queued (bounded: the oldest go, EventQueue) while it is backed up, and written, after a notice
 * of how many were dropped, once it has drained. Never blocks the hub that calls `offer`.
 */
export class StreamFeed {
  private readonly queue: EventQueue;
  private waiting = false;

  constructor(
    /** Write; false when the socket is backed up (then `whenDrained` is called). */
    private readonly write: (text: string | NumberedEvent) => boolean,
    private readonly dropped: (count: number) => void,
    private readonly whenDrained: (then: () => void) => void,
    queueLimit?: number,
  ) {
    this.queue = new EventQueue(queueLimit);
  }

  readonly offer = (n: NumberedEvent): void => {
    if (this.waiting) {
      this.queue.push(n);
      return;
    }
    if (!this.write(n)) this.wait();
  };

  private wait(): void {
    this.waiting = true;
    this.whenDrained(this.drain);
  }

  private readonly drain = (): void => {
    this.waiting = false;
    const { events, dropped } = this.queue.take();
    if (dropped > 0) this.dropped(dropped);
    let ok = true;
    for (const n of events) ok = this.write(n);
    if (!ok) this.wait();
  };
}

const eventSchema = { type: 'object', additionalProperties: true, properties: { id: { type: 'integer' }, type: { type: 'string', enum: [...EVENT_TYPES] }, time: { type: 'integer' } } } as const;

/**
 * `GET /api/v1/events` (scope read): with `Accept: text/event-stream`, the live stream as
 * Server-Sent Events (replaying from the ring after `Last-Event-ID`, a comment every 15 s);
 * otherwise the kept events (the last 1000) as JSON. `?types=` filters both (types, `call.*`).
 * The WebSocket at the same path is eventStreamUpgrade's (an HTTP upgrade, not a route).
 */
export const eventRoutes: ApiRoutes = async (app, opts) => {
  app.get(
    '/events',
    {
      config: { scope: 'read', queryToken: true },
      schema: {
        tags: ['events'],
        summary: 'Live events (SSE, or a WebSocket at the same path), or the last ones kept (JSON)',
        description:
          'With `Accept: text/event-stream`: Server-Sent Events, each with `id:`, `event: <type>` and `data: <JSON>`; a client reconnecting with `Last-Event-ID` gets what it missed from the last 1000 kept. A stream that cannot keep up loses its oldest queued events and gets `event: dropped` with their count. Otherwise the kept events as JSON. A WebSocket upgrade at this path streams the same events as JSON messages (`?token=` carries the token: browsers cannot set headers). Types: ' +
          EVENT_TYPES.join(', ') +
          '.',
        querystring: {
          type: 'object',
          properties: {
            types: { type: 'string', maxLength: 1000, description: 'Comma-separated event types or prefixes (`call.*`); default every type.' },
            lastEventId: { type: 'integer', minimum: 0, description: 'Only events numbered above this (as the Last-Event-ID header).' },
            token: { type: 'string', maxLength: 200, description: 'The API token, for clients that cannot set Authorization (EventSource, WebSocket).' },
          },
        },
        response: {
          200: {
            description: 'The kept events, oldest first (or, with Accept: text/event-stream, the stream).',
            type: 'object',
            properties: { items: { type: 'array', items: eventSchema } },
            required: ['items'],
          },
        },
      },
    },
    async (request, reply) => {
      const q = request.query as { types?: string; lastEventId?: number };
      const types = typesOf(q.types);
      const events = opts.ops().events;
      const lastId = lastIdOf(request.headers['last-event-id'], q.lastEventId);
      if (!(request.headers.accept ?? '').includes('text/event-stream')) {
        return { items: events.since(lastId ?? 0, types).map(wireEvent) };
      }
      // subscribed before the answer starts: one stream too many is refused with 503 (OpsError)
      const feed = new SseFeed(reply.raw);
      const off = events.subscribe(types, (event, id) => feed.offer({ id, event }));
      reply.hijack();
      feed.open(request.raw, off, lastId === undefined ? [] : events.since(lastId, types));
    },
  );
};

/** The SSE stream of one request (hijacked: fastify writes nothing more). */
class SseFeed {
  private readonly feed: StreamFeed;
  private started = false;
  /** Events published between the subscription and the start of the answer (none in practice: the same turn). */
  private readonly early: NumberedEvent[] = [];

  constructor(private readonly raw: ServerResponse) {
    const write = (x: string | NumberedEvent): boolean => raw.write(typeof x === 'string' ? x : sseMessage(x));
    this.feed = new StreamFeed(write, (count) => write(sseDropped(count)), (then) => raw.once('drain', then));
  }

  readonly offer = (n: NumberedEvent): void => {
    if (this.started) this.feed.offer(n);
    else this.early.push(n);
  };

  open(request: IncomingMessage, off: () => void, replay: readonly NumberedEvent[]): void {
    const raw = this.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    // a first comment, so that the client sees the stream open before any event
    raw.write(': parley events\n\n');
    this.started = true;
    const last = replay.at(-1)?.id ?? 0;
    for (const n of replay) this.feed.offer(n);
    for (const n of this.early) if (n.id > last) this.feed.offer(n);
    const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    keepAlive.unref();
    const close = (): void => {
      clearInterval(keepAlive);
      off();
    };
    request.socket.once('close', close);
    raw.once('close', close);
  }
}

export interface EventSocketOptions {
  readonly ops: () => Operations;
  /**
   * Whether `token` (from `?token=` or `Authorization: Bearer`) may use a route of `scope`: the
   * API's token check (its same answer and timing for an unknown and a wrong token, its failed-auth
   * limiter). The WebSocket is an upgrade, not a fastify route: the API's hook does not see it.
   */
  readonly authorize: (token: string | undefined, scope: RouteScope, source: string) => Promise<boolean> | boolean;
}

/** The token of an upgrade request: `?token=`, else `Authorization: Bearer`. */
function tokenOf(request: IncomingMessage): string | undefined {
  const url = new URL(request.url ?? '/', 'http://x');
  const q = url.searchParams.get('token');
  if (q !== null && q.length > 0) return q;
  const h = request.headers.authorization;
  if (h !== undefined && h.slice(0, 7).toLowerCase() === 'bearer ') return h.slice(7).trim();
  return undefined;
}

/** A refused upgrade: a plain HTTP answer on the raw socket, then closed. */
function refuse(socket: Duplex, status: number, reason: string, message: string, extra: readonly string[] = []): void {
  const body = JSON.stringify({ error: message });
  socket.end([`HTTP/1.1 ${status} ${reason}`, 'Content-Type: application/json; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', ...extra, '', body].join('\r\n'));
}

/**
 * The WebSocket at `/api/v1/events` (src/http/http-server.ts addUpgradeRoute): after `authorize`
 * (scope read), each event as one JSON text message (`{"id":…,"type":…,…}`), `?types=` and
 * `?lastEventId=` as the SSE route reads them; `{"dropped":n}` when a slow client lost events.
 * The client sends nothing (what it sends is ignored, up to 4 KiB a message).
 */
export function eventStreamUpgrade(o: EventSocketOptions): UpgradeHandler & { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, clientTracking: true });
  const handler = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const source = (socket as { remoteAddress?: string }).remoteAddress ?? '';
    let types: ReadonlySet<ParleyEventType> | undefined;
    let lastId: number | undefined;
    try {
      const url = new URL(request.url ?? '/', 'http://x');
      types = typesOf(url.searchParams.get('types') ?? undefined);
      const last = url.searchParams.get('lastEventId');
      lastId = lastIdOf(last ?? undefined, undefined);
    } catch (e) {
      refuse(socket, 400, 'Bad Request', (e as Error).message);
      return;
    }
    Promise.resolve(o.authorize(tokenOf(request), 'read', source)).then(
      (ok) => {
        if (!ok) {
          refuse(socket, 401, 'Unauthorized', 'a valid API token of scope read is needed (?token=)', ['WWW-Authenticate: Bearer']);
          return;
        }
        let events: EventOps;
        try {
          events = o.ops().events;
        } catch (e) {
          refuse(socket, 503, 'Service Unavailable', (e as Error).message, ['Retry-After: 5']);
          return;
        }
        wss.handleUpgrade(request, socket, head, (ws) => attach(ws, events, types, lastId));
      },
      () => refuse(socket, 500, 'Internal Server Error', 'the token could not be checked'),
    );
  };
  return Object.assign(handler, {
    close: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  });
}

/** One WebSocket's events. */
function attach(ws: WebSocket, events: EventOps, types: ReadonlySet<ParleyEventType> | undefined, lastId: number | undefined): void {
  let drained: (() => void) | undefined;
  const sent = (): void => {
    if (drained !== undefined && ws.bufferedAmount < WS_HIGH_WATER / 2) {
      const then = drained;
      drained = undefined;
      then();
    }
  };
  const write = (x: string | NumberedEvent): boolean => {
    if (ws.readyState !== ws.OPEN) return true;
    ws.send(typeof x === 'string' ? x : JSON.stringify(wireEvent(x)), sent);
    return ws.bufferedAmount < WS_HIGH_WATER;
  };
  const feed = new StreamFeed(write, (count) => write(JSON.stringify({ dropped: count })), (then) => (drained = then));
  let off: () => void;
  try {
    off = events.subscribe(types, (event, id) => feed.offer({ id, event }));
  } catch (e) {
    // too many streams: 1013 "Try Again Later" (RFC 6455 §7.4.1 registry)
    ws.close(1013, (e as Error).message.slice(0, 120));
    return;
  }
  if (lastId !== undefined) for (const n of events.since(lastId, types)) feed.offer(n);
  ws.on('error', () => {});
  ws.on('close', () => off());
}
