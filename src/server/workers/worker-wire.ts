import type { Flow } from '../transport/flow.js';
import type { ResponseTarget } from '../transport/response-target.js';
import { TransportError } from '../transport/transport-error.js';
import type { Wire } from '../transport/wire.js';
import type { Batcher } from './batcher.js';
import { exactBytes } from './exact-bytes.js';
import type { FromWorker } from './worker-messages.js';

type OnError = (error: TransportError) => void;

/**
 * A Wire for a SIP worker thread: serialized messages go to the socket thread, which sends them
 * (server/workers/sip-worker-pool.ts). A send that fails there comes back by its number.
 *
 * Error callbacks are kept in generations that are dropped after a while, so that the common
 * case (the send worked, nobody says so) leaves nothing behind: a UDP send reports its failure
 * at once; a stream send can wait for a connection (connect and TLS handshake timeouts), so its
 * callbacks are kept longer. A failure reported after its generation is gone is only logged by
 * the socket thread; the transaction then ends by its own timer instead.
 */
export class WorkerWire implements Wire {
  private seq = 0;
  private readonly short = new Generations(500);
  private readonly long: Generations;

  constructor(
    private readonly out: Batcher<FromWorker>,
    /** How long a stream send may take to fail, ms (connect + handshake timeouts). */
    streamFailureWindowMs: number,
  ) {
    this.long = new Generations(streamFailureWindowMs);
  }

  sendBytes(bytes: Uint8Array, destination: Flow, onError: OnError): void {
    this.out.push({ k: 'send', b: exactBytes(bytes), f: destination, s: this.register(destination.transport === 'udp', onError) });
  }

  sendToTarget(bytes: Uint8Array, target: ResponseTarget, onError: OnError): void {
    this.out.push({ k: 'reply', b: exactBytes(bytes), t: target, s: this.register(target.transport === 'udp', onError) });
  }

  /** The socket thread says send `seq` failed. */
  failed(seq: number, message: string): void {
    const onError = this.short.take(seq) ?? this.long.take(seq);
    onError?.(new TransportError(message));
  }

  /** Stop the generation timers. */
  close(): void {
    this.short.close();
    this.long.close();
  }

  private register(udp: boolean, onError: OnError): number {
    this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    (udp ? this.short : this.long).put(this.seq, onError);
    return this.seq;
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

  close(): void {
    clearInterval(this.timer);
  }
}
