import type { Clock } from '../../lib/clock.js';
import { ParleyError } from '../../lib/errors.js';
import { uriEquals } from '../grammar/uri.js';
import type { Via } from '../grammar/via.js';
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import { ClientTransaction } from './client-transaction.js';
import { CompletedTable } from './completed-table.js';
import { InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import type { ServerTransaction } from './server-transaction.js';
import { Timers, type TimerConfig } from './timers.js';
import type { Transaction, TransactionDump, TransactionEnvironment } from './transaction.js';
import type { Flow, TransactionTransport } from './transaction-transport.js';
import type { ClientTransactionUser, ServerTransactionUser } from './transaction-user.js';
import { RenewingMap } from '../../lib/renewing-map.js';

export interface TransactionLayerOptions {
  readonly clock: Clock;
  readonly transport: TransactionTransport;
  /** The TU of every server transaction (the UAS or proxy core). */
  readonly serverUser: ServerTransactionUser;
  /** T1, T2, T4; default 500 ms, 4 s, 5 s. */
  readonly timers?: Partial<TimerConfig>;
  /** Send 100 Trying for an INVITE the TU leaves unanswered for 200 ms (§17.2.1). Default true. */
  readonly autoTrying?: boolean;
}

/** What became of a request handed to the layer. */
export type ReceiveRequestResult =
  /** No transaction matched: a new server transaction was created; the request is the TU's. */
  | { readonly kind: 'new'; readonly tx: ServerTransaction }
  /**
   * A retransmission, or an ACK for a non-2xx final response: the transaction dealt with it.
   * `tx` is absent when the transaction was a Completed non-INVITE one in the CompletedTable.
   */
  | { readonly kind: 'absorbed'; readonly tx?: ServerTransaction }
  /**
   * An ACK for a 2xx: not part of the INVITE transaction (§17), so it goes to the TU (a UAS
   * core, or a proxy core that forwards it, §16). `tx` is the INVITE server transaction in
   * Accepted when the ACK matched one (RFC 6026 §7.1); usually it has a new branch and matches none.
   */
  | { readonly kind: 'ack'; readonly tx?: InviteServerTransaction };

/** What became of a response handed to the layer. */
export type ReceiveResponseResult =
  | { readonly kind: 'matched'; readonly tx: ClientTransaction }
  /**
   * No client transaction matched (§17.1.3). RFC 6026 (update of §18.1.2): "any element other
   * than a stateless proxy MUST silently discard the response"; a stateless proxy forwards it (§16.11).
   */
  | { readonly kind: 'stray' };

export interface TransactionLayerDump {
  readonly client: readonly TransactionDump[];
  readonly server: readonly TransactionDump[];
}

/**
 * The transaction layer (RFC 3261 §17): the tables of client and server transactions, the
 * matching of incoming messages to them (§17.1.3, §17.2.3, §9.2), and the creation of new ones.
 * Transactions leave the tables as they enter Terminated.
 *
 * Server transactions are keyed by branch, sent-by and method when the top Via branch carries the
 * magic cookie, else by the RFC 2543 rules (§17.2.3, last paragraphs). Client transactions are
 * keyed by branch and CSeq method.
 */
export class TransactionLayer {
  private readonly env: TransactionEnvironment;
  private readonly serverUser: ServerTransactionUser;
  private readonly autoTrying: boolean;
  // RenewingMap: transactions come and go by the thousand a second (lib/renewing-map.ts on why)
  private readonly clients = new RenewingMap<string, ClientTransaction>();
  private readonly servers = new RenewingMap<string, ServerTransaction>();
  /** RFC 2543 server transactions (no magic cookie), by Call-ID and CSeq number. */
  private readonly legacy = new RenewingMap<string, ServerTransaction[]>();
  /** Completed non-INVITE server transactions over UDP with RFC 3261 branches, until Timer J. */
  private readonly completed: CompletedTable;

  constructor(options: TransactionLayerOptions) {
    const timers = new Timers(options.timers);
    this.completed = new CompletedTable(options.clock, options.transport, timers.timerJ(false));
    this.env = {
      clock: options.clock,
      transport: options.transport,
      timers,
      onTerminated: (tx) => this.forget(tx),
      keepCompleted: (tx, sent) => {
        // only RFC 3261 server transactions have a key (receiveRequest)
        if (tx.tableKey === undefined) return false;
        this.completed.add(tx.tableKey, sent);
        return true;
      },
    };
    this.serverUser = options.serverUser;
    this.autoTrying = options.autoTrying ?? true;
  }

  /**
   * Match a request to a server transaction (§17.2.3), or create one. The caller has checked
   * the request (§16.3 / §8.2) and passes it on only when the result is `new` or `ack`.
   */
  receiveRequest(request: SipRequest, source: Flow): ReceiveRequestResult {
    const via = topVia(request);
    const key = via.rfc3261Branch ? serverKey(via, request.method) : undefined;
    const match = key !== undefined
      ? this.servers.get(key)
      : this.legacy.get(legacyKey(request))?.find((tx) => legacyMatch(tx, request, request.method));
    if (request.method === 'ACK') {
      // The key of an ACK names the INVITE, so a match is an INVITE server transaction.
      if (!(match instanceof InviteServerTransaction)) return { kind: 'ack' };
      return match.receiveRequest(request) ? { kind: 'absorbed', tx: match } : { kind: 'ack', tx: match };
    }
    if (match !== undefined) {
      match.receiveRequest(request);
      return { kind: 'absorbed', tx: match };
    }
    if (key !== undefined && this.completed.absorb(key)) return { kind: 'absorbed' };
    const tx =
      request.method === 'INVITE'
        ? new InviteServerTransaction(request, source, this.env, this.serverUser, this.autoTrying)
        : new NonInviteServerTransaction(request, source, this.env, this.serverUser);
    if (key !== undefined) {
      tx.tableKey = key;
      this.servers.set(key, tx);
    } else {
      const key = legacyKey(request);
      const list = this.legacy.get(key);
      if (list === undefined) this.legacy.set(key, [tx]);
      else list.push(tx);
    }
    return { kind: 'new', tx };
  }

  /**
   * Match a response to a client transaction (§17.1.3): "If the response has the same value of
   * the branch parameter in the top Via header field as the branch parameter in the top Via
   * header field of the request that created the transaction [and] If the method parameter in
   * the CSeq header field matches the method of the request that created the transaction."
   * A matched response is handed to its transaction.
   */
  receiveResponse(response: SipResponse): ReceiveResponseResult {
    const branch = response.topVia?.branch;
    const tx = branch === undefined ? undefined : this.clients.get(clientKey(branch, response.cseq.method));
    if (tx === undefined) return { kind: 'stray' };
    tx.receiveResponse(response);
    return { kind: 'matched', tx };
  }

  /**
   * Create the client transaction for `request`, INVITE or non-INVITE by its method, and send
   * the request. The TU has put its Via on top with a fresh RFC 3261 branch (§8.1.1.7, §16.6
   * step 8). Throws ERR_INVALID_ARGUMENT for an ACK (never sent through a client transaction,
   * §17), a branch without the magic cookie, or a branch and method already in use.
   */
  createClientTransaction(request: SipRequest, destination: Flow, user: ClientTransactionUser): ClientTransaction {
    if (request.method === 'ACK') {
      throw new ParleyError('ERR_INVALID_ARGUMENT', 'an ACK is sent by the TU (2xx) or by the INVITE client transaction (non-2xx)');
    }
    const via = request.topVia;
    if (via?.branch === undefined || !via.rfc3261Branch) {
      throw new ParleyError('ERR_INVALID_ARGUMENT', 'the top Via needs a branch that starts with z9hG4bK (RFC 3261 §8.1.1.7)');
    }
    const key = clientKey(via.branch, request.method);
    if (this.clients.has(key)) throw new ParleyError('ERR_INVALID_ARGUMENT', `a client transaction ${key} exists already`);
    const tx =
      request.method === 'INVITE'
        ? new InviteClientTransaction(request, destination, this.env, user)
        : new NonInviteClientTransaction(request, destination, this.env, user);
    // In the table before the first send, so that a response delivered at once finds it.
    tx.tableKey = key;
    this.clients.set(key, tx);
    tx.start();
    return tx;
  }

  /**
   * The INVITE server transaction a CANCEL names (§9.2): "The TU determines the transaction to be
   * cancelled by taking the CANCEL request, and then assuming that the request method is
   * anything but CANCEL or ACK and applying the transaction matching procedures described in
   * Section 17.2.3."
   */
  findInviteForCancel(cancel: SipRequest): InviteServerTransaction | undefined {
    const via = topVia(cancel);
    const tx = via.rfc3261Branch
      ? this.servers.get(serverKey(via, 'INVITE'))
      : this.legacy.get(legacyKey(cancel))?.find((t) => legacyMatch(t, cancel, 'INVITE'));
    return tx instanceof InviteServerTransaction ? tx : undefined;
  }

  /** Transactions in the tables, client and server (the CompletedTable's entries too). */
  get size(): number {
    let n = this.clients.size + this.servers.size + this.completed.size;
    for (const list of this.legacy.values()) n += list.length;
    return n;
  }

  dump(): TransactionLayerDump {
    return {
      client: [...this.clients.values()].map((tx) => tx.dump()),
      server: [...this.servers.values(), ...[...this.legacy.values()].flat()].map((tx) => tx.dump()),
    };
  }

  /** Terminate every transaction without telling the TUs, clearing every timer (shutdown). */
  close(): void {
    for (const tx of [...this.clients.values(), ...this.servers.values(), ...[...this.legacy.values()].flat()]) tx.close();
    this.completed.close();
  }

  /** Drop a terminated transaction from the tables. */
  private forget(tx: Transaction): void {
    const key = tx.tableKey;
    if (tx instanceof ClientTransaction) {
      if (key !== undefined && this.clients.get(key) === tx) this.clients.delete(key);
    } else if (key !== undefined) {
      if (this.servers.get(key) === tx) this.servers.delete(key);
    } else {
      const key = legacyKey(tx.request);
      const rest = this.legacy.get(key)?.filter((t) => t !== tx) ?? [];
      if (rest.length === 0) this.legacy.delete(key);
      else this.legacy.set(key, rest);
    }
  }
}

function topVia(request: SipRequest): Via {
  const via = request.topVia;
  // parseMessage refuses a request without Via (§8.1.1), so only a hand-built one lacks it.
  if (via === undefined) throw new ParleyError('ERR_INVALID_ARGUMENT', 'a request needs a Via');
  return via;
}

// Keys join their parts with a space, which no branch, host or method contains. Branches are
// compared case-insensitively: "unless otherwise stated in the definition of the particular
// header field, field values, parameter names, and parameter values are case-insensitive"
// (§7.3.1), and §20.42 states nothing else for branch.

function clientKey(branch: string, method: string): string {
  return `${branch.toLowerCase()} ${method}`;
}

/**
 * §17.2.3: "1. the branch parameter in the request is equal to the one in the top Via header
 * field of the request that created the transaction, and 2. the sent-by value in the top Via of
 * the request is equal to the one in the request that created the transaction, and 3. the
 * method of the request matches the one that created the transaction, except for ACK, where the
 * method of the request that created the transaction is INVITE."
 */
function serverKey(via: Via, method: string): string {
  return `${via.branch!.toLowerCase()} ${via.host.toLowerCase()}:${via.port ?? ''} ${method === 'ACK' ? 'INVITE' : method}`;
}

function legacyKey(request: SipRequest): string {
  return `${request.callId} ${request.cseq.seq}`;
}

/**
 * RFC 2543 matching (§17.2.3), for requests whose branch lacks the magic cookie; `method` is
 * the method of the transaction sought ('INVITE' when looking for the one a CANCEL names).
 * "The INVITE request matches a transaction if the Request-URI, To tag, From tag, Call-ID,
 *  CSeq, and top Via header field match those of the INVITE request which created the
 *  transaction. … The ACK request matches a transaction if the Request-URI, From tag, Call-ID,
 *  CSeq number (not the method), and top Via header field match those of the INVITE request
 *  which created the transaction, and the To tag of the ACK matches the To tag of the response
 *  sent by the server transaction. … For all other request methods, a request is matched to a
 *  transaction if the Request-URI, To tag, From tag, Call-ID, CSeq (including the method), and
 *  top Via header field match those of the request that created the transaction."
 * Call-ID and CSeq number are the key of the bucket searched.
 */
function legacyMatch(tx: ServerTransaction, request: SipRequest, method: string): boolean {
  const created = tx.request;
  if (!uriEquals(created.requestUri, request.requestUri)) return false;
  if (created.from.tag !== request.from.tag || !viaEquals(created.topVia!, request.topVia!)) return false;
  if (method === 'ACK') return created.method === 'INVITE' && tx.lastToTag === request.to.tag;
  return created.method === method && created.to.tag === request.to.tag;
}

/** Via equality (§20.42, §7.3.1): protocol, transport, sent-by and the same parameters. */
function viaEquals(a: Via, b: Via): boolean {
  if (a.protocol !== b.protocol || a.transport !== b.transport) return false;
  if (a.host.toLowerCase() !== b.host.toLowerCase() || a.port !== b.port || a.params.size !== b.params.size) return false;
  for (const [name, value] of a.params) {
    if (!b.params.has(name) || value?.toLowerCase() !== b.params.get(name)?.toLowerCase()) return false;
  }
  return true;
}
