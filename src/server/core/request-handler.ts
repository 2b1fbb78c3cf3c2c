import type { Flow, ServerTransaction, SipRequest } from '../../sip/index.js';
import type { SipServer } from '../sip-server.js';

/**
 * The transaction user for new requests: what the server does with a request once the
 * transaction layer has created its server transaction. The registrar/proxy core and, later,
 * routing scripts implement it. A handler answers through `server.reply(tx, …)` or forwards.
 */
export interface RequestHandler {
  /** Methods this handler accepts, for Allow headers (RFC 3261 §20.5). */
  readonly allow: readonly string[];
  /** Option tags it supports, for Supported headers (§20.37). */
  readonly supported: readonly string[];
  /** A new request with its server transaction. CANCEL and OPTIONS to the server itself come here too. */
  onRequest(request: SipRequest, tx: ServerTransaction, server: SipServer): void;
  /**
   * True for a request the server answers without a transaction (RFC 3261 §8.2.7 stateless UAS):
   * OPTIONS pings to the server itself. The server then answers 200 with `replyOptions` content
   * and a To tag derived from the request, so a retransmission gets the same response.
   */
  answersStatelessly?(request: SipRequest): boolean;
  /**
   * An ACK that no INVITE server transaction absorbed: the ACK for a 2xx, which a proxy forwards
   * end to end (§16.7 step 6; RFC 6026 §7.1).
   */
  onAck?(ack: SipRequest, source: Flow, server: SipServer): void;
}
