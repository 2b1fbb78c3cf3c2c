/**
 * What the session manager needs of the SDP negotiation (src/sdp, sdp-side.ts, codec-plan.ts),
 * as one object: the manager never reads or writes SDP text itself. `sdpFunctions` (sdp-wiring.ts)
 * is the real one; tests may give a smaller one.
 */
import type { MediaProfile } from '../lib/media-control.js';
import type { Result } from '../lib/result.js';
import type { BridgePlan } from './bridge.js';
import type { Origin, SdpRefusal } from './sdp-side.js';
import type { CodecSpec, LocalSide, RemoteSide } from './side.js';

export type { Origin, SdpRefusal };

/** A new offer with Parley's audio m-line only, or an answer mirroring the offer's m-lines. */
export type SdpShape<S> = { readonly kind: 'offer'; readonly origin: Origin } | { readonly kind: 'answer'; readonly origin: Origin; readonly offer: S; readonly mIndex: number };

export interface SdpFunctions<S = unknown> {
  /** Parse SDP text; an SDP that cannot be parsed is refused (399 with the line). */
  parse(text: string): Result<S, SdpRefusal>;
  /** The anchored stream of an offer or an answer (an answer may not say actpass, RFC 5763 §5). */
  readSide(session: S, role: 'offer' | 'answer'): Result<RemoteSide, SdpRefusal>;
  writeSide(local: LocalSide, shape: SdpShape<S>): string;
  offerCodecs(offered: readonly CodecSpec[], towards: MediaProfile, transcodable: ReadonlySet<string>): CodecSpec[];
  bridgeCodecs(a: readonly CodecSpec[], b: readonly CodecSpec[]): BridgePlan | SdpRefusal;
  answerCodecs(offered: readonly CodecSpec[], chosen: readonly CodecSpec[]): CodecSpec[];
}
