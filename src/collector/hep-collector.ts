/**
 * A HEP collector: HEPv3 over UDP (one packet per datagram) and over TCP (packets back to back,
 * cut by src/hep's HepStreamFramer), decoded with src/hep, summarised (SIP: method or status,
 * Call-ID, CSeq, From, To) and handed to `onMessage` and to a CaptureStore.
 *
 * Network input never stops it: a packet that does not decode, is too large, lacks the auth key
 * or a payload is counted (`stats`), reported to `onDrop` and skipped. A TCP stream that loses
 * its framing is closed (nothing after the fault can be trusted to begin a packet). Limits: the
 * packet size, the number of TCP connections (one more is closed at once), the idle time of a
 * connection.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { decodeHep, HEP_MAX_SIZE, HepStreamFramer } from '../hep/index.js';
import { summariseHep, type CapturedMessage } from './captured-message.js';
import type { CaptureStore } from './capture-store.js';

export interface ListenAddress {
  readonly host: string;
  /** 0: any free port (see `addresses`). */
  readonly port: number;
}

/** Why a packet was not kept (the counter of the same name counts it). */
export type DropReason = 'badPacket' | 'tooLarge' | 'authFailed' | 'noPayload' | 'framingError' | 'storeError';

export interface HepCollectorOptions {
  readonly udp?: ListenAddress;
  readonly tcp?: ListenAddress;
  /** When set, only packets whose auth key chunk (0x000e) equals it are kept. */
  readonly authKey?: string;
  /** The largest packet (UDP datagram, TCP-framed packet) accepted, bytes. Default and most: 65,535 (HEP's 16-bit length). */
  readonly maxPacketSize?: number;
  /** TCP connections at once; one more is closed at once. Default 64. */
  readonly maxConnections?: number;
  /** A TCP connection that sends nothing for this long is closed, ms. Default 300,000 (5 min); 0: never. */
  readonly idleTimeoutMs?: number;
  /** Where kept messages are written (optional: a collector may only print). */
  readonly store?: CaptureStore;
  readonly onMessage?: (m: CapturedMessage) => void;
  readonly onDrop?: (reason: DropReason, detail: string, from: string) => void;
  /** The clock, microseconds since 1970 (tests). */
  readonly nowUs?: () => number;
}

export interface HepCollectorStats {
  readonly datagrams: number;
  readonly tcpConnections: number;
  readonly tcpRejected: number;
  readonly tcpIdleClosed: number;
  readonly packets: number;
  readonly kept: number;
  readonly badPacket: number;
  readonly tooLarge: number;
  readonly authFailed: number;
  readonly noPayload: number;
  readonly framingError: number;
  readonly storeError: number;
}

type Counters = { -readonly [K in keyof HepCollectorStats]: HepCollectorStats[K] };

export const DEFAULT_HEP_PORT = 9060;

export class HepCollector {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly connections = new Set<Socket>();
  private readonly counters: Counters = {
    datagrams: 0, tcpConnections: 0, tcpRejected: 0, tcpIdleClosed: 0, packets: 0, kept: 0, badPacket: 0, tooLarge: 0, authFailed: 0,
    noPayload: 0, framingError: 0, storeError: 0,
  };
  private readonly maxPacketSize: number;
  private readonly maxConnections: number;
  private readonly idleTimeoutMs: number;
  private readonly nowUs: () => number;

  constructor(private readonly options: HepCollectorOptions) {
    this.maxPacketSize = Math.min(HEP_MAX_SIZE, options.maxPacketSize ?? HEP_MAX_SIZE);
    this.maxConnections = options.maxConnections ?? 64;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
    this.nowUs = options.nowUs ?? ((): number => Date.now() * 1000);
  }

  get stats(): HepCollectorStats {
    return { ...this.counters };
  }

  /** Open the listeners. Rejects (with the socket's error: EADDRINUSE ...) when one cannot open; then none stays open. */
  async start(): Promise<void> {
    try {
      if (this.options.udp) await this.listenUdp(this.options.udp);
      if (this.options.tcp) await this.listenTcp(this.options.tcp);
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** The bound addresses (the real port when 0 was asked). */
  addresses(): { udp?: ListenAddress; tcp?: ListenAddress } {
    const out: { udp?: ListenAddress; tcp?: ListenAddress } = {};
    if (this.udp) {
      const a = this.udp.address();
      out.udp = { host: a.address, port: a.port };
    }
    const t = this.tcp?.address();
    if (t && typeof t === 'object') out.tcp = { host: t.address, port: t.port };
    return out;
  }

  /** Close the listeners and every connection, then write what the store has queued. */
  async stop(): Promise<void> {
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((res) => udp.close(() => res()));
    const tcp = this.tcp;
    this.tcp = undefined;
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    if (tcp) await new Promise<void>((res) => tcp.close(() => res()));
    try {
      this.options.store?.flush();
    } catch (e) {
      this.drop('storeError', (e as Error).message, 'store');
    }
  }

  /** One HEP packet as it came (a datagram, or a packet cut from a stream); `from` names the sender for onDrop. */
  handlePacket(bytes: Uint8Array, from: string): void {
    this.counters.packets++;
    if (bytes.length > this.maxPacketSize) return this.drop('tooLarge', `${bytes.length} bytes, at most ${this.maxPacketSize}`, from);
    const r = decodeHep(bytes);
    if (!r.ok) return this.drop('badPacket', `${r.error.reason} (offset ${r.error.offset})`, from);
    const key = this.options.authKey;
    if (key !== undefined && r.value.authKey !== key) {
      return this.drop('authFailed', r.value.authKey === undefined ? 'no auth key chunk' : 'wrong auth key', from);
    }
    const m = summariseHep(r.value, this.nowUs());
    if (typeof m === 'string') return this.drop('noPayload', m, from);
    // the payload is a view of the datagram or of the stream's buffer: the store keeps a copy
    const kept: CapturedMessage = { ...m, payload: Uint8Array.prototype.slice.call(m.payload) };
    this.counters.kept++;
    if (this.options.store) {
      try {
        this.options.store.add(kept);
      } catch (e) {
        this.drop('storeError', (e as Error).message, from);
      }
    }
    this.options.onMessage?.(kept);
  }

  private drop(reason: DropReason, detail: string, from: string): void {
    this.counters[reason]++;
    this.options.onDrop?.(reason, detail, from);
  }

  private listenUdp(at: ListenAddress): Promise<void> {
    const socket = createSocket({ type: isIPv6(at.host) ? 'udp6' : 'udp4' });
    this.udp = socket;
    socket.on('message', (msg, rinfo) => {
      this.counters.datagrams++;
      this.handlePacket(msg, `udp ${rinfo.address}:${rinfo.port}`);
    });
    return new Promise<void>((res, rej) => {
      socket.once('error', rej);
      socket.bind(at.port, at.host, () => {
        socket.off('error', rej);
        // a socket error after binding (ICMP on a connected socket, none here) is not fatal
        socket.on('error', () => undefined);
        res();
      });
    });
  }

  private listenTcp(at: ListenAddress): Promise<void> {
    const server = createServer((c) => this.accept(c));
    this.tcp = server;
    return new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen({ port: at.port, host: at.host }, () => {
        server.off('error', rej);
        res();
      });
    });
  }

  private accept(c: Socket): void {
    const from = `tcp ${c.remoteAddress}:${c.remotePort}`;
    c.on('error', () => undefined);
    if (this.connections.size >= this.maxConnections) {
      this.counters.tcpRejected++;
      c.destroy();
      return;
    }
    this.counters.tcpConnections++;
    this.connections.add(c);
    c.on('close', () => this.connections.delete(c));
    if (this.idleTimeoutMs > 0) {
      c.setTimeout(this.idleTimeoutMs, () => {
        this.counters.tcpIdleClosed++;
        c.destroy();
      });
    }
    const framer = new HepStreamFramer((packet) => this.handlePacket(packet, from));
    c.on('data', (chunk: Buffer) => {
      const e = framer.push(chunk);
      if (e !== undefined) {
        this.drop('framingError', `${e.reason} (stream offset ${e.offset})`, from);
        c.destroy();
      }
    });
  }
}
