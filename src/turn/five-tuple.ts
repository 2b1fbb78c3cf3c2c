/**
 * The 5-tuple of an allocation (RFC 8656 §2): client address and port, server address and port,
 * and transport. The server side is the listener the client talks to.
 */

/** A socket of the TURN server that clients talk to (one per listener for UDP). */
export interface TurnListener {
  /** Index in the listener list: part of the 5-tuple key. */
  readonly id: number;
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly address: string;
  readonly port: number;
  /** Send bytes (several buffers: one datagram, gathered) to a client. */
  send(data: Uint8Array | readonly Uint8Array[], port: number, address: string): void;
}

export interface FiveTuple {
  readonly listener: TurnListener;
  readonly clientAddress: string;
  readonly clientPort: number;
  /** fiveTupleKey of the three above. */
  readonly key: string;
}

/** The key the allocation table finds a 5-tuple by (one string per lookup). */
export function fiveTupleKey(listener: TurnListener, clientAddress: string, clientPort: number): string {
  return `${listener.id} ${clientAddress} ${clientPort}`;
}

export function fiveTuple(listener: TurnListener, clientAddress: string, clientPort: number): FiveTuple {
  return { listener, clientAddress, clientPort, key: fiveTupleKey(listener, clientAddress, clientPort) };
}
