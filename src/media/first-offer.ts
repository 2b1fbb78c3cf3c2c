/**
 * The media plane's decision on the first `auto` offer of a call, taken where the offer is (a SIP
 * core) instead of in the media thread. For a call the media thread holds no session of, an `auto`
 * offer is anchored only when needsAnchor says so; when it does not, the media thread reads the
 * SDP, decides, and answers "not anchored" without keeping anything. Most calls between phones of
 * one network are such calls: asking costs a round trip to the media thread (two messages, its
 * SDP parse, the INVITE waiting meanwhile) for an answer the SIP core can work out itself with the
 * same functions.
 *
 * The rule's precondition — no session for the Call-ID in the media thread — is what a client
 * knows: every session comes from an offer sent to the thread, so a Call-ID none of whose offers
 * went there has none (FirstOffers). Sessions made over the ng protocol (media/ng) share the
 * thread's table of Call-IDs; a call both relayed by Parley's proxy with `auto` anchoring and
 * offered by a Kamailio over ng is not a set-up Parley supports.
 */
import type { MediaOfferRequest, MediaProfile } from '../lib/media-control.js';
import type { LegFactory } from './media-session.js';
import { needsAnchor, readRemote } from './media-sessions.js';
import type { SdpFunctions } from './sdp-functions.js';

/** What a SIP core needs to know of the media thread to decide as it would. */
export interface MediaPlaneInfo {
  /** The family of the address the media ports are bound on (PortPool.family). */
  readonly family: 4 | 6;
  /** The profiles the media thread makes legs of (LegFactory.supports). */
  readonly profiles: readonly MediaProfile[];
}

/** The plane of a media thread whose ports are bound in `family` and whose legs are `legs`. */
export function mediaPlaneInfo(family: 4 | 6, legs: Pick<LegFactory, 'supports'>): MediaPlaneInfo {
  return { family, profiles: (['rtp', 'sdes', 'webrtc'] as const satisfies readonly MediaProfile[]).filter((p) => legs.supports(p)) };
}

/**
 * `false` when the media thread would answer this `auto` offer "not anchored" (the call has no
 * session there); `true` when it would anchor it; `undefined` when it would refuse it (488: an
 * SDP it cannot read, another family, a profile not served): it must see those, to say why.
 */
export function firstAutoOfferAnchors(sdp: SdpFunctions, plane: MediaPlaneInfo, r: MediaOfferRequest): boolean | undefined {
  const read = readRemote(sdp, r.sdp, 'offer', plane.family, (p) => plane.profiles.includes(p));
  if (!read.ok) return undefined;
  return needsAnchor(read.remote, r.source, r.towards);
}

/** Call-IDs remembered at most (the oldest is forgotten first). */
const MAX_CALLS = 65_536;

/**
 * The Call-IDs of a client whose offers went to the media thread: only for the others may the
 * client decide an `auto` offer itself (firstAutoOfferAnchors). A Call-ID is remembered from its
 * first offer sent (not from its answer: a fork's second branch must not be decided here while
 * the first one's offer is on its way) until the whole call is deleted (a BYE, a failure), when
 * the thread forgets its session too. At most MAX_CALLS: an anchored call whose Call-ID was
 * forgotten that way (65,536 later anchored calls while it lasted) is asked about no more for a
 * new out-of-dialog offer of the same Call-ID; in-dialog offers (mode `dialog`) always go.
 */
export class FirstOffers {
  private readonly sent = new Map<string, true>();

  constructor(private readonly max = MAX_CALLS) {}

  /** Has an offer of this call gone to the media thread? */
  asked(callId: string): boolean {
    return this.sent.has(callId);
  }

  /** An offer of this call goes to the media thread. */
  ask(callId: string): void {
    if (this.sent.has(callId)) return;
    this.sent.set(callId, true);
    if (this.sent.size > this.max) this.sent.delete(this.sent.keys().next().value!);
  }

  /** The whole call is deleted in the media thread. */
  forget(callId: string): void {
    this.sent.delete(callId);
  }

  get size(): number {
    return this.sent.size;
  }
}
