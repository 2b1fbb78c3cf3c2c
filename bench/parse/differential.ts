/**
 * Differential check of two builds of the parser: the same inputs through both, the results
 * compared field by field. Run it before committing a parser change (the reference is a build of
 * the commit before it):
 *
 *   git archive HEAD | tar -x -C /tmp/pbase && ln -s $PWD/node_modules /tmp/pbase/node_modules
 *   (cd /tmp/pbase && npm run build --silent) && npm run build --silent
 *   node --import tsx bench/parse/differential.ts /tmp/pbase/dist [mutations=30000] [seed=1]
 *
 * Inputs: the RFC 4475 and RFC 3261 corpora and the bench messages, each as a string and as a
 * Buffer, then `mutations` messages made from them by byte edits (delete, insert a delimiter or a
 * non-ASCII byte, duplicate a range, change case, cut), also both ways. Compared: ok or not, the
 * error's place, detail and code, whether a partial message came back, and for every message its
 * start line, its fields (name, key, value), every typed accessor (its value walked through its
 * getters, or its error), the body and the serialized text. Exits 1 on the first difference.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Sip = typeof import('../../dist/sip/index.js');

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
if (args.length < 1) {
  console.error('usage: differential.ts <reference dist dir> [mutations] [seed]');
  process.exit(2);
}
const oldSip = (await import(pathToFileURL(resolve(args[0]!, 'sip/index.js')).href)) as Sip;
const newSip = (await import(pathToFileURL(join(here, '../../dist/sip/index.js')).href)) as Sip;
const mutations = Number(args[1] ?? 30_000);
let seed = Number(args[2] ?? 1) >>> 0 || 1;

function rand(n: number): number {
  // xorshift32: the same sequence on every run for a seed
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed % n;
}

/** A value made comparable: class name, own public properties and getters, recursively. */
function snap(v: unknown, depth = 0): unknown {
  if (v === null || v === undefined || typeof v !== 'object') {
    if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
    return v;
  }
  if (depth > 6) return '…';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  if (Array.isArray(v)) return v.map((e) => snap(e, depth + 1));
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Map) return ['Map', [...v].map(([k, x]) => [k, snap(x, depth + 1)])];
  const out: Record<string, unknown> = { class: v.constructor?.name };
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!k.startsWith('_')) out[k] = snap(o[k], depth + 1);
  // getters along the prototype chain (lazy values included)
  for (let p = Object.getPrototypeOf(v); p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (d.get === undefined || k in out) continue;
      out[k] = attempt(() => snap(d.get!.call(v), depth + 1));
    }
  }
  if (typeof (v as { toString?: unknown }).toString === 'function' && !(v instanceof Map)) out['toString()'] = attempt(() => String(v));
  if (v.constructor?.name === 'Params') out.entries = [...(v as Map<string, unknown>)];
  return out;
}

function attempt(f: () => unknown): unknown {
  try {
    return f();
  } catch (e) {
    const err = e as { place?: string; detail?: string; message?: string };
    return { threw: err.place ?? '', detail: err.detail ?? err.message };
  }
}

const ACCESSORS = ['topVia', 'via', 'from', 'to', 'callId', 'cseq', 'maxForwards', 'contentLength', 'contentType', 'contact',
  'contactStar', 'route', 'recordRoute', 'path', 'expires', 'minExpires', 'require', 'proxyRequire', 'supported', 'unsupported',
  'allow', 'wwwAuthenticate', 'authorization', 'proxyAuthenticate', 'proxyAuthorization', 'userAgent', 'server', 'date',
  'body', 'bodyLength', 'method', 'uri', 'requestUri', 'status', 'reason', 'isRequest'];

function result(sip: Sip, input: string | Uint8Array, opts: { datagram: boolean }): string {
  const r = attempt(() => sip.parseMessage(input, opts)) as ReturnType<Sip['parseMessage']>;
  const out: Record<string, unknown> = { ok: r.ok };
  if (!r.ok) out.error = [r.error.place, r.error.detail, r.error.code];
  const m = r.message;
  if (m !== undefined) {
    out.startLine = m.startLine();
    out.fields = m.fields.map((f) => [f.name, f.key, f.value, f.raw]);
    out.pristine = attempt(() => m.pristineHead());
    const rec = m as unknown as Record<string, unknown>;
    for (const k of ACCESSORS) out[k] = attempt(() => snap(rec[k]));
    out.validate = attempt(() => snap(m.validate()));
    out.serialized = attempt(() => sip.serializeToString(m));
  }
  return JSON.stringify(out);
}

// ---- corpus ----
const corpus: Buffer[] = [];
for (const d of [join(here, '../../src/sip/message/testdata/rfc4475'), join(here, '../../src/sip/message/testdata/rfc3261'), join(here, 'messages')]) {
  for (const f of readdirSync(d).sort()) if (f.endsWith('.sip')) corpus.push(readFileSync(join(d, f)));
}

const INSERTS = [';', ',', '<', '>', '"', '\\', ':', '@', ' ', '\t', '\r\n', '\r\n ', '\n', '=', '?', '%', '[', ']', '*', '/', '.',
  '0', '9', 'a', 'Z', '\u00e9', '\u20ac', '\ud83d\ude00', '\u0000', '\u007f', 'sip:', 'sips:', 'tag=', ';lr', 'branch=z9hG4bK',
  'Via: SIP/2.0/UDP h\r\n', 'Contact: *\r\n', 'Content-Length: 5\r\n', 'Digest ', 'Max-Forwards: 70\r\n', '\xff'];

function mutate(src: Buffer): Buffer {
  let b = src;
  const edits = 1 + rand(3);
  for (let e = 0; e < edits; e++) {
    const at = rand(b.length + 1);
    switch (rand(7)) {
      case 0: // delete a run
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rand(4)))]);
        break;
      case 1:
      case 2: { // insert a delimiter or some text; \xff as a raw byte (invalid UTF-8)
        const s = INSERTS[rand(INSERTS.length)]!;
        const ins = s === '\xff' ? Buffer.from([0xff]) : Buffer.from(s, 'utf8');
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        break;
      }
      case 3: { // duplicate a range (a header twice, a parameter twice)
        const len = 1 + rand(60);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      case 4: { // flip the case of a letter
        const c = b[at];
        if (c !== undefined && ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)) {
          b = Buffer.from(b);
          b[at] = c ^ 0x20;
        }
        break;
      }
      case 5: // cut
        b = b.subarray(0, at);
        break;
      default: { // replace one byte by a delimiter
        const s = INSERTS[rand(20)]!;
        b = Buffer.concat([b.subarray(0, at), Buffer.from(s), b.subarray(at + 1)]);
      }
    }
  }
  return b;
}

let checked = 0;
function check(bytes: Buffer, label: string): void {
  for (const datagram of [true, false]) {
    const text = bytes.toString('utf8');
    const pairs: Array<[string, string | Uint8Array]> = [['string', text], ['Buffer', Buffer.from(bytes)]];
    for (const [kind, input] of pairs) {
      const a = result(oldSip, input, { datagram });
      const b = result(newSip, typeof input === 'string' ? input : Buffer.from(bytes), { datagram });
      checked++;
      if (a !== b) {
        console.error(`DIFFERENCE on ${label} (${kind}, datagram=${datagram})`);
        console.error('input:', JSON.stringify(bytes.toString('latin1')));
        const ja = JSON.parse(a) as Record<string, unknown>;
        const jb = JSON.parse(b) as Record<string, unknown>;
        for (const k of new Set([...Object.keys(ja), ...Object.keys(jb)])) {
          const x = JSON.stringify(ja[k]);
          const y = JSON.stringify(jb[k]);
          if (x !== y) console.error(`  ${k}:\n    old ${x}\n    new ${y}`);
        }
        process.exit(1);
      }
    }
  }
}

corpus.forEach((b, i) => check(b, `corpus #${i}`));
for (let i = 0; i < mutations; i++) {
  const base = corpus[rand(corpus.length)]!;
  check(mutate(base), `mutation #${i}`);
}
console.log(`differential: ${corpus.length} corpus messages and ${mutations} mutations, ${checked} parses per build: no difference`);
