import type { SipRequest, SipResponse } from '../message/sip-message.js';
import { Transaction, type ActiveState, type TransactionEnvironment } from './transaction.js';
import type { Flow } from './transaction-transport.js';
import type { ClientTransactionUser } from './transaction-user.js';

/**
 * What the INVITE and non-INVITE client transactions share (RFC 3261 §17.1): the destination,
 * the TU delegate, and the way timeouts and transport failures end the transaction.
 */
/** The TU of a transaction that will tell it nothing more (retireUser). */
const RETIRED: ClientTransactionUser = { onResponse() {}, onTimeout() {}, onTransportError() {} };

export abstract class ClientTransaction<S extends ActiveState = ActiveState> extends Transaction<S> {
  protected user: ClientTransactionUser;

  protected constructor(request: SipRequest, destination: Flow, env: TransactionEnvironment, user: ClientTransactionUser, initial: S) {
    super(request, destination, env, initial);
    this.user = user;
  }

  /** The flow the request is sent to; the ACK for a non-2xx goes there too (§17.1.1.3). */
  get destination(): Flow {
    return this.flow;
  }

  /**
   * Send the request and start the timers. Call once, after the transaction is where responses
   * can find it (TransactionLayer.createClientTransaction does both).
   */
  abstract start(): void;

  /** Hand over a response that matched this transaction (§17.1.3). */
  abstract receiveResponse(response: SipResponse): void;

  protected send(request: SipRequest): void {
    this.env.transport.sendRequest(request, this.flow, this.onSendError);
  }

  /** Timer B or F: "inform the TU that a timeout has occurred", then Terminated (§17.1.1.2, §17.1.2.2). */
  protected timeout(): void {
    try {
      this.user.onTimeout(this);
    } finally {
      this.terminate();
    }
  }

  /**
   * "If a fatal transport error is reported by the transport layer (generally, due to fatal ICMP
   *  errors in UDP or connection failures in TCP), the condition MUST be treated as a 503
   *  (Service Unavailable) status code." (§8.1.3.1) The TU does that; the transaction terminates.
   */
  protected fail(error: Error): void {
    try {
      this.user.onTransportError(error, this);
    } finally {
      this.terminate();
    }
  }

  /**
   * The TU will hear of nothing more but the end: let go of it unless it wants to hear of that
   * (a proxy branch's TU holds its whole response context, which Timer K would keep for T4).
   */
  protected retireUser(): void {
    if (this.user.onTerminated === undefined) this.user = RETIRED;
  }

  protected notifyTerminated(): void {
    this.user.onTerminated?.(this);
  }
}
