import { createSocket } from 'node:dgram';
import type { PortPool } from './ports.js';

export interface UdpProbe {
  /** The local port (from the test file's pool) the datagram is sent from. */
  readonly port: number;
  /** Send one datagram to host:port and collect every datagram that comes back within `waitMs`. */
  exchange(payload: Buffer, host: string, port: number, waitMs: number): Promise<Buffer[]>;
  close(): Promise<void>;
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
  let inbox: Buffer[] = [];
  socket.on('message', (m) => inbox.push(m));
  return {
    port,
    exchange: async (payload, host, toPort, waitMs) => {
      inbox = [];
      await new Promise<void>((res, rej) => socket.send(payload, toPort, host, (e) => (e ? rej(e) : res())));
      await new Promise((res) => setTimeout(res, waitMs));
      const got = inbox;
      inbox = [];
      return got;
    },
    close: () => new Promise<void>((res) => socket.close(() => res())),
  };
}
