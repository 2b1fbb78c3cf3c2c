import type { FastifyPluginAsync } from 'fastify';
import { HttpServer } from '../http/http-server.js';
import type { Logger } from '../lib/logger.js';
import { loadServerCertificate, type ListenerInfo, type TlsCertificate, type TransportLayer } from '../sip-server/transport/index.js';
import { WsTransport } from '../sip-server/transport/ws-transport.js';
import type { ParleyConfig } from './config.js';

/** The started web server and what the rest of the composition root needs from it. */
export interface WebServer {
  readonly http: HttpServer;
  readonly ws: WsTransport;
  /** The HTTP listeners as SIP sees them: `wss` for HTTPS, `ws` for HTTP (for Via and Record-Route). */
  readonly listeners: readonly ListenerInfo[];
  /** Ports of the listeners configured with `auth: false`. */
  readonly trustedPorts: readonly number[];
  stop(): Promise<void>;
}

/**
 * Build and start the web server from `http.*`: the HTTPS/HTTP listeners (HTTPS with the SIP TLS
 * certificate, or the development one of the data directory), SIP over WebSocket on every path
 * of `http.sipPaths` (connections join the transport layer's table), and the `plugins` other
 * modules bring (the browser phone's pages). Undefined when no HTTP listener is configured.
 */
export async function startWebServer(config: ParleyConfig, transports: TransportLayer, log: Logger, plugins: ReadonlyArray<FastifyPluginAsync> = []): Promise<WebServer | undefined> {
  const { listen } = config.http;
  if (listen.length === 0) return undefined;
  for (const p of config.http.sipPaths) if (!p.startsWith('/')) throw new TypeError(`http.sipPaths: "${p}" must start with /`);
  let certificate: TlsCertificate | undefined;
  if (listen.some((l) => l.transport === 'https')) {
    const { cert, key } = config.sip.tls;
    certificate = await loadServerCertificate({ ...(cert ? { certFile: cert } : {}), ...(key ? { keyFile: key } : {}) }, config.dataDir, log);
  }
  const ws = new WsTransport({ ...transports.connectionSink(), pingIntervalMs: config.http.pingInterval * 1000 });
  const http = new HttpServer({
    listeners: listen.map(({ transport, address, port }) => ({ transport, address, port })),
    ...(certificate === undefined ? {} : { certificate }),
    origins: config.http.origins,
    maxSockets: config.sip.limits.maxConnections,
    maxSocketsPerSource: config.sip.limits.maxConnectionsPerSource,
    plugins,
    log,
  });
  // listeners with `auth: false` (known once bound): their sources may use the connection reserve
  const trustedPorts: number[] = [];
  for (const path of config.http.sipPaths) {
    http.addUpgradeRoute(path, (request, socket, head, context) => ws.handleUpgrade(request, socket, head, context.secure, trustedPorts.includes(context.listener.port)));
  }
  let bound;
  try {
    bound = await http.start();
  } catch (e) {
    ws.close();
    throw e;
  }
  const listeners: ListenerInfo[] = bound.map((b) => ({ transport: b.transport === 'https' ? 'wss' : 'ws', address: b.address, port: b.port }));
  trustedPorts.push(...listen.flatMap((l, i) => (l.auth === false ? [bound[i]!.port] : [])));
  return {
    http,
    ws,
    listeners,
    trustedPorts,
    stop: async () => {
      ws.close();
      await http.stop();
    },
  };
}
