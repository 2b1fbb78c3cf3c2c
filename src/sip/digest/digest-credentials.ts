import type { AuthValue } from '../grammar/digest.js';
import { err, ok, type Result } from '../../lib/result.js';
import { digestAlgorithmOf, digestHexLength, type DigestAlgorithm } from './hash.js';

/**
 * Digest credentials Parley can verify, from an Authorization or Proxy-Authorization value
 * (RFC 3261 §22.4, RFC 7616 §3.4, RFC 8760): every value checked and typed.
 */
export interface DigestCredentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  /** The digest-uri, as sent (compared with the Request-URI by the caller). */
  readonly uri: string;
  /** Lower-case hex of the right length for `algorithm`. */
  readonly response: string;
  readonly algorithm: DigestAlgorithm;
  /** `auth` as sent (any case), or undefined for the RFC 2069 form. */
  readonly qop?: string;
  /** The nonce count as sent (8 hex digits), with qop only. */
  readonly nc?: string;
  /** The nonce count's value, with qop only. */
  readonly ncValue?: number;
  readonly cnonce?: string;
  readonly opaque?: string;
}

/** Why credentials cannot be verified: a sentence for logs and for the reason phrase of a 400. */
export interface DigestCredentialsError {
  /** `missing` or `malformed` parameter, or a feature Parley does not support. */
  readonly kind: 'not-digest' | 'missing' | 'malformed' | 'unsupported';
  /** The parameter at fault (`nonce`, `qop`, …), if one. */
  readonly param?: string;
  readonly reason: string;
}

const NC = /^[0-9a-fA-F]{8}$/;
const HEX = /^[0-9a-fA-F]+$/;

/**
 * Check digest credentials and type them. Network input: never throws.
 *
 * "If a directive or its value is improper, or required directives are missing, the proper
 *  response is 400 Bad Request." (RFC 2617 §3.2.2)
 *
 * Not supported, and reported as `unsupported` (Parley never offers them, see README):
 * qop=auth-int, the `-sess` algorithms, SHA-512-256, `userhash=true` and `username*` (RFC 7616
 * §3.4.4, §3.4.5 extended notation).
 */
export function parseDigestCredentials(value: AuthValue): Result<DigestCredentials, DigestCredentialsError> {
  if (!value.isDigest) return err({ kind: 'not-digest', reason: `scheme ${value.scheme} is not Digest` });
  const p = value.params;
  if (p.has('username*')) return err({ kind: 'unsupported', param: 'username*', reason: 'username* (RFC 7616 §3.4.4) is not supported' });
  for (const name of ['username', 'realm', 'nonce', 'uri', 'response'] as const) {
    const v = p.get(name);
    if (v === undefined || (v.length === 0 && name !== 'realm' && name !== 'username')) {
      return err({ kind: 'missing', param: name, reason: `missing ${name}` });
    }
  }
  const username = p.get('username')!;
  if (username.length === 0) return err({ kind: 'missing', param: 'username', reason: 'empty username' });

  const algorithmText = p.get('algorithm');
  const algorithm = digestAlgorithmOf(algorithmText);
  if (algorithm === undefined) {
    return err({ kind: 'unsupported', param: 'algorithm', reason: `algorithm ${algorithmText} is not supported (MD5, SHA-256)` });
  }
  if ((p.get('userhash') ?? 'false').toLowerCase() !== 'false') {
    return err({ kind: 'unsupported', param: 'userhash', reason: 'userhash (RFC 7616 §3.4.4) is not supported' });
  }

  const response = p.get('response')!;
  if (response.length !== digestHexLength(algorithm) || !HEX.test(response)) {
    return err({ kind: 'malformed', param: 'response', reason: `response is not ${digestHexLength(algorithm)} hex digits for ${algorithm}` });
  }

  const qop = p.get('qop');
  const base = {
    username,
    realm: p.get('realm')!,
    nonce: p.get('nonce')!,
    uri: p.get('uri')!,
    response: response.toLowerCase(),
    algorithm,
    opaque: p.get('opaque'),
  };
  if (qop === undefined) return ok(base);

  if (qop.toLowerCase() !== 'auth') {
    return err({
      kind: qop.toLowerCase() === 'auth-int' ? 'unsupported' : 'malformed',
      param: 'qop',
      reason: `qop ${qop} is not supported (auth)`,
    });
  }
  // "nc: This parameter MUST be used by all implementations" … "The nc value is the hexadecimal
  //  count of the number of requests (including the current request) that the client has sent
  //  with the nonce value in this request." (RFC 7616 §3.4)
  const nc = p.get('nc');
  if (nc === undefined) return err({ kind: 'missing', param: 'nc', reason: 'qop without nc' });
  if (!NC.test(nc)) return err({ kind: 'malformed', param: 'nc', reason: 'nc is not 8 hex digits' });
  const cnonce = p.get('cnonce');
  if (cnonce === undefined || cnonce.length === 0) return err({ kind: 'missing', param: 'cnonce', reason: 'qop without cnonce' });
  return ok({ ...base, qop, nc, ncValue: parseInt(nc, 16), cnonce });
}
