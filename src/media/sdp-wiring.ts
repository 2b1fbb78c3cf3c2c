/**
 * The SDP negotiation the session manager uses: src/sdp's parser, sdp-side.ts's reading and
 * writing of the anchored stream, codec-plan.ts's choices.
 */
import { err } from '../lib/result.js';
import { parseSdp, type SessionDescription } from '../sdp/index.js';
import { answerCodecs, bridgeCodecs, offerCodecs } from './codec-plan.js';
import type { SdpFunctions } from './sdp-functions.js';
import { readSide, writeSide } from './sdp-side.js';

export const sdpFunctions: SdpFunctions<SessionDescription> = {
  parse: (text) => {
    const parsed = parseSdp(text);
    return parsed.ok ? parsed : err({ warnCode: 399, warning: `bad SDP: ${parsed.error.message}` });
  },
  readSide,
  writeSide,
  offerCodecs,
  bridgeCodecs: (a, b) => bridgeCodecs(a, b),
  answerCodecs,
};
