// `parley pcap crypto` and `parley pcap decrypt` on a real SRTP capture with known keys: two Debian baresips (the srtp
// module, `mediaenc=srtp-mand`: RTP/SAVP with SDES keys, RFC 4568, libre's own SRTP) call each
// other through Parley over UDP, alice sending baresip's 440 Hz sine tone in G.711 µ-law, while
// dumpcap captures the loopback (the file's port slice). Then:
// - `parley pcap crypto` lists the call's offer and answer with the keys tshark reads in them;
// - `parley pcap decrypt` with the keys of the capture's own a=crypto lines writes a pcap in
//   which tshark (`-z rtp,streams`) finds the same streams with the same packet counts as in
//   the SRTP capture, every packet decrypted, none failed;
// - the same with --no-auto and the key given by hand (--key SUITE:KEY@ADDRESS:PORT, the key read
//   from alice's own SIP trace): alice's stream decrypts, bob's (no key) fails, and says so;
// - libre sends a first RTCP packet and its last (BYE) in the clear: counted as such, not failed;
//   bob's first SRTCP goes out before his 200 reaches the capture, so the keys are read first;
// - the decrypted payload is the audio sent: µ-law samples whose frequency is 440 Hz (zero
//   crossings), which the still encrypted payload is not.
// Port slice 53 (test/interop/support/ports.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PacketDecoder, readCapture } from '../../src/pcap/index.js';
import { Baresip, skipWithoutBaresip } from './support/baresip.js';
import { Dumpcap, skipWithoutLoopbackCapture } from './support/dumpcap.js';
import { PARLEY_CLI, ParleyServer, stopCleanly } from './support/parley.js';
import { portPool, sliceFirst, SLICE_SIZE, PORT_SLICES } from './support/ports.js';

const ALICE = { user: 'alice', password: 'secret-alice' };
const BOB = { user: 'bob', password: 'secret-bob' };
const pool = portPool(import.meta.url);
const PACKETS = 100;
const FIRST = sliceFirst(PORT_SLICES['pcap-srtp.test.ts']!);
const dir = mkdtempSync(join(tmpdir(), 'parley-pcap-srtp-'));
after(() => (process.env.PARLEY_KEEP_CAPTURES ? undefined : rmSync(dir, { recursive: true, force: true })));

function canCapture(): string | false {
  const skip = skipWithoutBaresip();
  if (skip !== false) return skip;
  for (const tool of ['tshark', 'dumpcap']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  return skipWithoutLoopbackCapture();
}

/** tshark's RTP streams: "src srcport dst dstport ssrc" → packets. */
function tsharkStreams(file: string): Map<string, number> {
  const out = spawnSync('tshark', ['-n', '-q', '--enable-heuristic', 'rtp_udp', '-z', 'rtp,streams', '-r', file], { encoding: 'utf8' }).stdout;
  const rows = new Map<string, number>();
  for (const line of out.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words.length < 12 || !words[6]!.startsWith('0x')) continue;
    const problem = words.at(-1) === 'X';
    const packets = Number(words[words.length - (problem ? 10 : 9)]);
    rows.set(`${words[2]} ${words[3]} ${words[4]} ${words[5]} ${Number.parseInt(words[6]!, 16)}`, packets);
  }
  return rows;
}

/** Every UDP payload of `file` from `srcPort` (our own reader: the decrypted file's datagrams). */
async function payloadsFrom(file: string, srcPort: number): Promise<Buffer[]> {
  const decoder = new PacketDecoder();
  const out: Buffer[] = [];
  const r = await readCapture((async function* () { yield readFileSync(file); })(), (rec) => {
    const d = decoder.decode(rec);
    if (d.kind === 'segment' && d.segment.protocol === 'udp' && d.segment.srcPort === srcPort) out.push(Buffer.from(d.segment.payload));
  });
  assert.ok(r.ok);
  return out;
}

/** G.711 µ-law to linear (ITU-T G.711). */
function ulaw(b: number): number {
  const u = ~b & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

/** The frequency of 8 kHz µ-law samples by counting zero crossings. */
function frequency(samples: readonly number[]): number {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1]! < 0) !== (samples[i]! < 0)) crossings++;
  return crossings / 2 / (samples.length / 8000);
}

function parley(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [PARLEY_CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface Summary {
  decrypted: number;
  keys: number;
  streams: { kind: string; src: string; srcPort: number; ssrc: number; suite?: string; packets: number; decrypted: number; failed: number; plain: number; key?: string }[];
}

describe('parley pcap decrypt on a baresip SDES call captured by dumpcap', { skip: canCapture(), timeout: 180_000 }, () => {
  let server: ParleyServer;
  const capture = join(dir, 'srtp.pcapng');
  let alice: Baresip;
  let bob: Baresip;
  let aliceMediaPort = 0;
  let aliceKey = '';
  let bobKey = '';
  let suite = '';

  before(async () => {
    server = await ParleyServer.start({ pool, subscribers: [ALICE, BOB], transports: ['udp'] });
    const registrar = { host: server.host, port: server.portFor('udp'), transport: 'udp' as const };
    alice = await Baresip.start({ pool, account: ALICE, registrar, mediaenc: 'srtp-mand', lifetimeSecs: 90 });
    bob = await Baresip.start({ pool, account: BOB, registrar, mediaenc: 'srtp-mand', lifetimeSecs: 90 });
    const dumpcap = await Dumpcap.start({ file: capture, filter: `udp portrange ${FIRST}-${FIRST + SLICE_SIZE - 1}` });
    try {
      await Promise.all([alice.registered(), bob.registered()]);
      const from = { alice: alice.events.length, bob: bob.events.length };
      await alice.command('dial', 'sip:bob@127.0.0.1');
      await bob.waitEvent((e) => e.type === 'CALL_INCOMING', 15_000, from.bob);
      await bob.command('accept');
      await alice.waitEvent((e) => e.type === 'CALL_ESTABLISHED', 15_000, from.alice);
      await alice.rtpFlowing(PACKETS);
      await bob.rtpFlowing(PACKETS);
      await alice.command('hangup');
      await bob.waitEvent((e) => e.type === 'CALL_CLOSED', 15_000, from.bob);
      // libpcap hands packets over in blocks: wait (bounded) until the capture holds the BYE's 200
      let complete = false;
      for (let attempt = 0; attempt < 50 && !complete; attempt++) {
        await new Promise((r) => setTimeout(r, 200));
        complete = spawnSync('tshark', ['-r', capture, '-Y', 'sip.CSeq.method == "BYE" && sip.Status-Code == 200'], { encoding: 'utf8' }).stdout.trim() !== '';
      }
      assert.ok(complete, 'the capture never held the end of the call');
    } finally {
      await dumpcap.stop();
      await Promise.all([alice.stop(), bob.stop()]);
    }
    // the offer and answer as tshark reads them: alice's key (the suite bob chose) and her port
    const sdp = spawnSync('tshark', ['-r', capture, '-Y', 'sdp', '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=;', '-e', 'sip.Method', '-e', 'sip.Status-Code', '-e', 'sdp.media.port', '-e', 'sdp.media_attr'], { encoding: 'utf8' }).stdout;
    const rows = sdp.trim().split('\n').map((l) => l.split('|'));
    const offer = rows.find((r) => r[0] === 'INVITE' && r[3]!.includes('crypto:'));
    const answer = rows.find((r) => r[1] === '200' && r[3]!.includes('crypto:'));
    assert.ok(offer !== undefined && answer !== undefined, sdp);
    aliceMediaPort = Number(offer[2]);
    const chosen = answer[3]!.split(';').find((a) => a.startsWith('crypto:'))!.split(' ');
    const tag = chosen[0]!.slice('crypto:'.length);
    suite = chosen[1]!;
    const mine = offer[3]!.split(';').find((a) => a.startsWith(`crypto:${tag} ${suite} `))!;
    aliceKey = mine.split(' ')[2]!.slice('inline:'.length).split('|')[0]!;
    bobKey = chosen[2]!.slice('inline:'.length).split('|')[0]!;
  });
  after(() => stopCleanly(server));

  it('with the keys of the capture\'s a=crypto: tshark finds the same RTP streams and packet counts as in the SRTP capture, all decrypted', () => {
    const out = join(dir, 'auto.pcap');
    const r = parley(['pcap', 'decrypt', capture, '--out', out, '--json']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const summary = JSON.parse(r.stdout) as Summary;
    assert.ok(summary.keys >= 2, r.stdout);
    const srtp = summary.streams.filter((s) => s.kind === 'srtp');
    assert.equal(srtp.length, 2, r.stdout);
    for (const s of srtp) {
      assert.ok(s.decrypted >= PACKETS, r.stdout);
      assert.equal(s.failed, 0, r.stdout);
      assert.equal(s.suite, suite);
    }
    for (const s of summary.streams.filter((x) => x.kind === 'srtcp')) {
      assert.equal(s.failed, 0, r.stdout);
      assert.ok(s.decrypted >= 1, r.stdout);
    }
    const before = tsharkStreams(capture);
    const afterDecrypt = tsharkStreams(out);
    assert.equal(before.size, 2, `tshark's streams of the SRTP capture: ${JSON.stringify([...before])}`);
    assert.deepEqual([...afterDecrypt].sort(), [...before].sort());
    for (const s of srtp) assert.equal(before.get([...before.keys()].find((k) => k.startsWith(`${s.src} ${s.srcPort} `) && k.endsWith(` ${s.ssrc}`))!), s.packets);
  });

  it('parley pcap crypto lists the offer\'s and the answer\'s a=crypto as tshark reads them', () => {
    const r = parley(['pcap', 'crypto', capture, '--json']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const report = JSON.parse(r.stdout) as { calls: { sdps: { role: string; media: { port: number; crypto: { tag: number; suite: string; keys: { keySalt: string; key: string; salt: string }[] }[] }[] }[] }[] };
    assert.equal(report.calls.length, 1, r.stdout);
    const sdps = report.calls[0]!.sdps;
    const offer = sdps.find((s) => s.role === 'offer' && s.media[0]!.port === aliceMediaPort)!;
    const answer = sdps.find((s) => s.role === 'answer')!;
    assert.ok(offer !== undefined && answer !== undefined, r.stdout);
    const offered = offer.media[0]!.crypto.find((c) => c.suite === suite)!;
    assert.equal(offered.keys[0]!.keySalt, aliceKey);
    assert.equal(offered.keys[0]!.key + offered.keys[0]!.salt, Buffer.from(aliceKey, 'base64').toString('hex'));
    assert.equal(answer.media[0]!.crypto[0]!.keys[0]!.keySalt, bobKey);
    const text = parley(['pcap', 'crypto', capture]);
    assert.ok(text.stdout.includes(`a=crypto:${offered.tag} ${suite} ${aliceKey}`), text.stdout);
  });

  it('the decrypted payload is the 440 Hz tone alice sent; the encrypted one is not', async () => {
    const out = join(dir, 'auto.pcap');
    const plain = await payloadsFrom(out, aliceMediaPort);
    assert.ok(plain.length >= PACKETS);
    // after the first second (baresip's resampler settles)
    const samples = plain.slice(50).flatMap((p) => (p[1]! & 0x7f) === 0 ? [...p.subarray(12)].map(ulaw) : []);
    assert.ok(samples.length >= 8000 * 0.5, `${samples.length} µ-law samples`);
    const f = frequency(samples);
    assert.ok(Math.abs(f - 440) < 440 * 0.02, `the decrypted audio is ${f.toFixed(1)} Hz`);
    const encrypted = await payloadsFrom(capture, aliceMediaPort);
    const noise = encrypted.slice(50).flatMap((p) => [...p.subarray(12, p.length - 10)].map(ulaw));
    assert.ok(Math.abs(frequency(noise) - 440) > 440, `the encrypted payload is noise (${frequency(noise).toFixed(0)} Hz)`);
  });

  it('with --no-auto and alice\'s key by hand: her stream decrypts, bob\'s fails, exit status 3', () => {
    const out = join(dir, 'manual.pcap');
    const r = parley(['pcap', 'decrypt', capture, '--out', out, '--no-auto', '--key', `${suite}:${aliceKey}@127.0.0.1:${aliceMediaPort}`]);
    assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
    // kind, source, destination, SSRC, suite, packets, decrypted, failed, clear, key
    const rows = r.stdout.split('\n').map((l) => l.split(/\s+/)).filter((w) => w[0] === 'srtp');
    const aliceRow = rows.find((w) => w[1] === `127.0.0.1:${aliceMediaPort}`);
    const bobRow = rows.find((w) => w[1] !== `127.0.0.1:${aliceMediaPort}`);
    assert.ok(aliceRow !== undefined && bobRow !== undefined, r.stdout);
    assert.deepEqual([aliceRow[4], aliceRow[7], aliceRow.slice(9).join(' ')], [suite, '0', '--key 1'], r.stdout);
    assert.ok(Number(aliceRow[6]) >= PACKETS, r.stdout);
    assert.deepEqual([bobRow[4], bobRow[6], bobRow[7]], ['-', '0', bobRow[5]], r.stdout);
    const streams = tsharkStreams(out);
    assert.equal(streams.size, 2);
  });
});
