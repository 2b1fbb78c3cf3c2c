/**
 * SIP parse benchmark: messages parsed per second by Parley and by three
 * npm SIP parsers (jssip, sip.js, sip), on the messages in ./messages.
 *
 *   npm run bench:parse              full run (~1-2 min)
 *   npm run bench:parse -- --quick   short run (a few seconds; numbers are noisy)
 *
 * Every iteration = parse + read (through the library's API) every field a
 * proxy needs + fold them into a checksum. See README.md for fairness notes.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checksum, flatten, type Adapter, type Input } from './fields.js';

// ---------------------------------------------------------------- options --

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(`usage: npm run bench:parse [-- --quick] [-- --only=name,name]

  --quick        short run (warm-up 150 ms, 3 rounds of <= 5,000 msgs / 250 ms)
  --only=LIST    comma-separated parser names to run (jssip,sip.js,sip,parley)
Full run: warm-up 1 s per parser and message, 7 rounds of <= 50,000 msgs / 1 s.`);
  process.exit(0);
}
const quick = argv.includes('--quick');
const onlyArg = argv.find((a) => a.startsWith('--only='));
const only = onlyArg === undefined ? undefined : new Set(onlyArg.slice('--only='.length).split(','));

const cfg = quick
  ? { warmupMs: 150, warmupMin: 500, rounds: 3, roundCount: 5_000, roundCapMs: 250 }
  : { warmupMs: 1_000, warmupMin: 2_000, rounds: 7, roundCount: 50_000, roundCapMs: 1_000 };

/** Distinct copies of each input, cycled, so nothing can key a cache on one string object. */
const POOL = 8;
/** Check the clock every BATCH iterations. */
const BATCH = 32;

// --------------------------------------------------------------- messages --

const here = dirname(fileURLToPath(import.meta.url));
const msgDir = join(here, 'messages');

interface Message {
  name: string;
  bytes: number;
  strings: string[];
  buffers: Buffer[];
}

const ORDER = ['invite', 'register', 'ok200'];
const files = readdirSync(msgDir)
  .filter((f) => f.endsWith('.sip'))
  .map((f) => f.slice(0, -4))
  .sort((a, b) => {
    const ia = ORDER.indexOf(a), ib = ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });

function loadMessage(name: string): Message {
  const raw = readFileSync(join(msgDir, name + '.sip'));
  const text = raw.toString('latin1');
  const fail = (why: string): never => {
    throw new Error(`messages/${name}.sip: ${why}`);
  };
  if (/(^|[^\r])\n/.test(text)) fail('bare LF found: the file must use CRLF line endings');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) fail('no CRLF CRLF between headers and body');
  const cl = /\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec(text.slice(0, end + 2));
  if (cl === null) fail('no Content-Length header');
  const bodyLen = raw.length - (end + 4);
  if (Number(cl![1]) !== bodyLen) fail(`Content-Length is ${cl![1]} but the body is ${bodyLen} bytes`);
  const buffers: Buffer[] = [];
  const strings: string[] = [];
  for (let i = 0; i < POOL; i++) {
    const b = Buffer.from(raw); // a fresh copy, like a fresh datagram
    buffers.push(b);
    strings.push(b.toString('utf8')); // what a server hands the parser after decoding
  }
  return { name, bytes: raw.length, strings, buffers };
}

const messages = files.map(loadMessage);
const expectedAll = JSON.parse(readFileSync(join(msgDir, 'expected.json'), 'utf8')) as Record<
  string,
  Record<string, string>
>;

// --------------------------------------------------------------- adapters --

const adapters: Adapter[] = [];
const skipped: string[] = [];

async function load(label: string, spec: string, names: string[]): Promise<void> {
  try {
    const mod = (await import(spec)) as Record<string, Adapter>;
    for (const n of names) {
      const a = mod[n];
      if (a === undefined) throw new Error(`${spec} does not export ${n}`);
      if (only === undefined || only.has(a.name) || only.has(a.name.split(' ')[0]!)) adapters.push(a);
    }
  } catch (e) {
    const err = e as Error & { code?: string };
    skipped.push(`${label}: SKIPPED - cannot load (${err.code ?? err.name}: ${err.message.split('\n')[0]})`);
  }
}

await load('jssip', './adapters/jssip.js', ['jssipAdapter']);
await load('sip.js', './adapters/sipjs.js', ['sipjsAdapter']);
await load('sip', './adapters/sip.js', ['sipAdapter']);
await load('parley', './adapters/parley.js', ['parleyStringAdapter', 'parleyBufferAdapter']);

const input = (a: Adapter, m: Message, i: number): Input => (a.input === 'buffer' ? m.buffers[i]! : m.strings[i]!);

// ----------------------------------------------------------------- header --

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`SIP parse benchmark - ${quick ? 'QUICK (noisy) run' : 'full run'}`);
console.log(`node ${process.version} (V8 ${process.versions.v8}), ${process.platform}/${process.arch}, ${cpu}`);
console.log(
  `messages: ${messages.map((m) => `${m.name} (${m.bytes} B)`).join(', ')}; ` +
    `parsers: ${adapters.map((a) => a.name).join(', ') || 'none'}`,
);
console.log(
  'Each iteration parses one message from a JS string (Parley also from the raw Buffer) and reads, through the\n' +
    "library's API: top Via host/port/branch, From tag, To tag, Call-ID, CSeq number+method, Max-Forwards,\n" +
    'Route + Record-Route URIs (host/port/lr), Contact URIs (user/host/port + expires), Content-Length, and the\n' +
    'Authorization digest username/realm/nonce/uri/response - all folded into a checksum.',
);
for (const s of skipped) console.log(s);
console.log('');

// ------------------------------------------------------------ verification --

type Verdict = { ok: true; sum: number; na: number } | { ok: false; why: string };
const verdicts = new Map<string, Verdict>(); // key: adapter|message
const key = (a: Adapter, m: Message): string => a.name + '|' + m.name;

function pad(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}
function padL(s: string, w: number): string {
  return s.length >= w ? s : ' '.repeat(w - s.length) + s;
}
function clip(s: string, w: number): string {
  return s.length <= w ? s : s.slice(0, w - 1) + '…';
}

let failures = 0;
console.log('== What each parser extracted ("-" absent in the message, "n/a" no API for it, "✗" differs from expected) ==');
for (const m of messages) {
  const rows = new Map<string, string[]>();
  const cols: string[] = [];
  const results = adapters.map((a) => {
    try {
      const f = a.extract(input(a, m, 0));
      return { a, flat: new Map(flatten(f)), sum: checksum(f) };
    } catch (e) {
      return { a, error: (e as Error).message };
    }
  });
  // Expected values: messages/expected.json, else the consensus of the parsers.
  let expected = expectedAll[m.name];
  let source = 'expected.json';
  if (expected === undefined) {
    source = 'consensus (no entry in expected.json)';
    expected = {};
    const keys = results.find((r) => 'flat' in r && r.flat)?.flat?.keys() ?? [];
    for (const k of keys) {
      const votes = new Map<string, number>();
      for (const r of results) {
        const v = 'flat' in r ? r.flat?.get(k) : undefined;
        if (v !== undefined && v !== 'n/a') votes.set(v, (votes.get(v) ?? 0) + 1);
      }
      expected[k] = [...votes.entries()].sort((x, y) => y[1] - x[1])[0]?.[0] ?? 'n/a';
    }
  }
  for (const [k, v] of Object.entries(expected)) rows.set(k, [v]);
  cols.push(source === 'expected.json' ? 'expected' : 'expected (consensus)');

  for (const r of results) {
    cols.push(r.a.name);
    if ('error' in r) {
      verdicts.set(key(r.a, m), { ok: false, why: 'threw: ' + r.error });
      for (const cells of rows.values()) cells.push('ERROR');
      continue;
    }
    const flat = r.flat!;
    let bad = 0;
    let na = 0;
    for (const [k, cells] of rows) {
      const v = flat.get(k) ?? '(missing)';
      if (v === 'n/a') na++;
      else if (v !== cells[0]) bad++;
      cells.push(v === 'n/a' || v === cells[0] ? v : '✗ ' + v);
    }
    verdicts.set(key(r.a, m), bad === 0 ? { ok: true, sum: r.sum!, na } : { ok: false, why: `${bad} field(s) differ` });
  }

  const w0 = Math.max(...[...rows.keys()].map((k) => k.length));
  const wE = Math.min(40, Math.max(cols[0]!.length, ...[...rows.values()].map((c) => c[0]!.length)));
  const W = 24;
  const line = (first: string, cells: string[]): string =>
    pad(first, w0) + '  ' + cells.map((c, i) => (i === 0 ? pad(clip(c, wE), wE) : pad(clip(c, W), W))).join(' ');
  console.log(`\n-- ${m.name}.sip (${m.bytes} bytes) --`);
  console.log(line('field', cols));
  for (const [k, cells] of rows) console.log(line(k, cells));
  for (const r of results) {
    const v = verdicts.get(key(r.a, m))!;
    if (v.ok) continue;
    failures++;
    console.log(`  ${r.a.name}: FAILED verification (${v.why}) - not timed on ${m.name}`);
    const idx = cols.indexOf(r.a.name);
    for (const [k, cells] of rows) {
      if (cells[idx]!.startsWith('✗ ')) console.log(`    ${k}: got ${JSON.stringify(cells[idx]!.slice(2))}, expected ${JSON.stringify(cells[0])}`);
    }
  }
}
console.log('');

// ----------------------------------------------------------------- timing --

let sink = 0; // consumed at the end so nothing is dead code

function round(a: Adapter, m: Message, count: number, capMs: number, expectSum: number): number {
  const pool: Input[] = [];
  for (let i = 0; i < POOL; i++) pool.push(input(a, m, i));
  const extract = a.extract;
  let acc = 0;
  let i = 0;
  const t0 = performance.now();
  const deadline = t0 + capMs;
  while (i < count) {
    const end = Math.min(i + BATCH, count);
    for (; i < end; i++) acc += checksum(extract(pool[i % POOL]!));
    if (performance.now() >= deadline) break;
  }
  const ms = performance.now() - t0;
  if (acc !== expectSum * i) throw new Error(`${a.name}/${m.name}: checksum drifted during timing (${acc} != ${expectSum} x ${i})`);
  sink += acc;
  return (i * 1000) / ms;
}

const timed = (a: Adapter, m: Message): Verdict & { ok: true } | undefined => {
  const v = verdicts.get(key(a, m));
  return v !== undefined && v.ok ? v : undefined;
};

const rates = new Map<string, number[]>();
const started = performance.now();
process.stdout.write('warming up');
for (const m of messages) {
  for (const a of adapters) {
    const v = timed(a, m);
    if (v === undefined) continue;
    const t = performance.now();
    let n = 0;
    while (n < cfg.warmupMin || performance.now() - t < cfg.warmupMs) {
      round(a, m, 256, cfg.warmupMs, v.sum);
      n += 256;
    }
    process.stdout.write('.');
  }
}
// Rounds are interleaved (round r of every parser/message before round r+1)
// so that drift (thermal, GC heap growth, background load) spreads evenly.
for (let r = 0; r < cfg.rounds; r++) {
  process.stdout.write(` round ${r + 1}/${cfg.rounds}`);
  for (const m of messages) {
    for (const a of adapters) {
      const v = timed(a, m);
      if (v === undefined) continue;
      const k = key(a, m);
      if (!rates.has(k)) rates.set(k, []);
      rates.get(k)!.push(round(a, m, cfg.roundCount, cfg.roundCapMs, v.sum));
    }
  }
}
console.log(` done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

// ---------------------------------------------------------------- results --

const med = new Map<string, number>();
for (const [k, xs] of rates) med.set(k, median(xs));

const nameW = Math.max(16, ...adapters.map((a) => a.name.length));
const colW = 24;
console.log(`== msgs/s, median of ${cfg.rounds} rounds (± = half the min-max spread) ==`);
console.log(pad('parser', nameW) + messages.map((m) => padL(`${m.name} (${m.bytes} B)`, colW)).join(''));
for (const a of adapters) {
  let line = pad(a.name, nameW);
  for (const m of messages) {
    const k = key(a, m);
    const xs = rates.get(k);
    const v = verdicts.get(k);
    if (xs === undefined || xs.length === 0) {
      line += padL(v !== undefined && !v.ok ? 'FAILED' : 'n/a', colW);
      continue;
    }
    const md = med.get(k)!;
    const spread = ((Math.max(...xs) - Math.min(...xs)) / 2 / md) * 100;
    const naMark = v !== undefined && v.ok && v.na > 0 ? '*' : ' ';
    line += padL(`${fmt(md)} ±${spread.toFixed(0)}%${naMark}`, colW);
  }
  console.log(line);
}
if ([...verdicts.values()].some((v) => v.ok && v.na > 0)) {
  console.log(
    '* this parser reported some fields as n/a for that message (no API for them, e.g. Authorization in jssip and\n' +
      '  sip.js) and so did less work than the others: its figure is an upper bound.',
  );
}

const others = adapters.filter((a) => !a.name.startsWith('parley'));
const parleys = adapters.filter((a) => a.name.startsWith('parley'));
if (parleys.length > 0 && others.length > 0) {
  console.log('');
  for (const m of messages) {
    let best: Adapter | undefined;
    for (const a of others) {
      const x = med.get(key(a, m));
      if (x !== undefined && (best === undefined || x > med.get(key(best, m))!)) best = a;
    }
    if (best === undefined) continue;
    const b = med.get(key(best, m))!;
    const okParts: string[] = [];
    const notTimed: string[] = [];
    for (const p of parleys) {
      const x = med.get(key(p, m));
      if (x === undefined) notTimed.push(p.name);
      else okParts.push(`${p.name} ${(x / b).toFixed(1)}x`);
    }
    const fastest = `the fastest (${best.name}, ${fmt(b)} msgs/s)`;
    let line = pad(m.name + ':', 10) + ' ' + (okParts.length > 0 ? `${okParts.join(', ')} ${fastest}` : fastest);
    if (notTimed.length > 0) line += `; not timed (failed verification): ${notTimed.join(', ')}`;
    console.log(line);
  }
} else if (parleys.length === 0) {
  console.log('\n(no Parley ratio: the Parley adapter was not loaded)');
}

console.log(`\n(checksum sink ${sink})`);
if (failures > 0) {
  console.log(`${failures} parser/message pair(s) failed verification and were not timed.`);
  process.exitCode = 1;
}
