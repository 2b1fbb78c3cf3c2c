/**
 * A Map whose oldest entry (by insertion, or by last `touch` for least-recently-used order) is
 * found and removed in constant time, however many entries came and went before it.
 *
 * A plain Map used as a bounded queue (`map.delete(map.keys().next().value)` when full) is
 * slow in V8: a deleted entry stays in the table as a hole until the table is rehashed, and
 * every iteration starts at the first slot and steps over the holes. With 65,536 entries and
 * one eviction per insertion, finding the oldest entry stepped over tens of thousands of holes:
 * 22 µs per insertion against 0.6 µs with a queue beside the map (2026-12-08, this machine), and
 * the nonce-count table of digest authentication paid it for every authenticated request once it
 * was full (bench/sip/README.md, "the nonce table").
 *
 * Here the order is an array of keys beside the map, each with the sequence number of the entry
 * it was queued for: a key deleted, touched or set again leaves its earlier place behind, and
 * that place is skipped (once) when it reaches the front. The array is compacted as its front
 * empties, and rebuilt when left-behind places outnumber the live ones.
 */
export class EvictionMap<K, V> {
  private readonly map = new Map<K, { value: V; seq: number }>();
  /** Keys in order, oldest first from `head`; `seqs[i]` is the entry `order[i]` was queued for. */
  private order: K[] = [];
  private seqs: number[] = [];
  private head = 0;
  private nextSeq = 0;

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** A new key becomes the newest; a key already here gets the value and keeps its place (as a Map). */
  set(key: K, value: V): this {
    const slot = this.map.get(key);
    if (slot !== undefined) {
      slot.value = value;
      return this;
    }
    const seq = this.nextSeq++;
    this.map.set(key, { value, seq });
    this.queue(key, seq);
    return this;
  }

  /** Make `key` the newest (least-recently-used order); false when it is not here. */
  touch(key: K): boolean {
    const slot = this.map.get(key);
    if (slot === undefined) return false;
    slot.seq = this.nextSeq++;
    this.queue(key, slot.seq);
    return true;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
    this.order = [];
    this.seqs = [];
    this.head = 0;
  }

  /** The oldest entry, or undefined when empty. */
  oldest(): [K, V] | undefined {
    while (this.head < this.order.length) {
      const key = this.order[this.head]!;
      const slot = this.map.get(key);
      if (slot !== undefined && slot.seq === this.seqs[this.head]) return [key, slot.value];
      this.advance(); // a place left behind: deleted, touched or set again since
    }
    return undefined;
  }

  /** Remove the oldest entry and return it, or undefined when empty. */
  shift(): [K, V] | undefined {
    const first = this.oldest();
    if (first === undefined) return undefined;
    this.map.delete(first[0]);
    this.advance();
    return first;
  }

  /** Entries oldest first (for tests and dumps; not for the hot path). */
  *entries(): IterableIterator<[K, V]> {
    for (let i = this.head; i < this.order.length; i++) {
      const key = this.order[i]!;
      const slot = this.map.get(key);
      if (slot !== undefined && slot.seq === this.seqs[i]) yield [key, slot.value];
    }
  }

  private queue(key: K, seq: number): void {
    this.order.push(key);
    this.seqs.push(seq);
    // touches and re-insertions leave places behind: rebuild when they are most of the array
    if (this.order.length - this.head > 2 * this.map.size + 1024) this.rebuild();
  }

  private advance(): void {
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.order.length) {
      this.order = this.order.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
  }

  private rebuild(): void {
    const order: K[] = [];
    const seqs: number[] = [];
    for (let i = this.head; i < this.order.length; i++) {
      const key = this.order[i]!;
      const slot = this.map.get(key);
      if (slot !== undefined && slot.seq === this.seqs[i]) {
        order.push(key);
        seqs.push(this.seqs[i]!);
      }
    }
    this.order = order;
    this.seqs = seqs;
    this.head = 0;
  }
}
