import type { SipRequest, SipResponse } from '../message/sip-message.js';
import { ServerTransaction } from './server-transaction.js';
import type { TransactionEnvironment } from './transaction.js';
import type { Flow } from './transaction-transport.js';
import type { ServerTransactionUser } from './transaction-user.js';

export type NonInviteServerTransactionState = NonInviteServerTransaction['state'];

/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2); CANCEL is one too.
 *
 * ```
 *                       request arrives: to TU (receiveRequest → 'new')
 *                                   |
 *                                   v
 *   request: discarded       +-------------+
 *                    +-------|   trying    |
 *                    +------>|             |
 *                            +-------------+
 *                 1xx from TU:  |        | 200-699 from TU: send
 *                 send          v        |
 *   request: resend 1xx      +-------------+
 *   1xx from TU: send +------| proceeding  |----------------------------------------+
 *                     +----->|             |  transport error: TU onTransportError  |
 *                            +-------------+                                        |
 *          200-699 from TU:     |        |                                          |
 *          send                 v        v                                          |
 *   request: resend final    +-------------+                                        |
 *   200-699 from TU:  +------|  completed  |----------------------------------------+
 *   discarded         +----->|             |  transport error: TU onTransportError  |
 *                            +-------------+                                        |
 *                                   | Timer J                                       |
 *                                   v                                               |
 *                            +-------------+                                        |
 *                            | terminated  |<---------------------------------------+
 *                            +-------------+
 * ```
 */
export class NonInviteServerTransaction extends ServerTransaction<'trying' | 'proceeding' | 'completed'> {
  readonly kind = 'non-invite-server' as const;

  constructor(request: SipRequest, source: Flow, env: TransactionEnvironment, user: ServerTransactionUser) {
    super(request, source, env, user, 'trying');
  }

  protected handleResponse(response: SipResponse): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') {
      // "Any other final responses passed by the TU to the server transaction MUST be discarded
      //  while in the 'Completed' state." (§17.2.2)
      return;
    }
    if (response.status < 200) {
      // "While in the 'Trying' state, if the TU passes a provisional response to the server
      //  transaction, the server transaction MUST enter the 'Proceeding' state. The response
      //  MUST be passed to the transport layer for transmission." (§17.2.2)
      this.setState('proceeding');
    } else {
      // "If the TU passes a final response (status codes 200-699) to the server while in the
      //  'Proceeding' state, the transaction MUST enter the 'Completed' state, and the response
      //  MUST be passed to the transport layer for transmission. When the server transaction
      //  enters the 'Completed' state, it MUST set Timer J to fire in 64*T1 seconds for
      //  unreliable transports, and zero seconds for reliable transports." (§17.2.2)
      this.setState('completed');
      this.send(response);
      if (this.terminated) return; // the send failed at once (§17.2.4)
      // DEVIATION(RFC 3261 §17.2.2, §17.2.4): over UDP the layer may keep the Completed state for
      // us, as the key and the response's bytes (CompletedTable), and this object (with the
      // request and the TU's state) terminates now: the TU hears onTerminated before Timer J,
      // and a failed resend in Completed is not reported to it.
      const sent = this.sent;
      if (!this.reliable && sent !== undefined && this.env.keepCompleted?.(this, sent) === true) {
        this.terminate();
        return;
      }
      this.startTimer('J', this.env.timers.timerJ(this.reliable), () => this.terminate());
      return;
    }
    this.send(response);
  }

  receiveRequest(_request: SipRequest): boolean {
    // "Once in the 'Trying' state, any further request retransmissions are discarded. … If a
    //  retransmission of the request is received while in the 'Proceeding' state, the most
    //  recently sent provisional response MUST be passed to the transport layer for
    //  retransmission. … While in the 'Completed' state, the server transaction MUST pass the
    //  final response to the transport layer for retransmission whenever a retransmission of
    //  the request is received." (§17.2.2)
    if (this.state === 'proceeding' || this.state === 'completed') this.resend();
    return true;
  }

  protected transportError(error: Error): void {
    // "… the server transaction SHOULD inform the TU that a failure has occurred, and SHOULD
    //  transition to the terminated state." (§17.2.4; Figure 8, from Proceeding and Completed)
    if (this.state === 'terminated') return;
    try {
      this.user.onTransportError(error, this);
    } finally {
      this.terminate();
    }
  }
}
