import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIPv6, type Socket } from 'node:net';
import type { Logger } from '../../lib/logger.js';
import type { CollectorAddress } from './collector-address.js';
import type { HepCounts } from './hep-counts.js';

/** One collector as one thread sends to it: a batch at a time, never waiting. */
export interface HepOutlet {
  send(batch: readonly Uint8Array[], bytes: number): void;
  close(): void;
}

export function openOutlet(address: CollectorAddress, counts: HepCounts, maxWriteBuffer: number, log: Logger): HepOutlet {
  return address.transport === 'udp' ? new UdpOutlet(address, counts, log) : new TcpOutlet(address, counts, maxWriteBuffer, log);
}

/**
 * HEP over UDP: one packet per datagram (the HEP3 specification's framing for UDP), from a socket
 * of this thread's own, connected to the collector (the name is resolved once). Sent without a
 * completion callback (uv_udp_try_send); a datagram the kernel refuses at once is dropped and
 * counted; ICMP errors from a collector that is not listening come back as socket errors, logged
 * once, and sending goes on.
 */
class UdpOutlet implements HepOutlet {
  private readonly socket: UdpSocket;
  private connected = false;
  private warned = false;

  constructor(
    address: CollectorAddress,
    private readonly counts: HepCounts,
    private readonly log: Logger,
  ) {
    this.socket = createSocket(isIPv6(address.host) ? 'udp6' : 'udp4');
    this.socket.on('error', (e) => {
      if (!this.warned) log.warn({ collector: `udp:${address.host}:${address.port}`, err: e.message }, 'HEP collector: send failed (reported once)');
      this.warned = true;
    });
    this.socket.connect(address.port, address.host, () => {
      this.connected = true;
    });
    this.socket.unref();
  }

  send(batch: readonly Uint8Array[]): void {
    if (!this.connected) {
      this.counts.dropped += batch.length;
      return;
    }
    for (const p of batch) {
      try {
        this.socket.send(p);
        this.counts.sent++;
      } catch {
        this.counts.dropped++;
      }
    }
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      /* closed already */
    }
  }
}

const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 10_000;

/**
 * HEP over TCP: the packets back to back on one connection of this thread's (the collector cuts
 * them by the HEP total length), a batch per write. A collector that does not read fills the
 * socket's buffer: past `maxWriteBuffer` unwritten bytes a batch is dropped and counted, not
 * queued. While the connection is down its batches are dropped too, and it is tried again after
 * 0.2 s, doubling to 10 s.
 */
class TcpOutlet implements HepOutlet {
  private socket: Socket | undefined;
  private open = false;
  private closed = false;
  private delay = RECONNECT_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private warned = false;

  constructor(
    private readonly address: CollectorAddress,
    private readonly counts: HepCounts,
    private readonly maxWriteBuffer: number,
    private readonly log: Logger,
  ) {
    this.dial();
  }

  private dial(): void {
    const socket = connect({ host: this.address.host, port: this.address.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.unref();
    socket.on('connect', () => {
      this.open = true;
      this.delay = RECONNECT_MIN_MS;
      this.warned = false;
      this.log.info({ collector: `tcp:${this.address.host}:${this.address.port}` }, 'HEP collector connected');
    });
    // a collector sends nothing back; what it sends is read and dropped
    socket.on('data', () => undefined);
    socket.on('error', (e) => {
      if (!this.warned) this.log.warn({ collector: `tcp:${this.address.host}:${this.address.port}`, err: e.message }, 'HEP collector connection failed');
      this.warned = true;
    });
    socket.on('close', () => {
      this.open = false;
      if (this.closed) return;
      this.timer = setTimeout(() => this.dial(), this.delay);
      this.timer.unref();
      this.delay = Math.min(this.delay * 2, RECONNECT_MAX_MS);
    });
  }

  send(batch: readonly Uint8Array[], bytes: number): void {
    const socket = this.socket;
    if (!this.open || socket === undefined || socket.writableLength + bytes > this.maxWriteBuffer) {
      this.counts.dropped += batch.length;
      return;
    }
    socket.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch, bytes));
    this.counts.sent += batch.length;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.socket?.destroy();
  }
}
