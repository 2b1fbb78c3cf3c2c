/**
 * Which decoded streams make one call's mixed audio, and where each starts in it. Streams are
 * aligned on capture time: a stream's first sample sits at the capture time of its first decoded
 * packet (inside a stream, RTP timestamps place the rest: rtp-audio.ts). Mixing sums samples and
 * clips at 16 bits (wav-file.ts, mixWavFiles).
 *
 * Streams of different sample rates (G.711's 8 kHz with G.722's 16 kHz) are not mixed: we refuse
 * with the reason rather than resample, since the two directions of one call share a codec in
 * every offer/answer we know of, and a mix of a resampled side would not be what anyone heard.
 */
import { err, ok, type Result } from '../lib/result.js';
import { type AudioTrackReport } from './rtp-audio.js';

export interface MixPlan {
  readonly sampleRate: number;
  /** The call's time zero: the earliest stream start (ns since the epoch). */
  readonly startTime: bigint;
  readonly inputs: ReadonlyArray<{ readonly track: AudioTrackReport; readonly offset: number }>;
}

/** The mix of `tracks` (those with decoded audio), or why there is none. */
export function planMix(tracks: readonly AudioTrackReport[]): Result<MixPlan, string> {
  const audible = tracks.filter((t) => t.sampleRate !== undefined && t.startTime !== undefined && t.samples > 0);
  if (audible.length === 0) return err('no stream with decoded audio');
  const rates = new Set(audible.map((t) => t.sampleRate!));
  if (rates.size > 1) {
    const list = audible.map((t) => `${t.codec} at ${t.sampleRate} Hz`).join(', ');
    return err(`the streams have different sample rates (${list}): no mixed file, each direction is written alone`);
  }
  const sampleRate = audible[0]!.sampleRate!;
  const startTime = audible.reduce((min, t) => (t.startTime! < min ? t.startTime! : min), audible[0]!.startTime!);
  return ok({
    sampleRate,
    startTime,
    inputs: audible.map((track) => ({ track, offset: Math.round((Number(track.startTime! - startTime) * sampleRate) / 1e9) })),
  });
}

/**
 * Streams grouped into RTP sessions by their endpoints, for captures without SIP: a stream and
 * the one going back between the same two address:port pairs are one session (RFC 3550 §3:
 * "the session is defined by a particular pair of destination transport addresses"). Groups come in
 * the order of their first stream.
 */
export function groupByEndpoints<T extends { src: string; srcPort: number; dst: string; dstPort: number }>(streams: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const s of streams) {
    const a = `${s.src} ${s.srcPort}`;
    const b = `${s.dst} ${s.dstPort}`;
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = []));
    group.push(s);
  }
  return [...groups.values()];
}
