import { ParleyError } from '../../lib/errors.js';
import type { DigestAlgorithm } from './hash.js';

/** The parameters of one digest challenge (RFC 7616 §3.3, RFC 3261 §22.4). */
export interface DigestChallengeOptions {
  readonly realm: string;
  readonly nonce: string;
  /** Returned unchanged by the client; omitted when undefined. */
  readonly opaque?: string;
  /** Default `MD5`. Always written, even for MD5 (clients differ on the default of a missing one). */
  readonly algorithm?: DigestAlgorithm;
  /** Default `auth`; `null` leaves qop out (an RFC 2069-style challenge, for tests). */
  readonly qop?: 'auth' | null;
  /**
   * True when the previous request was refused only because its nonce was stale: "If stale is TRUE
   * (case-insensitive), the client may wish to simply retry the request with a new encrypted
   * response, without reprompting the user for a new username and password." (RFC 2617 §3.2.1;
   * RFC 7616 §3.3 keeps it)
   */
  readonly stale?: boolean;
}

/**
 * A WWW-Authenticate or Proxy-Authenticate value (RFC 7616 §3.3; RFC 3261 §20.27, §20.44):
 *
 *   Digest realm="example.com", nonce="…", opaque="…", algorithm=MD5, qop="auth", stale=TRUE
 *
 * realm, nonce, opaque and qop are quoted strings (qop "is a quoted string of one or more tokens
 * indicating the "quality of protection" values supported by the server", §3.3); algorithm and stale
 * are tokens. A value with CR or LF is a programmer error (it would end the header).
 */
export function buildChallenge(options: DigestChallengeOptions): string {
  const parts = [`realm=${quote('realm', options.realm)}`, `nonce=${quote('nonce', options.nonce)}`];
  if (options.opaque !== undefined) parts.push(`opaque=${quote('opaque', options.opaque)}`);
  parts.push(`algorithm=${options.algorithm ?? 'MD5'}`);
  if (options.qop !== null) parts.push(`qop="${options.qop ?? 'auth'}"`);
  if (options.stale) parts.push('stale=TRUE');
  return `Digest ${parts.join(', ')}`;
}

/** quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE (RFC 3261 §25.1). */
function quote(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new ParleyError('ERR_INVALID_ARGUMENT', `buildChallenge: ${name} contains CR or LF`);
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}
