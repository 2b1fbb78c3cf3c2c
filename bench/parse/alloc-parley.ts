/**
 * Where Parley allocates on the bench messages: V8's sampling heap profiler, objects collected by
 * the young and old generation included, over a fixed count of the bench adapter's work.
 *   node --import tsx bench/parse/alloc-parley.ts [count] [message] [--buffer]
 * Prints the estimated bytes per message, in total and by allocating function.
 */
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parleyBufferAdapter, parleyStringAdapter } from './adapters/parley.js';
import { checksum } from './fields.js';

interface ProfileNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: ProfileNode[] }

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const buffer = args.includes('--buffer');
const rest = args.filter((a) => !a.startsWith('--'));
const count = Number(rest[0] ?? 200_000);
const name = rest[1] ?? 'invite';
const adapter = buffer ? parleyBufferAdapter : parleyStringAdapter;
const raw = readFileSync(join(here, 'messages', name + '.sip'));
const pool = Array.from({ length: 8 }, () => (buffer ? Buffer.from(raw) : Buffer.from(raw).toString('utf8')));
let acc = 0;
for (let i = 0; i < 20_000; i++) acc += checksum(adapter.extract(pool[i & 7]!));
const session = new Session();
session.connect();
await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
for (let i = 0; i < count; i++) acc += checksum(adapter.extract(pool[i & 7]!));
const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
const by = new Map<string, number>();
let total = 0;
const walk = (n: ProfileNode): void => {
  const k = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
  by.set(k, (by.get(k) ?? 0) + n.selfSize);
  total += n.selfSize;
  n.children.forEach(walk);
};
walk(profile.head);
console.log(`${name}${buffer ? ' (Buffer)' : ''}: ~${Math.round(total / count)} bytes allocated per message (checksum ${acc})`);
for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(v / count).toFixed(0).padStart(7)}  ${k}`);
