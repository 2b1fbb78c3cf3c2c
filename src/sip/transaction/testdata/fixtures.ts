import { createResponse } from '../../message/build.js';
import { parseMessage } from '../../message/parse.js';
import type { SipRequest, SipResponse } from '../../message/sip-message.js';
import type { Clock } from '../../../lib/clock.js';
import type { ClientTransactionUser, ServerTransactionUser } from '../transaction-user.js';
import { Timers, type TimerConfig } from '../timers.js';
import type { TransactionEnvironment } from '../transaction.js';
import type { Flow, SentResponse, TransactionTransport } from '../transaction-transport.js';

export const UDP: Flow = { transport: 'udp', remoteAddress: '192.0.2.4', remotePort: 5060 };
export const TCP: Flow = { transport: 'tcp', remoteAddress: '192.0.2.4', remotePort: 5060, connectionId: 1 };

export const BRANCH = 'z9hG4bK776asdhds';

export interface RequestTemplate {
  readonly method?: string;
  readonly uri?: string;
  /** The whole top Via value. */
  readonly via?: string;
  readonly branch?: string;
  readonly toTag?: string;
  readonly fromTag?: string;
  readonly callId?: string;
  readonly cseq?: number;
  /** CSeq method when it differs from the request method (an ACK's is ACK anyway). */
  readonly cseqMethod?: string;
  /** Extra header lines, e.g. ['Route: <sip:p1.example.com;lr>']. */
  readonly headers?: readonly string[];
}

/** A request parsed from a template after RFC 3261 §24.2 (Alice calls Bob through atlanta.com). */
export function request(t: RequestTemplate = {}): SipRequest {
  const method = t.method ?? 'INVITE';
  const lines = [
    `${method} ${t.uri ?? 'sip:bob@biloxi.com'} SIP/2.0`,
    `Via: ${t.via ?? `SIP/2.0/UDP pc33.atlanta.com;branch=${t.branch ?? BRANCH}`}`,
    'Max-Forwards: 70',
    `To: Bob <sip:bob@biloxi.com>${t.toTag === undefined ? '' : `;tag=${t.toTag}`}`,
    `From: Alice <sip:alice@atlanta.com>;tag=${t.fromTag ?? '1928301774'}`,
    `Call-ID: ${t.callId ?? 'a84b4c76e66710@pc33.atlanta.com'}`,
    `CSeq: ${t.cseq ?? 314159} ${t.cseqMethod ?? method}`,
    ...(t.headers ?? []),
    'Content-Length: 0',
  ];
  const parsed = parseMessage(lines.join('\r\n') + '\r\n\r\n');
  if (!parsed.ok) throw parsed.error;
  return parsed.message as SipRequest;
}

/** The response `status` to `req`, as it arrives from the network. */
export function response(req: SipRequest, status: number, toTag = 'a6c85cf'): SipResponse {
  return createResponse(req, status, { toTag });
}

interface Sent {
  readonly message: SipRequest | SipResponse;
  readonly flow: Flow;
  /** Clock time of the send. */
  readonly at: number;
}

interface RecordedResponse extends SentResponse {
  readonly response: SipResponse;
  readonly source: Flow;
}

/** An in-memory TransactionTransport that records what is sent, and when, and fails on request. */
export class RecordingTransport implements TransactionTransport {
  readonly sent: Sent[] = [];
  /** When set, every send fails at once with this error. */
  failure: Error | undefined;
  private readonly pending: Array<(error: Error) => void> = [];

  constructor(private readonly clock: Clock) {}

  sendRequest(request: SipRequest, destination: Flow, onError: (error: Error) => void): void {
    this.record(request, destination, onError);
  }

  sendResponse(response: SipResponse, source: Flow, onError: (error: Error) => void): SentResponse | undefined {
    this.record(response, source, onError);
    const sent: RecordedResponse = { sentResponse: true, response, source };
    return this.failure === undefined ? sent : undefined;
  }

  resendResponse(sent: SentResponse, onError: (error: Error) => void): void {
    const { response, source } = sent as RecordedResponse;
    this.record(response, source, onError);
  }

  /** Report a failure of the last send, later (as a TCP connect error or an ICMP message would). */
  failLast(error: Error): void {
    this.pending.at(-1)!(error);
  }

  /** One line per message sent: the request method or the response status. */
  get lines(): string[] {
    return this.sent.map(({ message }) => (message.isRequest ? message.method : String(message.status)));
  }

  /** When each message was sent. */
  get times(): number[] {
    return this.sent.map(({ at }) => at);
  }

  private record(message: SipRequest | SipResponse, flow: Flow, onError: (error: Error) => void): void {
    this.sent.push({ message, flow, at: this.clock.now() });
    this.pending.push(onError);
    if (this.failure !== undefined) onError(this.failure);
  }
}

/**
 * A RecordingTransport that can put a sent response in bytes (TransactionTransport.packResponse),
 * as MessagePath does: the bytes are the number of the response in its own list.
 */
export class PackingTransport extends RecordingTransport {
  private readonly kept: SentResponse[] = [];

  /** Responses packed. */
  get packed(): number {
    return this.kept.length;
  }

  packResponse(sent: SentResponse, into: Uint8Array, at: number, room: number): number {
    if (room < 4) return -4;
    new DataView(into.buffer, into.byteOffset + at, 4).setUint32(0, this.kept.push(sent) - 1, true);
    return 4;
  }

  resendPacked(record: Uint8Array, onError: (error: Error) => void): void {
    this.resendResponse(this.kept[new DataView(record.buffer, record.byteOffset, 4).getUint32(0, true)]!, onError);
  }
}

/** A TU for either side that writes down what it hears, in order. */
export class RecordingUser implements ClientTransactionUser, ServerTransactionUser {
  readonly events: string[] = [];
  readonly responses: SipResponse[] = [];

  onResponse(response: SipResponse): void {
    this.responses.push(response);
    this.events.push(`response ${response.status}`);
  }
  onTimeout(): void {
    this.events.push('timeout');
  }
  onTransportError(error: Error): void {
    this.events.push(`transport error: ${error.message}`);
  }
  onTerminated(): void {
    this.events.push('terminated');
  }
}

export function environment(clock: Clock, transport: TransactionTransport, config?: Partial<TimerConfig>): TransactionEnvironment {
  return { clock, transport, timers: new Timers(config) };
}
