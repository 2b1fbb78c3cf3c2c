/**
 * One RTP timeline mapped onto another: input timestamps in one clock (8000 or 48000 Hz) to output
 * timestamps in another, from a base of Parley's choosing. Input timestamps wrap at 2^32 and may
 * arrive a little out of order: each is unwrapped against the last one seen (the nearer of the
 * two readings of a 32-bit difference), so that the mapping holds through a wrap and for hours.
 *
 * The transcoder's audio and the DTMF mapper's events use one map per direction, so that an
 * event's timestamp lies on the same output timeline as the audio around it (RFC 4733 §2.5.1.2
 * puts event packets in the audio stream's timestamp space).
 */
export class TimestampMap {
  private readonly fromRate: number;
  private readonly toRate: number;
  private readonly outBase: number;
  private inBase = 0;
  /** Output offset of inBase (0, until a rebase). */
  private shift = 0;
  private last = 0;
  private lastExtended = 0;
  private started = false;

  constructor(fromRate: number, toRate: number, outBase: number) {
    this.fromRate = fromRate;
    this.toRate = toRate;
    this.outBase = outBase >>> 0;
  }

  /** The input timestamp unwrapped (a plain number that does not wrap); remembered when `observe`. */
  extend(timestamp: number, observe = false): number {
    const ts = timestamp >>> 0;
    if (!this.started) {
      this.started = true;
      this.inBase = ts;
      this.last = ts;
      this.lastExtended = ts;
      return ts;
    }
    const extended = this.lastExtended + ((ts - this.last) | 0);
    if (observe) {
      this.last = ts;
      this.lastExtended = extended;
    }
    return extended;
  }

  /** Output-clock units since the base for an unwrapped input timestamp (not wrapped). */
  offsetOf(extended: number): number {
    return this.shift + Math.floor(((extended - this.inBase) * this.toRate) / this.fromRate);
  }

  /** The output offset of the last input timestamp observed. */
  currentOffset(): number {
    return this.offsetOf(this.lastExtended);
  }

  /** A new input timeline from `timestamp` on, which maps to output offset `offset`. */
  rebase(timestamp: number, offset: number): void {
    const ts = timestamp >>> 0;
    this.started = true;
    this.inBase = ts;
    this.last = ts;
    this.lastExtended = ts;
    this.shift = offset;
  }

  /** An output offset as a 32-bit RTP timestamp. */
  wrap(offset: number): number {
    return (this.outBase + offset) >>> 0;
  }

  /** The output timestamp for an input timestamp (without moving the unwrapping point). */
  map(timestamp: number): number {
    return this.wrap(this.offsetOf(this.extend(timestamp)));
  }

  /** Scale a duration (e.g. an RFC 4733 event's) from the input clock to the output clock. */
  scale(units: number): number {
    return Math.round((units * this.toRate) / this.fromRate);
  }
}
