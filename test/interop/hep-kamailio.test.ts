/**
 * src/hep against Kamailio's HEPv3 (Debian's kamailio package), both ways:
 * - Kamailio's decoder (the sipcapture module) reads what src/hep encodes: Parley's packets sent
 *   over UDP to Kamailio listening as a HEP collector (support/kamailio-sipcapture.cfg), each
 *   generic chunk printed by Kamailio's `$hep(0x...)` and compared with what was encoded.
 *   Kamailio's `$hep()` reads chunks 0x0001-0x000f and 0x0011 only (not the VLAN, 0x0012, nor the
 *   node name, 0x0013): those are checked by tshark (hep-tshark.test.ts) and the unit vectors.
 * - decodeHep reads what Kamailio's siptrace module sends (support/kamailio-siptrace.cfg) for a
 *   request the test sends it: addresses and ports as on the wire, SIP, capture ID, the message.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeHep, encodeHep, HepIpFamily, HepIpProtocol, HepProtocolType, type HepPacket } from '../../src/hep/index.js';
import { signalPid, spawnBounded, type BoundedChild } from './support/child.js';
import { kamailioMissing } from './support/kamailio.js';
import { REPO_ROOT } from './support/parley.js';
import { portPool } from './support/ports.js';

const CONFIG = join(REPO_ROOT, 'test/interop/support/kamailio-sipcapture.cfg');
const pool = portPool(import.meta.url);

function sipcaptureMissing(): string | undefined {
  const why = kamailioMissing(CONFIG);
  // kamailioMissing also asks for the WebSocket module, which this suite does not load
  if (why !== undefined && !why.includes('websocket')) return why;
  return undefined;
}
const missing = sipcaptureMissing();
const skip: string | false = missing === undefined ? false : process.env.CI ? false : `${missing}; skipped outside CI`;

const enc = new TextEncoder();
const CALL_ID = 'a84b4c76e66710@pc33.example.com';
const INVITE = `INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds\r\nFrom: <sip:alice@example.com>;tag=1928301774\r\nTo: <sip:bob@example.com>\r\nCall-ID: ${CALL_ID}\r\nCSeq: 314159 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;

const PACKETS: readonly HepPacket[] = [
  {
    ipFamily: HepIpFamily.IPV4, ipProtocol: HepIpProtocol.UDP, sourceIpv4: '192.0.2.10', destinationIpv4: '198.51.100.20', sourcePort: 5062,
    destinationPort: 5060, timeSeconds: 1_700_000_000, timeMicroseconds: 123_456, protocolType: HepProtocolType.SIP, captureAgentId: 2001,
    authKey: 'parley-key', correlationId: 'c1', payload: enc.encode(INVITE),
    vendorChunks: [{ vendorId: 0x0003, type: 0x0001, value: Uint8Array.of(0xff, 0xff) }], // skipped by Kamailio, as it should be
  },
  {
    ipFamily: HepIpFamily.IPV6, ipProtocol: HepIpProtocol.TCP, sourceIpv6: '2001:db8::10', destinationIpv6: '2001:db8::20', sourcePort: 5061,
    destinationPort: 5060, timeSeconds: 4_294_967_295, timeMicroseconds: 999_999, protocolType: HepProtocolType.LOG, captureAgentId: 0xfffffffe,
    keepAliveTimer: 30, correlationId: CALL_ID, payload: enc.encode('call answered'),
  },
];

/** What Kamailio printed for a packet: version, the chunks 0x0001-0x000e, 0x0011, then the payload ('' where it has none). */
function expected(p: HepPacket): string[] {
  const s = (v: number | string | undefined): string => (v === undefined ? '' : String(v));
  return [
    '3', s(p.ipFamily), s(p.ipProtocol), s(p.sourceIpv4), s(p.destinationIpv4), s(p.sourceIpv6), s(p.destinationIpv6), s(p.sourcePort),
    s(p.destinationPort), s(p.timeSeconds), s(p.timeMicroseconds), s(p.protocolType), s(p.captureAgentId), s(p.keepAliveTimer), s(p.authKey),
    s(p.correlationId), Buffer.from(p.payload ?? []).toString('utf8'),
  ];
}

/** Kamailio on a configuration of this folder, its output collected; stopped by its PID (SIGTERM: it ends its children). */
function startKamailio(config: string, dir: string, defines: readonly string[], onOutput: (text: string) => void): BoundedChild {
  return spawnBounded(
    'kamailio',
    ['-f', join(REPO_ROOT, 'test/interop/support', config), '-DD', '-E', '-Y', dir, '-P', join(dir, 'kamailio.pid'), '-m', '32', '-M', '8', ...defines.flatMap((d) => ['-A', d])],
    { cwd: dir, timeoutMs: 120_000, onOutput },
  );
}

async function stopKamailio(k: BoundedChild | undefined): Promise<void> {
  if (k?.pid !== undefined && k.running()) signalPid(k.pid, 'SIGTERM');
  await k?.done.catch(() => undefined);
}

describe("Kamailio's sipcapture module decodes what src/hep encodes", { skip }, () => {
  let dir = '';
  let port = 0;
  let kamailio: BoundedChild | undefined;
  let output = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-hep-kamailio-'));
    await mkdir(join(dir, 'db'));
    port = await pool.block(1);
    kamailio = startKamailio('kamailio-sipcapture.cfg', dir, [`HEP_PORT=${port}`, `DB_URL="text://${join(dir, 'db')}"`], (t) => (output += t));
    // no readiness line to wait for: the test sends again until Kamailio has printed the packets
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(kamailio.running(), `kamailio did not start:\n${output}`);
  });

  after(async () => {
    await stopKamailio(kamailio);
    await rm(dir, { recursive: true, force: true });
  });

  it('every chunk Kamailio reads, over IPv4 and IPv6, a SIP capture and a log line', async () => {
    const socket = createSocket('udp4');
    try {
      // sent until Kamailio has printed both (UDP: its socket may not be up yet), bounded
      for (let round = 0; round < 100 && (output.match(/\}HEP/g) ?? []).length < PACKETS.length; round++) {
        if (round % 10 === 0) {
          output = output.replaceAll('HEP{', 'old{').replaceAll('}HEP', '}old');
          for (const p of PACKETS) await new Promise<void>((res, rej) => socket.send(encodeHep(p), port, '127.0.0.1', (e) => (e ? rej(e) : res())));
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      socket.close();
    }
    const printed = [...output.matchAll(/HEP\{([\s\S]*?)\}HEP/g)].map((m) => {
      const cells = m[1]!.split('|');
      return [...cells.slice(0, 16), cells.slice(16).join('|')];
    });
    assert.equal(printed.length, PACKETS.length, `Kamailio printed:\n${output}`);
    // Kamailio prints "<null>" for a chunk the packet lacks
    const got = printed.map((cells) => cells.map((c) => (c === '<null>' ? '' : c)));
    assert.deepEqual(got, PACKETS.map(expected));
  });
});

describe("decodeHep reads what Kamailio's siptrace module sends", { skip }, () => {
  let dir = '';
  let kamailio: BoundedChild | undefined;
  let output = '';
  let hepSocket: Socket | undefined;
  let sipSocket: Socket | undefined;
  const received: Uint8Array[] = [];
  let sipPort = 0;
  let hepPort = 0;
  let clientPort = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-hep-siptrace-'));
    const base = await pool.block(3);
    [sipPort, hepPort, clientPort] = [base, base + 1, base + 2];
    hepSocket = createSocket('udp4');
    hepSocket.on('message', (m) => received.push(Uint8Array.from(m)));
    await new Promise<void>((res) => hepSocket!.bind(hepPort, '127.0.0.1', res));
    sipSocket = createSocket('udp4');
    await new Promise<void>((res) => sipSocket!.bind(clientPort, '127.0.0.1', res));
    kamailio = startKamailio('kamailio-siptrace.cfg', dir, [`SIP_PORT=${sipPort}`, `HEP_URI="sip:127.0.0.1:${hepPort}"`], (t) => (output += t));
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(kamailio.running(), `kamailio did not start:\n${output}`);
  });

  after(async () => {
    await stopKamailio(kamailio);
    hepSocket?.close();
    sipSocket?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('an OPTIONS request: its addresses and ports as on the wire, SIP, capture ID 2001, the message', async () => {
    const callId = `hep-siptrace-${clientPort}`;
    const options = [
      `OPTIONS sip:k@127.0.0.1:${sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${clientPort};branch=z9hG4bK-hep-1`, 'From: <sip:t@127.0.0.1>;tag=1',
      'To: <sip:k@127.0.0.1>', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Max-Forwards: 70', 'Content-Length: 0', '', '',
    ].join('\r\n');
    // sent again until a HEP packet comes (Kamailio's socket may not be up yet), bounded
    for (let round = 0; round < 100 && received.length === 0; round++) {
      if (round % 10 === 0) sipSocket!.send(options, sipPort, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(received.length > 0, `no HEP from Kamailio:\n${output}`);
    const r = decodeHep(received[0]!);
    assert.ok(r.ok, r.ok ? '' : `${r.error.reason} at ${r.error.offset}`);
    const { payload, timeSeconds, timeMicroseconds, ...fields } = r.value;
    assert.deepEqual(fields, {
      ipFamily: HepIpFamily.IPV4, ipProtocol: HepIpProtocol.UDP, sourceIpv4: '127.0.0.1', destinationIpv4: '127.0.0.1', sourcePort: clientPort,
      destinationPort: sipPort, protocolType: HepProtocolType.SIP, captureAgentId: 2001,
    });
    assert.ok(timeSeconds !== undefined && timeSeconds > 1_600_000_000, `time ${timeSeconds}`);
    assert.ok(timeMicroseconds !== undefined && timeMicroseconds < 1_000_000, `microseconds ${timeMicroseconds}`);
    assert.equal(Buffer.from(payload ?? []).toString('utf8'), options);
  });
});
