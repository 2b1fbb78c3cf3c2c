import { hash } from 'node:crypto';
import { systemClock, type Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import {
  createResponse, newTag, TransactionLayer, type AnySipMessage, type Flow, type ResponseOptions, type ServerTransaction,
  type SipParseError, type SipRequest, type SipResponse, type TimerConfig, SipResponse as SipResponseClass, SipParseError as SipParseErrorClass,
} from '../sip/index.js';
import { BasicHandler } from './core/basic-handler.js';
import type { RequestHandler, StatelessAnswer } from './core/request-handler.js';
import { optionsHeaders } from './core/options-headers.js';
import { MessagePath, TransportLayer, malformedResponse, malformedStatus, malformedWarning, type ListenerInfo, type ListenerOptions, type TlsOptions, type TransportLimits } from './transport/index.js';

export interface SipServerOptions {
  /** Sockets to open. Give either these or `path`. */
  readonly listeners?: readonly ListenerOptions[];
  /**
   * A message path fed by another thread that owns the sockets (sip-server/workers): this server
   * then opens none, and `transports` is undefined.
   */
  readonly path?: MessagePath;
  readonly tls?: TlsOptions;
  readonly dataDir?: string;
  readonly limits?: Partial<TransportLimits>;
  readonly timers?: Partial<TimerConfig>;
  /** Value of the Server header on responses Parley generates; empty for none. */
  readonly serverName?: string;
  readonly handler?: RequestHandler;
  readonly log?: Logger;
  readonly clock?: Clock;
}

/** Counters a metrics endpoint reads. */
export interface SipServerStats {
  requests: number;
  responses: number;
  absorbed: number;
  /** Input that did not parse (answered when a response is possible). */
  parseErrors: number;
  /** Requests whose fault was found after dispatch (a header read on demand), answered 400. */
  lateParseErrors: number;
  strayResponses: number;
  repliesSent: Record<number, number>;
}

/** A To tag derived from what identifies the request (Kamailio's sl module does likewise). */
function statelessTag(request: SipRequest): string {
  return hash('sha1', `${request.callId}\0${request.from.tag ?? ''}\0${request.cseq.seq}\0${request.topVia?.branch ?? ''}`, 'hex').slice(0, 16);
}

/**
 * A SIP server: the transport layer below, the transaction layer above it, and a request handler
 * (the transaction user) on top. It owns all their state, so several can run in one process.
 *
 *   socket → framing → parse → [parse error: 400/505 or drop] → transaction match
 *   (retransmissions absorbed) → handler.onRequest(request, tx) → tx.respond → transport
 */
export class SipServer {
  /** The sockets, when this server owns them (not in a worker thread). */
  readonly transports: TransportLayer | undefined;
  /** Where messages come in and go out (parse, serialize, §18.2.2). */
  readonly messages: MessagePath;
  readonly transactions: TransactionLayer;
  readonly log: Logger;
  readonly stats: SipServerStats = { requests: 0, responses: 0, absorbed: 0, parseErrors: 0, lateParseErrors: 0, strayResponses: 0, repliesSent: {} };
  handler: RequestHandler;
  private readonly serverName: string;

  constructor(options: SipServerOptions) {
    this.log = options.log ?? silentLogger;
    this.handler = options.handler ?? new BasicHandler();
    this.serverName = options.serverName ?? 'Parley';
    const delegate = {
      onMessage: (m: AnySipMessage, flow: Flow) => this.onMessage(m, flow),
      onParseError: (e: SipParseError, partial: AnySipMessage | undefined, flow: Flow) => this.onParseError(e, partial, flow),
    };
    if (options.path !== undefined) {
      if (options.listeners !== undefined) throw new TypeError('SipServer: give listeners or path, not both');
      this.transports = undefined;
      this.messages = options.path;
      this.messages.delegate = delegate;
    } else {
      this.transports = new TransportLayer({
        listeners: options.listeners ?? [],
        ...(options.tls === undefined ? {} : { tls: options.tls }),
        ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
        ...(options.limits === undefined ? {} : { limits: options.limits }),
        serverName: this.serverName,
        log: this.log,
        delegate,
      });
      this.messages = this.transports.path;
    }
    this.transactions = new TransactionLayer({
      clock: options.clock ?? systemClock,
      transport: this.messages,
      ...(options.timers === undefined ? {} : { timers: options.timers }),
      serverUser: {
        onTimeout: (tx) => this.log.debug({ callId: tx.request.callId, method: tx.request.method }, 'no ACK for a final response (Timer H)'),
        onTransportError: (err, tx) => this.log.warn({ err: err.message, callId: tx.request.callId }, 'could not send a response'),
      },
    });
  }

  /** Start every listener; resolves with the addresses actually bound. */
  async start(): Promise<readonly ListenerInfo[]> {
    return this.transports === undefined ? [] : this.transports.start();
  }

  async stop(): Promise<void> {
    this.transactions.close();
    await this.transports?.stop();
  }

  /**
   * Build a response to the transaction's request (§8.2.6) with a To tag and the Server header,
   * and send it through the transaction.
   */
  reply(tx: ServerTransaction, status: number, options: ResponseOptions = {}): SipResponse {
    const response = this.buildResponse(tx.request, status, options);
    tx.respond(response);
    this.count(status);
    return response;
  }

  /** A 200 to OPTIONS listing what the handler supports (RFC 3261 §11.2). */
  replyOptions(tx: ServerTransaction, handler: RequestHandler): void {
    this.reply(tx, 200, { headers: optionsHeaders(handler) });
  }

  /**
   * A response without a transaction (RFC 3261 §8.2.7): a To tag that is a hash of the request,
   * so that a retransmission gets the same response.
   */
  private replyStateless(request: SipRequest, flow: Flow, answer: StatelessAnswer): void {
    let response: SipResponse;
    try {
      response = this.buildResponse(request, answer.status, {
        toTag: statelessTag(request),
        headers: answer.headers,
        ...(answer.reason === undefined ? {} : { reason: answer.reason }),
      });
    } catch (e) {
      this.log.debug({ err: (e as Error).message }, 'could not answer statelessly');
      return;
    }
    this.count(answer.status);
    this.messages.sendResponse(response, flow, (e) => this.log.debug({ err: e.message }, 'could not send a stateless response'));
  }

  /**
   * CANCEL (§9.2): "If the UAS did not find a matching transaction for the CANCEL according to
   * the procedure above, it SHOULD respond to the CANCEL with a 481 (Call Leg/Transaction Does
   * Not Exist)." When it finds one still proceeding, the CANCEL gets 200 and the INVITE 487.
   * A proxy handler replaces this with §16.10 (cancel the branches).
   */
  handleCancel(cancel: SipRequest, tx: ServerTransaction): void {
    const invite = this.transactions.findInviteForCancel(cancel);
    if (invite === undefined) {
      this.reply(tx, 481);
      return;
    }
    this.reply(tx, 200);
    if (invite.state === 'proceeding') this.reply(invite, 487);
  }

  /** A response to `request` as this server makes them (§8.2.6): a To tag unless given, the Server header. */
  buildResponse(request: SipRequest, status: number, options: ResponseOptions): SipResponse {
    const headers = this.serverName === '' ? options.headers : [...(options.headers ?? []), ['Server', this.serverName] as const];
    return createResponse(request, status, { toTag: options.toTag ?? newTag(), ...options, ...(headers === undefined ? {} : { headers }) });
  }

  private count(status: number): void {
    this.stats.repliesSent[status] = (this.stats.repliesSent[status] ?? 0) + 1;
  }

  private onMessage(message: AnySipMessage, flow: Flow): void {
    if (message instanceof SipResponseClass) {
      this.stats.responses++;
      const r = this.transactions.receiveResponse(message);
      if (r.kind === 'stray') {
        // RFC 6026 §8.4 (updating §18.1.2): only a stateless proxy forwards stray responses.
        this.stats.strayResponses++;
        this.log.debug({ status: message.status, callId: message.callId }, 'stray response dropped');
      }
      return;
    }
    const request = message;
    this.stats.requests++;
    let stateless: StatelessAnswer | undefined;
    try {
      stateless = this.handler.statelessAnswer?.(request, flow);
    } catch (e) {
      if (!(e instanceof SipParseErrorClass)) throw e;
      this.answerLateParseError(request, e, undefined, flow);
      return;
    }
    if (stateless !== undefined) {
      this.replyStateless(request, flow, stateless);
      return;
    }
    const r = this.transactions.receiveRequest(request, flow);
    switch (r.kind) {
      case 'absorbed':
        this.stats.absorbed++;
        this.handler.onAbsorbed?.(request);
        return;
      case 'ack':
        this.handler.onAck?.(request, flow, this);
        return;
      case 'new':
        try {
          this.handler.onRequest(request, r.tx, this);
        } catch (e) {
          if (e instanceof SipParseErrorClass) {
            this.answerLateParseError(request, e, r.tx, flow);
            return;
          }
          this.log.error({ err: e, callId: request.callId, method: request.method }, 'request handler failed');
          if (r.tx.lastStatus === undefined || r.tx.lastStatus < 200) this.reply(r.tx, 500);
        }
    }
  }

  /**
   * Malformed input (RFC 4475 §3.1.2, §3.3). A request whose top Via can be read gets a stateless
   * 400 naming the place of the fault (reason phrase) and the fault (Warning), 505 for a version
   * other than 2.0, 513 past a size limit; From, To, Call-ID and CSeq are copied as raw text, even
   * when they are what is broken. The answer goes back over the transport and connection the
   * request came on, to its source address and port, never where its Via points (sourceTarget).
   * Anything else is dropped: "no response is possible" without a Via, and a malformed response
   * or ACK is never answered.
   */
  private onParseError(error: SipParseError, partial: AnySipMessage | undefined, flow: Flow): void {
    this.stats.parseErrors++;
    this.log.debug({ place: error.place, detail: error.detail, remote: `${flow.remoteAddress}:${flow.remotePort}`, transport: flow.transport }, 'malformed SIP message');
    if (partial === undefined || !partial.isRequest) return;
    this.answerMalformed(partial, error, flow);
  }

  /**
   * Answer a request whose fault was found after it was parsed (a header read on demand by the
   * routing or the registrar threw a parse error): the same answer as for a parse error, through
   * the request's transaction when it has one and has not answered yet, else statelessly to the
   * source. Logged at debug level and counted (`stats.lateParseErrors`): network input, not a
   * fault of Parley's.
   */
  answerLateParseError(request: SipRequest, error: SipParseError, tx: ServerTransaction | undefined, flow: Flow): void {
    this.stats.lateParseErrors++;
    this.log.debug({ place: error.place, detail: error.detail, callId: request.callId, method: request.method }, 'malformed header found while routing');
    if (tx === undefined) {
      this.answerMalformed(request, error, flow);
      return;
    }
    if (tx.lastStatus !== undefined && tx.lastStatus >= 200) return;
    const { status, reason } = malformedStatus(error);
    this.reply(tx, status, { reason, headers: [malformedWarning(error)] });
  }

  private answerMalformed(request: SipRequest, error: SipParseError, flow: Flow): void {
    const extra: Array<readonly [string, string]> = [malformedWarning(error)];
    if (this.serverName !== '') extra.push(['Server', this.serverName]);
    const response = malformedResponse(request, malformedStatus(error), extra);
    if (response === undefined) return;
    this.count(response.status);
    this.messages.sendToSource(response, flow, (e) => this.log.debug({ err: e.message }, 'could not answer a malformed request'));
  }
}
