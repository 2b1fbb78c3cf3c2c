import { ParleyError } from '../../lib/errors.js';

/**
 * The three base values of RFC 3261 Table 4 (§17.1.1.1, Appendix A), in milliseconds.
 * Every other timer is derived from them.
 */
export interface TimerConfig {
  /** RTT estimate. Default 500 ms. */
  readonly T1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses. Default 4 s. */
  readonly T2: number;
  /** Maximum duration a message will remain in the network. Default 5 s. */
  readonly T4: number;
}

export const DEFAULT_TIMER_CONFIG: TimerConfig = { T1: 500, T2: 4000, T4: 5000 };

/**
 * Timer values of RFC 3261 Table 4 and of RFC 6026 (Timer L, §7.1; Timer M, §7.2), in milliseconds.
 * Retransmission timers (A, E, G) give their first interval; the transactions double them.
 * Timers whose value depends on the transport take `reliable` (transport !== 'udp').
 */
export class Timers {
  readonly T1: number;
  readonly T2: number;
  readonly T4: number;

  constructor(config: Partial<TimerConfig> = {}) {
    const { T1, T2, T4 } = { ...DEFAULT_TIMER_CONFIG, ...config };
    for (const [name, v] of [['T1', T1], ['T2', T2], ['T4', T4]] as const) {
      if (!Number.isFinite(v) || v <= 0) throw new ParleyError('ERR_INVALID_ARGUMENT', `${name} must be a positive number of milliseconds`);
    }
    this.T1 = T1;
    this.T2 = T2;
    this.T4 = T4;
  }

  /** INVITE request retransmit interval, for UDP only: initially T1, doubling (§17.1.1.2). */
  get timerA(): number {
    return this.T1;
  }

  /** INVITE transaction timeout: 64*T1. */
  get timerB(): number {
    return 64 * this.T1;
  }

  /**
   * Wait time for response retransmits: "a value of at least 32 seconds for unreliable
   * transports, and a value of zero seconds for reliable transports" (§17.1.1.2).
   * Unreliable: the larger of 32 s and 64*T1, so that it outlasts the server's Timer H when T1
   * is configured above 500 ms.
   */
  timerD(reliable: boolean): number {
    return reliable ? 0 : Math.max(32_000, 64 * this.T1);
  }

  /** Non-INVITE request retransmit interval, UDP only: initially T1 (see `next`). */
  get timerE(): number {
    return this.T1;
  }

  /** Non-INVITE transaction timeout: 64*T1. */
  get timerF(): number {
    return 64 * this.T1;
  }

  /** INVITE response retransmit interval, UDP only: initially T1 (see `next`). */
  get timerG(): number {
    return this.T1;
  }

  /** Wait time for ACK receipt: 64*T1. */
  get timerH(): number {
    return 64 * this.T1;
  }

  /** Wait time for ACK retransmits: T4 for UDP, zero for reliable transports. */
  timerI(reliable: boolean): number {
    return reliable ? 0 : this.T4;
  }

  /** Wait time for non-INVITE request retransmits: 64*T1 for UDP, zero for reliable transports. */
  timerJ(reliable: boolean): number {
    return reliable ? 0 : 64 * this.T1;
  }

  /** Wait time for response retransmits: T4 for UDP, zero for reliable transports. */
  timerK(reliable: boolean): number {
    return reliable ? 0 : this.T4;
  }

  /** Wait time for accepted INVITE request retransmits (RFC 6026): 64*T1. */
  get timerL(): number {
    return 64 * this.T1;
  }

  /** Wait time for retransmission of 2xx to INVITE or additional 2xx from other branches (RFC 6026): 64*T1. */
  get timerM(): number {
    return 64 * this.T1;
  }

  /** The interval after `interval` for Timers E and G: doubled, but never above T2 (§17.1.2.2, §17.2.1). */
  next(interval: number): number {
    return Math.min(2 * interval, this.T2);
  }
}
