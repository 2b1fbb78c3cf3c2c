import { randomBytes } from 'node:crypto';
import type { AuthFailedEvent } from '../../lib/events.js';
import { ParleyError } from '../../lib/errors.js';
import { parseUri, uriEquals, type AuthValue, type SipRequest, type Uri } from '../../sip/index.js';
import {
  buildChallenge, computeDigestResponse, digestHash, digestResponseEquals, parseDigestCredentials,
  type DigestAlgorithm,
} from '../../sip/digest/index.js';
import type { SubscriberStore } from '../../store/subscriber-store.js';
import type { FailureLimiter } from './failure-limiter.js';
import { NonceManager } from './nonce-manager.js';

/**
 * What is offered when nothing says otherwise: MD5 alone. libre 1.x (Debian's baresip 1.0) gives
 * up on a 401/407 as soon as one of its challenges names an algorithm other than MD5, whatever
 * their order (src/sip/auth.c, `auth_handler`: ENOSYS), and older pjsip and sipp read a single
 * challenge; SHA-256 is offered where configured (`auth.algorithms`, a listener's `algorithms`).
 */
export const DEFAULT_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5'];

/** Which pair of headers a request is authenticated with. */
export type ChallengeKind =
  /** Authorization / 401 + WWW-Authenticate: a UAS or registrar (RFC 3261 §22.2). */
  | 'www'
  /** Proxy-Authorization / 407 + Proxy-Authenticate: a proxy (RFC 3261 §22.3). */
  | 'proxy';

export interface DigestAuthenticatorOptions {
  /**
   * Realms served, lower-cased (a realm is a subscriber's domain: HA1 = H(user:domain:password)).
   * The first is the default. At least one.
   */
  readonly realms: readonly string[];
  readonly subscribers: SubscriberStore;
  /** Default: a NonceManager with a per-start random secret and a 300 s lifetime. */
  readonly nonces?: NonceManager;
  /** Counts wrong digests per source and blocks (403) sources that fail too often. Default: none. */
  readonly limiter?: Pick<FailureLimiter, 'isBlocked' | 'recordFailure'>;
  /**
   * True for a URI that names this server. A digest `uri` that is not the Request-URI is accepted
   * when it names us: sipp 3.6 sends `uri="sip:HOST:PORT"` (see README). Default: none accepted.
   */
  readonly isLocalUri?: (uri: Uri) => boolean;
  /**
   * The realm to challenge a request in (one of `realms`). Default: the host of To (REGISTER) or
   * From (other methods) when it is one of `realms`, else the first realm.
   */
  readonly realmOf?: (request: SipRequest) => string;
  /** Default: `www` for REGISTER, `proxy` for every other method. */
  readonly challengeKind?: (request: SipRequest) => ChallengeKind;
  /** `opaque` to put in every challenge (clients echo it; Parley does not check it). Default: none. */
  readonly opaque?: string;
  /**
   * Algorithms offered, one challenge each, in this order (RFC 8760: most preferred first) and
   * accepted. Default `['MD5']`: clients built on libre 1.x (Debian's baresip) give up on any
   * challenge list that names SHA-256, and older ones read only one challenge (see README). With
   * both, MD5 first suits sipp, and over a WebSocket MD5 is moved last (`challenge`).
   */
  readonly algorithms?: readonly DigestAlgorithm[];
  /**
   * The algorithms for a request by where it came in (`listenerAlgorithms`: a listener's own
   * `algorithms`), in place of `algorithms`. Default: `algorithms` for every request.
   */
  readonly algorithmsFor?: (source: AuthSource) => readonly DigestAlgorithm[];
  /**
   * Told of every request that passes authentication, with its source address: the connection
   * table keeps a reserve of connections for such sources (ConnectionTable.admitInbound).
   */
  readonly onAuthenticated?: (address: string) => void;
  /** Told of every wrong password or unknown user in credentials (the operator's `auth.failed` event). */
  readonly onFailure?: (event: AuthFailedEvent) => void;
}

/** The source a request came from (a transport `Flow` is one). */
export interface AuthSource {
  readonly remoteAddress: string;
  /** The transport it came over (`ws`/`wss`: a WebSocket, where browsers are; see challenge order). */
  readonly transport?: string;
  /** The local end of its flow: which listener it came in on (`algorithmsFor`). */
  readonly localAddress?: string;
  readonly localPort?: number;
}

/** What `DigestAuthenticator.authenticate` decided. */
export type AuthResult =
  | {
      readonly ok: true;
      readonly username: string;
      readonly realm: string;
      readonly algorithm: DigestAlgorithm;
    }
  | {
      readonly ok: false;
      /**
       * 401/407: send the challenges. 400: the credentials are improper (RFC 2617 §3.2.2).
       * 403: the source is blocked by the failure limiter.
       */
      readonly status: 401 | 407 | 403 | 400;
      /** Header values for 401/407, one per offered algorithm in the configured order (MD5 moved last over a WebSocket); empty otherwise. */
      readonly challenges: readonly string[];
      /** The header the challenges go in, with 401/407. */
      readonly challengeHeader?: 'WWW-Authenticate' | 'Proxy-Authenticate';
      /** True with 403 from the failure limiter: the caller may drop the request instead. */
      readonly blocked?: boolean;
      /** Why, for logs only: never sent (it tells an unknown user from a wrong password). */
      readonly reason: string;
    };

/** A failed `AuthResult`. */
export type AuthFailure = Extract<AuthResult, { ok: false }>;

/**
 * Digest authentication policy for SIP requests (RFC 3261 §22; RFC 7616; RFC 8760): who is
 * challenged and how, which credentials count, nonces, replay and brute-force protection. The
 * mechanism (response computation, challenge syntax) is in `src/sip/digest`.
 *
 *   no credentials for our realm ─────────────────────────▶ 401/407 challenge
 *   improper credentials, digest uri ≠ Request-URI ───────▶ 400
 *   wrong digest (wrong password or unknown user) ────────▶ 401/407 challenge, counted as a failure
 *   right digest, nonce expired/not ours/nc replayed ─────▶ 401/407 challenge with stale=TRUE
 *   right digest, fresh nonce, nc above the last one ─────▶ ok
 *   source blocked by the limiter ────────────────────────▶ 403, the store is not touched
 *
 * An unknown user and a wrong password get the same status and headers (only the fresh nonce
 * differs), and the same hashing work: an unknown user's response is checked against a random
 * HA1.
 */
export class DigestAuthenticator {
  readonly realms: readonly string[];
  readonly nonces: NonceManager;
  private readonly subscribers: SubscriberStore;
  private readonly limiter: Pick<FailureLimiter, 'isBlocked' | 'recordFailure'> | undefined;
  private readonly isLocalUri: (uri: Uri) => boolean;
  private readonly realmOf: (request: SipRequest) => string;
  private readonly kindOf: (request: SipRequest) => ChallengeKind;
  private readonly opaque: string | undefined;
  private readonly algorithmsFor: (source: AuthSource | undefined) => readonly DigestAlgorithm[];
  private readonly onAuthenticated: ((address: string) => void) | undefined;
  private readonly onFailure: ((event: AuthFailedEvent) => void) | undefined;
  /** HA1 used for unknown users, so that they cost the same hashing as known ones. */
  private readonly decoyHa1: Readonly<Record<DigestAlgorithm, string>>;

  constructor(options: DigestAuthenticatorOptions) {
    if (options.realms.length === 0) throw new ParleyError('ERR_INVALID_ARGUMENT', 'DigestAuthenticator: at least one realm');
    this.realms = options.realms.map((r) => r.toLowerCase());
    this.subscribers = options.subscribers;
    this.nonces = options.nonces ?? new NonceManager();
    this.limiter = options.limiter;
    this.isLocalUri = options.isLocalUri ?? (() => false);
    this.realmOf = options.realmOf ?? ((request) => this.defaultRealmOf(request));
    this.kindOf = options.challengeKind ?? ((request) => (request.method === 'REGISTER' ? 'www' : 'proxy'));
    this.opaque = options.opaque;
    const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
    if (algorithms.length === 0) throw new ParleyError('ERR_INVALID_ARGUMENT', 'DigestAuthenticator: at least one algorithm');
    const perSource = options.algorithmsFor;
    this.algorithmsFor = perSource === undefined ? () => algorithms : (source) => (source === undefined ? algorithms : perSource(source));
    this.onAuthenticated = options.onAuthenticated;
    this.onFailure = options.onFailure;
    const seed = randomBytes(32).toString('hex');
    this.decoyHa1 = { MD5: digestHash('MD5', seed), 'SHA-256': digestHash('SHA-256', seed) };
  }

  /**
   * Check the request's credentials. Rejects only through the result; a failing subscriber store
   * rejects the promise (the caller answers 500).
   */
  async authenticate(request: SipRequest, source: AuthSource): Promise<AuthResult> {
    const kind = this.kindOf(request);
    if (this.limiter?.isBlocked(source.remoteAddress)) {
      return { ok: false, status: 403, challenges: [], blocked: true, reason: 'source blocked after repeated authentication failures' };
    }
    const realm = this.realmOf(request).toLowerCase();
    const headerName = kind === 'www' ? 'Authorization' : 'Proxy-Authorization';

    let values: AuthValue[];
    try {
      values = kind === 'www' ? request.authorization : request.proxyAuthorization;
    } catch (e) {
      return bad(`malformed ${headerName}: ${(e as Error).message}`);
    }
    // "A Proxy-Authorization header field value applies only to the proxy whose realm is
    //  identified in the "realm" parameter." (RFC 3261 §20.28) Credentials for another realm are
    //  someone else's (a proxy further on): ignore them, for Authorization too.
    const mine = values.find((v) => v.isDigest && v.realm !== undefined && v.realm.toLowerCase() === realm);
    if (mine === undefined) {
      return this.challenge(kind, realm, false, values.length === 0 ? 'no credentials' : `no ${headerName} for realm ${realm}`, source);
    }

    const parsed = parseDigestCredentials(mine);
    if (!parsed.ok) return bad(`${headerName}: ${parsed.error.reason}`);
    const c = parsed.value;
    if (!this.algorithmsFor(source).includes(c.algorithm)) return this.challenge(kind, realm, false, `algorithm ${c.algorithm} is not offered`, source);

    // "The authenticating server must assure that the resource designated by the "uri" directive
    //  is the same as the resource specified in the Request-Line; if they are not, the server
    //  SHOULD return a 400 Bad Request error." (RFC 2617 §3.2.2.5)
    let digestUri: Uri;
    try {
      digestUri = parseUri(c.uri);
    } catch {
      return bad(`${headerName}: digest uri ${c.uri} does not parse`);
    }
    // DEVIATION(RFC 2617 §3.2.2.5): a digest uri naming this server itself is accepted too; sipp
    // 3.6 puts sip:HOST:PORT there instead of the Request-URI. The method and the nonce count
    // still bind the credentials to one request.
    if (!uriEquals(digestUri, request.requestUri) && !this.isLocalUri(digestUri)) {
      return bad(`${headerName}: digest uri ${c.uri} is not the Request-URI ${request.uri}`);
    }

    const nonce = this.nonces.verify(c.nonce, realm);
    const subscriber = await this.subscribers.get(c.username, realm);
    const ha1 = subscriber === undefined ? this.decoyHa1[c.algorithm] : c.algorithm === 'MD5' ? subscriber.ha1Md5 : subscriber.ha1Sha256;
    const expected = computeDigestResponse({
      algorithm: c.algorithm,
      ha1,
      method: request.method,
      digestUri: c.uri,
      nonce: c.nonce,
      qop: c.qop,
      nc: c.nc,
      cnonce: c.cnonce,
    });
    const digestOk = digestResponseEquals(expected, c.response);
    if (!digestOk || subscriber === undefined) {
      this.limiter?.recordFailure(source.remoteAddress);
      this.onFailure?.({ type: 'auth.failed', time: Date.now(), source: source.remoteAddress, username: c.username, realm, method: request.method });
      return this.challenge(kind, realm, false, `${subscriber === undefined ? 'unknown user' : 'wrong password'} ${c.username}@${realm}`, source);
    }

    // "The server should only set stale to TRUE if it receives a request for which the nonce is
    //  invalid but with a valid digest for that nonce (indicating that the client knows the
    //  correct username/password)." (RFC 2617 §3.2.1) Hence the digest is checked first: a
    //  client with the right password and an old nonce (expired, or from before a restart that
    //  changed the secret) retries at once.
    if (nonce.status !== 'valid') {
      return this.challenge(kind, realm, true, nonce.status === 'stale' ? 'nonce expired' : `nonce not ours: ${nonce.reason}`, source);
    }
    // Without qop (RFC 2069 form) there is no nonce count: such a nonce is good for one request.
    const counted = this.nonces.useNonceCount(c.nonce, nonce.issuedAt, c.ncValue ?? 1);
    if (counted !== 'ok') {
      return this.challenge(kind, realm, true, counted === 'replay' ? `nonce count ${c.nc ?? '(none)'} not above the last one` : 'nonce forgotten (table full)', source);
    }
    this.onAuthenticated?.(source.remoteAddress);
    return { ok: true, username: c.username, realm, algorithm: c.algorithm };
  }

  /**
   * The answer that needs no subscriber lookup, if there is one: 403 for a blocked source, 400 for
   * a malformed auth header, a challenge when the request carries no credentials for our realm.
   * undefined when the credentials must be checked (`authenticate`). Synchronous, so that a
   * server can send the challenge statelessly, as Kamailio's auth_challenge does.
   */
  precheck(request: SipRequest, source: AuthSource): AuthFailure | undefined {
    const kind = this.kindOf(request);
    if (this.limiter?.isBlocked(source.remoteAddress)) {
      return { ok: false, status: 403, challenges: [], blocked: true, reason: 'source blocked after repeated authentication failures' };
    }
    const realm = this.realmOf(request).toLowerCase();
    let values: AuthValue[];
    try {
      values = kind === 'www' ? request.authorization : request.proxyAuthorization;
    } catch (e) {
      return bad(`malformed ${kind === 'www' ? 'Authorization' : 'Proxy-Authorization'}: ${(e as Error).message}`);
    }
    const mine = values.some((v) => v.isDigest && v.realm !== undefined && v.realm.toLowerCase() === realm);
    return mine ? undefined : this.challenge(kind, realm, false, values.length === 0 ? 'no credentials' : `no credentials for realm ${realm}`, source);
  }

  /**
   * A 401/407 with one challenge per offered algorithm, in the configured order (MD5 moved last
   * over a WebSocket, see below), all on one fresh nonce. Public for callers that challenge without
   * looking at credentials (a script's `auth.challenge`); `reason` is for logs; `source`, when
   * given, decides which algorithms (`algorithmsFor`) and their order.
   */
  challenge(kind: ChallengeKind, realm: string, stale: boolean, reason: string, source?: AuthSource): AuthFailure {
    const nonce = this.nonces.issue(realm);
    // RFC 8760 has the UAS list one challenge per algorithm, most preferred first, and the UAC
    // use the topmost one it supports. Clients that do MD5 only do not all follow it: sipp 3.6
    // reads the first challenge and gives up unless it is MD5, while the SIP stacks of browsers
    // (JsSIP 3.13, SIP.js 0.21) keep only the last WWW-/Proxy-Authenticate field and give up
    // unless it is MD5. So MD5 comes first by default, and last for requests that came over a
    // WebSocket, where browsers are (a client that follows RFC 8760 picks its algorithm either way).
    const offered = this.algorithmsFor(source);
    const order = source?.transport === 'ws' || source?.transport === 'wss' ? [...offered.filter((a) => a !== 'MD5'), ...offered.filter((a) => a === 'MD5')] : offered;
    const challenges = order.map((algorithm) =>
      buildChallenge({ realm, nonce, opaque: this.opaque, algorithm, qop: 'auth', stale }),
    );
    return kind === 'www'
      ? { ok: false, status: 401, challenges, challengeHeader: 'WWW-Authenticate', reason }
      : { ok: false, status: 407, challenges, challengeHeader: 'Proxy-Authenticate', reason };
  }

  private defaultRealmOf(request: SipRequest): string {
    try {
      const uri = (request.method === 'REGISTER' ? request.to : request.from).uri;
      if (uri.kind === 'sip') {
        const host = uri.host.toLowerCase();
        if (this.realms.includes(host)) return host;
      }
    } catch {
      // a malformed From/To: the default realm
    }
    return this.realms[0]!;
  }
}

/** The header fields of a failed result, for `createResponse(request, result.status, { headers })`. */
export function challengeHeaders(result: AuthFailure): Array<[string, string]> {
  const name = result.challengeHeader;
  return name === undefined ? [] : result.challenges.map((c) => [name, c]);
}

function bad(reason: string): AuthFailure {
  return { ok: false, status: 400, challenges: [], reason };
}
