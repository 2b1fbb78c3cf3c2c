import type { SipResponse } from '../message/sip-message.js';
import type { ClientTransaction } from './client-transaction.js';
import type { ServerTransaction } from './server-transaction.js';

/**
 * The transaction user (TU, RFC 3261 §5, §17) of a client transaction: a UAC core or a proxy
 * core branch. One delegate per transaction, given to `createClientTransaction`.
 */
export interface ClientTransactionUser {
  /**
   * A response the machine passes up: provisional and final responses, and (RFC 6026 §7.2) every
   * 2xx received in Accepted, retransmissions and other branches' included. Never a
   * retransmission of a non-2xx final response, which the transaction absorbs.
   */
  onResponse(response: SipResponse, tx: ClientTransaction): void;
  /** Timer B or F fired with no final response: the TU treats it as a 408 (§8.1.3.1). */
  onTimeout(tx: ClientTransaction): void;
  /** The transport failed to send the request (or the ACK): the TU treats it as a 503 (§8.1.3.1). */
  onTransportError(error: Error, tx: ClientTransaction): void;
  /** The transaction entered Terminated and left the layer's tables. */
  onTerminated?(tx: ClientTransaction): void;
}

/**
 * The transaction user of server transactions: the UAS core or the proxy core. One delegate for
 * every server transaction of a layer, hence the `tx` argument.
 *
 * Requests never arrive here: a new request comes back from `TransactionLayer.receiveRequest`
 * as `{ kind: 'new' }`, and an ACK for a 2xx as `{ kind: 'ack' }`.
 */
export interface ServerTransactionUser {
  /** Timer H fired: no ACK came for a non-2xx final response to an INVITE (§17.2.1). */
  onTimeout(tx: ServerTransaction): void;
  /** The transport failed to send a response (§17.2.4). */
  onTransportError(error: Error, tx: ServerTransaction): void;
  /** The transaction entered Terminated and left the layer's tables. */
  onTerminated?(tx: ServerTransaction): void;
}
