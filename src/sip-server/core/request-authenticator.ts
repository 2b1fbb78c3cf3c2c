import type { Flow, SipRequest } from '../../sip/index.js';

/** The outcome of checking a request's credentials (the auth module implements it). */
export type AuthOutcome =
  | { readonly ok: true; readonly username: string; readonly realm: string }
  | { readonly ok: false; readonly status: number; readonly reason?: string; readonly headers: ReadonlyArray<readonly [string, string]> };

/** Digest authentication as routing uses it (policy lives in src/sip-server/auth). */
export interface RequestAuthenticator {
  authenticate(request: SipRequest, source: Flow): Promise<AuthOutcome>;
  /** The refusal that needs no store lookup (no credentials: a challenge), or undefined. */
  precheck(request: SipRequest, source: Flow): (AuthOutcome & { ok: false }) | undefined;
  /**
   * A fresh challenge for this request (401 for REGISTER, 407 otherwise), whatever it carries;
   * `source` (where it came in) decides the algorithms offered and their order.
   */
  challenge(request: SipRequest, source?: Flow): AuthOutcome & { ok: false };
}
