import type { MessagePort } from 'node:worker_threads';
import type { Logger } from '../../lib/logger.js';
import type { Flow } from '../transport/flow.js';
import type { ListenerInfo } from '../transport/listener-info.js';
import { resolveHost } from '../transport/resolve-host.js';
import { TransportError } from '../transport/transport-error.js';
import { UdpTransport } from '../transport/udp-transport.js';
import { Batcher } from './batcher.js';
import { workerOf } from './call-id-hash.js';
import { exactBytes } from './exact-bytes.js';
import type { HandOffBound } from './hand-off-bound.js';
import { MAX_DATAGRAM_QUEUE_MS } from './worker-messages.js';

/**
 * Datagrams handed from one worker to another (over their channel, worker-messages.ts `ToPeer`):
 * the raw bytes, where each came from, and through
 * which of the UDP listeners (the index in the listener list every worker binds in the same order).
 */
export interface HandedDatagrams {
  readonly k: 'dgrams';
  readonly b: Uint8Array[];
  readonly a: string[];
  readonly p: number[];
  readonly l: number[];
  /** When they were handed over, ms since the epoch. */
  readonly t: number;
}

export interface WorkerUdpOptions {
  /** This worker's number, and how many there are (the Call-ID hash picks among them). */
  readonly index: number;
  readonly count: number;
  /** The UDP listeners the main thread bound (SO_REUSEPORT), with their real ports. */
  readonly listeners: readonly ListenerInfo[];
  readonly bound: HandOffBound;
  /** A datagram that belongs to this worker (its own, or handed over by another). */
  readonly receive: (bytes: Uint8Array, flow: Flow) => void;
  readonly log: Logger;
}

/**
 * A SIP worker's own UDP sockets: one per configured UDP listener, bound to the same address and
 * port as the main thread's and every other worker's (SO_REUSEPORT). The kernel gives each datagram
 * to one socket of the group by a hash of its source and destination addresses and ports; the
 * worker whose socket got it looks at its Call-ID (call-id-hash.ts): its own, it goes to this
 * worker's SIP core; another worker's, it goes to that worker over their channel, raw bytes and
 * source only (no trip through the main thread). So every message of a call and every refresh of
 * a registration still meets its transactions, whatever address and port it comes from.
 * Everything a worker sends over UDP (responses, forwarded requests, retransmissions) leaves from
 * its own socket bound to the listener's address and port, as if the main thread had sent it.
 */
export class WorkerUdp {
  private readonly udp: UdpTransport;
  private readonly listeners: Flow[] = [];
  private readonly peers = new Map<number, Batcher<Uint8Array>>();
  /** Per peer, what goes with the bytes in its batch (source address, port, listener). */
  private readonly pending = new Map<number, { a: string[]; p: number[]; l: number[] }>();
  /** Datagrams handed to other workers, taken from them, and dropped as too old (stats). */
  handedOff = 0;
  takenOver = 0;
  stale = 0;

  constructor(private readonly options: WorkerUdpOptions) {
    this.udp = new UdpTransport({ onDatagram: (bytes, flow) => this.onDatagram(bytes, flow) }, options.log);
  }

  /** STUN datagrams this worker's sockets answered and dropped (RFC 5626 keepalives, udp-transport.ts). */
  get stun(): { readonly answered: number; readonly dropped: number } {
    return this.udp.stun;
  }

  /** Bind a socket to every UDP listener (in the order given, the same in every worker). */
  async start(): Promise<void> {
    for (const l of this.options.listeners) {
      if (l.transport !== 'udp') continue;
      await this.udp.listen(l.address, l.port, { reusePort: true });
      this.listeners.push({ transport: 'udp', remoteAddress: '', remotePort: 0, localAddress: l.address, localPort: l.port });
    }
  }

  /** Close the sockets (the kernel then spreads the datagrams over the other workers' sockets). */
  close(): Promise<void> {
    for (const b of this.peers.values()) b.flush();
    return this.udp.close();
  }

  /** The channel to worker `k` (new, or a new one after a restart of either). */
  setPeer(k: number, port: MessagePort): void {
    this.peers.get(k)?.flush();
    const meta = { a: [] as string[], p: [] as number[], l: [] as number[] };
    this.pending.set(k, meta);
    this.peers.set(
      k,
      new Batcher<Uint8Array>((b) => {
        const m: HandedDatagrams = { k: 'dgrams', b, a: meta.a, p: meta.p, l: meta.l, t: Date.now() };
        meta.a = [];
        meta.p = [];
        meta.l = [];
        // copied (structured clone), not transferred: for datagrams of SIP's sizes a transfer cost
        // as much or more (measured: about 3 µs per datagram either way, docs/architecture.md)
        port.postMessage(m);
      }),
    );
  }

  /** Worker `k` is gone: its datagrams are dropped (counted as lost) until a new channel comes. */
  dropPeer(k: number): void {
    this.peers.delete(k);
    this.pending.delete(k);
  }

  /** Send one datagram (a name is resolved first); `onError` at most once. */
  send(bytes: Uint8Array, destination: Flow, onError: (error: TransportError) => void): void {
    resolveHost(destination.remoteAddress, (address, error) => {
      if (address === undefined) {
        onError(new TransportError(`cannot resolve ${destination.remoteAddress}: ${error?.message ?? 'no address'}`, { cause: error }));
        return;
      }
      this.udp.send(bytes, { address, port: destination.remotePort, localAddress: destination.localAddress, localPort: destination.localPort }, onError);
    });
  }

  /** Datagrams another worker handed to this one. */
  takeOver(m: HandedDatagrams): void {
    let bytes = 0;
    for (const b of m.b) bytes += b.byteLength;
    this.options.bound.took(this.options.index, m.b.length, bytes);
    this.takenOver += m.b.length;
    // waited too long (this worker is overloaded): its sender has retransmitted by now
    if (Date.now() - m.t > MAX_DATAGRAM_QUEUE_MS) {
      this.stale += m.b.length;
      return;
    }
    for (let i = 0; i < m.b.length; i++) {
      const via = this.listeners[m.l[i]!];
      if (via === undefined) continue;
      this.options.receive(m.b[i]!, { transport: 'udp', remoteAddress: m.a[i]!, remotePort: m.p[i]!, localAddress: via.localAddress, localPort: via.localPort });
    }
  }

  private onDatagram(bytes: Buffer, flow: Flow): void {
    const { index, count } = this.options;
    const k = count === 1 ? index : workerOf(bytes, count);
    if (k === index) {
      this.options.receive(bytes, flow);
      return;
    }
    const peer = this.peers.get(k);
    const meta = this.pending.get(k);
    if (peer === undefined || meta === undefined) {
      // its worker is starting, or gone and being replaced: as lost as what was queued for it
      this.options.bound.lost(k);
      return;
    }
    if (!this.options.bound.admit(k, bytes.byteLength)) return;
    this.handedOff++;
    meta.a.push(flow.remoteAddress);
    meta.p.push(flow.remotePort);
    meta.l.push(this.listenerIndex(flow));
    peer.push(exactBytes(bytes));
  }

  private listenerIndex(flow: Flow): number {
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) if (ls[i]!.localPort === flow.localPort && ls[i]!.localAddress === flow.localAddress) return i;
    return 0;
  }
}
