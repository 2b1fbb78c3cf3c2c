/**
 * Relayed transport addresses (RFC 8656 §7.2): a UDP socket per allocation, bound to the relay
 * address of the requested family on a port from the configured range, chosen at random
 * (RFC 8656 §7.2: "the server SHOULD choose a port at random from the range"), even when the
 * client asks for EVEN-PORT, and with the next port held for a later allocation when it sets R.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';

/** One relay socket: the relayed transport address of an allocation, on this host. */
export interface RelaySocket {
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
  /** The dgram socket (the server sets its 'message' listener). */
  readonly socket: Socket;
  close(): void;
}

export interface RelayPortsOptions {
  /** The local address of each family relayed transport addresses are taken on. */
  readonly addresses: { readonly 4?: string; readonly 6?: string };
  readonly minPort: number;
  /** Highest port; 0 (with minPort 0): whatever port the system gives. */
  readonly maxPort: number;
  /** Random integer in [0, n) (tests make it predictable). */
  readonly random?: (n: number) => number;
}

/** The relayed transport address of a TCP allocation (RFC 6062): a listening socket. */
export interface TcpRelaySocket {
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
  /** The listening server (the TCP relay sets its 'connection' listener). */
  readonly server: Server;
  close(): void;
}

/** Ports tried before an Allocate is answered 508 (Insufficient Capacity). */
const ATTEMPTS = 64;

export class RelayPorts {
  private readonly random: (n: number) => number;

  constructor(private readonly options: RelayPortsOptions) {
    if (options.minPort > options.maxPort) throw new RangeError(`relay ports: minPort ${options.minPort} is above maxPort ${options.maxPort}`);
    this.random = options.random ?? ((n) => Math.floor(Math.random() * n));
  }

  /** Is there a relay address of this family? (RFC 8656 §7.2: else 440 Address Family not Supported.) */
  supports(family: 4 | 6): boolean {
    return this.options.addresses[family] !== undefined;
  }

  /**
   * A socket on a free port of the range: an even one when `even`, with the next (odd) port bound
   * as well when `reserveNext` (EVEN-PORT with R set). Undefined when none could be bound.
   */
  async open(family: 4 | 6, even = false, reserveNext = false): Promise<{ socket: RelaySocket; next?: RelaySocket } | undefined> {
    const address = this.options.addresses[family];
    if (address === undefined) return undefined;
    const { minPort, maxPort } = this.options;
    // 0-0: any port the system gives (tests; the configuration starts at 1024)
    if (maxPort === 0) {
      const socket = await bindRelay(family, address, 0);
      return socket === undefined ? undefined : { socket };
    }
    let first = minPort;
    let count = maxPort - minPort + 1;
    if (even) {
      first = minPort + (minPort % 2);
      count = Math.floor((maxPort - first - (reserveNext ? 1 : 0)) / 2) + 1;
      if (count <= 0) return undefined;
    }
    const start = this.random(count);
    for (let i = 0; i < Math.min(ATTEMPTS, count); i++) {
      // random start, then sequential: a busy range still finds a free port within ATTEMPTS
      const k = (start + i) % count;
      const port = even ? first + 2 * k : first + k;
      const socket = await bindRelay(family, address, port);
      if (socket === undefined) continue;
      if (!reserveNext) return { socket };
      const next = await bindRelay(family, address, port + 1);
      if (next !== undefined) return { socket, next };
      socket.close();
    }
    return undefined;
  }

  /**
   * A TCP listening socket on a random free port of the range, for an RFC 6062 allocation (its
   * relayed transport address: peers connect to it, and Connect dials out from its IP address).
   * Undefined when none could be bound.
   */
  async openTcp(family: 4 | 6): Promise<TcpRelaySocket | undefined> {
    const address = this.options.addresses[family];
    if (address === undefined) return undefined;
    const { minPort, maxPort } = this.options;
    if (maxPort === 0) return bindTcpRelay(family, address, 0);
    const count = maxPort - minPort + 1;
    const start = this.random(count);
    for (let i = 0; i < Math.min(ATTEMPTS, count); i++) {
      const socket = await bindTcpRelay(family, address, minPort + ((start + i) % count));
      if (socket !== undefined) return socket;
    }
    return undefined;
  }
}

/**
 * The `lookup` of the TURN server's UDP sockets: every address they send to is an IP literal, so
 * it is its own answer, given at once. Node's default runs dns.lookup, which answers an IP literal
 * on the next tick: a deferred call and its closures for every relayed packet.
 */
export function ipLiteralLookup(address: string, family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(null, address, address.includes(':') ? 6 : 4);
}

/** Receive and send buffers of a relay socket, bytes (a limit, not memory taken up front). */
const RELAY_BUFFER = 1024 * 1024;

/** A UDP socket bound to address:port, or undefined when the port is taken. */
function bindRelay(family: 4 | 6, address: string, port: number): Promise<RelaySocket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(family === 4 ? { type: 'udp4', lookup: ipLiteralLookup } : { type: 'udp6', ipv6Only: true, lookup: ipLiteralLookup });
    const onError = (): void => {
      socket.close();
      resolve(undefined);
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      port = socket.address().port;
      // one allocation's peers queue here: room for a pause of the thread at a video call's rate
      try {
        socket.setRecvBufferSize(RELAY_BUFFER);
        socket.setSendBufferSize(RELAY_BUFFER);
      } catch {
        // not fatal: the default buffers still work
      }
      // a send error (ICMP unreachable from a peer) must not throw in the event loop
      socket.on('error', () => {});
      resolve({
        family,
        address,
        port,
        socket,
        close: () => {
          try {
            socket.close();
          } catch {
            // already closed
          }
        },
      });
    });
  });
}

/** A TCP server listening on address:port, or undefined when the port is taken. */
function bindTcpRelay(family: 4 | 6, address: string, port: number): Promise<TcpRelaySocket | undefined> {
  return new Promise((resolve) => {
    const server = createServer({ pauseOnConnect: true });
    const onError = (): void => {
      server.close();
      resolve(undefined);
    };
    server.once('error', onError);
    server.listen({ port, host: address, exclusive: true, ipv6Only: family === 6, backlog: 16 }, () => {
      server.off('error', onError);
      server.on('error', () => {});
      const a = server.address();
      resolve({ family, address, port: typeof a === 'object' && a !== null ? a.port : port, server, close: () => server.close() });
    });
  });
}
