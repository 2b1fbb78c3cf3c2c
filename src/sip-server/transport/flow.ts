import type { Flow, FlowTransport } from '../../sip/transaction/transaction-transport.js';

/**
 * A flow: the transport and the pair of addresses a SIP message came in on or goes out on
 * (RFC 3261 §18; the "flow" of RFC 5626 §3.1, a 5-tuple plus, for streams, the connection).
 * The shape is owned by the transaction layer, which only needs to pass it back.
 */
export type { Flow, FlowTransport };

/** Stream transports, whose messages travel over a connection. */
export type StreamTransport = Exclude<FlowTransport, 'udp'>;

/** True for the transports RFC 3261 §18 calls reliable (everything but UDP here). */
export function isStreamTransport(transport: FlowTransport): transport is StreamTransport {
  return transport !== 'udp';
}

/** True for SIP over WebSocket (RFC 7118): one SIP message per WebSocket message, no connecting back. */
export function isWebSocketTransport(transport: FlowTransport): transport is 'ws' | 'wss' {
  return transport === 'ws' || transport === 'wss';
}

/** The transport of a Via sent-protocol (`UDP`, `TLS`, …), or undefined for one Parley does not speak. */
export function flowTransportOf(viaTransport: string): FlowTransport | undefined {
  const t = viaTransport.toLowerCase();
  return t === 'udp' || t === 'tcp' || t === 'tls' || t === 'ws' || t === 'wss' ? t : undefined;
}

/**
 * The default port of a transport (RFC 3261 §19.1.2: 5060 for sip over UDP and TCP, 5061 for
 * TLS; RFC 7118 §5: WebSocket has no SIP default, 80/443 are the HTTP ones).
 */
export function defaultPort(transport: FlowTransport): number {
  switch (transport) {
    case 'tls':
      return 5061;
    case 'ws':
      return 80;
    case 'wss':
      return 443;
    default:
      return 5060;
  }
}

// (moved to src/lib: the TURN server counts its sources the same way)
export { normalizeAddress } from '../../lib/source-prefix.js';
