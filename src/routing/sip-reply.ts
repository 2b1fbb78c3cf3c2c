/** Marks a SipReply across copies of this module (a script bundled with its own copy still works). */
const BRAND = Symbol.for('parley.routing.SipReply');

/**
 * Thrown by a routing script to answer the request with this status and stop routing it:
 * `throw new SipReply(403, 'Forbidden (no trunk for this prefix)')`. Only a final status (300–699)
 * ends a request this way; the script's handler is left at once, like Kamailio's
 * `sl_send_reply(); exit;`. In a failure handler it replaces the response that would go upstream.
 */
export class SipReply extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  readonly headers: ReadonlyArray<readonly [string, string]>;

  constructor(status: number, reason?: string, headers: ReadonlyArray<readonly [string, string]> = []) {
    super(`${status}${reason === undefined ? '' : ` ${reason}`}`);
    if (!Number.isInteger(status) || status < 300 || status > 699) throw new RangeError(`SipReply: a final non-2xx status (300-699), not ${status}`);
    this.name = 'SipReply';
    this.status = status;
    this.reason = reason;
    this.headers = headers;
    (this as unknown as Record<symbol, boolean>)[BRAND] = true;
  }

  /** True for a SipReply, also one made by another copy of this module. */
  static is(value: unknown): value is SipReply {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}
