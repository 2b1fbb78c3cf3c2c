import { SipRequest, type SipResponse } from '../message/sip-message.js';
import { ClientTransaction } from './client-transaction.js';
import type { TransactionEnvironment } from './transaction.js';
import type { Flow } from './transaction-transport.js';
import type { ClientTransactionUser } from './transaction-user.js';

export type InviteClientTransactionState = InviteClientTransaction['state'];

/**
 * INVITE client transaction (RFC 3261 §17.1.1, as updated by RFC 6026 §7.2 and §8.4).
 *
 * ```
 *                        start(): send INVITE, Timer B, Timer A (UDP only)
 *                                        |
 *                                        v
 *   Timer A: resend INVITE        +-------------+   Timer B: TU onTimeout
 *     A = 2*A                 +---|   calling   |   transport error: TU onTransportError
 *                             +-->|             |-----------------------------------------------+
 *                                 +-------------+                                               |
 *                                   |    |    |                                                 |
 *                     2xx: to TU    |    |    |  300-699: to TU, send ACK                       |
 *            +----------------------+    |    +----------------------+                          |
 *            |                1xx: to TU |                           |                          |
 *            |                           v                           |                          |
 *            |                    +-------------+                    |                          |
 *            |     1xx: to TU +---| proceeding  |                    |                          |
 *            |                +-->|             |                    |                          |
 *            |                    +-------------+                    |                          |
 *            |           2xx: to TU |        | 300-699: to TU,       |                          |
 *            |<---------------------+        | send ACK              |                          |
 *            |                               +---------------------->|                          |
 *            v                                                       v                          |
 *     +-------------+                                         +-------------+                   |
 *     |  accepted   |--+ 2xx: to TU                           |  completed  |--+ 300-699:       |
 *     |             |<-+                                      |             |<-+ resend ACK     |
 *     +-------------+                                         +-------------+                   |
 *            |                                                   |       |                      |
 *            | Timer M                                   Timer D |       | transport error      |
 *            |                                                   |       | on the ACK:          |
 *            |                                                   |       | TU onTransportError  |
 *            v                                                   v       v                      |
 *     +------------------------------------------------------------------------------------+    |
 *     |                                    terminated                                      |<---+
 *     +------------------------------------------------------------------------------------+
 * ```
 *
 * The 2xx and its ACK belong to the TU: the transaction passes every 2xx up and never
 * acknowledges one (RFC 6026 §7.2). For a 300-699 it builds the ACK itself (§17.1.1.3).
 */
export class InviteClientTransaction extends ClientTransaction<'calling' | 'proceeding' | 'accepted' | 'completed'> {
  readonly kind = 'invite-client' as const;
  private intervalA: number;
  private ack: SipRequest | undefined;

  constructor(request: SipRequest, destination: Flow, env: TransactionEnvironment, user: ClientTransactionUser) {
    super(request, destination, env, user, 'calling');
    this.intervalA = env.timers.timerA;
  }

  start(): void {
    // "For any transport, the client transaction MUST start timer B with a value of 64*T1
    //  seconds (Timer B controls transaction timeouts)." (§17.1.1.2)
    this.startTimer('B', this.env.timers.timerB, () => this.timeout());
    // "If an unreliable transport is being used, the client transaction MUST start timer A with
    //  a value of T1. If a reliable transport is being used, the client transaction SHOULD NOT
    //  start timer A" (§17.1.1.2)
    if (!this.reliable) this.startTimer('A', this.intervalA, () => this.onTimerA());
    this.send(this.request);
  }

  receiveResponse(response: SipResponse): void {
    const { status } = response;
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        // Leaving Calling ends retransmissions and the timeout: "If the client transaction is
        // still in the 'Calling' state when timer B fires …" (§17.1.1.2)
        this.stopTimers('A', 'B');
        if (status < 200) {
          // "If the client transaction receives a provisional response while in the 'Calling'
          //  state, it transitions to the 'Proceeding' state. … Any further provisional
          //  responses MUST be passed up to the TU while in the 'Proceeding' state." (§17.1.1.2)
          this.setState('proceeding');
          this.user.onResponse(response, this);
        } else if (status < 300) {
          // "When a 2xx response is received while in either the 'Calling' or 'Proceeding'
          //  states, the client transaction MUST transition to the 'Accepted' state, and Timer M
          //  MUST be started with a value of 64*T1 seconds. The 2xx response MUST be passed up to
          //  the TU. The client transaction MUST NOT generate an ACK to the 2xx response"
          //  (RFC 6026 §8.4)
          this.setState('accepted');
          this.startTimer('M', this.env.timers.timerM, () => this.terminate());
          this.user.onResponse(response, this);
        } else {
          // "reception of a response with status code from 300-699 MUST cause the client
          //  transaction to transition to 'Completed'. The client transaction MUST pass the
          //  received response up to the TU, and the client transaction MUST generate an ACK
          //  request, even if the transport is reliable … The ACK MUST be sent to the same
          //  address, port, and transport to which the original request was sent. The client
          //  transaction SHOULD start timer D when it enters the 'Completed' state" (§17.1.1.2)
          this.setState('completed');
          this.startTimer('D', this.env.timers.timerD(this.reliable), () => this.terminate());
          this.ack = createAck(this.request, response);
          this.user.onResponse(response, this);
          this.send(this.ack);
        }
        return;
      case 'accepted':
        // "Any 2xx responses that match this client transaction and that are received while in
        //  the 'Accepted' state MUST be passed up to the TU." (RFC 6026 §8.4)
        if (status >= 200 && status < 300) this.user.onResponse(response, this);
        return;
      case 'completed':
        if (status >= 300) {
          // "Any retransmissions of the final response that are received while in the
          //  'Completed' state MUST cause the ACK to be re-passed to the transport layer for
          //  retransmission, but the newly received response MUST NOT be passed up to the TU."
          //  (§17.1.1.2)
          this.send(this.ack!);
        } else if (status >= 200) {
          // A 2xx after a non-2xx can only come from another branch of a downstream fork (a
          // proxy forwards every 2xx to an INVITE, §16.7 step 5). The RFCs leave it unhandled
          // here; Parley passes it up so that the TU can acknowledge it and end that session.
          this.user.onResponse(response, this);
        }
        return;
      case 'terminated':
        return;
    }
  }

  /** "When timer A fires, the client transaction MUST retransmit the request … and MUST reset
   *  the timer with a value of 2*T1. … intervals that double after each transmission." (§17.1.1.2) */
  private onTimerA(): void {
    this.intervalA *= 2;
    this.startTimer('A', this.intervalA, () => this.onTimerA());
    this.send(this.request);
  }

  protected transportError(error: Error): void {
    // The INVITE can fail in Calling, the ACK in Completed (§17.1.4, RFC 6026 Figure 4); an
    // error reported after the machine moved on concerns nothing it still sends.
    if (this.state === 'calling' || this.state === 'completed') this.fail(error);
  }
}

/**
 * The ACK for a non-2xx final response (§17.1.1.3):
 * "The ACK request constructed by the client transaction MUST contain values for the Call-ID,
 *  From, and Request-URI that are equal to the values of those header fields in the request
 *  passed to the transport by the client transaction (call this the 'original request'). The To
 *  header field in the ACK MUST equal the To header field in the response being acknowledged …
 *  The ACK MUST contain a single Via header field, and this MUST be equal to the top Via header
 *  field of the original request. The CSeq header field in the ACK MUST contain the same value
 *  for the sequence number as was present in the original request, but the method parameter
 *  MUST be equal to 'ACK'. If the INVITE request whose response is being acknowledged had Route
 *  header fields, those header fields MUST appear in the ACK."
 * Max-Forwards, mandatory in every request (§8.1.1), is copied from the original request.
 */
function createAck(request: SipRequest, response: SipResponse): SipRequest {
  const ack = new SipRequest('ACK', request.uri);
  ack.append('Via', request.topVia!.toString());
  ack.append('Max-Forwards', request.get('Max-Forwards') ?? '70');
  for (const route of request.getAll('Route')) ack.append('Route', route);
  ack.append('From', request.get('From')!);
  ack.append('To', response.get('To')!);
  ack.append('Call-ID', request.callId);
  ack.append('CSeq', `${request.cseq.seq} ACK`);
  return ack;
}
