/**
 * Where the TURN server finds the long-term key of a user (RFC 8489 §9.2.2):
 * key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password)), or SHA-256 of the same
 * for PASSWORD-ALGORITHM SHA-256. The composition root wires it: Parley's subscribers (their
 * stored HA1s of the SIP digest, MD5 and SHA-256, are those keys when realm = the SIP domain),
 * REST credentials (rest-credentials.ts), or both. The TURN server never sees a password or a
 * store.
 */

/** The hash a long-term key is derived with (RFC 8489 §18.5: MD5 0x0001, SHA-256 0x0002). */
export type KeyAlgorithm = 'md5' | 'sha256';

/** The size of a key of each algorithm, bytes: an allocation's key says which it is. */
export const KEY_BYTES: Readonly<Record<KeyAlgorithm, number>> = { md5: 16, sha256: 32 };

export interface TurnCredentials {
  /**
   * The keys of `algorithm` that `username` may sign with in `realm` (one, or one per REST secret
   * in force), or undefined for an unknown user (answered exactly like a wrong password). `user`
   * is who the allocation is counted against (quotas, counters): the username itself, or the
   * user part of a REST username.
   */
  keys(username: string, realm: string, algorithm: KeyAlgorithm): Promise<TurnKeys | undefined>;
  /**
   * The username whose USERHASH (RFC 8489 §14.4, SHA-256(username ":" realm)) is `userhash`, or
   * undefined when none is known (answered like an unknown user). Absent: USERHASH finds nobody.
   */
  usernameOfHash?(userhash: Uint8Array, realm: string): Promise<string | undefined>;
}

export interface TurnKeys {
  readonly keys: readonly Uint8Array[];
  readonly user: string;
}
