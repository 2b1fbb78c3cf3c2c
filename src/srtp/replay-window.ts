/**
 * The replay list of RFC 3711 §3.3.2 as a sliding window: the highest index accepted and a 64-bit
 * mask of the 64 indices below and at it (bit k: highest - k was received), in two 32-bit words.
 */

/** The window of 64 indices (the size §3.3.2 names as the minimum and libsrtp uses). */
export const REPLAY_WINDOW = 64;

export class ReplayWindow {
  private highest = -1;
  private low = 0; // bits 0..31
  private high = 0; // bits 32..63

  /** True when `index` is new and not too old (before authentication: nothing changes). */
  check(index: number): boolean {
    if (this.highest < 0 || index > this.highest) return true;
    const delta = this.highest - index;
    if (delta >= REPLAY_WINDOW) return false;
    return delta < 32 ? (this.low & (1 << delta)) === 0 : (this.high & (1 << (delta - 32))) === 0;
  }

  /** Marks `index` received (after authentication). */
  accept(index: number): void {
    if (this.highest < 0) {
      this.highest = index;
      this.low = 1;
      this.high = 0;
      return;
    }
    if (index > this.highest) {
      const shift = index - this.highest;
      if (shift >= REPLAY_WINDOW) {
        this.low = 0;
        this.high = 0;
      } else if (shift >= 32) {
        this.high = shift === 32 ? this.low : this.low << (shift - 32);
        this.low = 0;
      } else {
        this.high = (this.high << shift) | (this.low >>> (32 - shift));
        this.low = this.low << shift;
      }
      this.low |= 1;
      this.highest = index;
      return;
    }
    const delta = this.highest - index;
    if (delta < 32) this.low |= 1 << delta;
    else if (delta < REPLAY_WINDOW) this.high |= 1 << (delta - 32);
  }
}
