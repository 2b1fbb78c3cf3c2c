import { createHash } from 'node:crypto';

/** Digest algorithms Parley computes (RFC 7616 §3.2; RFC 8760 for SIP). */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

const NODE_HASH: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

/** H(data) as lower-case hex (RFC 7616 §3.4.1). */
export function digestHash(algorithm: DigestAlgorithm, data: string): string {
  return createHash(NODE_HASH[algorithm]).update(data, 'utf8').digest('hex');
}

/**
 * HA1 = H(username ":" realm ":" password) (RFC 7616 §3.4.2). Stored instead of the password: a
 * subscriber row keeps one HA1 per algorithm, so the password itself is never kept.
 */
export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}
