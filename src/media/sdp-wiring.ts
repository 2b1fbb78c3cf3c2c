/**
 * The SDP negotiation the session manager uses: src/sdp's parser, sdp-side.ts's reading and
 * writing of the anchored stream, codec-plan.ts's choices.
 */
import type { SessionDescription } from '../sdp/index.js';
import { answerCodecs, bridgeCodecs, offerCodecs } from './codec-plan.js';
import type { SdpFunctions } from './sdp-functions.js';
import { parseSdpOrRefuse, readSide, writeSide } from './sdp-side.js';

export const sdpFunctions: SdpFunctions<SessionDescription> = {
  parse: parseSdpOrRefuse,
  readSide,
  writeSide,
  offerCodecs,
  bridgeCodecs: (a, b) => bridgeCodecs(a, b),
  answerCodecs,
};
