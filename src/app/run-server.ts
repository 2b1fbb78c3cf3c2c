import { mkdirSync } from 'node:fs';
import { pino, type Logger as PinoLogger } from 'pino';
import { SipServer } from '../server/index.js';
import type { ListenerInfo } from '../server/transport/index.js';
import type { ListenConfig, ParleyConfig } from './config.js';

export interface RunningServer {
  readonly sip: SipServer;
  readonly listeners: readonly ListenerInfo[];
  readonly log: PinoLogger;
  stop(): Promise<void>;
}

/**
 * The composition root: build every part from the configuration and start it. Nothing else
 * reads the configuration; the parts get plain options.
 */
export async function runServer(config: ParleyConfig, log: PinoLogger = pino({ level: config.log.level })): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true });
  const { limits, timers } = config.sip;
  const sip = new SipServer({
    listeners: config.sip.listen,
    tls: { ...(config.sip.tls.cert ? { certFile: config.sip.tls.cert } : {}), ...(config.sip.tls.key ? { keyFile: config.sip.tls.key } : {}) },
    dataDir: config.dataDir,
    limits: {
      maxMessageSize: limits.maxMessageSize,
      maxHeaders: limits.maxHeaders,
      maxConnections: limits.maxConnections,
      maxConnectionsPerAddress: limits.maxConnectionsPerSource,
      inboundIdleTimeoutMs: limits.idleTimeout * 1000,
    },
    timers: { T1: timers.t1, T2: timers.t2, T4: timers.t4 },
    serverName: config.sip.serverName,
    log,
  });
  const listeners = await sip.start();
  log.info({ dataDir: config.dataDir, listeners: listeners.map((l) => `${l.transport}:${l.address}:${l.port}`) }, 'Parley is ready');
  return {
    sip,
    listeners,
    log,
    stop: async () => {
      await sip.stop();
      log.info('Parley stopped');
    },
  };
}

/** `udp:127.0.0.1:5060`, `tls:[::1]:5061`, `tcp::5060` → a listener. */
export function parseListenSpec(spec: string): ListenConfig {
  const m = /^(udp|tcp|tls):(\[[^\]]+\]|[^:]*):(\d+)$/.exec(spec);
  if (!m) throw new Error(`bad --listen "${spec}": expected transport:address:port, e.g. udp:0.0.0.0:5060 or tls:[::]:5061`);
  const address = m[2]!.replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`bad --listen "${spec}": port out of range`);
  return { transport: m[1] as ListenConfig['transport'], address, port };
}
