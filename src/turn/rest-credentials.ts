/**
 * Time-limited TURN credentials ("TURN REST API", draft-uberti-behave-turn-rest-00, as coturn's
 * `use-auth-secret` and WebRTC deployments use them): the web server and the TURN server share a
 * secret; the web server hands a client
 *
 *   username = "<expiry>:<user>"   (expiry in Unix seconds)
 *   password = base64(HMAC-SHA1(secret, username))
 *
 * and from there the client runs the ordinary long-term credential mechanism (RFC 8489 §9.2):
 * the key is MD5(username ":" realm ":" password) (SHA-256 of the same for PASSWORD-ALGORITHM
 * SHA-256, §18.5.1.2). The password is base64, so OpaqueString (RFC 8265) leaves it unchanged.
 *
 * Username forms accepted (decided from coturn 4.6's get_rest_api_timestamp, which takes the
 * timestamp after the separator when what comes before it is not all digits):
 * - `expiry:user`, the documented form, the one makeRestCredentials makes; the user may contain
 *   colons (`1700000000:alice:phone` is user `alice:phone`);
 * - `user:expiry`, which coturn also accepts and older deployments send; here the expiry is all of
 *   what follows the first colon, so it must be digits (`alice:x:1700000000` is malformed, where
 *   coturn would read a timestamp of 0 and call it expired).
 * Refused as malformed: no colon (coturn reads a bare timestamp, but then there is no user to
 * count quotas against), an empty user, an expiry that is not 1-12 decimal digits. An expiry in
 * the past is refused as expired; the second of the expiry itself is still valid (coturn too).
 *
 * Several secrets may be valid at once (rotation): the keys of all are tried, the first secret is
 * the one new credentials are made with.
 */
import { createHash, createHmac } from 'node:crypto';
import { ParleyError } from '../lib/errors.js';
import { err, ok, type Result } from '../lib/result.js';

export interface RestCredentials {
  readonly username: string;
  readonly password: string;
  /** Seconds the credentials are valid for (the `ttl` of the REST API answer). */
  readonly ttl: number;
  /** The TURN URIs to use them with (`turn:host:3478?transport=udp`, ...), when the caller gives them. */
  readonly uris?: readonly string[];
}

export interface RestUser {
  readonly user: string;
  /** Unix seconds after which the credentials are refused. */
  readonly expiry: number;
}

export type RestUsernameError = { readonly kind: 'malformed' | 'expired'; readonly reason: string };

export type PasswordAlgorithm = 'MD5' | 'SHA-256';

/** The separator of the REST API username (coturn's `rest-api-separator` default). */
export const REST_SEPARATOR = ':';

/** Twelve digits: Unix seconds up to the year 33658, and no overflow of a double. */
const MAX_EXPIRY_DIGITS = 12;

/**
 * Credentials for `user` valid for `ttlS` seconds from `nowS` (Unix seconds). Throws on a bad
 * argument (this is called with our own values, never with network input).
 */
export function makeRestCredentials(secret: string, user: string, ttlS: number, nowS: number, uris?: readonly string[]): RestCredentials {
  if (secret.length === 0) throw new ParleyError('ERR_INVALID_ARGUMENT', 'REST credentials: the secret is empty');
  if (user.length === 0) throw new ParleyError('ERR_INVALID_ARGUMENT', 'REST credentials: the user is empty');
  if (!Number.isInteger(ttlS) || ttlS <= 0) throw new ParleyError('ERR_INVALID_ARGUMENT', `REST credentials: ttl ${ttlS} is not a positive whole number of seconds`);
  const expiry = Math.floor(nowS) + ttlS;
  const username = `${expiry}${REST_SEPARATOR}${user}`;
  const password = restPassword(secret, username);
  return uris === undefined ? { username, password, ttl: ttlS } : { username, password, ttl: ttlS, uris };
}

/** base64(HMAC-SHA1(secret, username)). */
export function restPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username, 'utf8').digest('base64');
}

/** The user and expiry a REST username names, or why it is refused. Never throws. */
export function checkRestUsername(username: string, nowS: number): Result<RestUser, RestUsernameError> {
  const colon = username.indexOf(REST_SEPARATOR);
  if (colon < 0) return err({ kind: 'malformed', reason: 'no ":" between expiry and user' });
  const first = username.slice(0, colon);
  const rest = username.slice(colon + 1);
  let expiryText: string;
  let user: string;
  if (allDigits(first)) {
    expiryText = first;
    user = rest;
  } else {
    expiryText = rest;
    user = first;
  }
  if (user.length === 0) return err({ kind: 'malformed', reason: 'empty user' });
  if (!allDigits(expiryText) || expiryText.length > MAX_EXPIRY_DIGITS) {
    return err({ kind: 'malformed', reason: 'the expiry is not a number of Unix seconds' });
  }
  const expiry = Number(expiryText);
  if (expiry < nowS) return err({ kind: 'expired', reason: `expired ${Math.floor(nowS - expiry)} s ago` });
  return ok({ user, expiry });
}

/** The long-term credential key (RFC 8489 §9.2.2) for a username, realm and password. */
export function longTermKey(username: string, realm: string, password: string, algorithm: PasswordAlgorithm = 'MD5'): Buffer {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(`${username}:${realm}:${password}`, 'utf8').digest();
}

/**
 * The shared secrets in force. The first makes new credentials; any of them is accepted, so a
 * new secret is put first and the old one dropped once the credentials it made have expired.
 */
export class RestSecrets {
  readonly #secrets: readonly string[];

  /** Throws on an empty list or an empty secret (configuration). */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new ParleyError('ERR_INVALID_ARGUMENT', 'REST credentials: no secret');
    if (secrets.some((s) => s.length === 0)) throw new ParleyError('ERR_INVALID_ARGUMENT', 'REST credentials: an empty secret');
    this.#secrets = [...secrets];
  }

  make(user: string, ttlS: number, nowS: number, uris?: readonly string[]): RestCredentials {
    return makeRestCredentials(this.#secrets[0]!, user, ttlS, nowS, uris);
  }

  /**
   * The user behind `username` and the keys to check its MESSAGE-INTEGRITY with, one per secret
   * in order, or why the username is refused (before any HMAC is computed).
   */
  keys(username: string, realm: string, nowS: number, algorithm: PasswordAlgorithm = 'MD5'): Result<RestUser & { readonly keys: readonly Buffer[] }, RestUsernameError> {
    const checked = checkRestUsername(username, nowS);
    if (!checked.ok) return checked;
    const keys = this.#secrets.map((s) => longTermKey(username, realm, restPassword(s, username), algorithm));
    return ok({ ...checked.value, keys });
  }
}

function allDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
