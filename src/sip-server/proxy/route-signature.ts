import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Uri } from '../../sip/index.js';
import { HmacSha256 } from '../auth/hmac-sha256.js';

/**
 * What the Route values naming Parley in a request were (ProxyCore.processRoute):
 *   none      no Route value names Parley
 *   signed    each of them carries a signature Parley made for this request's dialog
 *   unsigned  none carries a signature: a preloaded Route (an initial request to its outbound
 *             proxy), or one written by hand
 *   invalid   a signature that does not verify: forged, cut short, or made for another dialog
 *             (another Call-ID, or a Call-ID with other tags), or for another target (Request-URI); or an unsigned entry after a
 *             signed one (unsigned entries in front of the signed ones are a preloaded Route
 *             and count as nothing)
 */
export type RouteCheck = 'none' | 'signed' | 'unsigned' | 'invalid';

/** The URI parameter of Parley's Record-Route entries that carries the signature. */
export const ROUTE_SIGNATURE_PARAM = 'rrsig';

/** Bytes of HMAC-SHA-256 kept: 96 bits, 24 hex digits. */
const MAC_HEX = 12 * 2;
const HEX = /^[0-9a-f]+$/;
/** Domain separation: this key signs nothing else, but the text says what it is for. */
const LABEL = 'parley-record-route-2\0';

/**
 * The signature Parley puts in its Record-Route entries (`;rrsig=…`), so that an in-dialog
 * request coming back along the route can show, without any state kept, that the route is one
 * Parley recorded for that dialog — and not a Route of ours written by hand in front of any
 * Request-URI, which would make Parley an open relay (issue 14).
 *
 * RFC 3261 §16.6 step 4: "The proxy MAY include parameters in the Record-Route header field
 * value. These will be echoed in some responses to the request such as the 200 (OK) responses to
 * INVITE. Such parameters may be useful for keeping state in the message rather than the proxy."
 * §12.1.1 and §12.1.2: the UAS and the UAC take the route set from Record-Route "preserving all
 * URI parameters", so the parameter comes back in every Route of the dialog.
 *
 * What is signed is the dialog's identity as it is known when the route is recorded: the
 * dialog-creating request has the Call-ID and the caller's tag (From tag), not yet the callee's.
 * So the MAC is over Call-ID and the From tag of that request; an in-dialog request matches when
 * its Call-ID and either of its tags give the same MAC (a request from the callee has the tags
 * swapped: the caller's tag is its To tag). Every dialog a forked request creates (one Call-ID
 * and From tag, several To tags) is covered by the one signature.
 *
 * The signature also names the remote target the dialog's requests go to through that entry
 * (`routeTarget`: scheme, host, port and maddr of the Request-URI they carry), and each side
 * gets its own: the entries in the request going to the callee are signed for the caller's
 * Contact (the callee's requests go there), and Parley rewrites its entries in the responses
 * going back to the caller (ProxyCore.signResponseRoute) for the callee's Contact in that
 * response. Signed for the dialog alone, one 180 from any registered phone gave a stranger a
 * Route that Parley relayed to any Request-URI, for as long as the key lives (a MESSAGE, INVITE
 * or BYE with that Call-ID and From tag reached a foreign host: the open relay of issue 14 again,
 * after one ring). Bound to the target, a signed route leads only to the other end of the dialog.
 * DEVIATION(RFC 3261 §12.2.1.2): a target refresh that moves a party to another host, port or
 * maddr takes the dialog's requests to a target the route was not signed for (403).
 *
 * The MAC is HMAC-SHA-256 under a key that outlives restarts (calls do; see route-key.ts), cut to
 * 96 bits, in lower-case hex; it is compared in constant time.
 */
export class RouteSignature {
  private readonly hmac: HmacSha256;

  constructor(secret: Uint8Array = randomBytes(32)) {
    this.hmac = new HmacSha256(secret);
  }

  /**
   * The signature for the dialog(s) of a request with this Call-ID and From tag, for requests to
   * `target` (routeTarget of the Contact they will be sent to).
   */
  sign(callId: string, fromTag: string | undefined, target: string): string {
    return this.hmac.macText(`${LABEL}${callId}\0${fromTag ?? ''}\0${target}`, MAC_HEX);
  }

  /**
   * True when `signature` was made by `sign` for `callId`, one of the request's tags (its From
   * tag: a request from the caller; its To tag: from the callee) and `target` (routeTarget of the
   * request's Request-URI). Anything else — no signature,
   * one cut short or lengthened, one for another Call-ID or another caller's tag — is false.
   */
  verify(signature: string | undefined, callId: string, fromTag: string | undefined, toTag: string | undefined, target: string): boolean {
    if (signature === undefined || signature.length !== MAC_HEX) return false;
    const given = signature.toLowerCase();
    if (!HEX.test(given)) return false;
    const got = Buffer.from(given, 'latin1');
    // both are computed, whichever matches, so that the time taken does not say which tag did
    const byFrom = timingSafeEqual(Buffer.from(this.sign(callId, fromTag, target), 'latin1'), got);
    const byTo = toTag !== undefined && timingSafeEqual(Buffer.from(this.sign(callId, toTag, target), 'latin1'), got);
    return byFrom || byTo;
  }
}

/**
 * What a signature names of the place a dialog's requests go: the Request-URI's scheme, host
 * (lower case), port and maddr — what decides where Parley sends the request — and not its user
 * part or other parameters. Anything but a SIP or SIPS URI: the scheme alone.
 */
export function routeTarget(uri: Uri | undefined): string {
  if (uri === undefined) return '';
  if (uri.kind !== 'sip') return uri.kind;
  const maddr = uri.param('maddr');
  return `${uri.scheme}:${uri.host.toLowerCase()}:${uri.port ?? ''}${typeof maddr === 'string' ? `;maddr=${maddr.toLowerCase()}` : ''}`;
}
