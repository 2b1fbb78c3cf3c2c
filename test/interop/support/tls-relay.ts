import { createServer, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { PortPool } from './port-pool.js';

export interface TlsRelay {
  readonly port: number;
  /** TLS versions negotiated with the server, one per connection. */
  readonly protocols: ReadonlyArray<string | null>;
  readonly errors: readonly string[];
  stop(): Promise<void>;
}

/**
 * The TCP-to-TLS relay of support/tls-bridge.ts (same behaviour: each TCP connection accepted on
 * `port` is carried over a new TLS connection to the target, bytes unchanged, the server's
 * certificate not verified), listening on a port of the caller's pool (27000-27999) instead
 * of the 26000 range. Used when sipp is built without OpenSSL and cannot run `-t l1`.
 */
export async function startTlsRelay(target: { host: string; port: number }, pool: PortPool): Promise<TlsRelay> {
  const protocols: Array<string | null> = [];
  const errors: string[] = [];
  const open = new Set<Socket | TLSSocket>();
  const server = createServer((client) => {
    open.add(client);
    client.pause();
    const upstream = tlsConnect({ host: target.host, port: target.port, rejectUnauthorized: false });
    open.add(upstream);
    upstream.once('secureConnect', () => {
      protocols.push(upstream.getProtocol());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    upstream.on('error', (e) => {
      errors.push(`tls: ${e.message}`);
      close();
    });
    client.on('error', (e) => {
      errors.push(`tcp: ${e.message}`);
      close();
    });
    upstream.on('close', close);
    client.on('close', close);
  });
  const port = await pool.block(1);
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, res);
  });
  return {
    port,
    protocols,
    errors,
    stop: () =>
      new Promise<void>((res) => {
        for (const s of open) s.destroy();
        server.close(() => res());
      }),
  };
}
