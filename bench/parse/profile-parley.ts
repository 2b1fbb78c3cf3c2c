/**
 * Parley alone on the bench messages, for profiling (`node --cpu-prof --import tsx bench/parse/profile-parley.ts`):
 * parse + the same field reads as the bench adapter, a fixed count per message, rate and CPU time per message printed.
 *   node --import tsx bench/parse/profile-parley.ts [count] [message,...] [--buffer]
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parleyBufferAdapter, parleyStringAdapter } from './adapters/parley.js';
import { checksum } from './fields.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const buffer = args.includes('--buffer');
const rest = args.filter((a) => !a.startsWith('--'));
const count = Number(rest[0] ?? 200_000);
const names = (rest[1] ?? 'invite,register,ok200').split(',');
const adapter = buffer ? parleyBufferAdapter : parleyStringAdapter;
for (const name of names) {
  const raw = readFileSync(join(here, 'messages', name + '.sip'));
  const pool = Array.from({ length: 8 }, () => (buffer ? Buffer.from(raw) : Buffer.from(raw).toString('utf8')));
  let acc = 0;
  for (let i = 0; i < 20_000; i++) acc += checksum(adapter.extract(pool[i & 7]!));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < count; i++) acc += checksum(adapter.extract(pool[i & 7]!));
  const ms = performance.now() - t0;
  // CPU time of the process (GC helper threads included): less disturbed than the wall time
  // when other work shares the cores
  const c = process.cpuUsage(c0);
  const cpuUs = (c.user + c.system) / count;
  console.log(`${name}: ${Math.round((count * 1000) / ms).toLocaleString('en-US')} msgs/s (${((ms * 1000) / count).toFixed(2)} us) cpu ${cpuUs.toFixed(2)} us ${acc}`);
}
