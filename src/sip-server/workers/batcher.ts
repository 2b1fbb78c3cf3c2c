/**
 * Collects items and hands them over together, so that what arrives close together crosses a
 * thread boundary in one postMessage (each postMessage may wake the other thread: a system call
 * and a context switch, which cost more than the copy).
 *
 * With `delayMs` 0 the batch is handed over at the end of the event-loop turn (setImmediate);
 * with a delay, up to `delayMs` later, or at once when `maxItems` are waiting.
 */
export class Batcher<T> {
  private items: T[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly post: (items: T[]) => void,
    private readonly delayMs = 0,
    private readonly maxItems = 256,
  ) {}

  push(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.maxItems) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      if (this.delayMs > 0) this.timer = setTimeout(this.flush, this.delayMs);
      else setImmediate(this.flush);
    }
  }

  /** Items collected and not yet handed over. */
  get pending(): number {
    return this.items.length;
  }

  /** Hand over what is collected now. */
  readonly flush = (): void => {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.scheduled = false;
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.post(items);
  };
}
