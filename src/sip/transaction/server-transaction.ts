import { ParleyError } from '../../lib/errors.js';
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import { Transaction, type ActiveState, type TransactionEnvironment } from './transaction.js';
import type { Flow, SentResponse } from './transaction-transport.js';
import type { ServerTransactionUser } from './transaction-user.js';

/**
 * What the INVITE and non-INVITE server transactions share (RFC 3261 §17.2): the source flow,
 * the TU delegate, the last response sent (resent on request retransmissions) and `respond`.
 * The last response is kept as the transport sent it (bytes and target), not as a message
 * object: a transaction waiting for retransmissions holds little.
 */
export abstract class ServerTransaction<S extends ActiveState = ActiveState> extends Transaction<S> {
  protected readonly user: ServerTransactionUser;
  private last: SentResponse | undefined;
  private status: number | undefined;
  private tag: string | undefined;
  /** RFC 2543 (no magic cookie): ACKs are matched by the To tag of the response (§17.2.3). */
  private readonly legacy: boolean;

  protected constructor(request: SipRequest, source: Flow, env: TransactionEnvironment, user: ServerTransactionUser, initial: S) {
    super(request, source, env, initial);
    this.user = user;
    this.legacy = !request.topVia!.rfc3261Branch;
  }

  /** The flow the request arrived on; responses go back through it (§18.2.2 is the transport's). */
  get source(): Flow {
    return this.flow;
  }

  /** The status of the most recent response passed to the transport (undefined before any). */
  get lastStatus(): number | undefined {
    return this.status;
  }

  /** The To tag of the most recent response (RFC 2543 ACK matching, §17.2.3). */
  get lastToTag(): string | undefined {
    return this.tag;
  }

  /**
   * Pass a response from the TU. The machine sends it and changes state (§17.2.1, §17.2.2), or
   * discards it when it has no transition for it ("Any other final responses passed by the TU to
   * the server transaction MUST be discarded while in the 'Completed' state", §17.2.2; Parley
   * applies the same rule to the INVITE machine). Once terminated, nothing is sent.
   * Throws ERR_INVALID_ARGUMENT for a status outside 100–699.
   */
  respond(response: SipResponse): void {
    const { status } = response;
    if (!Number.isInteger(status) || status < 100 || status > 699) {
      throw new ParleyError('ERR_INVALID_ARGUMENT', `a response status is 100-699, not ${status}`);
    }
    if (this.state !== 'terminated') this.handleResponse(response);
  }

  protected abstract handleResponse(response: SipResponse): void;

  /**
   * Hand over a request that matched this transaction (§17.2.3): a retransmission, or an ACK of
   * the INVITE. Returns true when the transaction absorbed it, false when it goes to the TU (an
   * ACK while Accepted, RFC 6026 §7.1).
   */
  abstract receiveRequest(request: SipRequest): boolean;

  protected send(response: SipResponse): void {
    this.status = response.status;
    if (this.legacy) this.tag = response.to.tag;
    this.last = this.env.transport.sendResponse(response, this.flow, this.onSendError);
  }

  /**
   * Let go of the last response: a machine that will not resend it (INVITE, Accepted: 2xx
   * retransmissions come from the TU, RFC 6026 §7.1) need not keep its bytes for Timer L.
   */
  protected forgetSent(): void {
    this.last = undefined;
  }

  /** Resend the last response, if there is one. */
  protected resend(): void {
    if (this.last !== undefined) this.env.transport.resendResponse(this.last, this.onSendError);
  }

  /** The last response as sent (for the layer's table of completed transactions). */
  protected get sent(): SentResponse | undefined {
    return this.last;
  }

  protected notifyTerminated(): void {
    this.user.onTerminated?.(this);
  }
}
