/**
 * The allocations of the server, keyed by 5-tuple (RFC 8656 §2.2: "the 5-tuple [...] uniquely
 * identifies the allocation"). The quotas are counted apart (quotas.ts).
 */
import type { Allocation } from './allocation.js';

export class AllocationTable {
  private readonly byFiveTuple = new Map<string, Allocation>();

  get size(): number {
    return this.byFiveTuple.size;
  }

  get(key: string): Allocation | undefined {
    return this.byFiveTuple.get(key);
  }

  add(a: Allocation): void {
    this.byFiveTuple.set(a.fiveTuple.key, a);
  }

  /** Remove it; false when it was not (or no longer) in the table. */
  delete(a: Allocation): boolean {
    if (this.byFiveTuple.get(a.fiveTuple.key) !== a) return false;
    this.byFiveTuple.delete(a.fiveTuple.key);
    return true;
  }

  values(): IterableIterator<Allocation> {
    return this.byFiveTuple.values();
  }
}
