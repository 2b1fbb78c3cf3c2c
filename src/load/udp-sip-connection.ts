import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { parseMessage } from '../sip/message/parse.js';
import type { ClientConnection, ClientConnectionDelegate } from './client-connection.js';
import { describeSocketError } from './describe-error.js';

export interface UdpSipConnectionOptions {
  /** The server's address (an IP literal) and port. */
  readonly host: string;
  readonly port: number;
}

/**
 * One user's UDP socket to the server: bound to an ephemeral port of the loopback (or any) address
 * and connected to the server, so that it receives only the server's datagrams. Via and Contact
 * carry the real local address and port. Unreliable: the user agent retransmits (RFC 3261
 * §17.1.2.2, Timer E). No keepalive: RFC 5626 §4.4.2 keeps UDP flows alive with STUN, which the
 * load tool does not send.
 */
export class UdpSipConnection implements ClientConnection {
  readonly viaTransport = 'UDP' as const;
  readonly contactTransport = undefined;
  readonly reliable = false;
  delegate: ClientConnectionDelegate | undefined;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly localHost: string,
  ) {
    socket.on('message', (data: Buffer) => {
      const r = parseMessage(data);
      if (r.ok) this.delegate?.onMessage(r.message);
      else if (!/^(\r\n)+$/.test(data.toString('latin1'))) this.delegate?.onParseError(r.error);
    });
    socket.on('error', (e: Error) => {
      // an ICMP port unreachable surfaces as ECONNREFUSED on a connected socket: the datagram is
      // lost, the transaction will time out or be retransmitted; the socket stays usable
      if ((e as NodeJS.ErrnoException).code === 'ECONNREFUSED') return;
      if (this.closed) return;
      this.closed = true;
      this.delegate?.onClose(describeSocketError(e));
      socket.close();
    });
  }

  static open(options: UdpSipConnectionOptions): Promise<UdpSipConnection> {
    const family = isIP(options.host) === 6 ? 'udp6' : 'udp4';
    return new Promise((resolve, reject) => {
      const socket = createSocket(family);
      const fail = (e: Error): void => {
        socket.close();
        reject(new Error(describeSocketError(e)));
      };
      socket.once('error', fail);
      socket.bind(0, family === 'udp6' ? '::' : '0.0.0.0', () => {
        socket.connect(options.port, options.host, () => {
          socket.off('error', fail);
          const local = socket.address();
          const host = family === 'udp6' ? `[${local.address === '::' ? '::1' : local.address}]` : local.address === '0.0.0.0' ? '127.0.0.1' : local.address;
          resolve(new UdpSipConnection(socket, `${host}:${local.port}`));
        });
      });
    });
  }

  send(text: string): boolean {
    if (this.closed) return false;
    this.socket.send(text);
    return true;
  }

  ping(): boolean {
    return false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.delegate = undefined;
    this.socket.close();
  }
}
