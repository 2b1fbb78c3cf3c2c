/**
 * Which codecs Parley offers to the far side of an anchored call, how the two sides' codecs are
 * bridged once the far side has answered (passed through with payload types renumbered, or
 * transcoded Opus ↔ G.711), and which of the first side's codecs its answer lists. Pure functions
 * over CodecSpec lists (src/media/side.ts); the runtime calls them with what readSide found.
 */
import type { MediaProfile } from '../lib/media-control.js';
import type { CodecSpec } from './side.js';
import type { SdpRefusal } from './sdp-side.js';

/** The codecs the runtime can transcode between (opusscript for Opus, G.711 by table). */
export const TRANSCODABLE: ReadonlySet<string> = new Set(['opus', 'PCMU', 'PCMA']);

/** What Chromium's WebRTC stack takes for audio, and what Parley offers a browser. */
const WEBRTC_AUDIO = new Set(['opus', 'pcmu', 'pcma', 'g722', 'telephone-event']);

const PCMU: CodecSpec = { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 };
const PCMA: CodecSpec = { pt: 8, name: 'PCMA', clockRate: 8000, channels: 1 };

/** Codecs that carry no voice of their own (events, comfort noise, redundancy, retransmission): never the bridge's choice. */
const AUXILIARY = new Set(['telephone-event', 'cn', 'red', 'rtx', 'ulpfec']);

function key(codec: CodecSpec): string {
  return codec.name.toLowerCase();
}

function isDtmf(codec: CodecSpec): boolean {
  return key(codec) === 'telephone-event';
}

function isG711(codec: CodecSpec): boolean {
  return key(codec) === 'pcmu' || key(codec) === 'pcma';
}

function isTranscodable(codec: CodecSpec, transcodable: ReadonlySet<string>): boolean {
  for (const name of transcodable) if (name.toLowerCase() === key(codec)) return true;
  return false;
}

/**
 * The same codec on both sides (RFC 3264 §6.1: matched by encoding name and clock rate, not by
 * payload type number). Opus is always written /48000/2 (RFC 7587 §7); other channel counts must agree.
 */
export function sameCodec(x: CodecSpec, y: CodecSpec): boolean {
  if (key(x) !== key(y) || x.clockRate !== y.clockRate) return false;
  return key(x) === 'opus' || x.channels === y.channels;
}

function freePayloadType(used: readonly CodecSpec[], preferred: number): number {
  const taken = new Set(used.map((c) => c.pt));
  if (!taken.has(preferred)) return preferred;
  for (let pt = 96; pt <= 127; pt++) if (!taken.has(pt)) return pt;
  return preferred;
}

/**
 * The codecs Parley offers the side that `towards` names, from the codecs of the offer it
 * received: those of the offer the target can take (a browser: Opus, G.711, G.722,
 * telephone-event at 48000 or 8000; a phone: all of them), then G.711 (PCMU 0, PCMA 8) as transcoding targets
 * towards a phone when the offer has Opus but no G.711 (Parley transcodes them when the phone
 * answers one), and telephone-event/8000 towards a phone when the offer had telephone-event at
 * another clock rate only (RFC 4733 events are carried across the bridge). Towards a browser,
 * nothing is added: Chromium takes G.711 itself.
 */
export function offerCodecs(offered: readonly CodecSpec[], towards: MediaProfile, transcodable: ReadonlySet<string> = TRANSCODABLE): CodecSpec[] {
  // Chromium writes telephone-event at 48000 and 8000 (the clock rates of Opus and G.711) only.
  const out = towards === 'webrtc' ? offered.filter((c) => WEBRTC_AUDIO.has(key(c)) && (!isDtmf(c) || c.clockRate === 8000 || c.clockRate === 48000)) : [...offered];
  if (towards === 'webrtc') return out;
  const voice = out.filter((c) => !isDtmf(c));
  const dtmf = out.filter(isDtmf);
  const rest = [...voice];
  const hasOpus = offered.some((c) => key(c) === 'opus');
  if (hasOpus && !offered.some(isG711) && transcodable.has('opus')) {
    for (const g711 of [PCMU, PCMA]) rest.push({ ...g711, pt: freePayloadType([...rest, ...dtmf], g711.pt) });
  }
  if (dtmf.length > 0 && !dtmf.some((c) => c.clockRate === 8000)) {
    dtmf.push({ pt: freePayloadType([...rest, ...dtmf], 101), name: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-15' });
  }
  return [...rest, ...dtmf];
}

/** How the media plane carries audio between side A (the offerer) and side B (the answerer). */
export type Bridge =
  | {
      readonly kind: 'pass';
      /** A's payload type → B's, for every codec both sides have (telephone-event included at equal clock rates). */
      readonly aToB: ReadonlyMap<number, number>;
      readonly bToA: ReadonlyMap<number, number>;
      readonly dtmf: BridgeDtmf;
    }
  | {
      readonly kind: 'transcode';
      /** The codec A's side speaks and the one B's side speaks. */
      readonly a: CodecSpec;
      readonly b: CodecSpec;
      readonly dtmf: BridgeDtmf;
    };

/** Each side's telephone-event (RFC 4733), when it has one: DTMF goes across the bridge as events. */
export interface BridgeDtmf {
  readonly a?: CodecSpec;
  readonly b?: CodecSpec;
}

function dtmfOf(codecs: readonly CodecSpec[], clockRate: number | undefined): CodecSpec | undefined {
  const events = codecs.filter(isDtmf);
  return events.find((c) => c.clockRate === clockRate) ?? events.find((c) => c.clockRate === 8000) ?? events[0];
}

function dtmfPair(a: readonly CodecSpec[], aVoice: CodecSpec, b: readonly CodecSpec[], bVoice: CodecSpec): BridgeDtmf {
  const dtmfA = dtmfOf(a, aVoice.clockRate);
  const dtmfB = dtmfOf(b, bVoice.clockRate);
  return { ...(dtmfA !== undefined ? { a: dtmfA } : {}), ...(dtmfB !== undefined ? { b: dtmfB } : {}) };
}

/**
 * The bridge between side A's codecs (its offer) and side B's (its answer). RFC 3264 §6.1: the
 * answerer lists the formats it will use, most preferred first; the first voice codec of B's
 * answer is the one the call speaks. Found on A too: passed through, payload types renumbered.
 * Not on A, but one of Opus and G.711 on each side: transcoded. Otherwise 305.
 */
export function bridgeCodecs(a: readonly CodecSpec[], b: readonly CodecSpec[], transcodable: ReadonlySet<string> = TRANSCODABLE): Bridge | SdpRefusal {
  const bVoice = b.filter((c) => !AUXILIARY.has(key(c)));
  const first = bVoice[0];
  if (first === undefined) return { warnCode: 305, warning: 'the answer has no voice codec' };
  const onA = a.find((c) => sameCodec(c, first));
  if (onA !== undefined) {
    const aToB = new Map<number, number>();
    const bToA = new Map<number, number>();
    for (const ca of a) {
      const cb = b.find((c) => sameCodec(c, ca));
      if (cb === undefined || aToB.has(ca.pt) || bToA.has(cb.pt)) continue;
      aToB.set(ca.pt, cb.pt);
      bToA.set(cb.pt, ca.pt);
    }
    return { kind: 'pass', aToB, bToA, dtmf: dtmfPair(a, onA, b, first) };
  }
  if (isTranscodable(first, transcodable)) {
    // Opus on one side, G.711 on the other: A's own preference among what transcodes to `first`.
    const other = a.find((c) => isTranscodable(c, transcodable) && (key(first) === 'opus' ? isG711(c) : key(c) === 'opus'));
    if (other !== undefined) return { kind: 'transcode', a: other, b: first, dtmf: dtmfPair(a, other, b, first) };
  }
  return { warnCode: 305, warning: `no codec in common and none to transcode (${first.name}/${first.clockRate} against ${a.map((c) => c.name).join(', ') || 'nothing'})` };
}

/**
 * The codecs of A's offer that Parley's answer to A lists: for each of `chosen` (the bridge's
 * codec for A, its telephone-event, or every codec B answered for a pass-through), the codec of
 * A's offer that matches it, with A's payload type and parameters, in the order of `chosen`. A
 * telephone-event of another clock rate stands for A's own (events are translated across the bridge).
 */
export function answerCodecs(offered: readonly CodecSpec[], chosen: readonly CodecSpec[]): CodecSpec[] {
  const out: CodecSpec[] = [];
  for (const want of chosen) {
    let match = offered.find((c) => sameCodec(c, want));
    if (match === undefined && isDtmf(want)) match = dtmfOf(offered, want.clockRate);
    if (match !== undefined && !out.includes(match)) out.push(match);
  }
  return out;
}
