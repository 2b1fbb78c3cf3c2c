/**
 * USERHASH (RFC 8489 §14.4): "userhash = SHA-256(OpaqueString(username) ":" OpaqueString(realm))".
 * A hash cannot be turned back into a name, so the server keeps the hashes of the users it knows:
 * this index maps the hash of every subscriber of the realm to the username.
 *
 * It is made on first use (the first request with USERHASH: coturn's clients and browsers send
 * USERNAME, so a server that never sees USERHASH never pays for it), from the subscriber store's
 * list of the realm's users, and kept: a subscriber changed through `parley user` (the control
 * socket tells the TURN thread) is added at once, a full invalidation drops the index, and a hash
 * not found remakes it when it is older than `maxAgeMs` (a subscriber added without telling the
 * server), at most once per `maxAgeMs`, so that random hashes cannot make the server list its
 * store again and again. A removed subscriber's hash stays until then, and finds a username
 * whose keys the store no longer has: 401, as for any unknown user.
 *
 * REST usernames (`expiry:user`) change with every credential and cannot be listed: USERHASH
 * finds none of them (401), and a client of REST credentials sends USERNAME.
 */
import { userHash } from '../stun/credentials.js';

/** Hashes made between two turns of the event loop while the index is made. */
const HASHES_PER_TURN = 1000;

export interface UserHashIndexOptions {
  readonly realm: string;
  /** The usernames of the realm's subscribers. */
  list(realm: string): Promise<readonly string[]>;
  /** How old the index may be before a hash not found remakes it, ms. */
  readonly maxAgeMs: number;
  /** Monotonic ms. */
  readonly now: () => number;
}

export class UserHashIndex {
  private byHash: Map<string, string> | undefined;
  private madeAt = 0;
  private making: Promise<Map<string, string>> | undefined;
  /** Subscribers announced while an index is being made. */
  private madeMeanwhile: string[] = [];

  constructor(private readonly o: UserHashIndexOptions) {}

  /** The username whose USERHASH in this realm is `hash`, or undefined. */
  async find(hash: Uint8Array, realm: string): Promise<string | undefined> {
    if (realm !== this.o.realm) return undefined;
    const key = Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('hex');
    const index = this.byHash ?? (await this.make());
    const found = index.get(key);
    if (found !== undefined || this.o.now() - this.madeAt < this.o.maxAgeMs) return found;
    return (await this.make()).get(key);
  }

  /** A subscriber changed (`username` given) or anything may have (none): see the file comment. */
  invalidate(username?: string, domain?: string): void {
    if (username === undefined || domain === undefined) {
      this.byHash = undefined;
      return;
    }
    if (domain.toLowerCase() !== this.o.realm.toLowerCase()) return;
    this.byHash?.set(hex(userHash(username, this.o.realm)), username);
    // an index being made may have listed the store before this change: it takes it too
    if (this.making !== undefined) this.madeMeanwhile.push(username);
  }

  /** How many hashes are kept (0 before first use). */
  get size(): number {
    return this.byHash?.size ?? 0;
  }

  private make(): Promise<Map<string, string>> {
    this.making ??= (async () => {
      try {
        const index = new Map<string, string>();
        const users = await this.o.list(this.o.realm);
        for (let i = 0; i < users.length; i++) {
          index.set(hex(userHash(users[i]!, this.o.realm)), users[i]!);
          // a few µs a hash: let relayed packets through every thousand (100,000 subscribers: ~0.3 s in all)
          if (i % HASHES_PER_TURN === HASHES_PER_TURN - 1) await new Promise<void>((r) => setImmediate(r));
        }
        for (const u of this.madeMeanwhile.splice(0)) index.set(hex(userHash(u, this.o.realm)), u);
        this.byHash = index;
        this.madeAt = this.o.now();
        return index;
      } finally {
        this.making = undefined;
      }
    })();
    return this.making;
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
