/**
 * Codecs of the media plane: transcoding Opus ↔ G.711 and PCMU ↔ PCMA (createTranscoder) and
 * RFC 4733 telephone events across the bridge (createDtmfMapper). Packets in, packets out: no
 * sockets, no timers. The runtime makes one Transcoder per direction of a call whose sides share
 * no codec, gives it every RTP packet of that direction, and closes it with the call.
 */
export { createTranscoder, canTranscode, type Transcoder, type TranscoderOptions, type OutputStream } from './transcoder.js';
export { createDtmfMapper, readTelephoneEvents, writeTelephoneEvent, TELEPHONE_EVENT, type DtmfMapper, type TelephoneEvent } from './dtmf.js';
export { OpusCodec, OPUS_RATE, OPUS_FRAME, OPUS_BANDWIDTH, type OpusOptions, type OpusPcmRate } from './opus-codec.js';
export { g711Decode, g711Encode, g711Convert, G711_SILENCE, type G711Law } from './g711.js';
export { Upsampler, Downsampler, type ResampleRatio } from './resampler.js';
export { readRtpHeader, writeRtpHeader, RTP_HEADER_BYTES, type RtpHeader } from './rtp-header.js';
