/**
 * Byte records kept first in, first out in one growing ring buffer, found by a string key: the
 * store behind CompletedTable for responses a transport can put in bytes.
 *
 * Why bytes in one buffer: a completed non-INVITE transaction over UDP waits 32 s (Timer J) for a
 * retransmission that almost never comes. Kept as objects (a key string, a Buffer, a target, an
 * entry), each one outlived two scavenges and was copied into V8's old generation, to die there
 * and be found by the next mark-compact: at thousands of REGISTERs a second, about two thirds of
 * all the bytes a SIP worker promoted (bench/sip/core-bench.ts with --trace-gc). Here a record is
 * bytes in a buffer outside the JavaScript heap, and its index entry is a small integer in a Map
 * (a number key and a number value are stored in the Map's own table, no object per entry): the
 * garbage collector has nothing to copy or mark per transaction.
 *
 * A record: u32 length (header included, a multiple of 4), u32 key hash, f64 expiry time (ms),
 * u32 payload length, u16 key length, two bytes unused, then the key (ASCII) and the payload. A length of 0 marks the end of the used
 * part before the ring wraps to offset 0.
 *
 * Memory is bounded: the ring doubles while it is full of live records, up to `maxBytes`; past
 * that the oldest records go before their time (`evicted`), so a flood cannot grow the heap
 * without bound. An evicted transaction's late retransmission is then handled as a new request
 * (for a REGISTER refresh or OPTIONS, the same answer; see docs/architecture.md).
 */
const HEADER = 24;
const MIN_BYTES = 64 * 1024;

export class PackedRecords {
  private ring: Buffer;
  private view: DataView;
  /** Offsets of the oldest record and of the next write. */
  private head = 0;
  private tail = 0;
  /** Records in the ring (alive or replaced: a replaced record stays until it expires). */
  private records = 0;
  /** Key hash → offset of the newest record with that hash. */
  private readonly index = new Map<number, number>();
  /** Key → offset, for a key whose hash another live key already holds in `index` (rare). */
  private readonly collided = new Map<string, number>();
  /** Records dropped before their time because the ring was at its bound. */
  evicted = 0;

  constructor(private readonly maxBytes: number) {
    this.ring = Buffer.allocUnsafeSlow(Math.min(MIN_BYTES, maxBytes));
    this.view = new DataView(this.ring.buffer, this.ring.byteOffset, this.ring.byteLength);
  }

  get size(): number {
    return this.records;
  }

  /** Bytes the ring holds (its allocation). */
  get capacity(): number {
    return this.ring.byteLength;
  }

  /** The expiry time of the oldest record, or undefined when there is none. */
  get oldestExpiry(): number | undefined {
    return this.records === 0 ? undefined : this.view.getFloat64(this.head + 8, true);
  }

  /**
   * Keep a record: `write(into, at, room)` writes the payload and returns its length, or minus the
   * room it needs when `room` is too small, or 0 when it cannot be written at all (then nothing is
   * kept and false is returned). `key` must be ASCII (see hashAscii).
   */
  add(key: string, hash: number, expires: number, write: (into: Buffer, at: number, room: number) => number): boolean {
    if (key.length > 0xffff) return false;
    const probe = write(this.ring, 0, 0);
    if (probe === 0) return false;
    const payload = probe < 0 ? -probe : probe;
    const length = align4(HEADER + key.length + payload);
    if (length > this.maxBytes / 4) return false;
    const at = this.reserve(length);
    if (at < 0) return false;
    const written = write(this.ring, at + HEADER + key.length, length - HEADER - key.length);
    if (written <= 0) {
      // the same response asked for more room than it said: keep nothing (the ring stays consistent:
      // the reserved bytes become a record with an empty key that nothing finds)
      this.writeHeader(at, length, 0, expires, 0, 0);
      this.records++;
      return false;
    }
    this.writeHeader(at, length, hash, expires, written, key.length);
    this.ring.write(key, at + HEADER, key.length, 'latin1');
    this.records++;
    const previous = this.index.get(hash);
    if (previous === undefined || this.keyAt(previous) === key) this.index.set(hash, at);
    else this.collided.set(key, at);
    return true;
  }

  /** The payload of the live record with this key (a view into the ring: use it at once), or undefined. */
  find(key: string, hash: number): Buffer | undefined {
    const at = this.index.get(hash);
    let found: number | undefined;
    if (at !== undefined && this.keyEquals(at, key)) found = at;
    else if (this.collided.size > 0) found = this.collided.get(key);
    if (found === undefined) return undefined;
    const start = found + HEADER + this.view.getUint16(found + 20, true);
    return this.ring.subarray(start, start + this.view.getUint32(found + 16, true));
  }

  /** Drop every record whose expiry time is <= now, oldest first. */
  expire(now: number): void {
    while (this.records > 0 && this.view.getFloat64(this.head + 8, true) <= now) this.dropOldest();
  }

  clear(): void {
    this.index.clear();
    this.collided.clear();
    this.head = this.tail = this.records = 0;
  }

  /** Make room for `length` bytes at the tail; the offset, or -1 when the record can never fit. */
  private reserve(length: number): number {
    for (;;) {
      const at = this.fit(length);
      if (at >= 0) return at;
      if (this.ring.byteLength < this.maxBytes) this.grow();
      else if (this.records > 0) {
        // DEVIATION(RFC 3261 §17.2.2): a completed transaction goes before Timer J when the ring
        // is at its bound (a flood must not grow memory without bound)
        this.dropOldest();
        this.evicted++;
      } else return -1;
    }
  }

  /** Where a record of `length` bytes goes without overwriting a live one, or -1. */
  private fit(length: number): number {
    const size = this.ring.byteLength;
    if (this.records === 0) {
      this.head = this.tail = 0;
      return length <= size ? this.claim(0, length) : -1;
    }
    if (this.tail > this.head) {
      // free: [tail, size) and [0, head)
      if (this.tail + length <= size) return this.claim(this.tail, length);
      if (length <= this.head) {
        // the end of the ring is skipped: a zero length marks it when there is room for one
        if (this.tail + 4 <= size) this.view.setUint32(this.tail, 0, true);
        return this.claim(0, length);
      }
      return -1;
    }
    // tail <= head (wrapped, or full when tail === head): free is [tail, head)
    return this.tail + length <= this.head ? this.claim(this.tail, length) : -1;
  }

  private claim(at: number, length: number): number {
    this.tail = at + length;
    return at;
  }

  private dropOldest(): void {
    const at = this.head;
    const length = this.view.getUint32(at, true);
    const hash = this.view.getUint32(at + 4, true);
    if (this.index.get(hash) === at) this.index.delete(hash);
    else if (this.collided.size > 0) {
      const key = this.keyAt(at);
      if (this.collided.get(key) === at) this.collided.delete(key);
    }
    this.records--;
    let next = at + length;
    // a wrap: the rest of the ring after this record was skipped
    if (next + 4 > this.ring.byteLength || (this.records > 0 && this.view.getUint32(next, true) === 0)) next = 0;
    this.head = next;
    if (this.records === 0) this.head = this.tail = 0;
  }

  /** Twice the bytes (at most maxBytes), the live records copied to its start in order. */
  private grow(): void {
    const old = this.ring;
    const bigger = Buffer.allocUnsafeSlow(Math.min(this.maxBytes, old.byteLength * 2));
    const oldView = this.view;
    const moved = new Map<number, number>();
    let from = this.head;
    let to = 0;
    for (let i = 0; i < this.records; i++) {
      if (from + 4 > old.byteLength || oldView.getUint32(from, true) === 0) from = 0;
      const length = oldView.getUint32(from, true);
      old.copy(bigger, to, from, from + length);
      moved.set(from, to);
      from += length;
      to += length;
    }
    for (const [hash, at] of this.index) this.index.set(hash, moved.get(at)!);
    for (const [key, at] of this.collided) this.collided.set(key, moved.get(at)!);
    this.ring = bigger;
    this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.byteLength);
    this.head = 0;
    this.tail = to;
  }

  private writeHeader(at: number, length: number, hash: number, expires: number, payloadLength: number, keyLength: number): void {
    const v = this.view;
    v.setUint32(at, length, true);
    v.setUint32(at + 4, hash, true);
    v.setFloat64(at + 8, expires, true);
    v.setUint32(at + 16, payloadLength, true);
    v.setUint16(at + 20, keyLength, true);
    v.setUint16(at + 22, 0, true);
  }

  private keyAt(at: number): string {
    const keyLength = this.view.getUint16(at + 20, true);
    return this.ring.toString('latin1', at + HEADER, at + HEADER + keyLength);
  }

  private keyEquals(at: number, key: string): boolean {
    if (this.view.getUint16(at + 20, true) !== key.length) return false;
    const ring = this.ring;
    const start = at + HEADER;
    for (let i = 0; i < key.length; i++) if (ring[start + i] !== key.charCodeAt(i)) return false;
    return true;
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * FNV-1a over the string's char codes, as a small integer (30 bits: a Smi, so a Map keyed by it
 * holds no heap number). Returns -1 when the string is not ASCII (such a key is not packed).
 */
export function hashAscii(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return -1;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return (h >>> 0) & 0x3fffffff;
}
