import {
  parseMessage, serialize, type AnySipMessage, type ParseResult, type SentResponse, type SipParseError, type SipRequest, type SipResponse, type Via,
} from '../../sip/index.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import { mayKeepParent, ownString } from '../../lib/own-string.js';
import type { Flow } from './flow.js';
import { addReceivedParameters } from './received-parameters.js';
import { responseTarget, sourceTarget, type ResponseTarget } from './response-target.js';
import { packSentResponse, unpackSentResponse, type PathSentResponse } from './packed-response.js';
import { TransportError } from './transport-error.js';
import { SipMessageCounts } from './message-counts.js';
import type { Wire } from './wire.js';

/** What the transport layer hands up (to the transaction layer, RFC 3261 §18.1.2, §18.2.1). */
export interface TransportLayerDelegate {
  /**
   * A well-formed message. A request's top Via already carries `received`/`rport`
   * (RFC 3261 §18.2.1, RFC 3581 §4). `flow` is where it came from (with `connectionId` on streams).
   */
  onMessage(message: AnySipMessage, flow: Flow): void;
  /**
   * Input that is not a well-formed message. `partial` is the message as far as it could be
   * split (start line and header fields) when that was possible, so the server can answer
   * 400 (505 for a version); it is undefined for framing errors, after which a stream
   * connection is closed.
   */
  onParseError(error: SipParseError, partial: AnySipMessage | undefined, flow: Flow): void;
}

/**
 * Sees every well-formed message that passes through a MessagePath (the traces of test calls,
 * src/routing/trace-recorder.ts). Absent unless tracing is configured; it filters for itself
 * (a Call-ID prefix), so that other messages cost one property check.
 */
export interface MessageObserver {
  onReceived(message: AnySipMessage, flow: Flow): void;
  /** After serialization, before the bytes go to the wire: where to, as `transport:host:port`. */
  onSent(message: AnySipMessage, bytes: Uint8Array, to: { readonly transport: string; readonly host: string; readonly port: number }): void;
}

export interface MessagePathOptions {
  readonly wire: Wire;
  readonly limits: { readonly maxMessageSize: number; readonly maxHeaders: number };
  readonly delegate?: TransportLayerDelegate;
  readonly log?: Logger;
  /**
   * RFC 3261 §18.1.2: "If the value of the "sent-by" parameter in that header field value does
   * not correspond to a value that the client transport would have inserted into that header
   * field value in outgoing requests, the response MUST be silently discarded." When given, a
   * response whose top Via fails this test is dropped; when absent, every response is handed up.
   */
  readonly isOwnSentBy?: (via: Via) => boolean;
}

/**
 * The SIP half of the transport layer: bytes that came off a socket become messages for the
 * transaction layer (datagram rules or stream framing already applied; parse; `received`/`rport`;
 * the §18.1.2 sent-by check), and messages going out become bytes for a Wire (serialize; the
 * §18.2.2 response target). It holds no sockets, so it runs wherever the SIP core runs: beside
 * the sockets in one thread, or in a worker thread fed by the thread that owns them.
 *
 * Never throws on network input; exceptions of the delegate are caught and logged.
 */
export class MessagePath {
  delegate: TransportLayerDelegate | undefined;
  observer: MessageObserver | undefined;
  /** The messages that crossed this path, by direction, method and status class (`/metrics`). */
  readonly counts = new SipMessageCounts();
  private readonly wire: Wire;
  private readonly limits: { readonly maxMessageSize: number; readonly maxHeaders: number };
  private readonly log: Logger;
  private readonly isOwnSentBy: ((via: Via) => boolean) | undefined;

  constructor(options: MessagePathOptions) {
    this.wire = options.wire;
    this.limits = { maxMessageSize: options.limits.maxMessageSize, maxHeaders: options.limits.maxHeaders };
    this.delegate = options.delegate;
    this.log = options.log ?? silentLogger;
    this.isOwnSentBy = options.isOwnSentBy;
  }

  // ---- receiving ------------------------------------------------------------------------

  /** One UDP datagram as received. */
  receiveDatagram(bytes: Uint8Array, flow: Flow): void {
    if (isOnlyLineEnds(bytes)) {
      // CRLF keepalives sent over UDP by many phones: not SIP, never reach the parser (as for
      // streams, RFC 3261 §7.5: "ignore any CRLF appearing before the start-line").
      return;
    }
    if (bytes[0]! <= 3) {
      // RFC 7983 §7: a first byte 0-3 is STUN, never SIP. The UDP socket that read it answered it
      // already (udp-transport.ts, stun-keepalive.ts); one that reaches here is dropped unparsed.
      return;
    }
    this.deliver(parseMessage(bytes, { datagram: true, limits: this.limits }), flow);
  }

  /** One message cut out of a stream by its Content-Length (the framer's work is done). */
  receiveStreamMessage(bytes: Uint8Array, flow: Flow): void {
    this.deliver(parseMessage(bytes, { datagram: false, limits: this.limits }), flow);
  }

  /** A stream that could not be framed (its connection is being closed). */
  receiveFramingError(error: SipParseError, flow: Flow): void {
    this.reportParseError(error, undefined, flow);
  }

  private deliver(result: ParseResult, flow: Flow): void {
    if (!result.ok) {
      this.reportParseError(result.error, result.message, flow);
      return;
    }
    const message = result.message;
    if (message.isRequest) {
      addReceivedParameters(message, flow);
    } else if (this.isOwnSentBy !== undefined) {
      const via = message.topVia;
      if (via === undefined || !this.isOwnSentBy(via)) {
        this.log.debug({ ...flowLog(flow), via: via?.toString() }, 'response discarded: top Via is not ours (RFC 3261 §18.1.2)');
        return;
      }
    }
    if (message.isRequest) this.counts.request('in', message.method);
    else this.counts.response('in', message.cseq.method, message.status);
    const observer = this.observer;
    if (observer !== undefined) this.safely('observer', () => observer.onReceived(message, flow));
    const delegate = this.delegate;
    if (delegate === undefined) {
      this.log.debug(flowLog(flow), 'message dropped: no delegate');
      return;
    }
    this.safely('onMessage', () => delegate.onMessage(message, flow));
  }

  private reportParseError(error: SipParseError, partial: AnySipMessage | undefined, flow: Flow): void {
    this.log.debug({ ...flowLog(flow), place: error.place, err: error.detail }, 'malformed input');
    const delegate = this.delegate;
    if (delegate !== undefined) this.safely('onParseError', () => delegate.onParseError(error, partial, flow));
  }

  /** Run a delegate callback; an exception is logged, never thrown into a socket's event loop. */
  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: e instanceof Error ? (e.stack ?? e.message) : String(e) }, `transport delegate ${what} threw`);
    }
  }

  // ---- sending --------------------------------------------------------------------------

  /**
   * Send a request (RFC 3261 §18.1.1). Streams: over the connection `destination.connectionId`
   * names when it is open, else over an open connection to the same remote address, port and
   * transport ("If a connection is open to that address and port, the client SHOULD use that
   * connection"), else over a new connection. UDP: from the listener
   * `destination.localAddress`/`localPort` names, or one of the right address family.
   * The caller has set the top Via. `onError` is called at most once, possibly after this returns.
   */
  sendRequest(request: SipRequest, destination: Flow, onError: (error: TransportError) => void): void {
    // DEVIATION(RFC 3261 §18.1.1): a request over 1300 bytes is not switched from UDP to TCP
    // here; the Via (and so the choice of transport) belongs to the caller.
    const bytes = serializeOrFail(request, onError);
    if (bytes === undefined) return;
    this.counts.request('out', request.method);
    const observer = this.observer;
    if (observer !== undefined) {
      this.safely('observer', () => observer.onSent(request, bytes, { transport: destination.transport, host: destination.remoteAddress, port: destination.remotePort }));
    }
    this.wire.sendBytes(bytes, destination, onError);
  }

  /**
   * Send a response (RFC 3261 §18.2.2, RFC 3581 §4) for a request that came in on `source`:
   * reliable transports over the request's connection when it is still open, else to
   * `received` (or sent-by) and the sent-by port; unreliable ones to maddr, else received and
   * rport, else received (or sent-by) and the sent-by port (default 5060), from the listener the
   * request came in on.
   */
  sendResponse(response: SipResponse, source: Flow, onError: (error: TransportError) => void): SentResponse | undefined {
    let via: Via | undefined;
    try {
      via = response.topVia;
    } catch (e) {
      onError(new TransportError(`response has a malformed top Via: ${(e as Error).message}`, { cause: e }));
      return undefined;
    }
    if (via === undefined) {
      onError(new TransportError('response has no Via'));
      return undefined;
    }
    const target = responseTarget(via, source);
    if (target === undefined) {
      onError(new TransportError(`response Via names transport ${via.transport}, which Parley does not speak`));
      return undefined;
    }
    const bytes = serializeOrFail(response, onError);
    if (bytes === undefined) return undefined;
    const method = response.cseq.method;
    this.counts.response('out', method, response.status);
    const observer = this.observer;
    if (observer !== undefined) this.safely('observer', () => observer.onSent(response, bytes, target));
    this.wire.sendToTarget(bytes, target, onError);
    // the message itself is kept only for an observer (traces record retransmissions too)
    // kept by a transaction until its Timer J or K: a host cut from the request's Via would keep
    // the request's text alive as long
    const kept = mayKeepParent(target.host) ? { ...target, host: ownString(target.host) } : target;
    const sent: PathSentResponse = { sentResponse: true, bytes, target: kept, message: observer === undefined ? undefined : response, method, status: response.status };
    return sent;
  }

  /**
   * Send a stateless answer to a malformed request back where the request came from: its
   * connection, or its source address and port from the listener it came in on, never where its
   * Via points (see sourceTarget). The response's Via is not read.
   */
  sendToSource(response: SipResponse, source: Flow, onError: (error: TransportError) => void): void {
    const bytes = serializeOrFail(response, onError);
    if (bytes === undefined) return;
    const target = sourceTarget(source);
    this.countSentResponse(response);
    const observer = this.observer;
    if (observer !== undefined) this.safely('observer', () => observer.onSent(response, bytes, target));
    this.wire.sendToTarget(bytes, target, onError);
  }

  /** Send the bytes of an earlier `sendResponse` again, to the same target (RFC 3261 §17.2). */
  resendResponse(sent: SentResponse, onError: (error: TransportError) => void): void {
    const { bytes, target, message, method, status } = sent as PathSentResponse;
    this.counts.response('out', method, status);
    const observer = this.observer;
    if (observer !== undefined && message !== undefined) this.safely('observer', () => observer.onSent(message, bytes, target));
    this.wire.sendToTarget(bytes, target, onError);
  }

  /** `sent` as bytes for a completed transaction (TransactionTransport.packResponse). */
  packResponse(sent: SentResponse, into: Uint8Array, at: number, room: number): number {
    return packSentResponse(sent as PathSentResponse, into, at, room);
  }

  /** Send again a response packed by packResponse (it had no observer: none is told). */
  resendPacked(record: Uint8Array, onError: (error: TransportError) => void): void {
    const { bytes, target, method, status } = unpackSentResponse(record);
    this.counts.response('out', method, status);
    this.wire.sendToTarget(bytes, target, onError);
  }

  /** A stateless answer to a malformed request: its CSeq may be what is malformed (then `other`). */
  private countSentResponse(response: SipResponse): void {
    let method: string;
    try {
      method = response.cseq.method;
    } catch {
      method = '';
    }
    this.counts.response('out', method, response.status);
  }

  /**
   * Send bytes that are not a SIP message (a STUN answer, a keepalive) over a flow, with the
   * same connection reuse as sendRequest. `destination.remoteAddress` may be a host name.
   */
  sendRaw(bytes: Uint8Array, destination: Flow, onError: (error: TransportError) => void): void {
    this.wire.sendBytes(bytes, destination, onError);
  }
}

function serializeOrFail(message: AnySipMessage, onError: (error: TransportError) => void): Uint8Array | undefined {
  try {
    return serialize(message);
  } catch (e) {
    onError(new TransportError(`cannot serialize message: ${(e as Error).message}`, { cause: e }));
    return undefined;
  }
}

function isOnlyLineEnds(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x0d && b !== 0x0a) return false;
  return true;
}

/** `1.2.3.4:5060`, `[::1]:5060`. */
export function formatHostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function flowLog(flow: Flow): Record<string, unknown> {
  return { transport: flow.transport, remote: formatHostPort(flow.remoteAddress, flow.remotePort), connectionId: flow.connectionId };
}
