/**
 * `tshark -q -z rtp,streams` output read back (Wireshark 4.0's columns: start, end, src, port,
 * dst, port, SSRC, payload, packets, lost (percent), min/mean/max delta, min/mean/max jitter,
 * problems), and compared with `parley pcap streams --json`: the bench and the interop test use it.
 */

import type { RtpStreamFigures } from '../../src/capture/rtp-stream-stats.js';
import type { RtpStreamId } from '../../src/capture/rtp-streams.js';

/** One row of tshark's table. */
export interface TsharkStreamRow {
  /** "src srcPort dst dstPort ssrc" (SSRC in decimal). */
  readonly key: string;
  readonly payload: string;
  readonly packets: number;
  readonly lost: number;
  /** As printed: "(1.2%)". */
  readonly lostPercent: string;
  /** Min/mean/max delta, min/mean/max jitter, as printed (three decimals). */
  readonly figures: readonly string[];
  readonly problem: boolean;
}

export function parseTsharkRtpStreams(out: string): Map<string, TsharkStreamRow> {
  const rows = new Map<string, TsharkStreamRow>();
  for (const line of out.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words.length < 17 || !words[6]!.startsWith('0x')) continue;
    const problem = words[words.length - 1] === 'X';
    const figuresEnd = problem ? words.length - 1 : words.length;
    const figures = words.slice(figuresEnd - 6, figuresEnd);
    const key = `${words[2]} ${words[3]} ${words[4]} ${words[5]} ${Number.parseInt(words[6]!, 16)}`;
    rows.set(key, {
      key,
      payload: words.slice(7, figuresEnd - 9).join(' '),
      packets: Number(words[figuresEnd - 9]),
      lost: Number(words[figuresEnd - 8]),
      lostPercent: words[figuresEnd - 7]!,
      figures,
      problem,
    });
  }
  return rows;
}

/**
 * A stream of `parley pcap streams --json` (streamJson in src/cli/pcap/streams-command.ts), as far as
 * the comparison needs it: who the stream is, its codec, and the figures tshark prints too.
 */
export type ParleyStreamJson = RtpStreamId &
  Pick<RtpStreamFigures, 'packets' | 'lost' | 'lostPercent' | 'sequenceErrors' | 'minDeltaMs' | 'meanDeltaMs' | 'maxDeltaMs' | 'minJitterMs' | 'meanJitterMs' | 'maxJitterMs' | 'problem'> & {
    readonly callId?: string;
    readonly codec: string;
  };

/**
 * Every difference between ours and tshark's: the same streams, codec, packets, lost, problems
 * flag; delta and jitter printed alike with three decimals (`figuresWithin1Percent`: jitter within
 * 1 % instead, for the tolerance). Empty when they agree.
 */
export function compareWithTshark(ours: readonly ParleyStreamJson[], theirs: ReadonlyMap<string, TsharkStreamRow>, printed: (value: number, decimals: number) => string): string[] {
  const problems: string[] = [];
  const mine = new Map(ours.map((s) => [`${s.src} ${s.srcPort} ${s.dst} ${s.dstPort} ${s.ssrc}`, s]));
  for (const key of theirs.keys()) if (!mine.has(key)) problems.push(`${key}: tshark's stream, not ours`);
  for (const key of mine.keys()) if (!theirs.has(key)) problems.push(`${key}: our stream, not tshark's`);
  for (const [key, t] of theirs) {
    const o = mine.get(key);
    if (o === undefined) continue;
    const check = (what: string, a: string | number | boolean, b: string | number | boolean): void => {
      if (a !== b) problems.push(`${key} ${what}: ours ${a}, tshark ${b}`);
    };
    check('codec', o.codec, t.payload);
    check('packets', o.packets, t.packets);
    check('lost', o.lost, t.lost);
    check('lost %', `(${printed(o.lostPercent, 1)}%)`, t.lostPercent);
    check('problems', o.problem, t.problem);
    const values = [o.minDeltaMs, o.meanDeltaMs, o.maxDeltaMs, o.minJitterMs, o.meanJitterMs, o.maxJitterMs];
    const names = ['min delta', 'mean delta', 'max delta', 'min jitter', 'mean jitter', 'max jitter'];
    values.forEach((v, i) => check(names[i]!, printed(v, 3), t.figures[i]!));
  }
  return problems;
}
