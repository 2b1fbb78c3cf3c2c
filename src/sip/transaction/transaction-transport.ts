import type { SipRequest, SipResponse } from '../message/sip-message.js';

/** The transports Parley speaks (RFC 3261 §18, RFC 7118). */
export type FlowTransport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/**
 * Where a message goes to or came from: a transport and the remote address, plus, once the
 * transport layer knows them, the local address and the connection (RFC 5626 flow).
 */
export interface Flow {
  /** Lower-case transport token, as in a Via's sent-protocol. */
  readonly transport: FlowTransport;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly connectionId?: number;
}

/**
 * What the transaction layer needs from the transport layer (RFC 3261 §18), owned here so that
 * the layer stays free of sockets. Sends never throw: failures come back through `onError`,
 * synchronously or later, and the transaction treats them per §17.1.4 / §17.2.4.
 */
export interface TransactionTransport {
  /** Send a request to a destination flow; report failure through onError (ICMP, connection refused…). */
  sendRequest(request: SipRequest, destination: Flow, onError: (error: Error) => void): void;
  /**
   * Send a response for a request that arrived on `source` (the transport layer applies §18.2.2).
   * Returns what `resendResponse` needs to send the same bytes again (undefined when nothing
   * went out: the failure was reported through onError).
   */
  sendResponse(response: SipResponse, source: Flow, onError: (error: Error) => void): SentResponse | undefined;
  /**
   * Send a response again, as it went out the first time (a request retransmission, Timer G):
   * the serialized bytes and their §18.2.2 target, so that a transaction need not keep the
   * message object while it waits.
   */
  resendResponse(sent: SentResponse, onError: (error: Error) => void): void;
  /**
   * Optional: write what `resendPacked` needs to send `sent` again into `into` at `at`, in at most
   * `room` bytes, so that a completed transaction keeps bytes instead of objects (CompletedTable).
   * Returns the length written; minus the length needed when `room` is too small; 0 when this
   * response cannot be put in bytes (it is then kept as the object).
   */
  packResponse?(sent: SentResponse, into: Uint8Array, at: number, room: number): number;
  /** Send again a response packed by `packResponse`; `record` is only valid during the call. */
  resendPacked?(record: Uint8Array, onError: (error: Error) => void): void;
}

/** A response as the transport sent it (its bytes and target), opaque to the transaction layer. */
export interface SentResponse {
  readonly sentResponse: true;
}

/** Reliable transports get no retransmission timers and zero-valued Timers D, I, J and K (§17). */
export function isReliable(flow: Flow): boolean {
  return flow.transport !== 'udp';
}
