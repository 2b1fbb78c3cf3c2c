/**
 * Random bytes from the platform's CSPRNG (Web Crypto: Node and browsers alike), drawn 4 KiB at
 * a time: one call per few hundred tags, branches or nonces. Each byte is handed out once.
 */
const POOL = new Uint8Array(4096);
let poolPos = POOL.length;

/** The next `n` (at most 4096) random bytes; the view is valid until the next call. */
export function randomBytesFromPool(n: number): Uint8Array {
  if (poolPos + n > POOL.length) {
    globalThis.crypto.getRandomValues(POOL);
    poolPos = 0;
  }
  const bytes = POOL.subarray(poolPos, poolPos + n);
  poolPos += n;
  return bytes;
}
