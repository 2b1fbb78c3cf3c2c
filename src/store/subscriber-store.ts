/**
 * A subscriber: a user who may register and call, known by username and domain. The password
 * is not stored: only HA1 for each digest algorithm (RFC 7616 §3.4.2, with realm = domain).
 */
export interface Subscriber {
  readonly username: string;
  readonly domain: string;
  /** H(username:domain:password) with MD5, lower-case hex. */
  readonly ha1Md5: string;
  /** H(username:domain:password) with SHA-256, lower-case hex. */
  readonly ha1Sha256: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** May log in to the dashboard with the password (stores without the flag: false). */
  readonly admin?: boolean;
}

/** A subscriber to add, with the clear password (hashed before it is stored). */
export interface NewSubscriber {
  readonly username: string;
  readonly domain: string;
  readonly password: string;
  /** Default false. */
  readonly admin?: boolean;
}

/**
 * Where subscribers live. SQLite implements it now, Redis later; callers only see this.
 * Usernames compare case-sensitively (RFC 3261 §19.1.4 userinfo), domains case-insensitively
 * (stores keep them lower-case).
 */
export interface SubscriberStore {
  get(username: string, domain: string): Promise<Subscriber | undefined>;
  /** Throws StoreError code ERR_STORE_EXISTS when the user exists. */
  add(subscriber: NewSubscriber): Promise<Subscriber>;
  /** Add many in one transaction: all or nothing (throws StoreError naming the first bad one). */
  addMany(subscribers: readonly NewSubscriber[]): Promise<number>;
  /** Returns false when there was no such user. */
  remove(username: string, domain: string): Promise<boolean>;
  /** Returns false when there is no such user. */
  setPassword(username: string, domain: string, password: string): Promise<boolean>;
  /** Ordered by domain then username. */
  list(options?: { readonly domain?: string; readonly limit?: number; readonly offset?: number }): Promise<Subscriber[]>;
  count(): Promise<number>;
}
