/**
 * HTTP Digest as SIP uses it (RFC 3261 §22.4, RFC 7616, RFC 8760, RFC 2617 compatibility):
 * the mechanism only. Who is challenged, which realm, nonces and replay policy live in
 * `src/sip-server/auth`.
 */
export { digestHash, computeHa1, digestAlgorithmOf, digestHexLength, DIGEST_ALGORITHMS, type DigestAlgorithm } from './hash.js';
export { computeDigestResponse, digestResponseEquals, type DigestResponseInput } from './digest-response.js';
export { parseDigestCredentials, type DigestCredentials, type DigestCredentialsError } from './digest-credentials.js';
export { buildChallenge, type DigestChallengeOptions } from './challenge.js';
