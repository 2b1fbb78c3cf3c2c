import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { SipRequest } from '../message/sip-message.js';
import type { Timers } from './timers.js';
import { isReliable, type Flow, type SentResponse, type TransactionTransport } from './transaction-transport.js';

/** The states of the four machines of RFC 3261 §17 and RFC 6026 (`accepted`). */
export type TransactionState = 'calling' | 'trying' | 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';

/** Every state but Terminated, which all machines share. */
export type ActiveState = Exclude<TransactionState, 'terminated'>;

export type TransactionKind = 'invite-client' | 'non-invite-client' | 'invite-server' | 'non-invite-server';

/** RFC 3261 Table 4 timers, RFC 6026's L and M, and the 200 ms wait before an automatic 100 Trying. */
export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'Trying';

/** What the transactions of one layer share. */
export interface TransactionEnvironment {
  readonly clock: Clock;
  readonly transport: TransactionTransport;
  readonly timers: Timers;
  /** The owner's hook, called as a transaction terminates, before its TU hears of it (the layer drops it from its tables). */
  readonly onTerminated?: (tx: Transaction) => void;
  /**
   * The owner's offer to keep a non-INVITE server transaction that entered Completed over an
   * unreliable transport in a lighter form until Timer J (the layer's CompletedTable). True when
   * it took it: the transaction object then terminates at once.
   */
  readonly keepCompleted?: (tx: Transaction, sent: SentResponse) => boolean;
}

/** One transaction, for metrics and debugging. */
export interface TransactionDump {
  readonly kind: TransactionKind;
  readonly state: TransactionState;
  readonly method: string;
  readonly branch: string | undefined;
  readonly callId: string;
  readonly flow: Flow;
  /** Timers running now. */
  readonly timers: readonly TimerName[];
}

/**
 * What the four transaction machines share (RFC 3261 §17): the request that created the
 * transaction, its flow, the state, and the named timers, all run on the injected Clock.
 * "The client transaction MUST be destroyed the instant it enters the 'Terminated' state"
 * (§17.1.1.2): entering Terminated stops every timer and drops the transaction from its layer.
 */
export abstract class Transaction<S extends ActiveState = ActiveState> {
  abstract readonly kind: TransactionKind;
  /** The request that created the transaction. */
  readonly request: SipRequest;
  /** The flow the request was sent to (client) or arrived on (server). */
  readonly flow: Flow;
  /** TCP, TLS, WS, WSS: no retransmission timers, and zero-valued Timers D, I, J and K. */
  readonly reliable: boolean;
  protected readonly env: TransactionEnvironment;
  /**
   * Its key in the TransactionLayer's table (set by the layer; undefined for an RFC 2543 server
   * transaction), so that it leaves the table without its request being read again: the proxy
   * drops the parsed forms of a request it has finished with (SipMessage.dropParsed), and reading
   * the top Via at Timer L or M parsed the message's header section anew.
   */
  tableKey: string | undefined = undefined;
  private current: S | 'terminated';
  private readonly running = new Map<TimerName, TimerHandle>();
  private readonly relay: SendErrorRelay;
  /**
   * The failure callback given to the transport with every send. It reaches this transaction
   * only until it terminates: a transport that keeps callbacks for a while (a worker thread's
   * wire waits to hear of failures from the socket thread) then keeps a small relay, not the
   * transaction with its request.
   */
  protected readonly onSendError: (error: Error) => void;

  protected constructor(request: SipRequest, flow: Flow, env: TransactionEnvironment, initial: S) {
    this.request = request;
    this.flow = flow;
    this.reliable = isReliable(flow);
    this.env = env;
    this.current = initial;
    this.relay = { fail: (error) => this.transportError(error) };
    this.onSendError = relayTo(this.relay);
  }

  get state(): S | 'terminated' {
    return this.current;
  }

  /** True once in Terminated (a read that TypeScript does not narrow away after a state check). */
  get terminated(): boolean {
    return this.current === 'terminated';
  }

  protected setState(state: S): void {
    this.current = state;
  }

  /** (Re)start a timer; zero-valued timers also go through the clock, so they fire after the current event. */
  protected startTimer(name: TimerName, ms: number, fire: () => void): void {
    this.stopTimers(name);
    this.running.set(
      name,
      this.env.clock.setTimeout(() => {
        this.running.delete(name);
        fire();
      }, ms),
    );
  }

  protected stopTimers(...names: TimerName[]): void {
    for (const name of names) {
      const handle = this.running.get(name);
      if (handle === undefined) continue;
      this.env.clock.clearTimeout(handle);
      this.running.delete(name);
    }
  }

  /** Enter Terminated and tell the TU. Does nothing when already terminated. */
  protected terminate(): void {
    if (this.current === 'terminated') return;
    this.close();
    this.notifyTerminated();
  }

  /** Tell the TU that the transaction terminated (`onTerminated`). */
  protected abstract notifyTerminated(): void;

  /** A send failed, now or later: each machine decides by its state (§17.1.4, §17.2.4). */
  protected abstract transportError(error: Error): void;

  /**
   * Enter Terminated without telling the TU: every timer stops and the layer forgets the
   * transaction. For shutdown (`TransactionLayer.close`).
   */
  close(): void {
    if (this.current === 'terminated') return;
    for (const handle of this.running.values()) this.env.clock.clearTimeout(handle);
    this.running.clear();
    this.current = 'terminated';
    this.relay.fail = undefined;
    this.env.onTerminated?.(this);
  }

  dump(): TransactionDump {
    return {
      kind: this.kind,
      state: this.current,
      method: this.request.method,
      branch: this.request.topVia?.branch,
      callId: this.request.callId,
      flow: this.flow,
      timers: [...this.running.keys()],
    };
  }
}

interface SendErrorRelay {
  fail: ((error: Error) => void) | undefined;
}

/** A callback that holds only the relay (made outside any method, so it closes over nothing else). */
function relayTo(relay: SendErrorRelay): (error: Error) => void {
  return (error) => relay.fail?.(error);
}
