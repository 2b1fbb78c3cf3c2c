/**
 * Client transactions of STUN (RFC 8489 §6.2): a request goes out, and the success or error
 * response with the same transaction ID ends it. Over UDP the request is retransmitted after RTO,
 * 2·RTO, 4·RTO ... (§6.2.1: "the client SHOULD retransmit a STUN request message starting with an
 * interval of RTO ("Retransmission TimeOut"), doubling after each retransmission"); RFC 8489
 * sends 7 times and waits 16·RTO after the last (39.5 s). A check should say within seconds that a
 * server does not answer: `tries` sends (default 4), each wait twice the one before (7.5 s).
 * Over TCP and TLS it is sent once and waits `streamTimeoutMs` (§6.2.2).
 * Indications from the server (Data, ConnectionAttempt) go to `onIndication`.
 */
import { newTransactionId, parseStunMessage, type StunMessage } from '../stun/message.js';
import type { ServerConnection } from './server-connection.js';

export interface TransactionOptions {
  /** First retransmission interval over UDP, ms (RFC 8489: 500). */
  readonly rtoMs?: number;
  /** Sends over UDP before giving up (RFC 8489's Rc is 7; default 4: 0.5 + 1 + 2 + 4 s). */
  readonly tries?: number;
  /** Wait for a response over TCP/TLS, ms (default 8,000). */
  readonly streamTimeoutMs?: number;
}

export interface TransactionResult {
  readonly response: StunMessage;
  /** From the first send to the response, ms. */
  readonly ms: number;
  /** How many times the request was sent. */
  readonly sends: number;
}

/** No response came. */
export class TransactionTimeout extends Error {
  constructor(
    readonly sends: number,
    readonly waitedMs: number,
    readonly transport: string,
  ) {
    super(`no response after ${sends} send${sends === 1 ? '' : 's'} over ${waitedMs} ms`);
  }
}

/** The connection ended while the request waited. */
export class ConnectionLost extends Error {}

interface Pending {
  readonly resolve: (r: TransactionResult) => void;
  readonly reject: (e: Error) => void;
  readonly started: number;
  sends: number;
  timer: NodeJS.Timeout | undefined;
}

export class StunTransactions {
  private readonly pending = new Map<string, Pending>();
  private readonly rtoMs: number;
  private readonly tries: number;
  private readonly streamTimeoutMs: number;
  private connection: ServerConnection | undefined;
  /** Indications (and responses nobody waits for are dropped). */
  onIndication: (m: StunMessage) => void = () => {};
  /** Responses and indications that did not parse, counted for the report. */
  malformed = 0;

  constructor(options: TransactionOptions = {}) {
    this.rtoMs = options.rtoMs ?? 500;
    this.tries = options.tries ?? 4;
    this.streamTimeoutMs = options.streamTimeoutMs ?? 8000;
  }

  /** The connection requests go over (set once it is open). */
  attach(connection: ServerConnection): void {
    this.connection = connection;
  }

  /** A STUN message from the server. */
  receive(bytes: Uint8Array): void {
    const parsed = parseStunMessage(bytes);
    if (!parsed.ok) {
      this.malformed++;
      return;
    }
    const m = parsed.value;
    if (m.class === 'indication') {
      this.onIndication(m);
      return;
    }
    if (m.class === 'request') return; // a server does not send requests to its client here
    const key = Buffer.from(m.transactionId).toString('hex');
    const p = this.pending.get(key);
    if (p === undefined) return; // a late answer to a retransmission
    this.pending.delete(key);
    clearTimeout(p.timer);
    p.resolve({ response: m, ms: performance.now() - p.started, sends: p.sends });
  }

  /** The connection is gone: every waiting request fails. */
  lost(reason: string): void {
    for (const [key, p] of this.pending) {
      this.pending.delete(key);
      clearTimeout(p.timer);
      p.reject(new ConnectionLost(reason));
    }
  }

  /** Send the request `build` makes for a new transaction ID, until its response or the timeout. */
  request(build: (transactionId: Uint8Array) => Uint8Array): Promise<TransactionResult> {
    const connection = this.connection;
    if (connection === undefined) return Promise.reject(new ConnectionLost('not connected'));
    const id = newTransactionId();
    const bytes = build(id);
    const key = Buffer.from(id).toString('hex');
    return new Promise<TransactionResult>((resolve, reject) => {
      const p: Pending = { resolve, reject, started: performance.now(), sends: 0, timer: undefined };
      this.pending.set(key, p);
      const udp = connection.transport === 'udp';
      let interval = this.rtoMs;
      const fire = (): void => {
        if (!this.pending.has(key)) return;
        if (!udp || p.sends >= this.tries) {
          this.pending.delete(key);
          reject(new TransactionTimeout(p.sends, Math.round(performance.now() - p.started), connection.transport));
          return;
        }
        connection.send(bytes);
        p.sends++;
        // doubling: after the last send the wait is twice the one before it
        p.timer = setTimeout(fire, interval);
        interval *= 2;
      };
      if (udp) fire();
      else {
        connection.send(bytes);
        p.sends = 1;
        p.timer = setTimeout(fire, this.streamTimeoutMs);
      }
    });
  }

  /** Send without waiting (indications). */
  send(bytes: Uint8Array): void {
    this.connection?.send(bytes);
  }
}
