import type { Ladder } from '../../api/operations.js';
import { arrowLabel } from '../../routing/trace-ladder.js';

/** One message a capture agent sent over HEP, as the collector's store keeps it. */
export interface StoredCapture {
  /** The agent's capture time, ms since the epoch (fractions: the microseconds HEP carries). */
  readonly at: number;
  /** `udp`, `tcp`, … */
  readonly transport: string;
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
  readonly message: string;
}

/** `198.51.100.7:5060`, `[2001:db8::1]:5060` (RFC 3986 §3.2.2: an IPv6 literal in brackets). */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** A ladder column: `udp:198.51.100.7:5060`, as the trace ladder names its peers. */
export function endpointColumn(transport: string, address: string, port: number): string {
  return `${transport.toLowerCase()}:${hostPort(address, port)}`;
}

/**
 * The ladder of a captured call, drawn by the dashboard as a traced call's: a column per socket
 * address (with its transport) in the order they first appear, the sender of the first message
 * leftmost; an arrow per message in capture time order (equal times keep the order stored), at
 * ms since the first. Every captured message is drawn: two agents that capture one hop (both ends
 * sending HEP) show it twice, as sngrep shows two copies in a capture.
 */
export function captureLadder(callId: string, messages: readonly StoredCapture[]): Ladder {
  const ordered = messages.map((m, i) => ({ m, i })).sort((a, b) => a.m.at - b.m.at || a.i - b.i);
  const participants: string[] = [];
  const arrows: Array<Ladder['arrows'][number]> = [];
  const start = ordered[0]?.m.at ?? 0;
  for (const { m } of ordered) {
    const from = endpointColumn(m.transport, m.sourceAddress, m.sourcePort);
    const to = endpointColumn(m.transport, m.destinationAddress, m.destinationPort);
    for (const p of [from, to]) if (!participants.includes(p)) participants.push(p);
    arrows.push({ t: Math.round((m.at - start) * 1000) / 1000, from, to, label: arrowLabel(m.message), message: m.message });
  }
  return { callId, participants, arrows };
}
