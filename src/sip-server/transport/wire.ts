import type { Flow } from './flow.js';
import type { ResponseTarget } from './response-target.js';
import type { TransportError } from './transport-error.js';

/**
 * The byte-moving half of the transport layer: what the SIP half (MessagePath) needs to get
 * serialized messages onto the network. TransportLayer implements it over its own sockets; a
 * worker thread implements it by handing the bytes to the thread that owns the sockets.
 * `onError` is called at most once, possibly after the call returns.
 */
export interface Wire {
  /**
   * Bytes to a flow (RFC 3261 §18.1.1): over the connection `destination.connectionId` names,
   * else an open connection to the same transport/address/port, else a new one; UDP from the
   * listener the flow names. A host name is resolved with A/AAAA.
   */
  sendBytes(bytes: Uint8Array, destination: Flow, onError: (error: TransportError) => void): void;
  /** Bytes of a response to where §18.2.2 says (the request's connection first, while it is open). */
  sendToTarget(bytes: Uint8Array, target: ResponseTarget, onError: (error: TransportError) => void): void;
}
