/**
 * A client's path to one STUN/TURN server: a UDP socket "connected" to it, or a TCP or TLS
 * connection. Over a stream, STUN messages and ChannelData are cut out of the bytes by
 * StunStreamFramer (RFC 8656 §12.5); over UDP each datagram is one of them (RFC 7983 tells which by
 * the first byte). Packets from any other address than the server's are dropped: the check's own
 * peer socket is separate.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { StunStreamFramer } from '../stun/stream-framer.js';
import { parseChannelData } from '../stun/channel-data.js';
import type { ServerTransport } from './ice-server-url.js';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** What arrives from the server. */
export interface ServerPacketHandlers {
  onStun(bytes: Uint8Array): void;
  onChannelData(channel: number, data: Uint8Array): void;
  /** The connection ended (stream closed, reset, or framing lost; over UDP, an ICMP port unreachable). */
  onClosed(reason: string): void;
}

export interface ServerConnection {
  readonly transport: ServerTransport;
  /** This side's address and port, as the socket is bound. */
  readonly local: Endpoint;
  readonly remote: Endpoint;
  send(bytes: Uint8Array): void;
  close(): void;
}

export interface ConnectOptions {
  /** The server's resolved address and port. */
  readonly remote: Endpoint;
  readonly transport: ServerTransport;
  /** How long a TCP connect or TLS handshake may take, ms. */
  readonly timeoutMs: number;
  /** TLS: the name the certificate must carry (SNI too); default the address. */
  readonly servername?: string;
  /** TLS: accept any certificate (self-signed test servers). */
  readonly insecure?: boolean;
  /** TLS: trusted CA certificates (PEM) instead of the system's. */
  readonly ca?: string | Buffer;
  readonly handlers: ServerPacketHandlers;
}

/** A connection error with a Node code (ECONNREFUSED, ETIMEDOUT, ERR_TLS_CERT_ALTNAME_INVALID, ...), for explain.ts. */
export class ConnectError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly stage: 'connect' | 'tls',
  ) {
    super(message);
  }
}

export function connectToServer(o: ConnectOptions): Promise<ServerConnection> {
  if (o.transport === 'udp') return connectUdp(o);
  return connectStream(o);
}

function connectUdp(o: ConnectOptions): Promise<ServerConnection> {
  return new Promise((resolve, reject) => {
    const socket: UdpSocket = createSocket(isIP(o.remote.address) === 6 ? 'udp6' : 'udp4');
    socket.once('error', (e: NodeJS.ErrnoException) => reject(new ConnectError(e.message, e.code, 'connect')));
    socket.on('message', (bytes) => dispatchDatagram(bytes, o.handlers));
    // connected: the kernel keeps only the server's datagrams, and an ICMP port unreachable
    // comes back as ECONNREFUSED on the socket (nothing listens on that UDP port)
    socket.connect(o.remote.port, o.remote.address, () => {
      socket.removeAllListeners('error');
      socket.on('error', (e: NodeJS.ErrnoException) => o.handlers.onClosed(e.code === 'ECONNREFUSED' ? UDP_PORT_UNREACHABLE : (e.code ?? e.message)));
      const a = socket.address();
      resolve({
        transport: 'udp',
        local: { address: a.address, port: a.port },
        remote: o.remote,
        send: (bytes) => socket.send(bytes),
        close: () => {
          try {
            socket.close();
          } catch {
            // closed already
          }
        },
      });
    });
  });
}

/** What onClosed says over UDP when the server's host answered ICMP port unreachable. */
export const UDP_PORT_UNREACHABLE = 'ICMP port unreachable';

function dispatchDatagram(bytes: Uint8Array, h: ServerPacketHandlers): void {
  if (bytes.length === 0) return;
  const first = bytes[0]!;
  if (first < 4) h.onStun(bytes);
  else if (first >= 64 && first <= 79) {
    const cd = parseChannelData(bytes);
    if (cd.ok) h.onChannelData(cd.value.channel, cd.value.data);
  }
}

function connectStream(o: ConnectOptions): Promise<ServerConnection> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let socket: Socket | TLSSocket;
    const fail = (e: NodeJS.ErrnoException, stage: 'connect' | 'tls'): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(new ConnectError(e.message, e.code, stage));
    };
    const timer = setTimeout(() => {
      const e = Object.assign(new Error(`no ${o.transport.toUpperCase()} connection within ${o.timeoutMs} ms`), { code: 'ETIMEDOUT' });
      fail(e, tcpUp ? 'tls' : 'connect');
    }, o.timeoutMs);
    let tcpUp = false;
    if (o.transport === 'tls') {
      const servername = o.servername ?? o.remote.address;
      socket = tlsConnect({
        host: o.remote.address,
        port: o.remote.port,
        minVersion: 'TLSv1.2',
        rejectUnauthorized: o.insecure !== true,
        ...(isIP(servername) === 0 ? { servername } : {}),
        ...(o.ca !== undefined ? { ca: o.ca } : {}),
        checkServerIdentity: (_host, cert) => {
          // the name asked for, not the address connected to
          if (o.insecure === true) return undefined;
          return checkServerIdentity(servername, cert);
        },
      });
      socket.once('connect', () => {
        tcpUp = true;
      });
      socket.once('secureConnect', () => ready());
    } else {
      socket = tcpConnect({ host: o.remote.address, port: o.remote.port });
      socket.once('connect', () => {
        tcpUp = true;
        ready();
      });
    }
    socket.once('error', (e: NodeJS.ErrnoException) => fail(e, tcpUp ? 'tls' : 'connect'));
    const framer = new StunStreamFramer({ onStun: (b) => o.handlers.onStun(b), onChannelData: (c, d) => o.handlers.onChannelData(c, d) });

    function ready(): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('error');
      let closed = false;
      const closedBecause = (reason: string): void => {
        if (closed) return;
        closed = true;
        o.handlers.onClosed(reason);
      };
      socket.on('error', (e: NodeJS.ErrnoException) => closedBecause(e.code ?? e.message));
      socket.on('close', () => closedBecause('closed by the server'));
      socket.on('data', (chunk: Buffer) => {
        const e = framer.push(chunk);
        if (e !== undefined) {
          closedBecause(`the server sent bytes that are neither STUN nor ChannelData (${e.reason} at byte ${e.offset})`);
          socket.destroy();
        }
      });
      resolve({
        transport: o.transport,
        local: { address: socket.localAddress ?? '', port: socket.localPort ?? 0 },
        remote: o.remote,
        send: (bytes) => {
          socket.write(bytes);
        },
        close: () => {
          closed = true;
          socket.destroy();
        },
      });
    }
  });
}
