// The codecs `parley pcap wav` decodes, from the media plane's: G.711 µ-law and A-law
// (src/media/codecs/g711.ts) and G.722 (src/media/codecs/g722.ts), by payload format name as
// tshark (g711U, g711A, g722) or SDP's rtpmap (PCMU, PCMA, G722) names them.
import type { AudioDecoder, AudioDecoderFactory } from '../../capture/rtp-audio.js';
import type { PayloadFormat } from '../../capture/payload-formats.js';
import { g711Decode, type G711Law } from '../../media/codecs/g711.js';
import { G722_SAMPLE_RATE, G722Decoder } from '../../media/codecs/g722.js';

const LAWS: Readonly<Record<string, G711Law>> = { pcmu: 'PCMU', g711u: 'PCMU', pcma: 'PCMA', g711a: 'PCMA' };

/** The names of what we decode, for messages. */
export const DECODED_CODECS = 'G.711 µ-law (PCMU), G.711 A-law (PCMA), G.722';

export const audioDecoders: AudioDecoderFactory = (format: PayloadFormat): AudioDecoder | undefined => {
  const name = format.name.toLowerCase();
  const law = LAWS[name];
  if (law !== undefined) {
    if (format.clockRate !== 0 && format.clockRate !== 8000) return undefined;
    let out = new Int16Array(160);
    return {
      sampleRate: 8000,
      decode(payload) {
        if (out.length < payload.length) out = new Int16Array(payload.length);
        return out.subarray(0, g711Decode(law, payload, out));
      },
    };
  }
  if (name === 'g722') {
    const decoder = new G722Decoder();
    let out = new Int16Array(320);
    return {
      sampleRate: G722_SAMPLE_RATE,
      decode(payload) {
        if (out.length < payload.length * 2) out = new Int16Array(payload.length * 2);
        return out.subarray(0, decoder.decode(payload, out));
      },
    };
  }
  return undefined;
};
