/**
 * Symmetric RTP latching with a learning window (rtpengine's "heuristic" endpoint learning): where
 * a plain RTP leg sends, learned from where the side's packets come from.
 *
 * Latching on the first packet alone lets whoever sends first take the stream: anyone who sprays
 * a media port range (the "RTP Bleed" attack) would receive the call's audio and send into it. So
 * for the first LEARNING_MS after the first packet, a source that matches the SDP better takes
 * over: the SDP's address and port (rank 3) over the SDP's address with another port (rank 2,
 * a NAT that keeps the address) over any other source (rank 1, a phone behind NAT writing its
 * private address). After the window the latched source is fixed until a re-offer names a new
 * address (`reset`). A phone that is not behind NAT thus always wins against a stranger; one
 * behind NAT is protected from strangers who start later than it does.
 */

/** How long a better-matching source may still take the latch, after the first packet (as rtpengine). */
export const LEARNING_MS = 3000;

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export class Latch {
  private target: Endpoint | undefined;
  private rank = 0;
  private learnUntil = 0;

  constructor(
    /** Where the SDP says the side receives (undefined: no usable address, e.g. c=0.0.0.0). */
    private expected: Endpoint | undefined,
    private readonly now: () => number,
  ) {
    this.target = expected;
  }

  /** Where to send now: the latched source, or the SDP's address before any packet. */
  get destination(): Endpoint | undefined {
    return this.target;
  }

  get latched(): boolean {
    return this.rank > 0;
  }

  /** A re-offer named a new address: learning starts again. */
  reset(expected: Endpoint | undefined): void {
    this.expected = expected;
    this.target = expected;
    this.rank = 0;
    this.learnUntil = 0;
  }

  /** Take the latch on a packet from `source`? Its packets are accepted when it holds the latch (after this call). */
  accept(address: string, port: number): boolean {
    const t = this.target;
    if (this.rank > 0 && t !== undefined && t.address === address && t.port === port) return true;
    const rank = this.rankOf(address, port);
    const now = this.now();
    if (this.rank === 0) {
      this.learnUntil = now + LEARNING_MS;
    } else if (now >= this.learnUntil || rank <= this.rank) {
      return false;
    }
    this.target = { address, port };
    this.rank = rank;
    return true;
  }

  private rankOf(address: string, port: number): number {
    const e = this.expected;
    if (e === undefined || e.address !== address) return 1;
    return e.port === port ? 3 : 2;
  }
}
