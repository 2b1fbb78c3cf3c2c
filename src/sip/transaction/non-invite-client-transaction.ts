import type { SipRequest, SipResponse } from '../message/sip-message.js';
import { ClientTransaction } from './client-transaction.js';
import type { TransactionEnvironment } from './transaction.js';
import type { Flow } from './transaction-transport.js';
import type { ClientTransactionUser } from './transaction-user.js';

export type NonInviteClientTransactionState = NonInviteClientTransaction['state'];

/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2).
 *
 * ```
 *                    start(): send request, Timer F, Timer E (UDP only)
 *                                   |
 *                                   v
 *   Timer E: resend          +-------------+
 *   E = min(2*E, T2) +-------|   trying    |----------------------------------------+
 *                    +------>|             |  Timer F: TU onTimeout                 |
 *                            +-------------+  transport error: TU onTransportError  |
 *                               |        |                                          |
 *                    1xx: to TU |        | 200-699: to TU                           |
 *                               v        |                                          |
 *   Timer E: resend          +-------------+                                        |
 *   E = T2           +-------| proceeding  |----------------------------------------+
 *   1xx: to TU       +------>|             |  Timer F: TU onTimeout                 |
 *                            +-------------+  transport error: TU onTransportError  |
 *                               |        |                                          |
 *                200-699: to TU |        v                                          |
 *                               |   +-------------+ responses: absorbed             |
 *                               +-->|  completed  |--+                              |
 *                                   |             |<-+                              |
 *                                   +-------------+                                 |
 *                                          | Timer K                                |
 *                                          v                                        |
 *                                   +-------------+                                 |
 *                                   | terminated  |<--------------------------------+
 *                                   +-------------+
 * ```
 */
export class NonInviteClientTransaction extends ClientTransaction<'trying' | 'proceeding' | 'completed'> {
  readonly kind = 'non-invite-client' as const;
  private intervalE: number;

  constructor(request: SipRequest, destination: Flow, env: TransactionEnvironment, user: ClientTransactionUser) {
    super(request, destination, env, user, 'trying');
    this.intervalE = env.timers.timerE;
  }

  start(): void {
    // "When entering this state, the client transaction SHOULD set timer F to fire in 64*T1
    //  seconds. … If an unreliable transport is in use, the client transaction MUST set timer E
    //  to fire in T1 seconds." (§17.1.2.2)
    this.startTimer('F', this.env.timers.timerF, () => this.timeout());
    if (!this.reliable) this.startTimer('E', this.intervalE, () => this.onTimerE());
    this.send(this.request);
  }

  receiveResponse(response: SipResponse): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') {
      // "The 'Completed' state exists to buffer any additional response retransmissions that
      //  may be received" (§17.1.2.2): they go no further.
      return;
    }
    if (response.status < 200) {
      // "If a provisional response is received while in the 'Trying' state, the response MUST
      //  be passed to the TU, and then the client transaction SHOULD move to the 'Proceeding'
      //  state." (§17.1.2.2)
      this.setState('proceeding');
    } else {
      // "If a final response (status codes 200-699) is received while in the 'Trying' state
      //  [or 'Proceeding'], the response MUST be passed to the TU, and the client transaction
      //  MUST transition to the 'Completed' state. … Once the client transaction enters the
      //  'Completed' state, it MUST set Timer K to fire in T4 seconds for unreliable
      //  transports, and zero seconds for reliable transports." (§17.1.2.2)
      this.stopTimers('E', 'F');
      this.setState('completed');
      this.startTimer('K', this.env.timers.timerK(this.reliable), () => this.terminate());
    }
    this.user.onResponse(response, this);
    // Completed only absorbs retransmissions: nothing more goes up
    if (response.status >= 200) this.retireUser();
  }

  /**
   * "If timer E fires while still in this state, the timer is reset, but this time with a value
   *  of MIN(2*T1, T2). … If Timer E fires while in the 'Proceeding' state, the request MUST be
   *  passed to the transport layer for retransmission, and Timer E MUST be reset with a value
   *  of T2 seconds." (§17.1.2.2)
   */
  private onTimerE(): void {
    this.intervalE = this.state === 'proceeding' ? this.env.timers.T2 : this.env.timers.next(this.intervalE);
    this.startTimer('E', this.intervalE, () => this.onTimerE());
    this.send(this.request);
  }

  protected transportError(error: Error): void {
    // Figure 6: a transport error in Trying or Proceeding informs the TU and terminates.
    if (this.state === 'trying' || this.state === 'proceeding') this.fail(error);
  }
}
