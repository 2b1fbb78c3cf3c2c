/**
 * What a long-lived Map of things in progress costs the garbage collector: requests (40 small
 * objects each) are put in a Map and taken out a microtask later, 64 at a time per event-loop
 * turn, as a SIP core does with its transactions; the Map is old (made before, and promoted).
 * Prints CPU per request and the bytes V8 promoted per request (from --trace-gc-nvp, read from
 * a child process), for no Map, a Map, and RenewingMap (src/lib/renewing-map.ts).
 *
 *   node --import tsx bench/gc/map-promotion.ts [--count 400000]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RenewingMap } from '../../src/lib/renewing-map.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '400000' }, child: { type: 'string' } } });
const COUNT = Number(values.count);

if (values.child === undefined) {
  for (const kind of ['none', 'map', 'renewing']) {
    const r = spawnSync(process.execPath, ['--expose-gc', '--trace-gc-nvp', ...process.execArgv, fileURLToPath(import.meta.url), '--child', kind, '--count', String(COUNT)], { encoding: 'utf8' });
    let promoted = 0;
    for (const m of r.stdout.matchAll(/ promoted=(\d+)/g)) promoted += Number(m[1]);
    const cpu = /cpu=([\d.]+)/.exec(r.stdout)?.[1];
    console.log(`${kind.padEnd(9)} ${cpu} µs CPU per request, ${(promoted / COUNT).toFixed(0)} bytes promoted per request`);
  }
} else {
  const kind = values.child;
  const map: Map<string, unknown> | RenewingMap<string, unknown> = kind === 'renewing' ? new RenewingMap() : new Map();
  // promote the Map and its table, as a server's would be after its first seconds
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  let sink = 0;
  const request = (n: number) => Array.from({ length: 40 }, (_, i) => ({ i, s: `x${n}:${i}`, a: [n, i] }));
  const handle = (n: number): void => {
    const r = request(n);
    const key = `z9hG4bK-${n}-1-0|127.0.0.1:5371|REGISTER`;
    if (kind !== 'none') map.set(key, r);
    queueMicrotask(() => {
      if (kind !== 'none') map.delete(key);
      sink += r.length;
    });
  };
  const c0 = process.cpuUsage();
  for (let n = 0; n < COUNT; n++) {
    handle(n);
    if ((n & 63) === 63) await new Promise((r) => setImmediate(r));
  }
  const c = process.cpuUsage(c0);
  console.log(`cpu=${((c.user + c.system) / COUNT).toFixed(2)} sink=${sink}`);
}
