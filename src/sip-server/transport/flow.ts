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

/**
 * An address as Parley compares and stores it: brackets removed, IPv4-mapped IPv6 turned into
 * IPv4, IPv6 in the canonical (RFC 5952) form, names lower-cased. `[::FFFF:192.0.2.1]` → `192.0.2.1`.
 */
export function normalizeAddress(address: string): string {
  let a = address;
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  if (a.includes(':')) {
    try {
      // WHATWG URL serializes IPv6 hosts in RFC 5952 form
      a = new URL(`http://[${a}]/`).hostname.slice(1, -1);
    } catch {
      return a.toLowerCase();
    }
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
    if (mapped) {
      const hi = parseInt(mapped[1]!, 16);
      const lo = parseInt(mapped[2]!, 16);
      return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
    }
    return a;
  }
  return a.toLowerCase();
}
