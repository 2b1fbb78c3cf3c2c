/**
 * The 5-tuple of an allocation (RFC 8656 §2): client address and port, server address and port,
 * and transport. The server side is the listener the client talks to.
 */
import type { Duplex } from 'node:stream';

/** A socket of the TURN server that clients talk to (one per listener for UDP). */
export interface TurnListener {
  /** Index in the listener list: part of the 5-tuple key. */
  readonly id: number;
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly address: string;
  readonly port: number;
  /** A TCP/TLS connection: ChannelData to it is padded to a multiple of 4 (RFC 8656 §12.5). */
  readonly stream?: boolean;
  /**
   * RFC 6062 §5.4 (TCP and TLS connections): the connection becomes a client data connection:
   * no more STUN framing, its socket handed over (bytes as they are, both ways, no idle timeout).
   */
  dataConnection?(): Duplex;
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
