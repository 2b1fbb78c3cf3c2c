import { portIsFree } from './ports.js';

/**
 * The loopback ports of the registrar, call and restart suites: 27000-27999, a separate range
 * from the one of support/ports.ts (26000-26999) so that suites of both kinds can run at once.
 * Each suite file owns a slice, so files run in parallel processes never hand out the same
 * port; inside a file a port is handed out once.
 */
export const CALL_SUITES_PORT_RANGE = { first: 27000, last: 27999 } as const;

export const PORT_SLICES = {
  registrar: { first: 27000, last: 27149 },
  call: { first: 27150, last: 27499 },
  callTransports: { first: 27500, last: 27749 },
  restart: { first: 27750, last: 27999 },
} as const;

export type PortSlice = keyof typeof PORT_SLICES;

/** Hands out blocks of consecutive ports, free for UDP and TCP on 127.0.0.1, from one slice. */
export class PortPool {
  private readonly handedOut = new Set<number>();
  private readonly first: number;
  private readonly last: number;

  constructor(readonly slice: PortSlice) {
    ({ first: this.first, last: this.last } = PORT_SLICES[slice]);
  }

  /**
   * `count` consecutive free ports. The search starts at a random place in the slice (a run
   * right after another may find ports of the last one still in TIME_WAIT) and wraps around.
   */
  async block(count: number): Promise<number> {
    const size = this.last - this.first + 1;
    const offset = Math.floor(Math.random() * size);
    for (let i = 0; i < size; i++) {
      const start = this.first + ((offset + i) % size);
      if (start + count - 1 > this.last) continue;
      let ok = true;
      for (let p = start; p < start + count && ok; p++) ok = !this.handedOut.has(p) && (await portIsFree(p));
      if (!ok) continue;
      for (let p = start; p < start + count; p++) this.handedOut.add(p);
      return start;
    }
    throw new Error(`no block of ${count} free ports in ${this.first}-${this.last} (${this.slice})`);
  }
}
