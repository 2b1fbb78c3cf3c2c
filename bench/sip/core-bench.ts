/**
 * The SIP core alone, in one thread, without sockets or threads: REGISTERs (as the shared
 * harness's sipp scenario sends them) handed to a MessagePath as datagrams, answered by the
 * built-in default script's registrar, the responses caught by a wire that keeps nothing. Prints
 * the CPU time per REGISTER and, with --alloc, where the bytes allocated per REGISTER come from
 * (V8's sampling heap profiler, garbage included). For finding work to cut on the request path
 * on a shared machine: one thread, many iterations, the same run for before and after.
 *
 *   node --import tsx bench/sip/core-bench.ts [--count 200000] [--users 10000] [--auth] [--alloc | --live | --promoted]
 *
 * --auth: the harness's register_auth instead (REGISTER, its stateless 401, the REGISTER again
 * with an Authorization for the nonce it got, its 200): CPU per authenticated registration, less
 * what this script spends as the client (building the second REGISTER and its digest, measured
 * alone in the same loop without the server and subtracted).
 *
 * --alloc: every byte allocated (garbage included); --live: what is still alive at the end (the
 * objects a request leaves behind: transactions in Timer J, bindings, caches); --promoted: what
 * outlived the young generation (alive at the end, or collected by a mark-compact: the bytes
 * the garbage collector copied to the old generation and marked there).
 */
import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { configFromObject } from '../../src/app/config.js';
import { buildSipCore } from '../../src/app/sip-core.js';
import { systemClock } from '../../src/lib/clock.js';
import { builtinDefault } from '../../src/routing/script-host.js';
import { computeDigestResponse, computeHa1 } from '../../src/sip/digest/index.js';
import { SipServer } from '../../src/sip-server/sip-server.js';
import { LocationService } from '../../src/sip-server/registrar/location-service.js';
import { MessagePath, type Flow, type ListenerInfo, type Wire } from '../../src/sip-server/transport/index.js';
import { MemorySubscriberStore } from '../../src/store/memory-subscriber-store.js';
import type { BindingStore, ContactBinding } from '../../src/store/binding-store.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '200000' }, users: { type: 'string', default: '10000' }, auth: { type: 'boolean', default: false }, alloc: { type: 'boolean', default: false }, live: { type: 'boolean', default: false }, promoted: { type: 'boolean', default: false } } });
const COUNT = Number(values.count);
const USERS = Number(values.users);
const PORT = 5270;
const AUTH = values.auth;
const PASSWORD = 'benchpass';

/** Commits at once, as a binding writer that answered immediately would (no SQLite here). */
class InstantStore implements BindingStore {
  async save(): Promise<void> {}
  async apply(): Promise<void> {}
  async remove(): Promise<void> {}
  async removeAor(): Promise<void> {}
  async loadAll(): Promise<ContactBinding[]> {
    return [];
  }
  async purgeExpired(): Promise<number> {
    return 0;
  }
}

let responses = 0;
let statusOk = 0;
/** The nonce of the last 401 (--auth). */
let nonce: string | undefined;
const wire: Wire = {
  sendBytes: () => {},
  sendToTarget: (bytes) => {
    responses++;
    // "SIP/2.0 200"
    if (bytes[8] === 0x32 && bytes[9] === 0x30 && bytes[10] === 0x30) statusOk++;
    // "SIP/2.0 401"
    else if (AUTH && bytes[8] === 0x34 && bytes[9] === 0x30 && bytes[10] === 0x31) nonce = /nonce="([^"]+)"/.exec(Buffer.from(bytes).toString('latin1'))?.[1];
  },
};

const config = configFromObject({ sip: { ...(process.env.T1 ? { timers: { t1: Number(process.env.T1) } } : {}), domains: ['127.0.0.1'], listen: [{ transport: 'udp', address: '127.0.0.1', port: PORT, auth: AUTH }] } });
const listeners: ListenerInfo[] = [{ transport: 'udp', address: '127.0.0.1', port: PORT }];
const log = pino({ level: 'silent' });
const path = new MessagePath({ wire, limits: { maxMessageSize: 65535, maxHeaders: 256 } });
const sip = new SipServer({ path, log });
const subscribers = new MemorySubscriberStore();
if (AUTH) for (let i = 0; i < USERS; i++) await subscribers.add({ username: user(i), domain: '127.0.0.1', password: PASSWORD });
const location = new LocationService({ clock: systemClock, store: new InstantStore() });
await location.start();
buildSipCore({ config, sip, listeners, subscribers, location, clock: systemClock, log, nonceSecret: randomBytes(32), script: builtinDefault() });
await sip.start?.();

function user(i: number): string {
  return `user${String(i).padStart(6, '0')}`;
}

/**
 * sipp's REGISTER of the harness's register.xml, for user i, call number n; with `authorization`,
 * register_auth.xml's second REGISTER (CSeq 2, that Authorization header).
 */
function register(i: number, n: number, port: number, authorization?: string): Uint8Array {
  const name = user(i);
  const text =
    `REGISTER sip:127.0.0.1:${PORT} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-${n}-${authorization === undefined ? 1 : 2}-0\r\n` +
    `From: <sip:${name}@127.0.0.1>;tag=${n}SIPpTag00${n}\r\n` +
    `To: <sip:${name}@127.0.0.1>\r\n` +
    `Call-ID: ${i}-reg@127.0.0.1\r\n` +
    `CSeq: ${authorization === undefined ? n + 1 : n + 2} REGISTER\r\n` +
    `Contact: <sip:${name}@127.0.0.1:${port}>\r\n` +
    (authorization === undefined ? '' : `Authorization: ${authorization}\r\n`) +
    `Max-Forwards: 70\r\n` +
    `Expires: 3600\r\n` +
    `User-Agent: SIPp\r\n` +
    `Content-Length: 0\r\n\r\n`;
  return Buffer.from(text, 'latin1');
}

const flow: Flow = { transport: 'udp', remoteAddress: '127.0.0.1', remotePort: 5371, localAddress: '127.0.0.1', localPort: PORT };
const messages = Array.from({ length: 4096 }, (_, k) => register(k % USERS, k, 5371));

/** The client's HA1 of each user (--auth). */
const ha1s = AUTH ? Array.from({ length: USERS }, (_, i) => computeHa1('MD5', user(i), '127.0.0.1', PASSWORD)) : [];
const DIGEST_URI = `sip:127.0.0.1:${PORT}`;

/** The Authorization sipp's register_auth.xml sends for user i (call n) and this nonce. */
function authorization(i: number, n: number, challenge: string): string {
  const cnonce = (0x10000000 + n).toString(16);
  const response = computeDigestResponse({ algorithm: 'MD5', ha1: ha1s[i]!, method: 'REGISTER', digestUri: DIGEST_URI, nonce: challenge, qop: 'auth', nc: '00000001', cnonce });
  return `Digest username="${user(i)}",realm="127.0.0.1",cnonce="${cnonce}",nc=00000001,qop=auth,uri="${DIGEST_URI}",nonce="${challenge}",response="${response}",algorithm=MD5`;
}

/** --auth: REGISTER, its 401, the REGISTER with credentials; `server` false: the client's part alone. */
async function runAuth(count: number, offset: number, server = true): Promise<void> {
  const fake = 'A'.repeat(75);
  for (let k = 0; k < count; k++) {
    const n = offset + k;
    const i = n % USERS;
    const first = register(i, n, 5371);
    nonce = undefined;
    if (server) {
      path.receiveDatagram(first, flow);
      if (nonce === undefined) await new Promise((r) => setImmediate(r));
      if (nonce === undefined) throw new Error('core-bench: no 401 with a nonce for the first REGISTER');
    }
    const second = register(i, n, 5371, authorization(i, n, nonce ?? fake));
    if (server) path.receiveDatagram(second, flow);
    if ((k & 63) === 63) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setImmediate(r));
}

async function run(count: number, offset: number): Promise<void> {
  if (AUTH) return runAuth(count, offset);
  for (let k = 0; k < count; k++) {
    const n = offset + k;
    // a fresh message per request (as off a socket), from a pool of texts with their own branch
    const base = messages[n % messages.length]!;
    const bytes = n < messages.length ? base : register(n % USERS, n, 5371);
    path.receiveDatagram(bytes, flow);
    if ((k & 63) === 63) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setImmediate(r));
}

// warm-up
await run(20000, 1_000_000);
let session: Session | undefined;
if (values.alloc || values.live || values.promoted) {
  session = new Session();
  session.connect();
  // --promoted: what outlived the young generation (collected by a mark-compact later, or alive)
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: !values.live, includeObjectsCollectedByMinorGC: values.alloc });
}
responses = 0;
statusOk = 0;
const c0 = process.cpuUsage();
const t0 = performance.now();
await run(COUNT, 2_000_000);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(c0);
if (AUTH) {
  // the client's part alone (the two REGISTERs built, the digest computed), in the same loop
  const c1 = process.cpuUsage();
  await runAuth(COUNT, 3_000_000, false);
  const client = process.cpuUsage(c1);
  const clientUs = (client.user + client.system) / COUNT;
  console.log(`${COUNT} authenticated registrations, ${responses} responses (${statusOk} 200): ${((cpu.user + cpu.system) / COUNT - clientUs).toFixed(2)} µs CPU per registration (two REGISTERs, a 401 and a 200; the client's ${clientUs.toFixed(2)} µs taken out; the whole process, V8 helper threads included)`);
} else {
  console.log(`${COUNT} REGISTERs, ${responses} responses (${statusOk} 200): ${((cpu.user + cpu.system) / COUNT).toFixed(2)} µs CPU and ${((wall * 1000) / COUNT).toFixed(2)} µs wall per REGISTER (CPU: the whole process, V8 helper threads included)`);
}
if (session !== undefined) {
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: Node } };
  interface Node { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] }
  const self = new Map<string, number>();
  let total = 0;
  const walk = (n: Node): void => {
    const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
    self.set(k, (self.get(k) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  console.log(`${values.live ? 'alive at the end' : values.promoted ? 'promoted (alive, or collected by a mark-compact)' : 'allocated'} ≈ ${(total / COUNT).toFixed(0)} bytes per REGISTER (sampled); by allocating function:`);
  for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${(v / COUNT).toFixed(0).padStart(7)} B  ${k}`);
}
await sip.stop();
await location.stop();
process.exit(0);
