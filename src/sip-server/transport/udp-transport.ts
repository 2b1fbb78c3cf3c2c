import { createSocket, type Socket } from 'node:dgram';

/** Bytes asked for as the UDP socket buffers (Kamailio asks for about as much). */
const UDP_RECEIVE_BUFFER = 4 * 1024 * 1024;
import { isIPv4, isIPv6 } from 'node:net';
import { normalizeAddress, type Flow } from './flow.js';
import { answerStun, newStunKeepaliveStats, type StunKeepaliveStats } from './stun-keepalive.js';
import { TransportError } from './transport-error.js';
import type { ListenerInfo } from './listener-info.js';
import type { Logger } from '../../lib/logger.js';
import { wireTap } from './wire-tap.js';

/** What the UDP transport reports to its owner. */
export interface UdpTransportDelegate {
  /** One datagram as received, with the flow it came in on. */
  onDatagram(bytes: Buffer, flow: Flow): void;
}

/** Where a datagram goes and, optionally, which listener sends it. */
export interface DatagramDestination {
  readonly address: string;
  readonly port: number;
  /** Send from the listener bound to this address/port (RFC 3581 §4: from where the request came in). */
  readonly localAddress?: string;
  readonly localPort?: number;
}

interface UdpListener {
  readonly socket: Socket;
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/**
 * SIP over UDP (RFC 3261 §18): one socket per configured listener, IPv4 or IPv6. Receives
 * datagrams for the transport layer and sends from the listener that fits the destination,
 * so that responses leave from the address and port requests came in on. A datagram whose first
 * byte is 0-3 is STUN, not SIP (RFC 7983 §7): a Binding request (an RFC 5626 keepalive) is
 * answered here, from the socket that read it, and the rest dropped (stun-keepalive.ts); none of
 * it goes up to SIP.
 */
export class UdpTransport {
  readonly transport = 'udp' as const;
  private readonly listeners: UdpListener[] = [];
  /** STUN datagrams answered and dropped by this thread's sockets. */
  readonly stun: StunKeepaliveStats = newStunKeepaliveStats();

  constructor(
    private readonly delegate: UdpTransportDelegate,
    private readonly log: Logger,
  ) {}

  /**
   * Bind a listener; resolves with the bound address and port. `reusePort`: SO_REUSEPORT (Linux),
   * so that every SIP worker binds a socket of its own to the same address and port and the kernel
   * spreads the datagrams over them (sip-server/workers/worker-udp.ts); every socket of the group must
   * set it.
   */
  listen(address: string, port: number, options: { readonly reusePort?: boolean } = {}): Promise<ListenerInfo> {
    const family = isIPv6(address) ? 6 : 4;
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ...(options.reusePort === true ? { reusePort: true } : {}) });
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => {
        socket.close();
        reject(e);
      };
      socket.once('error', onError);
      socket.bind({ address, port }, () => {
        socket.off('error', onError);
        // A burst must not overflow the kernel's default buffer (about 200 KB); the kernel caps
        // the request at net.core.rmem_max, so take what it gives.
        try {
          socket.setRecvBufferSize(UDP_RECEIVE_BUFFER);
          socket.setSendBufferSize(UDP_RECEIVE_BUFFER);
        } catch {
          // not fatal: the default buffers still work
        }
        const bound = socket.address();
        const listener: UdpListener = { socket, address: normalizeAddress(bound.address), port: bound.port, family };
        this.listeners.push(listener);
        socket.on('error', (e) => this.log.warn({ transport: 'udp', address: listener.address, port: listener.port, err: e.message }, 'UDP socket error'));
        socket.on('message', (bytes, rinfo) => {
          if (bytes.length > 0 && bytes[0]! <= 3) {
            this.answerStun(socket, bytes, rinfo.address, rinfo.port);
            return;
          }
          if (wireTap !== undefined) wireTap(bytes, 'udp', rinfo.address, rinfo.port, listener.address, listener.port);
          this.delegate.onDatagram(bytes, {
            transport: 'udp',
            remoteAddress: normalizeAddress(rinfo.address),
            remotePort: rinfo.port,
            localAddress: listener.address,
            localPort: listener.port,
          });
        });
        resolve({ transport: 'udp', address: listener.address, port: listener.port });
      });
    });
  }

  /** Listeners bound so far. */
  get bound(): ListenerInfo[] {
    return this.listeners.map((l) => ({ transport: 'udp', address: l.address, port: l.port }));
  }

  /** Send one datagram; `onError` is called at most once if it cannot be sent. */
  send(bytes: Uint8Array, destination: DatagramDestination, onError: (error: TransportError) => void): void {
    const address = normalizeAddress(destination.address);
    const listener = this.pick(address, destination);
    if (listener === undefined) {
      onError(new TransportError(`no UDP listener can send to ${address}`));
      return;
    }
    // a dual-stack IPv6 socket reaches IPv4 peers through IPv4-mapped addresses
    const target = listener.family === 6 && isIPv4(address) ? `::ffff:${address}` : address;
    if (wireTap !== undefined) wireTap(bytes, 'udp', listener.address, listener.port, address, destination.port);
    try {
      // DEVIATION(RFC 3261 §17.1.4): only a send that fails at once is reported (see below).
      // No completion callback: without one Node tries the send at once (uv_udp_try_send) and
      // skips a request object and a callback into JavaScript per datagram. What a callback could
      // report on an unconnected UDP socket is local (no route, a firewall's EPERM), and
      // synchronous failures still throw here; ICMP errors never come back to such a socket.
      listener.socket.send(bytes, destination.port, target);
    } catch (e) {
      onError(new TransportError(`UDP send to ${address}:${destination.port}: ${(e as Error).message}`, { cause: e }));
    }
  }

  /** A STUN datagram: the answer goes back from the socket it came in on, to where it came from. */
  private answerStun(socket: Socket, bytes: Uint8Array, address: string, port: number): void {
    // nothing thrown here may reach the socket's event handler (it would end the process)
    try {
      const answer = answerStun(bytes, normalizeAddress(address), port, this.stun);
      if (answer !== undefined) socket.send(answer, port, address);
    } catch (e) {
      this.log.debug({ transport: 'udp', address, port, err: (e as Error).message }, 'STUN answer not sent');
    }
  }

  /** Close every listener. */
  async close(): Promise<void> {
    const all = this.listeners.splice(0);
    await Promise.all(all.map((l) => new Promise<void>((resolve) => l.socket.close(() => resolve()))));
  }

  /**
   * The listener to send from: the one the flow names (RFC 3581 §4: a response leaves from where
   * its request came in), else the first of the destination's family, else (IPv4 destination)
   * a dual-stack `::` listener.
   */
  private pick(address: string, destination: DatagramDestination): UdpListener | undefined {
    const v6 = isIPv6(address);
    const canReach = (l: UdpListener): boolean => (v6 ? l.family === 6 : l.family === 4 || l.address === '::');
    if (destination.localPort !== undefined) {
      const local = destination.localAddress === undefined ? undefined : normalizeAddress(destination.localAddress);
      const named = this.listeners.find((l) => l.port === destination.localPort && (local === undefined || l.address === local) && canReach(l));
      if (named) return named;
    }
    return this.listeners.find((l) => l.family === (v6 ? 6 : 4)) ?? this.listeners.find(canReach);
  }
}
