import { createServer, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { PortPool } from './ports.js';

/** What one relayed connection negotiated with the server. */
export interface TlsSession {
  readonly protocol: string | null;
  readonly cipher: string;
  /** SHA-256 fingerprint of the server's certificate (colon-separated hex). */
  readonly peerFingerprint256: string;
}

export interface TlsRelay {
  readonly port: number;
  /** One per TLS connection made to the server, in order. */
  readonly sessions: readonly TlsSession[];
  /** TLS or socket errors seen on either side. */
  readonly errors: readonly string[];
  stop(): Promise<void>;
}

/**
 * A TCP-to-TLS relay on 127.0.0.1, on a port of the caller's pool: every TCP connection
 * accepted on `port` is carried over a new TLS connection to host:port, bytes copied both ways
 * unchanged.
 *
 * Why: Debian's sip-tester 3.6.1 is built without OpenSSL ("To use a TLS transport you must
 * compile SIPp with OpenSSL"), so `sipp -t l1` cannot run. sipp then speaks SIP over TCP to
 * this relay, with `SIP/2.0/TLS` in its Via, and Parley sees a real TLS client. The server's
 * (self-signed development) certificate is not verified; its fingerprint is recorded so a test
 * can compare it with the one Parley logs.
 */
export async function startTlsRelay(target: { host: string; port: number }, pool: PortPool): Promise<TlsRelay> {
  const sessions: TlsSession[] = [];
  const errors: string[] = [];
  const open = new Set<Socket | TLSSocket>();
  const server = createServer((client) => {
    open.add(client);
    client.pause();
    const upstream = tlsConnect({ host: target.host, port: target.port, rejectUnauthorized: false });
    open.add(upstream);
    upstream.once('secureConnect', () => {
      sessions.push({
        protocol: upstream.getProtocol(),
        cipher: upstream.getCipher().name,
        peerFingerprint256: upstream.getPeerCertificate().fingerprint256,
      });
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
    sessions,
    errors,
    stop: () =>
      new Promise<void>((res) => {
        for (const s of open) s.destroy();
        server.close(() => res());
      }),
  };
}
