import { createResponse } from '../message/build.js';
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import { ServerTransaction } from './server-transaction.js';
import type { TransactionEnvironment } from './transaction.js';
import type { Flow } from './transaction-transport.js';
import type { ServerTransactionUser } from './transaction-user.js';

export type InviteServerTransactionState = InviteServerTransaction['state'];

/** "… unless it knows that the TU will generate a provisional or final response within 200 ms" (§17.2.1). */
const TRYING_DELAY = 200;

/**
 * INVITE server transaction (RFC 3261 §17.2.1, as updated by RFC 6026 §7.1 and §8.5-§8.7).
 *
 * ```
 *                      INVITE arrives: to TU (receiveRequest → 'new')
 *                      Trying timer: 100 Trying if the TU is silent for 200 ms
 *                                   |
 *                                   v
 *   INVITE: resend last 1xx  +-------------+
 *   1xx from TU: send    +---| proceeding  |
 *   transport error:     +-->|             |
 *     TU onTransportError    +-------------+
 *                              |         |
 *          300-699 from TU:    |         |  2xx from TU: send
 *          send, Timer G (UDP) |         +-------------------------------+
 *          and Timer H         v                                         v
 *   INVITE: resend final  +-------------+                         +-------------+
 *   Timer G: resend final |  completed  |   INVITE: absorbed      |  accepted   |
 *     G = min(2*G, T2) +--|             |   ACK: to TU         +--|             |
 *   transport error:   +->|             |   2xx from TU: send  +->|             |
 *     TU onTransportError +-------------+   transport error:      +-------------+
 *                              |     |        TU onTransportError        |
 *                          ACK |     |                                   |
 *                              v     | Timer H:                          | Timer L
 *                     +-------------+| TU onTimeout                      |
 *   ACK, INVITE:   +--|  confirmed  ||                                   |
 *     absorbed     +->|             ||                                   |
 *                     +-------------+|                                   |
 *                            |       |                                   |
 *                    Timer I |       |                                   |
 *                            v       v                                   v
 *                     +---------------------------------------------------------+
 *                     |                       terminated                        |
 *                     +---------------------------------------------------------+
 * ```
 *
 * Transport errors inform the TU and leave the state as it is (RFC 6026 Figure 5; a DEVIATION
 * from the SHOULD of §17.2.4): the transaction keeps absorbing retransmissions until its timers
 * end it.
 */
export class InviteServerTransaction extends ServerTransaction<'proceeding' | 'accepted' | 'completed' | 'confirmed'> {
  readonly kind = 'invite-server' as const;
  private intervalG: number;

  /**
   * @param autoTrying send 100 Trying when the TU has not responded within 200 ms (§17.2.1).
   *   Pass false only when the TU always answers within 200 ms.
   */
  constructor(request: SipRequest, source: Flow, env: TransactionEnvironment, user: ServerTransactionUser, autoTrying = true) {
    super(request, source, env, user, 'proceeding');
    this.intervalG = env.timers.timerG;
    // "The server transaction MUST generate a 100 (Trying) response unless it knows that the TU
    //  will generate a provisional or final response within 200 ms, in which case it MAY
    //  generate a 100 (Trying) response." (§17.2.1)
    if (autoTrying) this.startTimer('Trying', TRYING_DELAY, () => this.send(createResponse(request, 100)));
  }

  protected handleResponse(response: SipResponse): void {
    const { status } = response;
    if (this.state === 'proceeding') {
      this.stopTimers('Trying');
      // "The TU passes any number of provisional responses to the server transaction. So long as
      //  the server transaction is in the 'Proceeding' state, each of these MUST be passed to
      //  the transport layer for transmission. They are not sent reliably by the transaction
      //  layer … and do not cause a change in the state of the server transaction." (§17.2.1)
      if (status >= 200 && status < 300) {
        // "If, while in the 'Proceeding' state, the TU passes a 2xx response to the server
        //  transaction, the server transaction MUST pass this response to the transport layer
        //  for transmission. It is not retransmitted by the server transaction; retransmissions
        //  of 2xx responses are handled by the TU. The server transaction MUST then transition
        //  to the 'Accepted' state." (RFC 6026 §8.5) Timer L: 64*T1 (RFC 6026 §8.7).
        this.setState('accepted');
        this.startTimer('L', this.env.timers.timerL, () => this.terminate());
      } else if (status >= 300) {
        // "While in the 'Proceeding' state, if the TU passes a response with status code from
        //  300 to 699 to the server transaction, the response MUST be passed to the transport
        //  layer for transmission, and the state machine MUST enter the 'Completed' state. For
        //  unreliable transports, timer G is set to fire in T1 seconds, and is not set to fire
        //  for reliable transports. … When the 'Completed' state is entered, timer H MUST be
        //  set to fire in 64*T1 seconds for all transports." (§17.2.1)
        this.setState('completed');
        if (!this.reliable) this.startTimer('G', this.intervalG, () => this.onTimerG());
        this.startTimer('H', this.env.timers.timerH, () => this.onTimerH());
      }
      this.send(response);
      if (status >= 200 && status < 300) this.forgetSent();
    } else if (this.state === 'accepted' && status >= 200 && status < 300) {
      // "While in the 'Accepted' state, if the TU passes a 2xx response, the server transaction
      //  MUST pass the response to the transport layer for transmission." (RFC 6026 §8.7)
      this.send(response);
      this.forgetSent();
    }
  }

  receiveRequest(request: SipRequest): boolean {
    if (request.method === 'ACK') {
      switch (this.state) {
        case 'completed':
          // "If an ACK is received while the server transaction is in the 'Completed' state,
          //  the server transaction MUST transition to the 'Confirmed' state. As Timer G is
          //  ignored in this state, any retransmissions of the response will cease. … When this
          //  state is entered, timer I is set to fire in T4 seconds for unreliable transports,
          //  and zero seconds for reliable transports." (§17.2.1)
          this.stopTimers('G', 'H');
          this.setState('confirmed');
          this.startTimer('I', this.env.timers.timerI(this.reliable), () => this.terminate());
          return true;
        case 'accepted':
          // "Any ACKs received from the network while in the 'Accepted' state MUST be passed
          //  directly to the TU and not absorbed." (RFC 6026 §7.1)
          return false;
        default:
          // Proceeding (no final response yet) and Confirmed ("to absorb any additional ACK
          // messages that arrive", §17.2.1).
          return true;
      }
    }
    if (this.state === 'proceeding' || this.state === 'completed') {
      // "If a request retransmission is received while in the 'Proceeding' state, the most
      //  recent provisional response that was received from the TU MUST be passed to the
      //  transport layer for retransmission. … while in the 'Completed' state, if a request
      //  retransmission is received, the server SHOULD pass the response to the transport for
      //  retransmission." (§17.2.1)
      this.resend();
    }
    // "While in the 'Accepted' state, any retransmissions of the INVITE received will match this
    //  transaction state machine and will be absorbed by the machine without changing its
    //  state. These retransmissions are not passed onto the TU." (RFC 6026 §7.1)
    return true;
  }

  /**
   * "If timer G fires, the response is passed to the transport layer once more for
   *  retransmission, and timer G is set to fire in MIN(2*T1, T2) seconds. From then on, when
   *  timer G fires, the response is passed to the transport again for transmission, and timer G
   *  is reset with a value that doubles, unless that value exceeds T2" (§17.2.1)
   */
  private onTimerG(): void {
    this.intervalG = this.env.timers.next(this.intervalG);
    this.startTimer('G', this.intervalG, () => this.onTimerG());
    this.resend();
  }

  /**
   * "If timer H fires while in the 'Completed' state, it implies that the ACK was never
   *  received. In this case, the server transaction MUST transition to the 'Terminated' state,
   *  and MUST indicate to the TU that a transaction failure has occurred." (§17.2.1)
   */
  private onTimerH(): void {
    try {
      this.user.onTimeout(this);
    } finally {
      this.terminate();
    }
  }

  /**
   * "If those should all fail … the server transaction SHOULD inform the TU that a failure has
   *  occurred, and SHOULD transition to the terminated state." (§17.2.4)
   */
  protected transportError(error: Error): void {
    // DEVIATION(RFC 3261 §17.2.4): the state stays as it is, as RFC 6026 Figure 5 draws it. A
    // terminated INVITE transaction would let the next INVITE retransmission start a new one,
    // the very fault RFC 6026 corrects; Timers H and L still end the transaction.
    if (this.state !== 'terminated') this.user.onTransportError(error, this);
  }
}
