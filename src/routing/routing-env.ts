import type { Logger } from '../lib/logger.js';
import type { AuthOutcome, RequestAuthenticator } from '../sip-server/core/request-authenticator.js';
import type { LocalIdentity } from '../sip-server/core/local-identity.js';
import type { ProxyCore } from '../sip-server/proxy/proxy-core.js';
import type { LocationService } from '../sip-server/registrar/location-service.js';
import type { Registrar } from '../sip-server/registrar/registrar.js';
import type { SipServer } from '../sip-server/sip-server.js';
import type { FailureLimiter } from '../sip-server/auth/failure-limiter.js';
import type { SubscriberStore } from '../store/subscriber-store.js';
import type { RateCounter } from './rate-counter.js';

export type { AuthOutcome };

/**
 * What the actions of a routing script act on, in one SIP core: the server (answers), the proxy
 * core, the registrar and location service, digest authentication, and the configuration a
 * script may read (trusted listeners, outbound routes). Built once per core (src/app/sip-core.ts,
 * or the test harness); shared by every script version.
 */
export interface RoutingEnv {
  readonly server: SipServer;
  readonly identity: LocalIdentity;
  readonly proxy: ProxyCore;
  readonly registrar: Registrar;
  readonly location: LocationService;
  readonly subscribers: SubscriberStore;
  /** Digest authentication; none: every request counts as authenticated (as user `anonymous`). */
  readonly auth?: RequestAuthenticator;
  /** Failed authentications and other failures per source (`auth.failureLimit`); none: nothing is counted or blocked. */
  readonly limiter?: Pick<FailureLimiter, 'isBlocked' | 'recordFailure'>;
  /** Local ports of listeners whose requests are not authenticated (`auth: false`). */
  readonly trustedPorts: ReadonlySet<number>;
  /** `proxy.outbound`: domain (lower-case) or `*` → proxy URI. */
  readonly outbound: ReadonlyMap<string, string>;
  /** Per-key request counters of `rateLimited` (shared by every version, so a reload keeps the counts). */
  readonly rates: RateCounter;
  /**
   * The default of `RelayOptions.media` (configuration `media.anchor`); `off` when absent. Only
   * meaningful when the proxy has a media plane (ProxyCoreOptions.media).
   */
  readonly mediaAnchor?: 'auto' | 'always' | 'off';
  readonly log: Logger;
  /** Counted here for the metrics endpoint: exceptions the script threw (a SipReply is an answer, not one). */
  readonly counters?: { scriptErrors: number };
}
