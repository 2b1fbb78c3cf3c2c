/**
 * TCP stream reassembly for captures: each direction of a connection (a "half flow": source
 * address and port to destination address and port) becomes the byte stream its sender wrote,
 * in order, whatever order the capture saw the segments in.
 *
 * RFC 9293 §3.4: "Each octet of data sent over a TCP connection has an assigned sequence
 * number." A SYN takes one sequence number ("the first data octet is ISN+1"); so does a FIN. A
 * segment that starts beyond the next expected number is held until the gap fills; one that lies
 * wholly before it is a retransmission and is dropped; one that overlaps it gives only its new
 * bytes. Sequence numbers compare modulo 2^32 (RFC 9293 §3.4.1).
 *
 * A capture is not the receiver: it may miss segments (the snapshot dropped them, the capture
 * began mid-connection). So memory is bounded: per half flow (`maxHeldPerFlow` bytes held out of
 * order) and in total (`maxHeldTotal`); past a bound the stream skips to the first held segment
 * and reports a gap, so that the consumer resynchronises. A capture that began mid-connection
 * starts the stream at the first segment seen. Flows are forgotten after `idleTimeoutNs` of
 * capture time without a segment, after RST, or once both FINs are seen; past `maxFlows` the
 * least recently used goes first.
 */
import { copyOf } from './bytes.js';
import { TCP_FIN, TCP_RST, TCP_SYN, type TcpHeader } from '../pcap/index.js';

/** The four numbers that name one direction of a connection. */
export interface TcpHalfFlow {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
}

export interface TcpReassemblyOptions {
  /** Bytes held out of order per direction before skipping the gap (default 1 MiB). */
  readonly maxHeldPerFlow?: number;
  /** Bytes held out of order in all flows (default 64 MiB). */
  readonly maxHeldTotal?: number;
  /** Directions tracked at once (default 65,536). */
  readonly maxFlows?: number;
  /** Capture time without a segment after which a direction is forgotten (default 300 s). */
  readonly idleTimeoutNs?: bigint;
}

/** What the reassembler hands to its consumer, in stream order. */
export interface TcpStreamSink {
  /**
   * In-order bytes of a direction (a copy: the consumer may keep it). `gap`: bytes were lost just
   * before these (the consumer should drop what it had half-read). `time`: the capture time of
   * the segment that made the bytes deliverable.
   */
  data(flow: TcpHalfFlow, key: string, bytes: Uint8Array, time: bigint, gap: boolean): void;
  /** The direction ended (FIN, RST, idle time-out, eviction): its state may go. */
  end(key: string): void;
}

export interface TcpReassemblyCounts {
  /** Segments whose bytes had all been delivered already. */
  retransmissions: number;
  /** Segments that arrived before an earlier one and were held. */
  outOfOrder: number;
  /** Times the stream skipped missing bytes. */
  gaps: number;
  /** Directions forgotten after `idleTimeoutNs`. */
  timedOut: number;
  /** Directions forgotten because `maxFlows` were tracked. */
  evicted: number;
}

interface Held {
  readonly seq: number;
  readonly bytes: Uint8Array;
}

interface HalfFlow {
  readonly flow: TcpHalfFlow;
  readonly key: string;
  /** The sequence number of the next byte the stream expects; undefined before the first segment. */
  next: number | undefined;
  held: Held[];
  heldBytes: number;
  lastTime: bigint;
  /** The FIN's sequence number once seen: the direction ends when the stream reaches it. */
  fin: number | undefined;
  /** The consumer asked for no more bytes (not a protocol it reads). */
  ignored: boolean;
}

const DEFAULTS = {
  maxHeldPerFlow: 1024 * 1024,
  maxHeldTotal: 64 * 1024 * 1024,
  maxFlows: 65_536,
  idleTimeoutNs: 300_000_000_000n,
};

/** a - b as a signed 32-bit distance (RFC 9293 §3.4.1's modular comparison). */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function halfFlowKey(src: string, srcPort: number, dst: string, dstPort: number): string {
  return `${src} ${srcPort} ${dst} ${dstPort}`;
}

export class TcpReassembler {
  readonly counts: TcpReassemblyCounts = { retransmissions: 0, outOfOrder: 0, gaps: 0, timedOut: 0, evicted: 0 };
  /** Insertion order is recency: a flow is re-inserted on every segment. */
  private readonly flows = new Map<string, HalfFlow>();
  private heldTotal = 0;
  private lastSweep = 0n;
  private readonly o: Required<TcpReassemblyOptions>;

  constructor(
    private readonly sink: TcpStreamSink,
    options: TcpReassemblyOptions = {},
  ) {
    this.o = { ...DEFAULTS, ...options };
  }

  /** Directions tracked now. */
  get flowCount(): number {
    return this.flows.size;
  }

  /** Bytes held out of order now, all flows. */
  get heldBytes(): number {
    return this.heldTotal;
  }

  /** One captured segment. `payload` may be a view that dies after the call: what is kept is copied. */
  add(flow: TcpHalfFlow, tcp: TcpHeader, payload: Uint8Array, time: bigint): void {
    this.sweep(time);
    const key = halfFlowKey(flow.src, flow.srcPort, flow.dst, flow.dstPort);
    let f = this.flows.get(key);
    if (f === undefined) {
      if (this.flows.size >= this.o.maxFlows) this.evictOldest();
      f = { flow: { src: flow.src, srcPort: flow.srcPort, dst: flow.dst, dstPort: flow.dstPort }, key, next: undefined, held: [], heldBytes: 0, lastTime: time, fin: undefined, ignored: false };
      this.flows.set(key, f);
    } else {
      this.flows.delete(key);
      this.flows.set(key, f);
      f.lastTime = time;
    }
    if (tcp.flags & TCP_RST) {
      // RFC 9293 §3.10.7.4: on RST the receiver "should enter the CLOSED state"; nothing after it counts.
      this.close(f, time);
      return;
    }
    let seq = tcp.seq;
    if (tcp.flags & TCP_SYN) {
      // RFC 9293 §3.4: "the first data octet is ISN+1"
      seq = (seq + 1) >>> 0;
      // a retransmitted SYN changes nothing
      if (f.next === undefined) f.next = seq;
    }
    if (f.next === undefined) f.next = seq;
    if (payload.length > 0 && !f.ignored) this.place(f, seq, payload, time);
    // RFC 9293 §3.10.7.4: the FIN "signals the end of the data from the sender"; a segment
    // missing before it may still come (the capture saw them out of order)
    if (tcp.flags & TCP_FIN) f.fin = (seq + payload.length) >>> 0;
    if (f.fin !== undefined && (f.ignored || seqDiff(f.fin, f.next!) <= 0)) this.close(f, time);
  }

  /** The consumer reads no more of this direction: drop what is held and whatever comes later. */
  ignore(key: string): void {
    const f = this.flows.get(key);
    if (f === undefined) return;
    f.ignored = true;
    this.heldTotal -= f.heldBytes;
    f.held = [];
    f.heldBytes = 0;
  }

  /** The end of the capture: deliver what is held (after its gaps) and end every flow. */
  finish(time: bigint): void {
    for (const f of [...this.flows.values()]) this.close(f, time);
  }

  private place(f: HalfFlow, seq: number, payload: Uint8Array, time: bigint): void {
    const next = f.next!;
    const rel = seqDiff(seq, next);
    if (rel + payload.length <= 0) {
      this.counts.retransmissions++;
      return;
    }
    if (rel > 0) {
      this.hold(f, seq, payload);
      return;
    }
    const fresh = copyOf(payload, -rel);
    f.next = (next + fresh.length) >>> 0;
    this.sink.data(f.flow, f.key, fresh, time, false);
    this.drain(f, time);
  }

  private hold(f: HalfFlow, seq: number, payload: Uint8Array): void {
    this.counts.outOfOrder++;
    // kept sorted by distance from `next`; an identical retransmission of a held segment is dropped
    const rel = seqDiff(seq, f.next!);
    let i = f.held.length;
    while (i > 0 && seqDiff(f.held[i - 1]!.seq, f.next!) > rel) i--;
    const before = f.held[i - 1];
    if (before !== undefined && before.seq === seq && before.bytes.length >= payload.length) {
      this.counts.outOfOrder--;
      this.counts.retransmissions++;
      return;
    }
    f.held.splice(i, 0, { seq, bytes: copyOf(payload, 0) });
    f.heldBytes += payload.length;
    this.heldTotal += payload.length;
    while (f.heldBytes > this.o.maxHeldPerFlow && f.held.length > 0) this.skipGap(f, f.lastTime);
    while (this.heldTotal > this.o.maxHeldTotal) {
      const fullest = this.fullest();
      if (fullest === undefined) break;
      this.skipGap(fullest, fullest.lastTime);
    }
  }

  /** Deliver held segments that now follow on. */
  private drain(f: HalfFlow, time: bigint): void {
    while (f.held.length > 0) {
      const h = f.held[0]!;
      const rel = seqDiff(h.seq, f.next!);
      if (rel > 0) return;
      f.held.shift();
      f.heldBytes -= h.bytes.length;
      this.heldTotal -= h.bytes.length;
      if (rel + h.bytes.length <= 0) {
        this.counts.retransmissions++;
        continue;
      }
      const fresh = rel === 0 ? h.bytes : h.bytes.subarray(-rel);
      f.next = (f.next! + fresh.length) >>> 0;
      this.sink.data(f.flow, f.key, fresh, time, false);
    }
  }

  /** Give up on the missing bytes before the first held segment. */
  private skipGap(f: HalfFlow, time: bigint): void {
    const h = f.held.shift()!;
    f.heldBytes -= h.bytes.length;
    this.heldTotal -= h.bytes.length;
    this.counts.gaps++;
    f.next = (h.seq + h.bytes.length) >>> 0;
    this.sink.data(f.flow, f.key, h.bytes, time, true);
    this.drain(f, time);
  }

  private fullest(): HalfFlow | undefined {
    let best: HalfFlow | undefined;
    for (const f of this.flows.values()) if (f.heldBytes > 0 && (best === undefined || f.heldBytes > best.heldBytes)) best = f;
    return best;
  }

  private close(f: HalfFlow, time: bigint): void {
    while (f.held.length > 0 && !f.ignored) this.skipGap(f, time);
    this.heldTotal -= f.heldBytes;
    this.flows.delete(f.key);
    this.sink.end(f.key);
  }

  private evictOldest(): void {
    const first = this.flows.values().next();
    if (first.done) return;
    this.counts.evicted++;
    this.close(first.value, first.value.lastTime);
  }

  /** Forget directions idle for `idleTimeoutNs`, looking at most once a second of capture time. */
  private sweep(time: bigint): void {
    if (time - this.lastSweep < 1_000_000_000n) return;
    this.lastSweep = time;
    for (const f of this.flows.values()) {
      // recency order: the first one not idle ends the search
      if (time - f.lastTime < this.o.idleTimeoutNs) break;
      this.counts.timedOut++;
      this.close(f, f.lastTime);
    }
  }
}
