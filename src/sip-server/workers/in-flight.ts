/**
 * What the socket thread has handed one SIP worker and the worker has not yet taken: the bound on
 * a worker's queue (sip-server/workers/sip-worker-pool.ts).
 *
 * The socket thread counts every received message it hands the worker (count and bytes, from the
 * moment it enters the worker's batch); the worker reports, after each batch it has worked
 * through, how many messages and bytes it has taken since it started (a `took` item, cumulative,
 * so a lost or merged report costs nothing). The difference is what waits in the batch, in the
 * channel, or in a worker that does not get round to it. Without a bound, a stuck worker made the
 * socket thread queue every datagram for it: 153 MB to 3.3 GB in 150 s.
 *
 * Beyond the bound (either limit reached):
 * - a UDP datagram is shed: dropped and counted, as a full socket buffer drops it (its sender
 *   retransmits, RFC 3261 §17.1.1.2);
 * - a stream message (TCP, TLS, WebSocket) is still handed over — a stream's bytes are never
 *   dropped, that would break its framing and lose a request its sender will not resend — and
 *   its connection is paused (no more reading: TCP's window closes and the peer slows down).
 *
 * An episode starts at the first message beyond the bound and ends once the worker has worked
 * the queue down to half of both limits (hysteresis: no flapping at the edge); the paused
 * connections are resumed then.
 */
export interface QueueLimits {
  /** Most messages in flight to one worker. */
  readonly maxMessages: number;
  /** Most bytes (of the messages themselves) in flight to one worker. */
  readonly maxBytes: number;
}

/** Defaults of `sip.workerQueue`: about 1–2 s of a worker's full load; a datagram older than 0.5 s is dropped by the worker anyway. */
export const DEFAULT_QUEUE_LIMITS: QueueLimits = { maxMessages: 10_000, maxBytes: 16 * 1024 * 1024 };

/**
 * What `admit` decided for one message: hand it to the worker (`take`); a datagram beyond the
 * bound: drop it, counted (`shed`); a stream message beyond the bound: hand it over and pause its
 * connection (`pause`, the first time in this episode; later ones are `take`).
 */
export type Admit = 'take' | 'shed' | 'pause';

/** An episode that ended. */
export interface EpisodeEnd {
  /** Datagrams shed during it. */
  readonly shed: number;
  /** Connections paused during it (to be resumed now). */
  readonly paused: readonly number[];
  /** How long it lasted, ms. */
  readonly ms: number;
}

export class InFlight {
  private handedMessages = 0;
  private handedBytes = 0;
  private takenMessages = 0;
  private takenBytes = 0;
  /** Since when the bound is reached (ms since the epoch); undefined: not shedding. */
  private since: number | undefined;
  private shedNow = 0;
  private announced = false;
  private readonly pausedNow = new Set<number>();

  constructor(
    private readonly limits: QueueLimits,
    private readonly now: () => number = Date.now,
    /**
     * What else waits for the worker, counted elsewhere (the datagrams other workers handed it,
     * hand-off-bound.ts): part of the bound, and of the episode's end.
     */
    private readonly elsewhere?: { messages(): number; bytes(): number },
  ) {}

  /** Messages handed over and not yet taken. */
  get messages(): number {
    return this.handedMessages - this.takenMessages + (this.elsewhere?.messages() ?? 0);
  }

  /** Bytes handed over and not yet taken. */
  get bytes(): number {
    return this.handedBytes - this.takenBytes + (this.elsewhere?.bytes() ?? 0);
  }

  /** In an episode (the bound was reached and the queue has not drained to half since). */
  get shedding(): boolean {
    return this.since !== undefined;
  }

  /** Connections paused in this episode. */
  get pausedConnections(): number {
    return this.pausedNow.size;
  }

  /**
   * A message of `size` bytes for the worker: a datagram (`connectionId` undefined) or a message
   * of that connection. `take`/`pause` count it as handed over.
   */
  admit(size: number, connectionId: number | undefined): Admit {
    if (this.messages < this.limits.maxMessages && this.bytes < this.limits.maxBytes) {
      this.hand(size);
      return 'take';
    }
    this.since ??= this.now();
    if (connectionId === undefined) {
      this.shedNow++;
      return 'shed';
    }
    this.hand(size);
    if (this.pausedNow.has(connectionId)) return 'take';
    this.pausedNow.add(connectionId);
    return 'pause';
  }

  /** `n` datagrams for the worker were shed elsewhere (by the workers that hand it datagrams): an episode. */
  shedElsewhere(n: number): void {
    if (n <= 0) return;
    this.since ??= this.now();
    this.shedNow += n;
  }

  /** The episode that ends now that the queue is down to half, if one does (what is counted elsewhere drains without a report here). */
  check(): EpisodeEnd | undefined {
    if (this.since === undefined) return undefined;
    if (this.messages * 2 > this.limits.maxMessages || this.bytes * 2 > this.limits.maxBytes) return undefined;
    return this.endEpisode();
  }

  /** True once per episode, the first time it is asked during one (the pool logs the start then). */
  announce(): boolean {
    if (this.since === undefined || this.announced) return false;
    this.announced = true;
    return true;
  }

  /**
   * The worker has taken `messages` messages of `bytes` bytes since it started (cumulative). The
   * episode that ends with this report, if one does.
   */
  took(messages: number, bytes: number): EpisodeEnd | undefined {
    // reports arrive in order; a stale one (never, but cheap to ignore) must not count twice
    if (messages < this.takenMessages) return undefined;
    this.takenMessages = messages;
    this.takenBytes = bytes;
    if (this.since === undefined) return undefined;
    if (this.messages * 2 > this.limits.maxMessages || this.bytes * 2 > this.limits.maxBytes) return undefined;
    return this.endEpisode();
  }

  /** The worker is gone: what was in flight to it is lost; the paused connections go on. */
  retire(): { readonly lost: number; readonly episode: EpisodeEnd | undefined } {
    const lost = this.handedMessages - this.takenMessages;
    this.takenMessages = this.handedMessages;
    this.takenBytes = this.handedBytes;
    return { lost, episode: this.since === undefined ? undefined : this.endEpisode() };
  }

  private hand(size: number): void {
    this.handedMessages++;
    this.handedBytes += size;
  }

  private endEpisode(): EpisodeEnd {
    const end = { shed: this.shedNow, paused: [...this.pausedNow], ms: this.now() - (this.since ?? this.now()) };
    this.since = undefined;
    this.announced = false;
    this.shedNow = 0;
    this.pausedNow.clear();
    return end;
  }
}
