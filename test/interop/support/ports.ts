import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** The loopback ports the interop suites may use (never 5060/5061). */
export const PORT_RANGE = { first: 26000, last: 26999 } as const;

/**
 * Is `port` free on 127.0.0.1 for UDP and (when asked) TCP? Binds and releases at once; another
 * process can still take the port in between, so callers retry on a bind failure.
 */
export async function portIsFree(port: number, tcp = true): Promise<boolean> {
  const udpFree = await new Promise<boolean>((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  if (!udpFree || !tcp) return udpFree;
  return new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

const handedOut = new Set<number>();

/**
 * `count` consecutive ports, free for UDP and TCP on 127.0.0.1, inside PORT_RANGE. The start is
 * random so that test files running in parallel processes rarely collide; ports handed out by
 * this process are never handed out again.
 */
export async function freePortBlock(count: number): Promise<number> {
  const span = PORT_RANGE.last - PORT_RANGE.first + 1 - count;
  for (let attempt = 0; attempt < 200; attempt++) {
    const start = PORT_RANGE.first + Math.floor(Math.random() * span);
    let ok = true;
    for (let p = start; p < start + count && ok; p++) ok = !handedOut.has(p) && (await portIsFree(p));
    if (!ok) continue;
    for (let p = start; p < start + count; p++) handedOut.add(p);
    return start;
  }
  throw new Error(`no block of ${count} free ports in ${PORT_RANGE.first}-${PORT_RANGE.last}`);
}
