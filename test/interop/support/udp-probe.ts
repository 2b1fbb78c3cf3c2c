import { createSocket, type Socket } from 'node:dgram';
import type { PortPool } from './ports.js';

export interface UdpProbe {
  /** The local port (from the test file's pool) the datagram is sent from. */
  readonly port: number;
  /** Send one datagram to host:port and collect every datagram that comes back within `waitMs`. */
  exchange(payload: Buffer, host: string, port: number, waitMs: number): Promise<Buffer[]>;
  close(): Promise<void>;
  /** The socket, for tests that send and read on their own. */
  readonly socket: Socket;
  /** Every datagram received since the last `exchange` (or since it opened), oldest first. */
  readonly inbox: Buffer[];
}

/** A UDP socket on 127.0.0.1, on a port of the caller's pool, that sends raw datagrams. */
export async function openUdpProbe(pool: PortPool): Promise<UdpProbe> {
  const port = await pool.block(1);
  const socket = createSocket('udp4');
  await new Promise<void>((res, rej) => {
    socket.once('error', rej);
    socket.bind(port, '127.0.0.1', () => {
      socket.off('error', rej);
      res();
    });
  });
  const inbox: Buffer[] = [];
  socket.on('message', (m) => inbox.push(m));
  return {
    port,
    socket,
    inbox,
    exchange: async (payload, host, toPort, waitMs) => {
      inbox.length = 0;
      await new Promise<void>((res, rej) => socket.send(payload, toPort, host, (e) => (e ? rej(e) : res())));
      await new Promise((res) => setTimeout(res, waitMs));
      return inbox.splice(0);
    },
    close: () => new Promise<void>((res) => socket.close(() => res())),
  };
}

/** Can this host bind UDP on ::1? (Containers without IPv6 cannot.) */
export function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket({ type: 'udp6', ipv6Only: true });
    s.once('error', () => resolve(false));
    s.bind(0, '::1', () => s.close(() => resolve(true)));
  });
}
