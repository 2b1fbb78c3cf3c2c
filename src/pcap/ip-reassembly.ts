/**
 * Reassembles IP datagrams from their fragments (RFC 791 §3.2 for IPv4, RFC 8200 §4.5 for IPv6),
 * in capture time and within bounds: a datagram not complete within `timeoutSeconds` of its
 * first fragment's capture time is dropped, and so are the oldest ones when more than
 * `maxPending` datagrams or `maxPendingBytes` bytes wait. Fragments are copied (the reader's views
 * do not last), once.
 *
 * A datagram is identified per RFC 791 by source, destination, protocol and Identification, and
 * per RFC 8200 §4.5 by source, destination and Identification (the protocol is the first
 * fragment's Next Header). Overlapping fragments that disagree drop the datagram (RFC 5722 §4:
 * "the entire datagram (and any constituent fragments ...) MUST be silently discarded"); for IPv4
 * the same is done (DEVIATION below). A fragment repeated byte for byte (a retransmission, or the
 * same packet captured on two interfaces) is harmless.
 */
import type { IpFragment } from './ip-packet.js';

export interface ReassemblyOptions {
  /** RFC 8200 §4.5: "within 60 seconds of the reception of the first-arriving fragment". Default 60. */
  readonly timeoutSeconds?: number;
  /** Datagrams waiting for fragments at most (default 1024). */
  readonly maxPending?: number;
  /** Bytes of fragments held at most (default 16 MiB). */
  readonly maxPendingBytes?: number;
}

export interface ReassemblyCounts {
  reassembled: number;
  /** Dropped unfinished: their time ran out, or they were the oldest when a bound was reached. */
  expired: number;
  evicted: number;
  /** Dropped for fragments that overlap with different bytes, or reach past 65,535 bytes. */
  invalid: number;
}

interface Pending {
  readonly firstSeconds: number;
  /** The upper-layer protocol: the first fragment's (IPv6), or the header's (IPv4). */
  protocol: number;
  /** The payload's length, once the last fragment (More Fragments clear) is in. */
  total: number;
  readonly pieces: { readonly offset: number; readonly bytes: Uint8Array }[];
  held: number;
}

/** The payload of an IP datagram: 65,535 bytes less the smallest header, at most. */
const MAX_PAYLOAD = 65_535;

export class IpReassembler {
  private readonly pending = new Map<string, Pending>();
  private held = 0;
  private readonly timeoutSeconds: number;
  private readonly maxPending: number;
  private readonly maxPendingBytes: number;
  readonly counts: ReassemblyCounts = { reassembled: 0, expired: 0, evicted: 0, invalid: 0 };

  constructor(options: ReassemblyOptions = {}) {
    this.timeoutSeconds = options.timeoutSeconds ?? 60;
    this.maxPending = options.maxPending ?? 1024;
    this.maxPendingBytes = options.maxPendingBytes ?? 16 * 1024 * 1024;
  }

  /** Datagrams waiting for fragments. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Adds one fragment, captured at `seconds`; returns the whole payload and its protocol when this
   * fragment completes the datagram. `key` names the datagram (addresses, protocol, identification).
   */
  add(key: string, seconds: number, protocol: number, fragment: IpFragment, payload: Uint8Array): { protocol: number; payload: Uint8Array } | undefined {
    this.expire(seconds);
    if (fragment.offset + payload.length > MAX_PAYLOAD) {
      this.drop(key, 'invalid');
      this.counts.invalid++;
      return undefined;
    }
    let entry = this.pending.get(key);
    if (entry === undefined) {
      while (this.pending.size >= this.maxPending) this.dropOldest();
      entry = { firstSeconds: seconds, protocol, total: -1, pieces: [], held: 0 };
      this.pending.set(key, entry);
    }
    if (fragment.offset === 0) entry.protocol = protocol;
    if (!fragment.more) entry.total = fragment.offset + payload.length;
    entry.pieces.push({ offset: fragment.offset, bytes: payload.slice() });
    entry.held += payload.length;
    this.held += payload.length;
    while (this.held > this.maxPendingBytes && this.pending.size > 0) this.dropOldest();
    if (!this.pending.has(key) || entry.total < 0) return undefined;
    return this.complete(key, entry);
  }

  private complete(key: string, entry: Pending): { protocol: number; payload: Uint8Array } | undefined {
    // Covered from 0 to the total without a gap?
    const pieces = [...entry.pieces].sort((a, b) => a.offset - b.offset);
    let covered = 0;
    for (const p of pieces) {
      if (p.offset > covered) return undefined;
      covered = Math.max(covered, p.offset + p.bytes.length);
    }
    if (covered < entry.total) return undefined;
    const out = new Uint8Array(entry.total);
    const filled = new Uint8Array(entry.total);
    for (const p of pieces) {
      const end = Math.min(p.offset + p.bytes.length, entry.total);
      for (let i = p.offset; i < end; i++) {
        const v = p.bytes[i - p.offset]!;
        // DEVIATION(RFC 791 §3.2): the RFC's reassembly copies each fragment's data into the buffer,
        // so a later fragment overwrites an earlier one; a reader of a capture cannot know which
        // copy the receiving host kept (hosts differ), so a datagram whose overlaps disagree is
        // dropped and counted (`invalid`), as RFC 5722 has it for IPv6.
        if (filled[i] === 1 && out[i] !== v) {
          this.drop(key, 'invalid');
          this.counts.invalid++;
          return undefined;
        }
        out[i] = v;
        filled[i] = 1;
      }
    }
    this.drop(key, 'done');
    this.counts.reassembled++;
    return { protocol: entry.protocol, payload: out };
  }

  /** Drops the datagrams whose first fragment is older than the timeout (the map is in order of first fragments). */
  private expire(now: number): void {
    for (const [key, entry] of this.pending) {
      if (now - entry.firstSeconds <= this.timeoutSeconds) break;
      this.drop(key, 'expired');
      this.counts.expired++;
    }
  }

  private dropOldest(): void {
    const oldest = this.pending.keys().next();
    if (oldest.done === true) return;
    this.drop(oldest.value, 'evicted');
    this.counts.evicted++;
  }

  private drop(key: string, _why: 'done' | 'expired' | 'evicted' | 'invalid'): void {
    const entry = this.pending.get(key);
    if (entry === undefined) return;
    this.held -= entry.held;
    this.pending.delete(key);
  }
}
