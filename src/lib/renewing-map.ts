/**
 * A Map for entries that come and go all the time (transactions in progress, writes waiting for
 * their commit) and that lives as long as the server: it moves its entries into a new Map now and
 * then, so that its storage never grows old.
 *
 * Why: V8 stores a Map's entries in a hash table that it reallocates as entries are added and
 * deleted, and allocates the new table in the generation of the old one. Once a long-lived Map's
 * table is in the old generation, every reallocation leaves the previous table behind as garbage
 * in the old generation, with the entries it held when it was replaced still in it. Until the
 * next mark-compact finds that table dead, the scavenger takes it as a root: every entry in
 * progress at each reallocation (a transaction with its request, a REGISTER's continuation) is
 * kept, copied and promoted, and whatever it points to with it. Measured with a Map of requests in
 * progress under load (64 at a time, each removed a microtask after it was added): 3.4 KB
 * promoted per request against 30 bytes without the Map, and 12 µs of CPU against 1.7. A Map made
 * anew allocates its table in the young generation; emptied with `clear()` after its entries were
 * copied, the old one keeps nothing alive. Renewed every 1,024 additions (or twice its size, if
 * larger, so that copying costs at most half an entry per addition): 64 bytes promoted, 2.3 µs.
 * (bench/sip/README.md, "Maps that promote what they hold".)
 */
export class RenewingMap<K, V> implements Iterable<[K, V]> {
  private map = new Map<K, V>();
  private added = 0;

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): this {
    this.map.set(key, value);
    if (++this.added >= 1024 && this.added >= 2 * this.map.size) this.renew();
    return this;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map = new Map();
    this.added = 0;
  }

  // the iterators go over a copy: an addition during the iteration may renew the Map (rare
  // callers: shutdown, dumps, sweeps)
  keys(): IterableIterator<K> {
    return [...this.map.keys()][Symbol.iterator]();
  }

  values(): IterableIterator<V> {
    return [...this.map.values()][Symbol.iterator]();
  }

  entries(): IterableIterator<[K, V]> {
    return [...this.map.entries()][Symbol.iterator]();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  private renew(): void {
    const old = this.map;
    this.map = new Map(old);
    old.clear();
    this.added = 0;
  }
}
