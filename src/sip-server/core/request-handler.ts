import type { Flow, ServerTransaction, SipRequest } from '../../sip/index.js';
import type { SipServer } from '../sip-server.js';

/** A response the server sends without a transaction. */
export interface StatelessAnswer {
  readonly status: number;
  readonly reason?: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

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
   * The answer to a request that the server sends without a transaction (RFC 3261 §8.2.7,
   * stateless UAS), or undefined to go on statefully: OPTIONS pings to the server itself, and the
   * digest challenge to a request without credentials (as Kamailio's auth_challenge does). The
   * server derives the To tag from the request, so a retransmission gets the same response.
   * Synchronous: it runs before the transaction layer.
   */
  statelessAnswer?(request: SipRequest, source: Flow): StatelessAnswer | undefined;
  /**
   * An ACK that no INVITE server transaction absorbed: the ACK for a 2xx, which a proxy forwards
   * end to end (§16.7 step 6; RFC 6026 §7.1).
   */
  onAck?(ack: SipRequest, source: Flow, server: SipServer): void;
  /** A retransmission the transaction layer absorbed, after `statelessAnswer` let it through. */
  onAbsorbed?(request: SipRequest): void;
}
