import type { DigestAlgorithm } from '../../sip/digest/index.js';
import type { FlowTransport } from '../../sip/index.js';

/** A listener as bound, with the digest algorithms configured for it (none: the default). */
export interface ListenerAlgorithms {
  /** The transport of the flows it receives: `wss`/`ws` for an HTTPS/HTTP listener. */
  readonly transport: FlowTransport;
  /** Its bound address (`0.0.0.0` or `::` for every address). */
  readonly address: string;
  /** Its bound port (the real one for a listener configured with port 0). */
  readonly port: number;
  readonly algorithms?: readonly DigestAlgorithm[];
}

/** Where a request came in: its transport and the local end of its flow. */
export interface ArrivalSource {
  readonly transport?: string;
  readonly localAddress?: string;
  readonly localPort?: number;
}

/**
 * The digest algorithms to offer for a request, by the listener it came in on (`sip.listen[]` and
 * `http.listen[]` may each set `algorithms`; the others take `auth.algorithms`). The listener is
 * found by transport and local port (UDP and TCP on one port are two listeners); when several
 * share both (one port on several addresses), the one bound to the flow's local address, else one
 * bound to every address. A flow whose listener is not found (one Parley opened itself) gets
 * `fallback`.
 */
export function listenerAlgorithms(listeners: readonly ListenerAlgorithms[], fallback: readonly DigestAlgorithm[]): (source: ArrivalSource) => readonly DigestAlgorithm[] {
  const configured = listeners.filter((l) => l.algorithms !== undefined);
  // nothing set per listener: one answer for every request, without a search
  if (configured.length === 0) return () => fallback;
  return (source) => {
    let wildcard: ListenerAlgorithms | undefined;
    let other: ListenerAlgorithms | undefined;
    for (const l of listeners) {
      if (l.transport !== source.transport || l.port !== source.localPort) continue;
      if (source.localAddress !== undefined && sameAddress(l.address, source.localAddress)) return l.algorithms ?? fallback;
      if (isWildcard(l.address)) wildcard ??= l;
      else other ??= l;
    }
    // not bound to the flow's address: the listener on every address received it (or, without
    // the flow's address, the first listener on that port)
    return (wildcard ?? other)?.algorithms ?? fallback;
  };
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}

/** Equal addresses (as sockets write them), an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) counting as its IPv4 one. */
function sameAddress(a: string, b: string): boolean {
  return unmapped(a) === unmapped(b);
}

function unmapped(address: string): string {
  const x = address.toLowerCase();
  return x.startsWith('::ffff:') && x.includes('.') ? x.slice(7) : x;
}
