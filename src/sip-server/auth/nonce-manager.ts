import { randomBytes, timingSafeEqual } from 'node:crypto';
import { randomBytesFromPool } from '../../lib/random-pool.js';
import { ownString } from '../../lib/own-string.js';
import { HmacSha256 } from './hmac-sha256.js';
import { EvictionMap } from '../../lib/eviction-map.js';
import { ParleyError } from '../../lib/errors.js';

export interface NonceManagerOptions {
  /**
   * Key of the nonce HMAC. Default: 32 random bytes per server start, so nonces die with the
   * process (clients get a fresh challenge, with stale=TRUE when their digest was right). Give
   * every node the same secret (at least 16 bytes; a string is taken as UTF-8) when a client may
   * reach another node with a nonce from the first one (DNS SRV failover). See README.
   */
  readonly secret?: Uint8Array | string;
  /** Seconds a nonce stays valid; older ones are `stale`. Default 300. */
  readonly lifetime?: number;
  /** Wall-clock milliseconds (nonce timestamps cross restarts and nodes). Default `Date.now`. */
  readonly now?: () => number;
  /** Most nonces whose nonce-count is remembered (least recently used go first). Default 65,536. */
  readonly maxTracked?: number;
  /** Milliseconds a nonce's timestamp may lie in the future (clock skew between nodes). Default 5,000. */
  readonly maxSkew?: number;
  /**
   * This manager's number (0-255) among several that share the secret but not their
   * nonce-count tables (the worker threads of one server). It is written into every nonce, and a
   * nonce of another issuer is answered as stale: the client retries at once with a fresh nonce
   * from this one, so a nonce-count is never checked against a table that has not seen it.
   */
  readonly issuer?: number;
}

/** What `verify` found. */
export type NonceCheck =
  | { readonly status: 'valid'; readonly issuedAt: number }
  /** Made by us (or a node with our secret) for this realm, but older than the lifetime. */
  | { readonly status: 'stale'; readonly issuedAt: number }
  /** Not made by us for this realm: malformed, tampered, another secret, or from the future. */
  | { readonly status: 'invalid'; readonly reason: string };

/** What `useNonceCount` decided. */
export type NonceCountCheck =
  | 'ok'
  /** nc not above the highest already accepted for this nonce: a replay (RFC 7616 §3.4.5). */
  | 'replay'
  /** The nonce's entry may have been evicted from the bounded table: refused to be safe. */
  | 'forgotten';

const TIMESTAMP_BYTES = 8;
const RANDOM_BYTES = 16;
const MAC_BYTES = 32;
const NONCE_BYTES = TIMESTAMP_BYTES + RANDOM_BYTES + MAC_BYTES;
const NONCE_CHARS = Math.ceil((NONCE_BYTES * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Expired entries removed from the front of the table per insertion, at most. */
const SWEEP = 16;

interface NcEntry {
  /** The nonce as kept (its own string: the request's would keep that request's text alive). */
  readonly nonce: string;
  highest: number;
  readonly expiresAt: number;
}

/**
 * Server nonces for digest authentication (RFC 7616 §3.3, §5.4, §5.5):
 *
 *   nonce = base64url( timestamp(8, ms, big-endian) || random(16) || HMAC-SHA256(secret, timestamp || random || realm) )
 *
 * "With a nonce of this form a server would recalculate the hash portion after receiving the
 *  client authentication header and reject the request if it did not match the nonce from that
 *  header or if the time-stamp value is not recent enough." (RFC 2617 §3.2.1, of a nonce
 *  `time-stamp H(time-stamp ":" ETag ":" private-key)`; RFC 7616 §3.3 keeps the example.) Parley
 * binds the realm instead of an ETag and uses an HMAC instead of H(… ":" key).
 *
 * A nonce is stateless until it is first used; then the highest accepted nonce-count is kept in a
 * bounded LRU table until the nonce expires, so that a captured request cannot be replayed
 * (§3.4.5, §5.5).
 */
export class NonceManager {
  private readonly hmac: HmacSha256;
  /** Realms as UTF-8 bytes (MAC input), for the few realms a server has. */
  private readonly realmBytes = new Map<string, Buffer>();
  private readonly lifetimeMs: number;
  private readonly now: () => number;
  private readonly maxTracked: number;
  private readonly maxSkew: number;
  private readonly issuer: number | undefined;
  /**
   * nonce → highest accepted nc, least recently used first. An EvictionMap, not a Map: once the
   * table is full every new nonce evicts the oldest, and finding it in a Map stepped over the holes
   * its deletions left (lib/eviction-map.ts).
   */
  private readonly nc = new EvictionMap<string, NcEntry>();
  /** Latest issue time of an evicted, unexpired nonce: older nonces missing from `nc` are refused. */
  private horizon = -Infinity;

  constructor(options: NonceManagerOptions = {}) {
    const secret = options.secret === undefined ? randomBytes(32) : Buffer.from(options.secret as Uint8Array | string);
    if (secret.length < 16) throw new ParleyError('ERR_INVALID_ARGUMENT', 'NonceManager: secret must have at least 16 bytes');
    this.hmac = new HmacSha256(secret);
    const lifetime = options.lifetime ?? 300;
    if (!(lifetime > 0)) throw new ParleyError('ERR_INVALID_ARGUMENT', 'NonceManager: lifetime must be positive');
    this.lifetimeMs = lifetime * 1000;
    this.now = options.now ?? Date.now;
    this.maxTracked = Math.max(1, options.maxTracked ?? 65_536);
    this.maxSkew = options.maxSkew ?? 5_000;
    if (options.issuer !== undefined && !(Number.isInteger(options.issuer) && options.issuer >= 0 && options.issuer <= 255)) {
      throw new ParleyError('ERR_INVALID_ARGUMENT', 'NonceManager: issuer must be an integer 0-255');
    }
    this.issuer = options.issuer;
  }

  /** Seconds a nonce stays valid. */
  get lifetime(): number {
    return this.lifetimeMs / 1000;
  }

  /** Nonces whose nonce-count is remembered now. */
  get trackedCount(): number {
    return this.nc.size;
  }

  /** A fresh nonce for `realm`. */
  issue(realm: string): string {
    const head = Buffer.alloc(TIMESTAMP_BYTES + RANDOM_BYTES);
    head.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.now()))), 0);
    head.set(randomBytesFromPool(RANDOM_BYTES), TIMESTAMP_BYTES);
    if (this.issuer !== undefined) head[TIMESTAMP_BYTES] = this.issuer;
    return Buffer.concat([head, this.mac(head, realm)]).toString('base64url');
  }

  /** Whether `nonce` was issued by us for `realm`, and whether it is still fresh. */
  verify(nonce: string, realm: string): NonceCheck {
    if (nonce.length !== NONCE_CHARS || !BASE64URL.test(nonce)) return { status: 'invalid', reason: 'not a Parley nonce' };
    const bytes = Buffer.from(nonce, 'base64url');
    // base64url leaves spare bits in the last character: accept only the canonical spelling, so
    // that one nonce has one text (the nonce-count table is keyed by it)
    if (bytes.length !== NONCE_BYTES || bytes.toString('base64url') !== nonce) return { status: 'invalid', reason: 'not a Parley nonce' };
    const head = bytes.subarray(0, TIMESTAMP_BYTES + RANDOM_BYTES);
    if (!timingSafeEqual(bytes.subarray(TIMESTAMP_BYTES + RANDOM_BYTES), this.mac(head, realm))) {
      return { status: 'invalid', reason: 'nonce MAC does not match (tampered, other secret or other realm)' };
    }
    const issuedAt = Number(bytes.readBigUInt64BE(0));
    const age = this.now() - issuedAt;
    if (age < -this.maxSkew) return { status: 'invalid', reason: 'nonce issued in the future' };
    if (age > this.lifetimeMs) return { status: 'stale', issuedAt };
    if (this.issuer !== undefined && bytes[TIMESTAMP_BYTES] !== this.issuer) return { status: 'stale', issuedAt };
    return { status: 'valid', issuedAt };
  }

  /**
   * Accept `nc` for a valid nonce if it is above every nc accepted before for that nonce, and
   * remember it. Call only after the digest response checked out, so that a forged request
   * cannot use up counts of a nonce it has seen go by.
   *
   * "The purpose of this parameter is to allow the server to detect request replays by
   *  maintaining its own copy of this count -- if the same nc value is seen twice, then the
   *  request is a replay." (RFC 7616 §3.4, of nc). Parley requires each nc to be higher than the
   *  last one accepted.
   *
   * DEVIATION(RFC 7616 §3.4): a lower nc that was never seen is refused too (as Kamailio's
   * nonce-count check does): requests sent in parallel with one nonce and reordered on the way
   * get a stale challenge and are retried with a new nonce.
   */
  useNonceCount(nonce: string, issuedAt: number, nc: number): NonceCountCheck {
    const now = this.now();
    const entry = this.nc.get(nonce);
    if (entry !== undefined) {
      if (nc <= entry.highest) return 'replay';
      entry.highest = nc;
      this.nc.touch(entry.nonce);
      return 'ok';
    }
    if (issuedAt <= this.horizon) return 'forgotten';
    this.sweep(now);
    const kept = ownString(nonce);
    this.nc.set(kept, { nonce: kept, highest: nc, expiresAt: issuedAt + this.lifetimeMs });
    return 'ok';
  }

  /** Drop expired entries at the front, then the least recently used while over the limit. */
  private sweep(now: number): void {
    for (let n = 0; n < SWEEP; n++) {
      const first = this.nc.oldest();
      if (first === undefined || first[1].expiresAt >= now) break;
      this.nc.shift();
    }
    while (this.nc.size >= this.maxTracked) {
      const first = this.nc.shift();
      if (first === undefined) break;
      const e = first[1];
      if (e.expiresAt >= now) this.horizon = Math.max(this.horizon, e.expiresAt - this.lifetimeMs);
    }
  }

  private mac(head: Buffer, realm: string): Buffer {
    let realmBytes = this.realmBytes.get(realm);
    if (realmBytes === undefined) {
      realmBytes = Buffer.from(realm, 'utf8');
      if (this.realmBytes.size < 1024) this.realmBytes.set(realm, realmBytes);
    }
    return this.hmac.mac(head, realmBytes);
  }
}
