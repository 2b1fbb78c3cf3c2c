/** Counters of the whole TURN server, for the stats line. */
export interface TurnStats {
  requests: number;
  /** Datagrams dropped: malformed, not STUN nor ChannelData, responses, from blocked sources. */
  dropped: number;
  /** Answers to unauthenticated requests not sent because they were larger than the request. */
  amplificationDrops: number;
  /** Packets of allocations not relayed: no permission or channel, peer denied, over the bandwidth limit. */
  relayDropped: number;
  /** Packets whose handling threw (a bug): counted, logged now and then, and the thread goes on. */
  faults: number;
  allocationsMade: number;
  allocationsExpired: number;
  /** Error responses sent, by code. */
  errors: Record<number, number>;
  /** Bytes relayed by allocations released since start (the live ones keep their own counters). */
  releasedBytesToPeer: number;
  releasedBytesFromPeer: number;
}

export function newTurnStats(): TurnStats {
  return { requests: 0, dropped: 0, amplificationDrops: 0, relayDropped: 0, faults: 0, allocationsMade: 0, allocationsExpired: 0, errors: {}, releasedBytesToPeer: 0, releasedBytesFromPeer: 0 };
}
