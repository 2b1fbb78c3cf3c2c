/**
 * The API a routing script is written against: the handlers a script exports and the context
 * each handler gets (the request, the actions). Types only; src/routing/script-contexts.ts
 * implements them. Kamailio names in brackets help readers who know its configuration.
 *
 *   onStateless(ctx)  every request, before the transaction layer: answer without state, or pass
 *   onRequest(ctx)    a new request outside a dialog (no To tag)                 [request_route]
 *   onInDialog(ctx)   a request inside a dialog (To tag), and ACKs for 2xx       [WITHINDLG]
 *   onResponse(ctx)   each response from a branch of a relayed request          [onreply_route]
 *   onFailure(ctx)    every branch failed: try other targets or answer          [failure_route]
 */
import type { Flow, SipRequest, SipResponse, Uri } from '../sip/index.js';

/** Where to relay: a URI (text or parsed) or a target with its own settings. */
export type RelayTarget = string | Uri | RelayTargetSpec;

export interface RelayTargetSpec {
  readonly uri: string | Uri;
  /** q-value: targets of the highest q are tried together, lower ones after (RFC 3261 §16.6). Default 1. */
  readonly q?: number;
}

export interface RelayOptions {
  /** One target after another: the next is tried when the previous one answered 3xx–5xx (or none), not after a 2xx or 6xx. */
  readonly serial?: boolean;
  /** Send through this proxy (a Route `<uri;lr>` on top): an outbound proxy, an SBC, a trunk's edge. */
  readonly outboundProxy?: string;
  /**
   * Anchor the call's media in Parley's media plane [rtpengine_manage / rtpengine_offer]: `auto`
   * when the two sides differ (a WebSocket client and a SIP phone, no codec in common, a phone
   * behind NAT), `always`, or `off`. Default: `media.anchor` of the configuration (`off` without a
   * media plane). The SDP of an anchored INVITE and of its answers is rewritten by the media
   * plane; an offer it refuses fails that branch with 488 and a Warning. An anchored call is
   * record-routed even without `recordRoute()`: its re-INVITEs, UPDATEs and BYE must come back
   * through Parley. Inside a dialog, a request of an anchored call goes to the media plane
   * unless this is `off`. For INVITEs outside a dialog only; new targets of `onFailure` keep the
   * request's choice.
   */
  readonly media?: 'auto' | 'always' | 'off';
}

/** The outcome of checking credentials without answering (`checkAuth`). */
/** Options of `ctx.save()`. */
export interface SaveOptions {
  /**
   * Where requests to this REGISTER's contacts registered over UDP without RFC 5626 outbound go:
   * `auto` to the REGISTER's source address and port when NAT is detected (a private Contact
   * address from a public source, a top Via whose sent-by is not the source), to the Contact
   * otherwise; `always` to the source; `never` to the Contact. Default: `registrar.natDetection`.
   */
  readonly natDetection?: 'auto' | 'always' | 'never';
}

export type AuthCheck =
  | { readonly ok: true; readonly user: string; readonly realm: string }
  | { readonly ok: false; readonly status: number; readonly reason?: string };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * What `looseRoute()` found among the Route values naming Parley (`ctx.routeCheck`). Parley signs
 * its Record-Route entries for the dialog they are recorded in and the target its requests go to
 * (an HMAC of the Call-ID, the caller's tag and the other party's Contact in a `rrsig` URI
 * parameter); a request that comes back along that route carries the signature, which is checked
 * against its Call-ID, its From or To tag and its Request-URI.
 *
 *   none      no Route value names Parley
 *   signed    Parley's entries, signed by Parley for this request's dialog: a route Parley recorded
 *             (an unsigned Route of Parley's in front of them, preloaded by a phone that has Parley
 *             as its outbound proxy, is allowed)
 *   unsigned  Parley's entries without a signature: a preloaded Route (a phone that has Parley as
 *             its outbound proxy sends one on initial requests), or one written by hand
 *   invalid   a signature that does not verify: forged, cut short, or recorded for another dialog or another target
 */
export type RouteCheck = 'none' | 'signed' | 'unsigned' | 'invalid';

/** What every context has. */
export interface ScriptContextBase {
  /** The script version running this handler (it stays the same for a request's whole transaction). */
  readonly version: number;
  readonly callId: string;
  /**
   * Variables of this request's transaction: set them in onRequest, read them in onResponse and
   * onFailure of the same request [$avp, $xavp]. Names listed in the script's `dumpVars` export
   * are written into traces.
   */
  readonly vars: Record<string, unknown>;
  /** A log line with the Call-ID, the script version and `fields` [xlog]. */
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

/** Reading and editing the header fields of the request (any context that has one). */
export interface HeaderActions {
  /** The first value of a header field (full name or compact form, any case), or undefined. */
  header(name: string): string | undefined;
  /** Every value of a header field, one per header line. */
  headers(name: string): string[];
  /** Append a header field [append_hf]. */
  addHeader(name: string, value: string): void;
  /** Replace every value of a header field with one. */
  setHeader(name: string, value: string): void;
  /** Remove every value of a header field; returns how many lines went [remove_hf]. */
  removeHeader(name: string): number;
}

/** onStateless: before any transaction exists; synchronous. */
export interface StatelessContext extends Omit<ScriptContextBase, 'vars'> {
  readonly request: SipRequest;
  readonly method: string;
  /** The Request-URI. */
  readonly ruri: Uri;
  /** Where the request came from (transport, remote and local address and port). */
  readonly source: Flow;
  /** It came over a listener configured with `auth: false` (a trusted trunk or benchmark). */
  readonly trusted: boolean;
  header(name: string): string | undefined;
  /** The URI names this server (one of its domains or addresses, and a port it listens on) [uri == myself]. */
  isLocal(uri: Uri): boolean;
  /** Parley serves this domain (the host part of an AOR). */
  servesDomain(host: string): boolean;
  /**
   * Answer without a transaction (RFC 3261 §8.2.7; the To tag is derived from the request, so a
   * retransmission gets the same answer) [sl_send_reply]. Ignored for ACK.
   */
  reply(status: number, reason?: string, headers?: ReadonlyArray<readonly [string, string]>): void;
  /** 200 with Allow, Accept and Supported (RFC 3261 §11.2), without a transaction. */
  replyOptions(): void;
  /**
   * When the request carries no credentials for our realm, answer it statelessly — 401/407 with
   * challenges, 403 for a blocked source, 400 for malformed credentials — and return true;
   * false when there are credentials to check (with `authenticate` in onRequest)
   * [auth_challenge before t_newtran].
   */
  requireCredentials(): boolean;
  /** Count this request against `max` per `perSeconds` for `key` (default: the source address); true when over [pike]. */
  rateLimited(max: number, perSeconds: number, key?: string): boolean;
}

/** onRequest and onInDialog: a request with its server transaction (none for an ACK). */
export interface RequestContext extends ScriptContextBase, HeaderActions {
  readonly request: SipRequest;
  readonly method: string;
  /** The current Request-URI (after any rewrite). */
  readonly ruri: Uri;
  readonly source: Flow;
  readonly trusted: boolean;
  /** The request has a To tag (it belongs to a dialog). */
  readonly inDialog: boolean;
  isLocal(uri: Uri): boolean;
  servesDomain(host: string): boolean;

  // ---- checks ---------------------------------------------------------------------------
  /**
   * RFC 3261 §16.3: Max-Forwards (483; an OPTIONS to the server itself is let through), loops
   * (482), Proxy-Require (420 with Unsupported), a Request-URI scheme Parley cannot route (416);
   * where Parley is the UAS (a REGISTER, or a request to the server's own address): Require with
   * an option tag it does not support (420 with Unsupported, §8.2.2.3), a method it does not know
   * (501, §21.5.2). Answers and returns false when the request fails one [maxfwd, sanity, loop checks].
   */
  sanityCheck(): boolean;
  /**
   * RFC 3261 §16.4: remove the Route values naming Parley (and undo a strict router's rewrite).
   * True when the request followed a route Parley recorded for its dialog: Parley's entries
   * carry the signature Parley made for this Call-ID, the request's From or To tag and its
   * Request-URI (the Contact the route was recorded for: a stranger who got the route from one
   * ring cannot point the dialog's requests elsewhere). A Route
   * naming Parley without it — anyone can write one in front of any Request-URI — gives false;
   * `routeCheck` then says what was there [loose_route, with a check Kamailio leaves to the
   * dialog module].
   */
  looseRoute(): boolean;
  /** What `looseRoute()` found: `none`, `signed`, `unsigned` or `invalid` (RouteCheck); `none` before it runs. */
  readonly routeCheck: RouteCheck;
  rateLimited(max: number, perSeconds: number, key?: string): boolean;
  /**
   * The source address is blocked by the failure limiter (`auth.failureLimit`: too many wrong
   * passwords, or `countFailure` calls). `authenticate` refuses blocked sources itself (403);
   * this is for requests that are not authenticated [pike / htable ban check].
   */
  isBlocked(): boolean;
  /**
   * Count this request as a failure of its source in the failure limiter, as a wrong password
   * counts: `auth.failureLimit.maxFailures` of them within the window block the source. For
   * probes that authentication does not see, such as requests for users that do not exist from
   * unauthenticated callers (a scanner enumerating users). No-op without a limiter.
   */
  countFailure(): void;

  // ---- Request-URI --------------------------------------------------------------------------
  /** Replace the Request-URI [$ru = …]. */
  setRuri(uri: string | Uri): void;
  /** Replace its user part [$rU = …]. */
  setRuriUser(user: string): void;
  /** Replace its host (and port) [$rd = …, $rp = …]. */
  setRuriHost(host: string, port?: number): void;

  // ---- authentication -------------------------------------------------------------------------
  /**
   * Digest authentication as the stock configuration does it: checks the credentials (401 for
   * REGISTER, 407 otherwise), then that From (and To for REGISTER) is the authenticated user's
   * AOR (403 otherwise), and removes the credentials meant for Parley. Answers and resolves
   * undefined when authentication fails; resolves the user name otherwise
   * [auth_check + consume_credentials].
   */
  authenticate(): Promise<string | undefined>;
  /** Check the credentials and say what would be answered, without answering or consuming them [pv_auth_check]. */
  checkAuth(): Promise<AuthCheck>;
  /** Answer with a fresh challenge: 401 for REGISTER, 407 otherwise [auth_challenge]. */
  challenge(): void;

  // ---- registrar and location -----------------------------------------------------------------
  /**
   * RFC 3261 §10.3: store the REGISTER's bindings and answer it (200 with the contacts, or 4xx)
   * [save]. Resolves the status sent. `natDetection` overrides `registrar.natDetection` for this
   * REGISTER: where requests to its UDP contacts go (`always`: Kamailio's fix_nated_register).
   */
  save(options?: SaveOptions): Promise<number>;
  /**
   * The contacts registered for `aor` (default: the Request-URI's user@host) become the targets
   * of the next `relay()`, by q; at most 16 of them (MAX_LOOKUP_TARGETS: the highest q, then the
   * latest refreshed), so that an AOR with hundreds of contacts is no fork bomb; returns how many [lookup].
   */
  lookup(aor?: string): number;
  /**
   * The user exists: a subscriber, or an AOR with registrations now or earlier (for 404 vs 480).
   * Both are looked up whatever the first says, so that the time taken does not tell. Tell the
   * answer only to callers who may know it (docs/routing.md, "Users that do not exist").
   */
  userExists(aor?: string): Promise<boolean>;
  /** The configured outbound route (`proxy.outbound`) for a domain Parley does not serve, or for `*`. */
  outboundRoute(domain: string): string | undefined;

  // ---- answers --------------------------------------------------------------------------------
  /** Add Record-Route to the request when it is relayed (two entries when the transports differ) [record_route]. */
  recordRoute(): void;
  /**
   * Forward statefully (RFC 3261 §16.6) [t_relay]: to `targets` (in parallel, or one after
   * another with `serial`), else to the contacts `lookup` found, else to the Request-URI.
   * A CANCEL is matched to its INVITE and its branches cancelled; an ACK for a 2xx goes on
   * statelessly along its route.
   */
  relay(targets?: RelayTarget | readonly RelayTarget[], options?: RelayOptions): void;
  /** Answer with a final (or provisional) response [sl_send_reply / t_reply]. */
  reply(status: number, reason?: string, headers?: ReadonlyArray<readonly [string, string]>): void;
  /** 200 with Allow, Accept and Supported (RFC 3261 §11.2). */
  replyOptions(): void;
  /** Neither answer nor relay: the request is dropped (its transaction ends by its timers) [drop]. */
  drop(): void;
}

/** onResponse: a response from one branch, before the proxy forwards it or keeps it for later. */
export interface ReplyContext extends ScriptContextBase {
  /** The request as received (and changed by the script). */
  readonly request: SipRequest;
  readonly response: SipResponse;
  readonly status: number;
  /** The branch's Request-URI (its target). */
  readonly target: Uri;
  header(name: string): string | undefined;
  headers(name: string): string[];
  /** Edit the response before it goes upstream [append_hf / remove_hf in onreply_route]. */
  addHeader(name: string, value: string): void;
  removeHeader(name: string): number;
}

/** onFailure: every branch ended without a 2xx; `response` is the one that would go upstream. */
export interface FailureContext extends ScriptContextBase, HeaderActions {
  readonly request: SipRequest;
  readonly response: SipResponse;
  readonly status: number;
  readonly ruri: Uri;
  /** The caller cancelled (then the failure route does not run) or a 6xx arrived: no new branch may start [t_is_canceled]. */
  readonly canRelay: boolean;
  setRuri(uri: string | Uri): void;
  setRuriUser(user: string): void;
  setRuriHost(host: string, port?: number): void;
  /** Start new branches (the responses so far still count when the best one is chosen) [t_relay in failure_route]. */
  relay(targets?: RelayTarget | readonly RelayTarget[], options?: RelayOptions): void;
  /** Send this response upstream instead of `response`. */
  reply(status: number, reason?: string, headers?: ReadonlyArray<readonly [string, string]>): void;
}

type Awaitable = void | Promise<void>;

/**
 * A routing script: the module's exports (named exports, or one default export object made with
 * `defineScript`). `onRequest` is required; without `onInDialog` in-dialog requests follow the
 * recorded route (as the default script does). `onStateless` and `onResponse` must be synchronous.
 */
export interface RoutingScript {
  onRequest(ctx: RequestContext): Awaitable;
  onInDialog?(ctx: RequestContext): Awaitable;
  onResponse?(ctx: ReplyContext): void;
  onFailure?(ctx: FailureContext): Awaitable;
  onStateless?(ctx: StatelessContext): void;
  /** Names of `ctx.vars` entries written into traces at the start and end of each handler. */
  readonly dumpVars?: readonly string[];
}

/** `export default defineScript({ … })`: the object's handlers get their context types inferred. */
export function defineScript<S extends RoutingScript>(script: S): S {
  return script;
}
