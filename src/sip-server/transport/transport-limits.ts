/**
 * Limits that keep the transport layer bounded whatever peers send. Every field has a default in
 * `DEFAULT_TRANSPORT_LIMITS`; configuration overrides any subset (`Partial<TransportLimits>`).
 */
export interface TransportLimits {
  /**
   * Largest SIP message accepted, start line + headers + body, in bytes, on every transport.
   * A larger datagram is reported to `onParseError` (code `ERR_SIP_LIMIT`); on a stream, a message
   * or a header section that grows past it is reported (`ERR_SIP_FRAMING`) and the connection is
   * closed, so a connection never buffers more than this. Default 65,535 (the largest datagram).
   */
  readonly maxMessageSize: number;
  /** Most header fields in one message; more is a parse error (`ERR_SIP_LIMIT`). Default 256. */
  readonly maxHeaders: number;
  /**
   * Most stream connections open at once, inbound and outbound together, over all listeners.
   * An inbound connection over the limit is closed at once; an outbound one fails the send.
   * Default 10,000.
   */
  readonly maxConnections: number;
  /**
   * Most inbound stream connections from one source: an IPv4 address (IPv4-mapped IPv6 included),
   * or an IPv6 /64 (a host usually owns a whole /64 and can use a new address for every
   * connection). Over it, a new connection is closed at once. Default 100 (enough for a NATed
   * office, not for one host to take them all).
   */
  readonly maxConnectionsPerAddress: number;
  /**
   * The share of `maxConnections` (0–1) kept for sources that have authenticated recently (a
   * request passed digest authentication from that IPv4 address or IPv6 /64): once the rest is
   * taken, a new inbound connection from any other source is refused. Default 0.2.
   */
  readonly authenticatedReserve: number;
  /**
   * An inbound connection on which nothing is sent or received for this long is closed, in ms.
   * 0 disables. Default 3,600,000 (1 h): longer than the usual registration interval, so that a
   * phone's connection outlives its re-registrations (RFC 5626 clients also send keepalives).
   */
  readonly inboundIdleTimeoutMs: number;
  /**
   * An outbound connection (opened by Parley) idle for this long is closed, in ms. 0 disables.
   * Default 600,000 (10 min).
   */
  readonly outboundIdleTimeoutMs: number;
  /**
   * Time allowed to open an outbound connection, TCP connect and TLS handshake together, in ms.
   * Default 10,000.
   */
  readonly connectTimeoutMs: number;
  /**
   * Time allowed for the TLS handshake of an inbound connection, in ms. Default 10,000.
   */
  readonly handshakeTimeoutMs: number;
  /**
   * Time allowed between the first byte of a message on a stream and its last, in ms: a peer that
   * starts a message and never completes it (a header section that never ends) is disconnected.
   * Default 30,000.
   */
  readonly incompleteMessageTimeoutMs: number;
  /**
   * Bytes Parley may hold for a connection whose peer does not read (Node's write buffer). Past
   * it, the connection is closed and the send fails. Default 1,048,576 (1 MiB).
   */
  readonly maxWriteBufferBytes: number;
}

/** The defaults of every transport limit (documented on each field of TransportLimits). */
export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = Object.freeze({
  maxMessageSize: 65535,
  maxHeaders: 256,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 100,
  authenticatedReserve: 0.2,
  inboundIdleTimeoutMs: 3_600_000,
  outboundIdleTimeoutMs: 600_000,
  connectTimeoutMs: 10_000,
  handshakeTimeoutMs: 10_000,
  incompleteMessageTimeoutMs: 30_000,
  maxWriteBufferBytes: 1_048_576,
});
