import { hash } from 'node:crypto';

/** Digest algorithms Parley computes (RFC 7616 §3.2; RFC 8760 for SIP). */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

const NODE_HASH: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

/** H(data) as lower-case hex (RFC 7616 §3.4.1); `crypto.hash` is one call, without a Hash object. */
export function digestHash(algorithm: DigestAlgorithm, data: string): string {
  return hash(NODE_HASH[algorithm], data, 'hex');
}

/**
 * HA1 = H(username ":" realm ":" password) (RFC 7616 §3.4.2). Stored instead of the password: a
 * subscriber row keeps one HA1 per algorithm, so the password itself is never kept.
 */
export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

/** The algorithms of `DigestAlgorithm` (which ones Parley offers, and in which order, is configured: `auth.algorithms`). */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'SHA-256'];

/**
 * The `DigestAlgorithm` an `algorithm` parameter names, or undefined for one Parley does not
 * compute (`SHA-512-256`, the `-sess` variants, anything unknown). A missing parameter means MD5:
 * "If the algorithm parameter is not present, it is assumed to be 'MD5'." (RFC 7616 §3.3)
 * Names compare case-insensitively, as Kamailio and most clients do.
 */
export function digestAlgorithmOf(name: string | undefined): DigestAlgorithm | undefined {
  if (name === undefined) return 'MD5';
  const n = name.toUpperCase();
  return n === 'MD5' || n === 'SHA-256' ? n : undefined;
}

/** Length in hex digits of H(…) for `algorithm` (32 for MD5, 64 for SHA-256). */
export function digestHexLength(algorithm: DigestAlgorithm): number {
  return algorithm === 'MD5' ? 32 : 64;
}
