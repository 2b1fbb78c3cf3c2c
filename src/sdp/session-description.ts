/**
 * The model of an SDP session description (RFC 8866 §5): the lines Parley interprets (v=, o=, s=,
 * c=, m=) as typed fields, every other line kept as written and in order (`lines`), so that a
 * description parsed, edited and written again keeps what Parley does not understand (unknown
 * attributes, b=, k=, t=, i=, …). The model is plain data (structured-clone safe, no classes), and
 * mutable: the helpers in attributes.ts edit it in place.
 */

/** One line Parley keeps without interpreting it: `<type>=<value>`, the value as written. */
export interface SdpLine {
  /** The one-character type (`a`, `b`, `t`, `k`, `i`, …). */
  type: string;
  value: string;
}

/** o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (RFC 8866 §5.2). */
export interface SdpOrigin {
  username: string;
  /** Digits, as written (they may exceed 2^53). */
  sessionId: string;
  /** Digits, as written (they may exceed 2^53). */
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

/** c=<nettype> <addrtype> <connection-address> (RFC 8866 §5.7); the address as written (a multicast one may carry /ttl). */
export interface SdpConnection {
  netType: string;
  addrType: string;
  address: string;
}

/** m=<media> <port>[/<number of ports>] <proto> <fmt> ... (RFC 8866 §5.14) and the lines after it. */
export interface MediaDescription {
  media: string;
  port: number;
  /** The `/<number of ports>` part, when written. */
  portCount?: number;
  proto: string;
  formats: string[];
  /** The media-level c=, when there is one. */
  connection?: SdpConnection;
  /** Every other media-level line (i=, b=, k=, a=, unknown types), in order. */
  lines: SdpLine[];
}

export interface SessionDescription {
  /** v= (always 0, RFC 8866 §5.1). */
  version: number;
  origin: SdpOrigin;
  /** s= (RFC 8866 §5.3: a single space when there is no name). */
  sessionName: string;
  /** The session-level c=, when there is one. */
  connection?: SdpConnection;
  /** Every other session-level line (i=, u=, e=, p=, b=, t=, r=, z=, k=, a=, unknown types), in order. */
  lines: SdpLine[];
  media: MediaDescription[];
}

/** Either level of a description: both carry their attributes in `lines`. */
export type SdpSection = SessionDescription | MediaDescription;
