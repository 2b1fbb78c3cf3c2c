// Memory per TURN allocation inside Parley's TURN server, without the network load of
// turn-bench.sh: N allocations made in process (real relay sockets on 127.0.0.1, ports from the
// system), heap and RSS measured after a full GC before and after.
//   ./node_modules/.bin/node --expose-gc --import tsx bench/turn/allocation-memory.ts 5000
// (needs N file descriptors: ulimit -n)
import { createHash, randomBytes } from 'node:crypto';
import { systemClock } from '../../src/lib/clock.ts';
import { parseStunMessage, StunAttr, StunMessageBuilder, StunMethod } from '../../src/stun/index.ts';
import { NonceIssuer } from '../../src/turn/nonce.ts';
import { PeerPolicy } from '../../src/turn/peer-policy.ts';
import { RelayPorts } from '../../src/turn/relay-ports.ts';
import { TurnServer } from '../../src/turn/turn-server.ts';
const N = Number(process.argv[2] ?? 1000);
const KEY = createHash('md5').update('u:r:p').digest();
const server = new TurnServer({ realm: 'r', credentials: { keys: async () => ({ keys: [KEY], user: 'u' }) }, peers: new PeerPolicy({}), relays: new RelayPorts({ addresses: { 4: '127.0.0.1' }, minPort: 0, maxPort: 0 }), lifetime: { default: 600, max: 3600 }, nonces: new NonceIssuer(randomBytes(32), 600_000), quotas: { perUser: 0, total: 0 }, bandwidth: 1250000, clock: systemClock });
let nonce = '';
const got = new Map<string, (b: Uint8Array) => void>();
const listener = { id: 0, transport: 'udp' as const, address: '127.0.0.1', port: 3478, send: (d: any, port: number) => got.get(String(port))?.(Array.isArray(d) ? Buffer.concat(d) : d) };
const ask = (port: number, b: Uint8Array) => new Promise<Uint8Array>((r) => { got.set(String(port), r); server.receive(listener, b, '127.0.0.1', port); });
const first = parseStunMessage(await ask(1, new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12)).build()));
if (first.ok) nonce = new TextDecoder().decode(first.value.get(StunAttr.NONCE)!.value);
const mem = () => { (globalThis as any).gc(); const m = process.memoryUsage(); return { rss: m.rss, heap: m.heapUsed, ext: m.external }; };
const m0 = mem();
for (let i = 0; i < N; i++) {
  const b = new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12)).add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0)).addString(StunAttr.USERNAME, 'u').addString(StunAttr.REALM, 'r').addString(StunAttr.NONCE, nonce).addMessageIntegrity(KEY).build();
  await ask(10000 + i, b);
}
const m1 = mem();
console.log(JSON.stringify({ allocations: server.allocationCount, rssPerAllocationKB: +((m1.rss - m0.rss) / N / 1024).toFixed(2), heapPerAllocationKB: +((m1.heap - m0.heap) / N / 1024).toFixed(2), externalPerAllocationKB: +((m1.ext - m0.ext) / N / 1024).toFixed(2) }));
server.close();
