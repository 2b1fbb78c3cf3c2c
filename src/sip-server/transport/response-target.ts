import type { Via } from '../../sip/index.js';
import { defaultPort, flowTransportOf, isStreamTransport, isWebSocketTransport, type Flow, type FlowTransport } from './flow.js';

/** Where a response goes, as decided from its top Via (RFC 3261 §18.2.2, RFC 3581 §4). */
export interface ResponseTarget {
  readonly transport: FlowTransport;
  /** Reliable transports: the connection to try first (the request's own), when it is still open. */
  readonly connectionId?: number;
  /** IP address or host name (a name is resolved before sending). */
  readonly host: string;
  readonly port: number;
  /** Unreliable transports: send from the address and port the request came in on. */
  readonly localAddress?: string;
  readonly localPort?: number;
  /**
   * The §18.2.2 / RFC 3581 rule that chose the target (for logs and tests); `source`: the
   * request's own source address and port over its own transport and connection, and nothing
   * else (no connection is opened, no name resolved): see sourceTarget.
   */
  readonly rule: 'connection' | 'maddr' | 'rport' | 'received' | 'sent-by' | 'source';
}

/**
 * Where a stateless answer to a malformed request goes: back where the request came from, over
 * the transport and connection it came on, to its source address and port. Such a request's Via
 * is not to be trusted (it may not even parse), and following it could make Parley a reflector:
 * a UDP request whose Via says TCP made Parley open a TCP connection to whatever host and port it
 * named. RFC 3581 §4 sends to the source port when asked (rport); here the source port is used
 * whether asked or not, so that the answer never goes anywhere the request did not come from.
 */
export function sourceTarget(source: Flow): ResponseTarget {
  // DEVIATION(RFC 3261 §18.2.2, RFC 3581 §4): not where the Via points, but where the request came from
  return {
    transport: source.transport,
    ...(source.connectionId === undefined ? {} : { connectionId: source.connectionId }),
    host: source.remoteAddress,
    port: source.remotePort,
    ...(source.transport === 'udp' ? { localAddress: source.localAddress, localPort: source.localPort } : {}),
    rule: 'source',
  };
}

/**
 * Apply the response rules of RFC 3261 §18.2.2 (with RFC 3581 §4) to the top Via of a
 * response; `source` is the flow the request came in on. Undefined when the Via names a
 * transport Parley does not speak.
 */
export function responseTarget(via: Via, source: Flow): ResponseTarget | undefined {
  if (source.connectionId !== undefined && isWebSocketTransport(source.transport)) {
    // DEVIATION(RFC 3261 §18.2.2): the transport of the Via is not what decides here. A
    // WebSocket client accepts no connection (RFC 7118: its Via host is a made-up `.invalid`
    // name), so the only way back is the connection the request came over, whatever transport
    // its Via names: JsSIP writes WS or WSS from its URL, other stacks WSS always, and SIP.js
    // can write TCP (hackViaTcp). Kamailio answers over the connection likewise.
    return { transport: source.transport, connectionId: source.connectionId, host: stripBrackets(via.received ?? via.host), port: via.port ?? defaultPort(source.transport), rule: 'connection' };
  }
  const named = flowTransportOf(via.transport);
  if (named === undefined) return undefined;
  // DEVIATION(RFC 3261 §18.2.2): when the top Via names another transport than the one the
  // request came over, the response takes the request's own: a client that switches transport
  // rewrites its Via (§18.1.1), so a mismatch is a mistake or a lie, and following it let one UDP
  // datagram whose Via says TCP make Parley open a TCP connection to any port of its source (a
  // connect reflector). Kamailio answers over the arrival transport likewise (reply_to_via=0).
  const transport = named === source.transport ? named : source.transport;

  if (isStreamTransport(transport)) {
    // "If the "sent-protocol" is a reliable transport protocol such as TCP or SCTP, or TLS over
    //  those, the response MUST be sent using the existing connection to the source of the
    //  original request that created the transaction, if that connection is still open. [...]
    //  If the connection is no longer open, the server SHOULD open a connection to the IP
    //  address in the "received" parameter, if present, using the port in the "sent-by" value,
    //  or the default port for that transport, if no port is specified." (RFC 3261 §18.2.2)
    const host = stripBrackets(via.received ?? via.host);
    const port = via.port ?? defaultPort(transport);
    const rule = via.received !== undefined ? 'received' : 'sent-by';
    return source.connectionId !== undefined && source.transport === transport
      ? { transport, connectionId: source.connectionId, host, port, rule: 'connection' }
      : { transport, host, port, rule };
  }

  // "The response MUST be sent from the same address and port that the corresponding request
  //  was received on." (RFC 3581 §4)
  const from = source.transport === 'udp' ? { localAddress: source.localAddress, localPort: source.localPort } : {};
  const sentByPort = via.port ?? 5060;

  const maddr = via.maddr;
  if (maddr !== undefined) {
    // "Otherwise, if the Via header field value contains a "maddr" parameter, the response MUST
    //  be forwarded to the address listed there, using the port indicated in "sent-by", or port
    //  5060 if none is present." (RFC 3261 §18.2.2)
    // DEVIATION(RFC 3261 §18.2.2): a multicast maddr is sent to like a unicast one; the "ttl"
    // parameter is not applied (Parley does not send multicast).
    return { transport, host: stripBrackets(maddr), port: sentByPort, ...from, rule: 'maddr' };
  }
  const received = via.received === undefined ? undefined : stripBrackets(via.received);
  const rport = via.rport;
  if (received !== undefined && typeof rport === 'number') {
    // "If the "sent-protocol" component indicates an unreliable unicast transport protocol, such
    //  as UDP, and there is no "maddr" parameter, but there is both a "received" parameter and
    //  an "rport" parameter, the response MUST be sent to the IP address listed in the
    //  "received" parameter, and the port in the "rport" parameter." (RFC 3581 §4)
    return { transport, host: received, port: rport, ...from, rule: 'rport' };
  }
  if (received !== undefined) {
    // "Otherwise (for unreliable unicast transports), if the top Via has a "received" parameter,
    //  the response MUST be sent to the address in the "received" parameter, using the port
    //  indicated in the "sent-by" value, or using port 5060 if none is specified explicitly."
    return { transport, host: received, port: sentByPort, ...from, rule: 'received' };
  }
  // "Otherwise, if it is not receiver-tagged, the response MUST be sent to the address
  //  indicated by the "sent-by" value, using the procedures in Section 5 of [4]."
  // DEVIATION(RFC 3263 §5): a sent-by name is resolved with A/AAAA only, without SRV.
  return { transport, host: stripBrackets(via.host), port: sentByPort, ...from, rule: 'sent-by' };
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
