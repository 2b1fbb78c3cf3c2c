/**
 * The permissions of one allocation (RFC 8656 §9): peer IP addresses, in canonical form
 * (peer-policy.ts), each with its expiry. The port is not part of a permission.
 */

/** RFC 8656 §9: "The Permission Lifetime MUST be 300 seconds (= 5 minutes)." */
export const PERMISSION_LIFETIME_MS = 300_000;

export class Permissions {
  /** canonical peer IP → expiry (clock ms) */
  private readonly expiries = new Map<string, number>();

  get size(): number {
    return this.expiries.size;
  }

  /**
   * RFC 8656 §9: "If a permission for the IP address exists, its expiration time is refreshed to
   * be [Permission Lifetime] seconds from now; otherwise, a new permission is installed."
   */
  install(address: string, now: number): void {
    this.expiries.set(address, now + PERMISSION_LIFETIME_MS);
  }

  /** Is there an unexpired permission for this (canonical) IP address? */
  has(address: string, now: number): boolean {
    const expiry = this.expiries.get(address);
    return expiry !== undefined && expiry > now;
  }

  /** Forget the permissions that have expired. */
  sweep(now: number): void {
    for (const [address, expiry] of this.expiries) if (expiry <= now) this.expiries.delete(address);
  }
}
