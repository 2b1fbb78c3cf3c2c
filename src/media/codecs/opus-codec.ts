/**
 * Opus (RFC 6716) through libopus 1.4 compiled to WebAssembly (the npm package `opusscript`): one
 * encoder and one decoder, mono, with PCM at 48 kHz or at a lower rate libopus offers (8, 12, 16,
 * 24 kHz). The RTP clock of Opus is 48 kHz whatever the PCM rate (RFC 7587 §4.1); at 8 kHz libopus
 * resamples inside the codec (its encoder then codes the 4 kHz band only; its decoder drops the
 * bands above 4 kHz before it decimates), which costs less than feeding it 48 kHz.
 *
 * RFC 7587 names every Opus stream `opus/48000/2` in SDP whatever it carries; a decoder made for one
 * channel decodes a stereo stream as its downmix (libopus does this for any Opus packet), and
 * Parley sends mono (the other side of a transcoded call is G.711, mono by nature). So both
 * directions are mono and `channels` of the CodecSpec does not matter here.
 *
 * opusscript's own JavaScript wrapper is not used: its views of the wasm heap are taken at twice
 * the address of the buffers it allocated (a Uint16Array indexed by byte address), so it writes
 * outside them, and its views go stale when the heap grows. This file drives the same compiled
 * handler (`OpusScriptHandler`: encode, decode, the two CTLs) with buffers of its own and fresh
 * views on every call. The handler's calling convention (from opusscript's C++): `_encode(in,
 * bytes, out, frameSize)` reads the PCM as one byte of each sample per 16-bit slot, low byte
 * first; `_decode(in, bytes, out)` writes the samples the same way and returns the count per
 * channel; `_decode` with 0 bytes runs libopus's packet loss concealment.
 */
import { createRequire } from 'node:module';

interface OpusHandler {
  _encode(input: number, bytes: number, output: number, frameSize: number): number;
  _decode(input: number, bytes: number, output: number): number;
  _encoder_ctl(ctl: number, arg: number): number;
  _decoder_ctl(ctl: number, arg: number): number;
}

interface OpusNative {
  OpusScriptHandler: { new (rate: number, channels: number, application: number): OpusHandler; destroy_handler(h: OpusHandler): void };
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAPU8: Uint8Array;
  HEAPU16: Uint16Array;
}

let native: OpusNative | undefined;

/** The compiled module, instantiated once per thread on first use (synchronously: Node reads the .wasm from disk). */
function opusNative(): OpusNative {
  if (!native) {
    const require = createRequire(import.meta.url);
    const factory = require('opusscript/build/opusscript_native_wasm.js') as () => OpusNative;
    native = factory();
  }
  return native;
}

/** The wasm heap's size in bytes (tests: encoders and decoders freed leave it unchanged). */
export function opusHeapBytes(): number {
  return opusNative().HEAPU8.byteLength;
}

/** Opus's RTP clock rate, and its PCM rate at full band. */
export const OPUS_RATE = 48000;
/** 20 ms at 48 kHz. */
export const OPUS_FRAME = 960;
/** libopus's largest frame: 120 ms at 48 kHz (also what concealment returns at once). */
const MAX_FRAME = 5760;

export type OpusPcmRate = 8000 | 12000 | 16000 | 24000 | 48000;
/** RFC 6716 §3.4 allows 1275 bytes per frame; 3 × 1276 covers any packet libopus writes. */
const MAX_PACKET = 1276 * 3;

// libopus CTL requests and values (opus_defines.h).
const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_MAX_BANDWIDTH = 4004;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_DTX = 4016;
const OPUS_SET_SIGNAL = 4024;
const OPUS_SIGNAL_VOICE = 3001;
export const OPUS_BANDWIDTH = { narrowband: 1101, mediumband: 1102, wideband: 1103, superwideband: 1104, fullband: 1105 } as const;

export interface OpusOptions {
  /** The PCM rate of encode's input and decode's output (default 48,000). */
  readonly rate?: OpusPcmRate;
  /** Bits per second (default 32,000). */
  readonly bitrate?: number;
  /**
   * 0..10 (libopus's own default 10). Default here 5: a 20 ms frame of speech costs about a third
   * of what it costs at 10 (bench/media/codec-cost.ts), for a G.711 source whose band is 4 kHz.
   */
  readonly complexity?: number;
  /** The widest band the encoder codes (default: wideband; G.711 audio carries nothing above 4 kHz). */
  readonly maxBandwidth?: (typeof OPUS_BANDWIDTH)[keyof typeof OPUS_BANDWIDTH];
}

/** An Opus encoder and decoder pair (mono). One per direction of a call. */
export class OpusCodec {
  /** PCM samples per second. */
  readonly rate: OpusPcmRate;
  /** Samples in 20 ms at `rate`. */
  readonly frame: number;
  private readonly mod: OpusNative;
  private handler: OpusHandler | undefined;
  /** PCM in: two 16-bit slots per sample (one byte in each). */
  private readonly pcmIn: number;
  /** PCM out: the same layout, up to MAX_FRAME samples. */
  private readonly pcmOut: number;
  private readonly packetIn: number;
  private readonly packetOut: number;

  constructor(options: OpusOptions = {}) {
    this.rate = options.rate ?? OPUS_RATE;
    this.frame = this.rate / 50;
    this.mod = opusNative();
    this.handler = new this.mod.OpusScriptHandler(this.rate, 1, OPUS_APPLICATION_VOIP);
    this.pcmIn = this.mod._malloc(MAX_FRAME * 4);
    this.pcmOut = this.mod._malloc(MAX_FRAME * 4);
    this.packetIn = this.mod._malloc(MAX_PACKET);
    this.packetOut = this.mod._malloc(MAX_PACKET);
    const h = this.handler;
    h._encoder_ctl(OPUS_SET_BITRATE, options.bitrate ?? 32000);
    h._encoder_ctl(OPUS_SET_COMPLEXITY, options.complexity ?? 5);
    h._encoder_ctl(OPUS_SET_MAX_BANDWIDTH, options.maxBandwidth ?? OPUS_BANDWIDTH.wideband);
    h._encoder_ctl(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE);
    // In-band FEC off (it costs bits and our G.711 side cannot use it) and no DTX: one packet per frame.
    h._encoder_ctl(OPUS_SET_INBAND_FEC, 0);
    h._encoder_ctl(OPUS_SET_DTX, 0);
  }

  /**
   * Encode one frame of `count` samples (2.5, 5, 10, 20, 40 or 60 ms; default 20) from `pcm` at
   * `offset`. Returns a copy of the packet, or undefined when libopus refuses (a bad frame size).
   */
  encode(pcm: Int16Array, count = this.frame, offset = 0): Buffer | undefined {
    const h = this.handler;
    if (!h || count > MAX_FRAME) return undefined;
    const slots = this.mod.HEAPU16;
    let s = this.pcmIn >> 1;
    for (let i = 0; i < count; i++) {
      const v = pcm[offset + i]!;
      slots[s++] = v & 0xff;
      slots[s++] = (v >> 8) & 0xff;
    }
    const len = h._encode(this.pcmIn, count, this.packetOut, count);
    if (len < 0) return undefined;
    return Buffer.from(this.mod.HEAPU8.subarray(this.packetOut, this.packetOut + len));
  }

  /**
   * Decode one packet into `out` (room for 120 ms: 5,760 samples at 48 kHz); returns the samples
   * written, or -1 for an invalid packet. Without a packet (`undefined`), conceals a lost one:
   * libopus extrapolates 120 ms from what it last decoded, and the first `concealSamples` (default
   * 20 ms) of it are returned.
   */
  decode(packet: Uint8Array | undefined, out: Int16Array, concealSamples = this.frame): number {
    const h = this.handler;
    if (!h) return -1;
    let n: number;
    if (packet === undefined || packet.length === 0) {
      n = h._decode(this.packetIn, 0, this.pcmOut);
      if (n > concealSamples) n = concealSamples;
    } else {
      if (packet.length > MAX_PACKET) return -1;
      this.mod.HEAPU8.set(packet, this.packetIn);
      n = h._decode(this.packetIn, packet.length, this.pcmOut);
    }
    if (n < 0) return -1;
    if (n > out.length) n = out.length;
    const slots = this.mod.HEAPU16;
    let s = this.pcmOut >> 1;
    for (let i = 0; i < n; i++) {
      const lo = slots[s++]!;
      const hi = slots[s++]!;
      out[i] = ((hi << 8) | lo) << 16 >> 16;
    }
    return n;
  }

  /** Free the wasm encoder, decoder and buffers; idempotent. */
  close(): void {
    const h = this.handler;
    if (!h) return;
    this.handler = undefined;
    this.mod.OpusScriptHandler.destroy_handler(h);
    this.mod._free(this.pcmIn);
    this.mod._free(this.pcmOut);
    this.mod._free(this.packetIn);
    this.mod._free(this.packetOut);
  }
}
