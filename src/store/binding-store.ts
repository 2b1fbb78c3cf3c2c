/**
 * One registration: a contact bound to an address-of-record (RFC 3261 §10, RFC 5626, RFC 3327),
 * with what a proxy needs to reach it.
 */
export interface ContactBinding {
  /** The address-of-record, canonical: `user@domain` (domain lower-case). */
  readonly aor: string;
  /** The Contact URI as registered (text). */
  readonly contact: string;
  /** Absolute expiry, ms since the epoch. */
  readonly expires: number;
  /** q-value 0..1 (1 when the Contact had none). */
  readonly q: number;
  readonly callId: string;
  readonly cseq: number;
  /** Path header values (RFC 3327), top first; the proxy turns them into a Route set. */
  readonly path: readonly string[];
  /** `+sip.instance` (RFC 5626), when given. */
  readonly instance?: string;
  /** `reg-id` (RFC 5626), when given. */
  readonly regId?: number;
  /** Where the REGISTER came from: requests to this contact go there (NAT), over this transport. */
  readonly received: {
    readonly transport: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
    readonly address: string;
    readonly port: number;
    readonly localAddress?: string;
    readonly localPort?: number;
  };
  /**
   * Where requests to this contact go: `source`, the flow it registered from (`received`, and its
   * connection when it came over one: behind a NAT, or a flow of RFC 5626), or `contact`, the
   * Contact URI itself (RFC 3261 §16.5), resolved like any URI. The registrar decides when the
   * REGISTER comes (sip-server/registrar/nat-detection.ts). Absent: `source` (bindings stored before
   * the field existed keep going where they went).
   */
  readonly sendTo?: 'source' | 'contact';
  /** The stream connection the binding is tied to (a flow), when it came over one. */
  readonly connectionId?: number;
  /** The node that holds that connection (several nodes share Redis later). */
  readonly node: string;
  readonly userAgent?: string;
  /** ms since the epoch of the last REGISTER that refreshed it. */
  readonly updatedAt: number;
}

/**
 * A refresh of a stored binding that changes nothing but when it expires, its CSeq, when it was
 * refreshed and its Call-ID: most REGISTERs are such refreshes, and a store updates four columns
 * of the row it has instead of writing the whole binding again (a tuple, not an object: it crosses a thread
 * boundary as it is, sip-server/workers). A touch of a row the store does not have changes
 * nothing: the binding was removed meanwhile (by another thread) and stays removed.
 */
export type BindingTouch = readonly [aor: string, contact: string, expires: number, cseq: number, updatedAt: number, callId: string];

/** Changes committed together (`BindingStore.apply`): saves, touches, then removals. */
export interface BindingChanges {
  readonly save: readonly ContactBinding[];
  readonly touch?: readonly BindingTouch[];
  readonly remove: ReadonlyArray<readonly [aor: string, contact: string]>;
}

/**
 * Persistence of bindings. The location service keeps them in memory and writes through, so
 * a restart reloads every registration. Keyed by (aor, contact).
 */
export interface BindingStore {
  save(binding: ContactBinding): Promise<void>;
  /** Apply many changes at once (one transaction where the store has them): saves, touches, then removals. */
  apply(changes: BindingChanges): Promise<void>;
  remove(aor: string, contact: string): Promise<void>;
  removeAor(aor: string): Promise<void>;
  /** Every binding not expired at `now`. */
  loadAll(now: number): Promise<ContactBinding[]>;
  /** Delete expired rows; returns how many. */
  purgeExpired(now: number): Promise<number>;
}
