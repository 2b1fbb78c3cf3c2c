/**
 * Limits that protect the parser from hostile input. Every limit has a documented default
 * (docs/configuration.md) and can be changed by configuration.
 */
export interface ParseLimits {
  /** Largest message, start line + headers + body, in bytes. Default 65,535 (a UDP datagram). */
  readonly maxMessageSize: number;
  /** Most header fields (lines, after unfolding). Default 256. */
  readonly maxHeaders: number;
  /** Longest header field, folded lines joined, in characters. Default 16,384. */
  readonly maxLineLength: number;
}

export const DEFAULT_LIMITS: ParseLimits = Object.freeze({
  maxMessageSize: 65535,
  maxHeaders: 256,
  maxLineLength: 16384,
});
