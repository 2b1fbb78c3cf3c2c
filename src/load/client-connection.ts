import type { AnySipMessage } from '../sip/message/sip-message.js';
import type { SipParseError } from '../sip/errors.js';

/** Transports `parley load` drives: WebSocket (RFC 7118), over TLS or not, and UDP. */
export type LoadTransport = 'wss' | 'ws' | 'udp';

/** What a client connection tells its one owner. */
export interface ClientConnectionDelegate {
  /** A SIP message arrived (one WebSocket message, or one datagram). */
  onMessage(message: AnySipMessage): void;
  /** Bytes arrived that are not a SIP message (a keepalive pong is not reported here). */
  onParseError(error: SipParseError): void;
  /** A keepalive answer arrived (WebSocket Pong, or the CRLF pong of RFC 5626 §4.4.1). */
  onPong(): void;
  /** The connection ended without close() being called: the peer closed it, or it failed. */
  onClose(reason: string): void;
}

/**
 * One user's flow to the server (RFC 5626 §3: "a transport-layer association between two
 * hosts"): a WebSocket connection, or a UDP socket. The user agent writes its Via and Contact
 * from `viaTransport` and `localHost`.
 */
export interface ClientConnection {
  /** The Via transport token (RFC 7118 §5.2: WS or WSS; UDP). */
  readonly viaTransport: 'WS' | 'WSS' | 'UDP';
  /**
   * The host (and port) for Via sent-by and the Contact: a random `<token>.invalid` name for a
   * WebSocket client, which has no address a server could reach (RFC 7118 §5.2, §7), or the local
   * address and port of a UDP socket.
   */
  readonly localHost: string;
  /** The Contact URI's transport parameter (`ws` for WebSocket, RFC 7118 §5.2), or undefined. */
  readonly contactTransport: string | undefined;
  /** False for UDP: the user agent retransmits requests (RFC 3261 §17.1.2.2). */
  readonly reliable: boolean;
  delegate: ClientConnectionDelegate | undefined;
  /** Send one SIP message (one WebSocket message). False when the connection is not open. */
  send(text: string): boolean;
  /** Send one keepalive: a WebSocket Ping, or a CRLF ping (RFC 5626 §4.4.1). */
  ping(kind: 'ping' | 'crlf'): boolean;
  /** Close it; the delegate hears nothing more. */
  close(): void;
}
