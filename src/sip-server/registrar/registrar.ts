import { ownString } from '../../lib/own-string.js';
import type { ContactBinding } from '../../store/binding-store.js';
import { parseUri, uriEquals, uriMatchKey, type Contact, type Flow, type SipRequest } from '../../sip/index.js';
import type { LocalIdentity } from '../core/local-identity.js';
import { addressOfRecord } from './address-of-record.js';
import { cameFrom, sameStrings } from './binding-reuse.js';
import { sendToOf, type NatDetection } from './nat-detection.js';
import type { LocationService } from './location-service.js';

export interface RegistrarOptions {
  /** Shortest registration accepted, seconds; shorter ones get 423 with Min-Expires. Default 60. */
  readonly minExpires?: number;
  /** Longest registration granted, seconds; longer requests are cut to it. Default 86,400. */
  readonly maxExpires?: number;
  /** Used when neither the Contact nor the request says. Default 3,600. */
  readonly defaultExpires?: number;
  /** This node's name, stored with bindings made over its connections. */
  readonly node?: string;
  /** Wall clock, ms. Default Date.now. */
  readonly now?: () => number;
  /**
   * For contacts registered over UDP without RFC 5626 outbound: requests go to the REGISTER's
   * source when NAT is detected (`auto`, the default), always (`always`), or never (`never`: the
   * Contact). See nat-detection.ts.
   */
  readonly natDetection?: NatDetection;
}

/** What the registrar decided: a status and the header fields of the response. */
export interface RegistrarResult {
  readonly status: number;
  readonly reason?: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The AOR whose bindings were queried or changed. */
  readonly aor?: string;
}

/** The Path of bindings made without one: one empty array for all of them. */
const NO_PATH: readonly string[] = [];

/** Extensions the registrar understands in Require (RFC 3261 §10.3 step 2). */
const SUPPORTED = new Set(['path', 'outbound']);

/**
 * The registrar of RFC 3261 §10.3, with Path (RFC 3327) and the instance/reg-id rule of
 * RFC 5626 §6. Authentication and the From/To user check come before it (the request handler);
 * it decides the bindings of the AOR in To and writes them through the location service.
 */
export class Registrar {
  private min: number;
  private max: number;
  private def: number;
  private readonly node: string;
  private readonly now: () => number;
  private readonly natDetection: NatDetection;

  constructor(
    private readonly location: LocationService,
    private readonly identity: LocalIdentity,
    options: RegistrarOptions = {},
  ) {
    this.min = options.minExpires ?? 60;
    this.max = options.maxExpires ?? 86_400;
    this.def = options.defaultExpires ?? 3600;
    this.node = options.node ?? 'local';
    this.now = options.now ?? Date.now;
    this.natDetection = options.natDetection ?? 'auto';
  }

  /** New expiry bounds from now on (a configuration reload); bindings granted before keep theirs. */
  setExpiry(bounds: Pick<RegistrarOptions, 'minExpires' | 'maxExpires' | 'defaultExpires'>): void {
    this.min = bounds.minExpires ?? this.min;
    this.max = bounds.maxExpires ?? this.max;
    this.def = bounds.defaultExpires ?? this.def;
  }

  get minExpires(): number {
    return this.min;
  }

  /**
   * Process a REGISTER that has been authenticated (or needs none). `natDetection`: this
   * REGISTER's mode (a routing script's `save({ natDetection })`), instead of the registrar's.
   */
  async register(request: SipRequest, source: Flow, natDetection: NatDetection = this.natDetection): Promise<RegistrarResult> {
    // Step 1: "the registrar inspects the Request-URI to determine whether it has access to
    // bindings for the domain identified in the Request-URI."
    const ruri = request.requestUri;
    if (ruri.kind !== 'sip' || !this.identity.servesDomain(ruri.host)) {
      return { status: 403, reason: 'Forbidden (domain not served)', headers: [] };
    }
    // Step 2: "the registrar MUST process the Require header field values as described for UASs"
    const unsupported = request.require.filter((t) => !SUPPORTED.has(t.toLowerCase()));
    if (unsupported.length > 0) return { status: 420, headers: [['Unsupported', unsupported.join(', ')]] };

    // Step 5: "extract the address-of-record from the To header field … If the address-of-record
    // is not valid for the domain in the Request-URI, the registrar MUST send a 404 (Not Found)"
    const found = addressOfRecord(request.to.uri);
    if (found === undefined || request.to.uri.kind !== 'sip' || !this.identity.servesDomain(request.to.uri.host)) {
      return { status: 404, reason: 'Not Found (AOR not in a served domain)', headers: [] };
    }

    const now = this.now();
    const current = this.location.lookup(found);
    // the AOR's own string, from its bindings when it has any (see `binding` on why it is shared)
    const held = current[0]?.aor;
    const aor = held === found ? held : ownString(found);
    const callId = request.callId;
    const cseq = request.cseq.seq;

    // Step 6: "Contact: *" with Expires: 0 removes every binding (Call-ID/CSeq rule below)
    if (request.contactStar) {
      if (request.expires !== 0 || request.getAll('contact').length !== 1) {
        return { status: 400, reason: 'Bad Request (Contact: * needs Expires: 0 and no other Contact)', headers: [] };
      }
      for (const b of current) {
        if (b.callId === callId && cseq <= b.cseq) return outOfOrder();
      }
      return this.store(aor, [], request);
    }

    const contacts = request.contact;
    if (contacts.length === 0) {
      // a query (§10.2.3): what it lists is on disk, too (a change of this AOR may be committing)
      try {
        await this.location.committed(aor);
      } catch {
        return notStored(aor);
      }
      return this.ok(aor, this.location.lookup(aor), request);
    }

    const headerExpires = request.expires;
    const path = request.path.length === 0 ? NO_PATH : request.path.map((p) => ownString(p.toString()));
    let next = [...current];
    for (const c of contacts) {
      // Step 6: "the registrar determines the expiration interval": the Contact's expires
      // parameter, else the Expires header field, else a locally-configured default.
      let expires = c.expires ?? headerExpires ?? this.def;
      // "If and only if the requested expiration interval is greater than zero AND smaller than
      // one hour AND less than a registrar-configured minimum, the registrar MAY reject the
      // registration with a response of 423 (Interval Too Brief)." Parley enforces its minimum.
      if (expires > 0 && expires < this.min) {
        return { status: 423, headers: [['Min-Expires', String(this.min)]], aor };
      }
      if (expires > this.max) expires = this.max;

      // Step 7: the binding of this contact: the same URI, or (RFC 5626 §6) the same
      // +sip.instance and reg-id, which replaces the earlier binding of that instance.
      const text = c.uri.toString();
      const key = new LazyKey(c);
      const existing = next.find((b) => sameBinding(b, c, text, key));
      if (existing !== undefined && existing.callId === callId && cseq <= existing.cseq) return outOfOrder();
      next = next.filter((b) => b !== existing);
      if (expires === 0) continue;
      const made = this.binding(aor, c, text, expires, request, source, path, now, natDetection, existing);
      // the key of the binding it replaces when the URI is the same text (a refresh), else the
      // one made for the comparisons, if any was: no key is made for a refresh
      const kept = existing !== undefined && existing.contact === made.contact ? matchKeys.get(existing) : key.made;
      if (kept !== undefined) matchKeys.set(made, kept);
      next.push(made);
    }
    return this.store(aor, next, request);
  }

  /**
   * Step 8's 200 (OK) once the bindings are committed to the store, not before: a registration
   * acknowledged and then lost in a crash (kill -9, out of memory) is a phone that believes itself
   * reachable and is not, until its next refresh (up to an hour later). The same for a removal:
   * a binding removed with 200 that comes back after a crash is as false. The changes of one
   * event-loop turn share one commit (LocationService). When the commit fails, 500 with
   * Retry-After (notStored): the registrar does not say 200 for what it did not store.
   */
  private async store(aor: string, next: readonly ContactBinding[], request: SipRequest): Promise<RegistrarResult> {
    try {
      await this.location.update(aor, next);
    } catch {
      return notStored(aor);
    }
    return this.ok(aor, next, request);
  }

  /**
   * The binding of contact `c` (`text`: its URI as text). Its strings are copies of their own
   * (ownString): cut from the request, each would keep the request's whole text alive for as long
   * as the binding lives.
   *
   * A refresh shares with the binding it replaces (`existing`) every string and object whose
   * value is the same (contact, Call-ID, User-Agent, Path, instance, where it came from): see
   * binding-reuse.ts for why.
   */
  private binding(
    aor: string,
    c: Contact,
    text: string,
    expires: number,
    request: SipRequest,
    source: Flow,
    path: readonly string[],
    now: number,
    natDetection: NatDetection,
    existing: ContactBinding | undefined,
  ): ContactBinding {
    const instance = c.instance;
    const regId = c.regId;
    const ua = request.userAgent;
    const callId = request.callId;
    return {
      aor,
      contact: existing?.contact === text ? existing.contact : ownString(text),
      expires: now + expires * 1000,
      q: c.q ?? 1,
      callId: existing?.callId === callId ? existing.callId : ownString(callId),
      cseq: request.cseq.seq,
      path: existing !== undefined && sameStrings(existing.path, path) ? existing.path : path,
      ...(instance === undefined ? {} : { instance: existing?.instance === instance ? existing.instance : ownString(instance) }),
      ...(regId === undefined ? {} : { regId }),
      received: existing !== undefined && cameFrom(existing.received, source) ? existing.received : receivedOf(source),
      // where requests to it go: the source when NAT is detected, the flow of a connection or of
      // RFC 5626 outbound, the Contact otherwise (nat-detection.ts)
      sendTo: sendToOf(request, c, source, natDetection),
      ...(source.connectionId === undefined ? {} : { connectionId: source.connectionId }),
      node: this.node,
      ...(ua === undefined ? {} : { userAgent: existing?.userAgent === ua ? existing.userAgent : ownString(ua) }),
      updatedAt: now,
    };
  }

  /**
   * Step 8: "The registrar returns a 200 (OK) response. The response MUST contain Contact header
   * field values enumerating all current bindings. Each Contact value MUST feature an "expires"
   * parameter indicating its expiration interval chosen by the registrar. The response SHOULD
   * include a Date header field." Path is echoed when the UA supports it (RFC 3327 §5.3).
   */
  private ok(aor: string, bindings: readonly ContactBinding[], request: SipRequest): RegistrarResult {
    const now = this.now();
    const headers: Array<[string, string]> = [];
    for (const b of bindings) {
      const left = Math.max(0, Math.round((b.expires - now) / 1000));
      headers.push(['Contact', `<${b.contact}>;expires=${left}${b.q !== 1 ? `;q=${b.q}` : ''}`]);
    }
    if (request.supported.some((s) => s.toLowerCase() === 'path')) for (const p of request.getAll('path')) headers.push(['Path', p]);
    headers.push(['Date', sipDate(now)]);
    return { status: 200, headers, aor };
  }
}

/** The Date header value of the second `now` falls in (RFC 3261 §20.17: RFC 1123 time in GMT), made once a second. */
let dateSecond = -1;
let dateText = '';
function sipDate(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/** Where a REGISTER came from, as a binding keeps it. */
function receivedOf(source: Flow): ContactBinding['received'] {
  return {
    transport: source.transport,
    address: source.remoteAddress,
    port: source.remotePort,
    ...(source.localAddress === undefined ? {} : { localAddress: source.localAddress }),
    ...(source.localPort === undefined ? {} : { localPort: source.localPort }),
  };
}

/** A contact's uriMatchKey, made the first time a comparison needs it (a refresh needs none). */
class LazyKey {
  made: string | undefined = undefined;
  constructor(private readonly contact: Contact) {}
  get value(): string {
    return (this.made ??= uriMatchKey(this.contact.uri));
  }
}

function sameBinding(b: ContactBinding, c: Contact, text: string, key: LazyKey): boolean {
  const instance = c.instance;
  if (instance !== undefined && b.instance === instance && (b.regId ?? null) === (c.regId ?? null)) return true;
  if (b.contact === text) return true; // a refresh from the same phone: the common case
  if (matchKey(b) !== key.value) return false; // another user, host or port: not the same URI
  try {
    return uriEquals(parseUri(b.contact), c.uri);
  } catch {
    return false;
  }
}

/**
 * The uriMatchKey of each binding's contact, kept beside the binding (a binding is replaced, not
 * changed, when refreshed): a REGISTER compares its contact with every binding of the AOR (§10.3
 * step 7, URI equality of §19.1.4), and without the key an AOR with several phones had each of
 * their URIs parsed again at every refresh of any of them. A binding made here gets its key from
 * the contact parsed for it; one from another worker or from the store is parsed once.
 */
const matchKeys = new WeakMap<ContactBinding, string>();
function matchKey(b: ContactBinding): string {
  let key = matchKeys.get(b);
  if (key === undefined) {
    try {
      key = uriMatchKey(parseUri(b.contact));
    } catch {
      key = `\u0001${b.contact}`; // matches no parsed URI's key: compared as text only
    }
    matchKeys.set(b, key);
  }
  return key;
}

/** Seconds a client is asked to wait before it tries again after a commit that failed. */
export const NOT_STORED_RETRY_AFTER = 5;

/**
 * The bindings could not be committed (the database failed, or the binding writer did not answer
 * in time; the location service logs why). RFC 3261 §21.5.1: "The server encountered an
 * unexpected condition that prevented it from fulfilling the request. The client MAY display the
 * specific error condition and MAY retry the request after several seconds." Retry-After says
 * how many (§20.33).
 */
function notStored(aor: string): RegistrarResult {
  return { status: 500, reason: 'Server Internal Error (bindings not stored)', headers: [['Retry-After', String(NOT_STORED_RETRY_AFTER)]], aor };
}

/**
 * §10.3 step 6/7: "If not, the update MUST be aborted and the request fails." The RFC names no
 * status; Parley answers 400 with a reason that says why (Kamailio's registrar does likewise).
 */
function outOfOrder(): RegistrarResult {
  return { status: 400, reason: 'Bad Request (CSeq out of order for this Call-ID)', headers: [] };
}
