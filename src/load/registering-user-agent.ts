import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { DigestAlgorithm } from '../sip/digest/hash.js';
import type { SipParseError } from '../sip/errors.js';
import { createResponse, newBranch, newTag } from '../sip/message/build.js';
import { serializeToString } from '../sip/message/serialize.js';
import { SipRequest, SipResponse, type AnySipMessage } from '../sip/message/sip-message.js';
import type { ClientConnection, ClientConnectionDelegate } from './client-connection.js';
import { DigestClient } from './digest-client.js';

/** Who registers, where, and how. */
export interface UserAgentConfig {
  /** The user part of the address-of-record (`user000001`). */
  readonly user: string;
  /** host[:port] of the AOR and of the Request-URI (`example.com`, `127.0.0.1:8070`). */
  readonly domain: string;
  /** Password for digest; undefined: a challenge fails the registration. */
  readonly password: string | undefined;
  /** Answer only challenges of this algorithm (default: the topmost MD5 or SHA-256). */
  readonly algorithm?: DigestAlgorithm;
  /** Registration time asked for, seconds (Expires). */
  readonly expires: number;
  /** How long to wait for a final response, ms (Timer F: 64*T1 = 32 s). */
  readonly transactionTimeoutMs: number;
  /** User-Agent header value (none when empty). */
  readonly userAgent: string;
}

/** What a user agent tells its one owner (the load run). */
export interface RegistrationDelegate {
  /**
   * A registration (initial or refresh) ended with a 2xx. `latencyMs` runs from the first
   * REGISTER of the attempt to the 2xx (so it includes a challenge's round trip); `grantedSeconds`
   * is the expiry the registrar granted.
   */
  onRegistered(ua: RegisteringUserAgent, refresh: boolean, latencyMs: number, grantedSeconds: number): void;
  /** A registration (initial or refresh) failed; `reason` is a status line or a few words. */
  onRegistrationFailed(ua: RegisteringUserAgent, refresh: boolean, reason: string): void;
  /** A 401/407 was answered (stale: the server refused an old nonce, not the password). */
  onChallenged(ua: RegisteringUserAgent, stale: boolean): void;
  /** The removal (Expires: 0) ended: ok, or why not. */
  onUnregistered(ua: RegisteringUserAgent, ok: boolean, reason: string): void;
  /** The connection ended under the user agent (not by close()). */
  onConnectionLost(ua: RegisteringUserAgent, reason: string): void;
  /** A keepalive pong arrived. */
  onPong(ua: RegisteringUserAgent): void;
  /** Something arrived that the user agent could not use (unparsable, or a stray response). */
  onUnexpected(ua: RegisteringUserAgent, what: string): void;
  /** A request was sent again over UDP (Timer E). */
  onRetransmission?(ua: RegisteringUserAgent): void;
}

export type RegistrationState = 'idle' | 'registering' | 'registered' | 'failed' | 'unregistering' | 'unregistered' | 'lost';

/** The REGISTER transaction in progress. */
interface Attempt {
  readonly kind: 'register' | 'refresh' | 'unregister';
  /** When the first REGISTER of the attempt was sent (latency start). */
  readonly startedAt: number;
  /** Expires asked for (0 to remove). */
  expires: number;
  branch: string;
  cseq: number;
  /** When the last REGISTER was sent (the timeout runs from here). */
  sentAt: number;
  /** The last REGISTER carried credentials. */
  withCredentials: boolean;
  /** Challenges answered in this attempt. */
  challenges: number;
  /** A 423 was answered (once). */
  intervalRaised: boolean;
  /** The request as sent (retransmitted as it is over UDP). */
  text: string;
  /** Over UDP: Timer E, and its current interval. */
  retransmitTimer: TimerHandle | undefined;
  retransmitInterval: number;
}

/** RFC 3261 §17.1.1.1: T1 (RTT estimate) and T2 (longest retransmit interval of a non-INVITE request). */
const T1 = 500;
const T2 = 4000;

/** At most this many 401/407 per attempt: the first one, then stale nonces. */
const MAX_CHALLENGES = 3;

/**
 * A user agent that registers one address-of-record over one flow and keeps it registered
 * (RFC 3261 §10.2, with RFC 5626 §4.2 outbound parameters and RFC 7118 for WebSocket):
 *
 *   REGISTER sip:DOMAIN · To/From sip:USER@DOMAIN · one Call-ID, CSeq +1 per request (§10.2:
 *   "All registrations from a UAC SHOULD use the same Call-ID header field value for
 *   registrations sent to a particular registrar", and "A UA MUST increment the CSeq value by
 *   one for each REGISTER request with the same Call-ID") · Contact
 *   <sip:USER@HOST;transport=ws>;+sip.instance="<urn:uuid:…>";reg-id=1 · Supported: path, outbound
 *
 * A 401 or 407 is answered with digest credentials (digest-client.ts); a 423 with the registrar's
 * Min-Expires (§10.2.8); a 2xx schedules the refresh at 80-90 % of the granted time, read from
 * our Contact in the response (§10.2.4: "The response … contains Contact header field values
 * enumerating all current bindings"), else from Expires. Refreshes reuse the nonce with the next
 * nc; a stale=TRUE answer takes the new nonce silently.
 *
 * It keeps no timers: the run calls tick() about once a second for timeouts and refreshes, so
 * ten thousand of them cost no timer each. Time comes from the injected clock.
 */
export class RegisteringUserAgent implements ClientConnectionDelegate {
  delegate: RegistrationDelegate | undefined;
  private _state: RegistrationState = 'idle';
  private readonly callId: string;
  private readonly fromTag: string;
  private readonly instance: string;
  private readonly aor: string;
  private readonly requestUri: string;
  private readonly contact: string;
  private readonly digest: DigestClient | undefined;
  private cseq = 0;
  private attempt: Attempt | undefined;
  /** When to refresh (clock ms), while registered. */
  private refreshAt = Infinity;
  /** The expiry granted by the last 2xx, seconds. */
  private _granted = 0;
  /** Keepalive: when the last ping went out unanswered (clock ms), or undefined. */
  pingOutstandingSince: number | undefined;

  constructor(
    readonly config: UserAgentConfig,
    readonly connection: ClientConnection,
    private readonly clock: Clock,
    /** Spread of refreshes: a number in [0, 1) (tests pass a constant). */
    random: () => number = Math.random,
  ) {
    this.refreshJitter = random();
    this.localHostName = connection.localHost.replace(/:\d+$/, '').toLowerCase();
    this.callId = `${newTag()}${newTag()}${newTag()}`;
    this.fromTag = newTag();
    this.instance = `<urn:uuid:${randomUUID()}>`;
    this.aor = `sip:${config.user}@${config.domain}`;
    this.requestUri = `sip:${config.domain}`;
    const transport = connection.contactTransport === undefined ? '' : `;transport=${connection.contactTransport}`;
    this.contact = `<sip:${config.user}@${connection.localHost}${transport}>;+sip.instance="${this.instance}";reg-id=1`;
    this.digest = config.password === undefined ? undefined : new DigestClient({ username: config.user, password: config.password, ...(config.algorithm ? { algorithm: config.algorithm } : {}) });
    connection.delegate = this;
  }

  private readonly refreshJitter: number;
  /** The host of our Contact, lower-case (to find our binding in a 2xx). */
  private readonly localHostName: string;

  get state(): RegistrationState {
    return this._state;
  }

  /** Seconds granted by the last successful registration. */
  get grantedSeconds(): number {
    return this._granted;
  }

  /** Send the first REGISTER. */
  register(): void {
    if (this._state !== 'idle') return;
    this._state = 'registering';
    this.begin('register', this.config.expires);
  }

  /** Remove the binding (REGISTER with Expires: 0, §10.2.2). */
  unregister(): void {
    if (this._state !== 'registered' && this._state !== 'registering') {
      this.delegate?.onUnregistered(this, false, `not registered (${this._state})`);
      return;
    }
    this._state = 'unregistering';
    this.refreshAt = Infinity;
    this.begin('unregister', 0);
  }

  /** Close the flow; nothing more is reported. */
  close(): void {
    this.endAttempt();
    this.refreshAt = Infinity;
    this.connection.close();
  }

  /**
   * Housekeeping, called about once a second: a transaction without a final response after the
   * timeout fails ("timeout"); a registration due for refresh is refreshed.
   */
  tick(now: number): void {
    const a = this.attempt;
    if (a !== undefined) {
      if (now - a.sentAt >= this.config.transactionTimeoutMs) {
        this.endAttempt();
        this.finish(a, `timeout (no final response in ${Math.round(this.config.transactionTimeoutMs / 1000)} s)`);
      }
      return;
    }
    if (this._state === 'registered' && now >= this.refreshAt) {
      this.refreshAt = Infinity;
      this.begin('refresh', this.config.expires);
    }
  }

  /** Send a keepalive on the flow; the pong (or its absence) is tracked by the caller. */
  sendKeepalive(kind: 'ping' | 'crlf'): boolean {
    const sent = this.connection.ping(kind);
    if (sent && this.pingOutstandingSince === undefined) this.pingOutstandingSince = this.clock.now();
    return sent;
  }

  // ---- ClientConnectionDelegate -------------------------------------------------------------

  onMessage(message: AnySipMessage): void {
    if (message.isRequest) this.answerRequest(message);
    else this.onResponse(message);
  }

  onParseError(error: SipParseError): void {
    this.delegate?.onUnexpected(this, `unparsable message (${error.place})`);
  }

  onPong(): void {
    this.pingOutstandingSince = undefined;
    this.delegate?.onPong(this);
  }

  onClose(reason: string): void {
    const a = this.attempt;
    this.endAttempt();
    this.refreshAt = Infinity;
    this._state = 'lost';
    if (a !== undefined) this.finish(a, `connection lost: ${reason}`, true);
    this.delegate?.onConnectionLost(this, reason);
  }

  // ---- the REGISTER transaction --------------------------------------------------------------

  private begin(kind: Attempt['kind'], expires: number): void {
    const now = this.clock.now();
    this.attempt = {
      kind, startedAt: now, expires, branch: '', cseq: 0, sentAt: now, withCredentials: false, challenges: 0, intervalRaised: false,
      text: '', retransmitTimer: undefined, retransmitInterval: T1,
    };
    this.send(this.attempt);
  }

  private send(a: Attempt): void {
    a.branch = newBranch();
    a.cseq = ++this.cseq;
    a.sentAt = this.clock.now();
    const c = this.connection;
    const req = new SipRequest('REGISTER', this.requestUri);
    // RFC 7118 §5.2: "the Via transport parameter MUST be set to WS (or WSS)"; the sent-by is
    // the .invalid host (the connection carries the response back)
    req.append('Via', `SIP/2.0/${c.viaTransport} ${c.localHost};branch=${a.branch}${c.viaTransport === 'UDP' ? ';rport' : ''}`);
    req.append('Max-Forwards', '70');
    req.append('To', `<${this.aor}>`);
    req.append('From', `<${this.aor}>;tag=${this.fromTag}`);
    req.append('Call-ID', this.callId);
    req.append('CSeq', `${a.cseq} REGISTER`);
    // RFC 5626 §4.2.1: a UA supporting outbound "MUST include the outbound option-tag in a
    // Supported header field" and registers with +sip.instance and reg-id
    req.append('Supported', 'path, outbound');
    req.append('Contact', this.contact);
    req.append('Expires', String(a.expires));
    if (this.config.userAgent !== '') req.append('User-Agent', this.config.userAgent);
    const credentials = this.digest?.authorization('REGISTER', this.requestUri);
    a.withCredentials = credentials !== undefined;
    if (credentials !== undefined) req.append(credentials[0], credentials[1]);
    a.text = serializeToString(req);
    if (!c.send(a.text)) {
      this.endAttempt();
      this.finish(a, 'connection not open');
      return;
    }
    if (!c.reliable) this.armTimerE(a, T1);
  }

  /**
   * Timer E (RFC 3261 §17.1.2.2): "If an unreliable transport is in use, the client transaction
   * MUST set timer E to fire in T1 seconds. If timer E fires while still in this state, the timer
   * is reset, but this time with a value of MIN(2*T1, T2)." A provisional response does not stop
   * it (the interval becomes T2). The final response, Timer F (the transaction timeout) or the
   * end of the attempt do.
   */
  private armTimerE(a: Attempt, interval: number): void {
    if (a.retransmitTimer !== undefined) this.clock.clearTimeout(a.retransmitTimer);
    a.retransmitInterval = interval;
    a.retransmitTimer = this.clock.setTimeout(() => {
      a.retransmitTimer = undefined;
      if (this.attempt !== a) return;
      if (!this.connection.send(a.text)) return;
      this.delegate?.onRetransmission?.(this);
      this.armTimerE(a, Math.min(2 * a.retransmitInterval, T2));
    }, interval);
  }

  /** The attempt is over: no more retransmissions. */
  private endAttempt(): void {
    const a = this.attempt;
    if (a?.retransmitTimer !== undefined) this.clock.clearTimeout(a.retransmitTimer);
    if (a !== undefined) a.retransmitTimer = undefined;
    this.attempt = undefined;
  }

  private onResponse(r: SipResponse): void {
    const a = this.attempt;
    let branch: string | undefined;
    let cseq: number | undefined;
    try {
      branch = r.topVia?.branch;
      cseq = r.cseq.seq;
    } catch {
      // a parsed response has a valid top Via and CSeq; defensive only
    }
    if (a === undefined || branch !== a.branch || cseq !== a.cseq) {
      this.delegate?.onUnexpected(this, `stray response ${r.status}`);
      return;
    }
    const status = r.status;
    if (status < 200) {
      // §17.1.2.2 Proceeding: retransmissions go on, every T2
      if (a.retransmitTimer !== undefined) this.armTimerE(a, T2);
      return;
    }
    // a final response: this request's retransmissions end (a resend below starts its own)
    if (a.retransmitTimer !== undefined) this.clock.clearTimeout(a.retransmitTimer);
    a.retransmitTimer = undefined;
    if (status === 401 || status === 407) return this.onChallenge(a, r);
    if (status === 423 && !a.intervalRaised) {
      // §10.2.8: "the UA MAY retry the registration … with an expiration interval greater than or
      // equal to the one in the Min-Expires header field"
      const min = safe(() => r.minExpires);
      if (min !== undefined && min > a.expires) {
        a.intervalRaised = true;
        a.expires = min;
        this.send(a);
        return;
      }
    }
    this.endAttempt();
    if (status >= 300) {
      this.finish(a, `${status} ${r.reason}`);
      return;
    }
    if (a.kind === 'unregister') {
      this._state = 'unregistered';
      this.delegate?.onUnregistered(this, true, `${status} ${r.reason}`);
      return;
    }
    const granted = this.grantedBy(r, a.expires);
    if (granted <= 0) {
      this.finish(a, `${status} ${r.reason} without our binding`);
      return;
    }
    this._granted = granted;
    this._state = 'registered';
    this.refreshAt = this.clock.now() + granted * 1000 * (0.8 + 0.1 * this.refreshJitter);
    this.delegate?.onRegistered(this, a.kind === 'refresh', this.clock.now() - a.startedAt, granted);
  }

  private onChallenge(a: Attempt, r: SipResponse): void {
    if (this.digest === undefined) {
      this.endAttempt();
      this.finish(a, `${r.status} ${r.reason} (challenged, but no password was given)`);
      return;
    }
    if (a.challenges >= MAX_CHALLENGES) {
      this.endAttempt();
      this.finish(a, `${r.status} ${r.reason} (challenged ${a.challenges} times in a row)`);
      return;
    }
    let outcome;
    try {
      outcome = this.digest.acceptResponse(r);
    } catch (e) {
      outcome = { ok: false as const, reason: `malformed challenge: ${(e as Error).message}` };
    }
    if (!outcome.ok) {
      this.endAttempt();
      this.finish(a, `${r.status} ${r.reason} (${outcome.reason})`);
      return;
    }
    // credentials refused on a nonce the server still accepts: the password (or user) is wrong
    if (a.withCredentials && !outcome.stale) {
      this.endAttempt();
      this.finish(a, `${r.status} ${r.reason} (credentials refused: wrong password or unknown user)`);
      return;
    }
    a.challenges++;
    this.delegate?.onChallenged(this, outcome.stale);
    this.send(a);
  }

  /**
   * The expiry granted to our binding: the expires parameter of our Contact in the 2xx, else the
   * Expires header, else what we asked for (§10.2.4).
   */
  private grantedBy(r: SipResponse, asked: number): number {
    const contacts = safe(() => r.contact) ?? [];
    for (const c of contacts) {
      const uri = c.uri;
      const ours = c.instance === this.instance || (uri.kind === 'sip' && uri.host.toLowerCase() === this.localHostName);
      if (ours) {
        if (c.expires !== undefined) return c.expires;
      }
    }
    return safe(() => r.expires) ?? asked;
  }

  private finish(a: Attempt, reason: string, silentState = false): void {
    if (a.kind === 'unregister') {
      if (!silentState) this._state = 'failed';
      this.delegate?.onUnregistered(this, false, reason);
      return;
    }
    if (!silentState) this._state = 'failed';
    this.delegate?.onRegistrationFailed(this, a.kind === 'refresh', reason);
  }

  /** A request from the server over our flow: 200 to OPTIONS, nothing to ACK, 480 otherwise. */
  private answerRequest(req: SipRequest): void {
    if (req.method === 'ACK') return;
    const status = req.method === 'OPTIONS' ? 200 : 480;
    this.connection.send(serializeToString(createResponse(req, status, { toTag: newTag() })));
  }
}

/** A typed header's value, or undefined when it does not parse. */
function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
