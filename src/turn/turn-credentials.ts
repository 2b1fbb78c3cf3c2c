/**
 * Where the TURN server finds the long-term key of a user (RFC 8489 §9.2.2):
 * key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password)). The composition root
 * wires it: Parley's subscribers (their stored HA1 of the SIP digest is that key when realm = the
 * SIP domain), REST credentials (rest-credentials.ts), or both. The TURN server never sees a
 * password or a store.
 */
export interface TurnCredentials {
  /**
   * The 16-byte MD5 keys `username` may sign with in `realm` (one, or one per REST secret in
   * force), or undefined for an unknown user (answered exactly like a wrong password). `user` is
   * who the allocation is counted against (quotas, counters): the username itself, or the user
   * part of a REST username.
   */
  keys(username: string, realm: string): Promise<TurnKeys | undefined>;
}

export interface TurnKeys {
  readonly keys: readonly Uint8Array[];
  readonly user: string;
}
