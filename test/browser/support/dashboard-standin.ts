// A stand-in for Parley's REST API, for the dashboard suite while the parts of issue 18 are built
// apart: the dashboard page (src/web/dashboard-page.ts) and the trace routes over the real
// TraceOps, reading the traces the real Parley of the test wrote; the other routes the page calls
// (stats, history, bindings, calls, session, the event WebSocket) answer from what the test tells
// it, with the API's auth contract (Bearer token, 401 for any other). The suite uses it only when
// the server under test has no `parley token` command (the API is not merged in); then it runs
// against the real server.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import { OpsError, type BindingView, type CallView, type Operations, type StatsSnapshot } from '../../../src/api/operations.js';
import { traceRoutes } from '../../../src/api/routes/traces.js';
import { createTraceOps } from '../../../src/app/ops/trace-ops.js';
import { configFromObject } from '../../../src/app/config.js';
import type { ParleyEvent } from '../../../src/lib/events.js';
import { registerDashboardPage } from '../../../src/web/dashboard-page.js';

export interface StandIn {
  readonly origin: string;
  readonly token: string;
  readonly admin: { readonly username: string; readonly password: string };
  readonly bindings: BindingView[];
  readonly calls: CallView[];
  /** Send an event to every connected event stream. */
  emit(e: ParleyEvent): void;
  close(): Promise<void>;
}

export async function startStandIn(o: { dataDir: string; port: number; token: string; admin: { username: string; password: string } }): Promise<StandIn> {
  const traces = createTraceOps({ config: configFromObject({ dataDir: o.dataDir }) });
  const bindings: BindingView[] = [];
  const calls: CallView[] = [];
  const started = Date.now();
  // an hour of samples every 10 s: a steady load with a bump, so that the charts have a shape
  const snapshot = (time: number): StatsSnapshot => {
    const s = Math.max(0, (time - (started - 3_600_000)) / 1000);
    const bump = Math.max(0, 1 - Math.abs(s - 2400) / 600);
    return {
      time, requests: Math.round(s * 4 + bump * 900), responses: Math.round(s * 4 + bump * 900), transactions: 3, registrations: bindings.length + Math.round(40 + 25 * bump),
      calls: Math.round(s * 0.2 + bump * 150), callsAnswered: Math.round(s * 0.15), authFailures: Math.round(s * 0.01 + bump * 40), blockedSources: bump > 0.5 ? 1 : 0,
      connections: 12, turnAllocations: 2, turnBytes: Math.round(s * 24_000 + bump * 4_000_000), mediaSessions: Math.round(2 + 6 * bump), mediaPackets: Math.round(s * 100),
    };
  };
  const ops = { traces } as unknown as Operations;
  const app: FastifyInstance = Fastify();
  app.setErrorHandler((e, _req, reply) => {
    if (e instanceof OpsError) return reply.code(e.status).send({ error: e.message, ...(e.field === undefined ? {} : { field: e.field }) });
    return reply.code((e as { statusCode?: number }).statusCode ?? 500).send({ error: (e as Error).message });
  });
  const authorized = (h: string | undefined): boolean => h === `Bearer ${o.token}`;
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/api/v1/') || req.url === '/api/v1/session') return;
    if (!authorized(req.headers.authorization)) return reply.code(401).send({ error: 'missing or invalid token' });
  });
  await registerDashboardPage(app);
  await app.register(traceRoutes, { prefix: '/api/v1', ops: () => ops });
  app.post<{ Body: { username?: string; password?: string } }>('/api/v1/session', async (req, reply) => {
    if (req.body?.username !== o.admin.username || req.body.password !== o.admin.password) return reply.code(401).send({ error: 'wrong username or password' });
    return { token: o.token, expiresAt: new Date(Date.now() + 12 * 3_600_000).toISOString() };
  });
  app.get('/api/v1/stats', async () => snapshot(Date.now()));
  app.get('/api/v1/stats/history', async () => {
    const now = Date.now();
    const out: StatsSnapshot[] = [];
    for (let t = now - 3_590_000; t <= now; t += 10_000) out.push(snapshot(t));
    return out;
  });
  const match = (search: string | undefined, ...fields: Array<string | undefined>): boolean => search === undefined || search === '' || fields.some((f) => f?.includes(search) === true);
  app.get<{ Querystring: { search?: string } }>('/api/v1/bindings', async (req) => {
    const items = bindings.filter((b) => match(req.query.search, b.aor, b.contact, b.userAgent));
    return { items, total: items.length, offset: 0, limit: 200 };
  });
  app.get<{ Querystring: { search?: string; limit?: string } }>('/api/v1/calls', async (req) => {
    const items = calls.filter((c) => match(req.query.search, c.callId, c.caller.uri, c.callee.uri));
    return { items: items.slice(0, Number(req.query.limit ?? 100)), total: items.length, offset: 0, limit: Number(req.query.limit ?? 100) };
  });
  app.delete<{ Params: { callId: string } }>('/api/v1/calls/:callId', async (req, reply) => {
    const i = calls.findIndex((c) => c.callId === req.params.callId);
    if (i < 0) return reply.code(404).send({ error: `no call ${req.params.callId}` });
    calls.splice(i, 1);
    return reply.code(204).send();
  });

  const wss = new WebSocketServer({ noServer: true });
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/api/v1/events' || url.searchParams.get('token') !== o.token) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws));
  });
  await app.listen({ host: '127.0.0.1', port: o.port });
  return {
    origin: `http://127.0.0.1:${o.port}`,
    token: o.token,
    admin: o.admin,
    bindings,
    calls,
    emit: (e) => {
      for (const c of wss.clients) c.send(JSON.stringify(e));
    },
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await app.close();
    },
  };
}
