/**
 * The media ports of anchored calls: UDP sockets bound on the media address, on ports from the
 * configured range. A plain RTP or SDES leg takes a pair, RTP on an even port and RTCP on the next
 * one (RFC 3550 §11: "For UDP and similar protocols, RTP SHOULD use an even destination port
 * number and the corresponding RTCP stream SHOULD use the next higher (odd) destination port
 * number"); a WebRTC leg takes one port (rtcp-mux, RFC 5761). The next free pair is taken round
 * robin from where the last one was found, so that a port just freed is not reused at once (a
 * late packet of the old call would land in the new one); a port another process holds
 * (EADDRINUSE) is skipped.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface PortPoolOptions {
  /** The local address the sockets are bound to (one family). */
  readonly address: string;
  /** Lowest and highest port of the range; 0 and 0: whatever ports the system gives (tests). */
  readonly minPort: number;
  readonly maxPort: number;
}

/** The sockets of one leg: `rtcp` is absent for a single (rtcp-mux) port. */
export interface MediaPorts {
  readonly rtp: Socket;
  readonly rtcp: Socket | undefined;
  readonly port: number;
  /** `port + 1`, or `port` for a single port. */
  readonly rtcpPort: number;
  /** Close the sockets and give the ports back; idempotent. */
  close(): void;
}

/** Receive and send buffers of a media socket, bytes (as the TURN relay's: room for a pause of the thread). */
const MEDIA_BUFFER = 1024 * 1024;

/** Pairs tried with the system's ports (range 0-0) before giving up. */
const SYSTEM_ATTEMPTS = 16;

/**
 * The `lookup` of media sockets: every address they send to is an IP literal (from SDP or a
 * packet's source), its own answer at once; Node's default defers it to the next tick per packet.
 */
export function ipLiteralLookup(address: string, _family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(null, address, address.includes(':') ? 6 : 4);
}

export class PortPool {
  readonly family: 4 | 6;
  /** Ports held by open legs (each socket's port). */
  private readonly held = new Set<number>();
  /** Where the round-robin search starts: the first port of the range not yet tried. */
  private cursor: number;
  private sockets = 0;

  constructor(private readonly options: PortPoolOptions) {
    if (options.minPort > options.maxPort) throw new RangeError(`media ports: min ${options.minPort} is above max ${options.maxPort}`);
    this.family = options.address.includes(':') ? 6 : 4;
    this.cursor = evenAtOrAbove(options.minPort);
  }

  get address(): string {
    return this.options.address;
  }

  /** Sockets open now (two per plain leg, one per WebRTC leg). */
  get inUse(): number {
    return this.sockets;
  }

  /** Pairs (or single ports) the range holds at most. */
  get capacity(): number {
    const { minPort, maxPort } = this.options;
    if (maxPort === 0) return Number.POSITIVE_INFINITY;
    return Math.max(0, Math.floor((maxPort - evenAtOrAbove(minPort) - 1) / 2) + 1);
  }

  /**
   * Sockets for one leg: an even RTP port and its RTCP port (`pair`), or one even port. Undefined
   * when the range has no free pair left (the offer is refused: 503, "no media ports").
   */
  async allocate(pair: boolean): Promise<MediaPorts | undefined> {
    const { minPort, maxPort } = this.options;
    if (maxPort === 0) {
      for (let i = 0; i < SYSTEM_ATTEMPTS; i++) {
        const got = await this.tryPort(0, pair);
        if (got !== undefined) return got;
      }
      return undefined;
    }
    const first = evenAtOrAbove(minPort);
    // the last even port whose pair fits in the range (a single port may use the last even one)
    const last = pair ? maxPort - 1 : maxPort;
    if (last < first) return undefined;
    const count = Math.floor((last - first) / 2) + 1;
    let k = Math.floor((Math.min(Math.max(this.cursor, first), last) - first) / 2);
    for (let i = 0; i < count; i++, k = (k + 1) % count) {
      const port = first + 2 * k;
      if (this.held.has(port) || (pair && this.held.has(port + 1))) continue;
      const got = await this.tryPort(port, pair);
      if (got === undefined) continue;
      // the next search starts after this pair: round robin over the range
      this.cursor = port + 2 > last ? first : port + 2;
      return got;
    }
    return undefined;
  }

  /** Bind `port` (and `port + 1`): undefined when either is taken. */
  private async tryPort(port: number, pair: boolean): Promise<MediaPorts | undefined> {
    const rtp = await bindUdp(this.family, this.options.address, port);
    if (rtp === undefined) return undefined;
    const rtpPort = rtp.address().port;
    let rtcp: Socket | undefined;
    if (pair) {
      // with system ports the RTP port may be odd or its neighbour taken: try again elsewhere
      if (port === 0 && rtpPort % 2 !== 0) {
        rtp.close();
        return undefined;
      }
      rtcp = await bindUdp(this.family, this.options.address, rtpPort + 1);
      if (rtcp === undefined) {
        rtp.close();
        return undefined;
      }
    }
    const held = pair ? [rtpPort, rtpPort + 1] : [rtpPort];
    for (const p of held) this.held.add(p);
    this.sockets += held.length;
    let closed = false;
    return {
      rtp,
      rtcp,
      port: rtpPort,
      rtcpPort: pair ? rtpPort + 1 : rtpPort,
      close: () => {
        if (closed) return;
        closed = true;
        closeQuietly(rtp);
        if (rtcp !== undefined) closeQuietly(rtcp);
        for (const p of held) this.held.delete(p);
        this.sockets -= held.length;
      },
    };
  }
}

function evenAtOrAbove(port: number): number {
  return port + (port % 2);
}

function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

/** A UDP socket bound to address:port, or undefined when it cannot be (EADDRINUSE and the like). */
function bindUdp(family: 4 | 6, address: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(family === 4 ? { type: 'udp4', lookup: ipLiteralLookup } : { type: 'udp6', ipv6Only: true, lookup: ipLiteralLookup });
    const onError = (): void => {
      closeQuietly(socket);
      resolve(undefined);
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      try {
        socket.setRecvBufferSize(MEDIA_BUFFER);
        socket.setSendBufferSize(MEDIA_BUFFER);
      } catch {
        // not fatal: the default buffers still work
      }
      // an ICMP error (a phone gone away) must not throw in the event loop
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}
