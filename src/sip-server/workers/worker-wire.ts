import { isIP } from 'node:net';
import type { Flow, FlowTransport } from '../transport/flow.js';
import type { ResponseTarget } from '../transport/response-target.js';
import { onceError } from '../transport/once-error.js';
import { TransportError } from '../transport/transport-error.js';
import type { Wire } from '../transport/wire.js';
import type { Batcher } from './batcher.js';
import { exactBytes } from './exact-bytes.js';
import type { FromWorker } from './worker-messages.js';

type OnError = (error: TransportError) => void;

/** Sends datagrams from the worker's own sockets (WorkerUdp). */
export interface UdpSender {
  send(bytes: Uint8Array, destination: Flow, onError: OnError): void;
}

/**
 * A Wire for a SIP worker thread: serialized messages go to the socket thread, which sends them
 * (sip-server/workers/sip-worker-pool.ts). A send that fails there comes back by its number.
 *
 * An error callback usually holds its transaction, and with it the request and everything its
 * handling made: kept for long, each would outlive the young generation and make the garbage
 * collector copy and promote it (measured at 3,000 REGISTER/s: 2 MB promoted per scavenge with
 * callbacks kept 0.5-1 s, half that without). So callbacks go as soon as their outcome is known:
 * - UDP to an IP address, the common case: the socket thread sends it, or fails, while it handles
 *   the item, and after each batch it says up to which number it has handled (`handled`), after
 *   the failures of that batch. These callbacks live for one round trip between the threads.
 * - UDP to a name waits for DNS, a stream send for a connection (connect and TLS handshake
 *   timeouts): their callbacks are kept in generations that are dropped after a while. A failure
 *   reported after its generation is gone is only logged by the socket thread; the transaction
 *   then ends by its own timer instead.
 */
export class WorkerWire implements Wire {
  /** Send numbers only grow (0 is "no callback"; 2^53 is centuries away at any rate). */
  private seq = 0;
  private readonly prompt = new HandledQueue();
  private readonly short = new Generations(500);
  private readonly long: Generations;

  constructor(
    private readonly out: Batcher<FromWorker>,
    /** How long a stream send may take to fail, ms (connect + handshake timeouts). */
    streamFailureWindowMs: number,
    /**
     * The worker's own UDP sockets (worker-udp.ts): datagrams leave from there, with no trip
     * through the socket thread, and their failures are known at once. None: UDP goes through the
     * socket thread like the streams.
     */
    private readonly udp?: UdpSender,
  ) {
    this.long = new Generations(streamFailureWindowMs);
  }

  sendBytes(bytes: Uint8Array, destination: Flow, onError: OnError): void {
    if (destination.transport === 'udp' && this.udp !== undefined) {
      this.udp.send(bytes, destination, onceError(onError));
      return;
    }
    this.out.push({ k: 'send', b: exactBytes(bytes), f: destination, s: this.register(destination.transport, destination.remoteAddress, onError) });
  }

  sendToTarget(bytes: Uint8Array, target: ResponseTarget, onError: OnError): void {
    // RFC 3261 §18.2.2 over UDP: to the target's address, from the listener the request came in on
    if (target.transport === 'udp' && this.udp !== undefined) {
      this.udp.send(bytes, { transport: 'udp', remoteAddress: target.host, remotePort: target.port, localAddress: target.localAddress, localPort: target.localPort }, onceError(onError));
      return;
    }
    this.out.push({ k: 'reply', b: exactBytes(bytes), t: target, s: this.register(target.transport, target.host, onError) });
  }

  /** The socket thread has handled every send up to `seq` (and reported the failures among them). */
  handled(seq: number): void {
    this.prompt.release(seq);
  }

  /** The socket thread says send `seq` failed. */
  failed(seq: number, message: string): void {
    const onError = this.prompt.take(seq) ?? this.short.take(seq) ?? this.long.take(seq);
    onError?.(new TransportError(message));
  }

  /** Callbacks kept now (tests). */
  get pending(): number {
    return this.prompt.size + this.short.size + this.long.size;
  }

  /** Stop the generation timers. */
  close(): void {
    this.short.close();
    this.long.close();
  }

  private register(transport: FlowTransport, host: string, onError: OnError): number {
    const seq = ++this.seq;
    if (transport !== 'udp') this.long.put(seq, onError);
    else if (isIP(host.startsWith('[') ? host.slice(1, -1) : host) !== 0) this.prompt.put(seq, onError);
    else this.short.put(seq, onError);
    return seq;
  }
}

/** The most callbacks waiting for `handled`: beyond it the oldest go (the socket thread is not answering). */
const MAX_PROMPT = 65_536;

/** Callbacks in the order of their numbers, released by "handled up to n". */
class HandledQueue {
  private seqs: number[] = [];
  private callbacks: Array<OnError | undefined> = [];
  private head = 0;

  get size(): number {
    return this.seqs.length - this.head;
  }

  put(seq: number, onError: OnError): void {
    if (this.size >= MAX_PROMPT) this.release(this.seqs[this.head]!);
    this.seqs.push(seq);
    this.callbacks.push(onError);
  }

  release(upTo: number): void {
    const seqs = this.seqs;
    let head = this.head;
    while (head < seqs.length && seqs[head]! <= upTo) this.callbacks[head++] = undefined;
    if (head === seqs.length) {
      this.seqs = [];
      this.callbacks = [];
      this.head = 0;
    } else if (head > 1024 && head * 2 > seqs.length) {
      this.seqs = seqs.slice(head);
      this.callbacks = this.callbacks.slice(head);
      this.head = 0;
    } else {
      this.head = head;
    }
  }

  take(seq: number): OnError | undefined {
    let lo = this.head;
    let hi = this.seqs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.seqs[mid]!;
      if (at === seq) {
        const onError = this.callbacks[mid];
        this.callbacks[mid] = undefined;
        return onError;
      }
      if (at < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}

/** Two maps swapped every `ms`: an entry lives between `ms` and 2 `ms`. */
class Generations {
  private current = new Map<number, OnError>();
  private previous = new Map<number, OnError>();
  private readonly timer: NodeJS.Timeout;

  constructor(ms: number) {
    this.timer = setInterval(() => {
      this.previous = this.current;
      this.current = new Map();
    }, ms);
    this.timer.unref();
  }

  put(seq: number, onError: OnError): void {
    this.current.set(seq, onError);
  }

  take(seq: number): OnError | undefined {
    const a = this.current.get(seq);
    if (a !== undefined) {
      this.current.delete(seq);
      return a;
    }
    const b = this.previous.get(seq);
    if (b !== undefined) this.previous.delete(seq);
    return b;
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
