// `parley pcap wav` against independent decoders, on captures of real calls: the WAV samples equal
// what sox (an independent G.711 decoder: `sox -t al`) makes of the payloads tshark extracts.
// 1. sipp's shipped g711a.pcap (one A-law stream, no loss).
// 2. A real call captured by dumpcap on lo: a sipp UAC plays g711a.pcap (play_pcap_audio) to a
//    sipp UAS that echoes it back (-rtp_echo); both directions decode to what was sent, and the
//    mixed file is their sum aligned on capture time.
// 3. G.722 from a real encoder: Debian's baresip (its g722 module, on spandsp) sends a 1 kHz tone
//    (ausine) to a sipp UAS that echoes it; our WAV of the echo equals, sample for sample, what
//    baresip's own decoder made of it (its sndfile module records the decoded audio), and the
//    tone's level equals the level of what baresip encoded (recorded too) within 0.5 dB.
// 4. `parley pcap split` on the two calls' captures and sipp's g711a.pcap (RTP of no call) merged by
//    mergecap: each call's pcap holds exactly the frames tshark finds for it (its Call-ID's SIP,
//    UDP to or from the ports its SDP announced, and the next ones, RTCP), byte for byte (tshark's
//    MD5 of each frame), no-call.pcap the rest, and the files add up to the capture.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PARLEY_CLI } from './support/parley.js';
import { Dumpcap } from './support/dumpcap.js';
import { portPool } from './support/ports.js';
import { reserveEndpoint, skipWithoutSipp, startSipp } from './support/sipp.js';
import { skipWithoutBaresip } from './support/baresip.js';
import { spawnBounded } from './support/child.js';
import { goertzel } from '../../src/media/codecs/testdata/audio.js';
import { skipWithoutSox } from './support/sox.js';

const SIPP_AUDIO = '/usr/share/sip-tester/g711a.pcap';
const hasTools = ['tshark', 'dumpcap', 'mergecap'].every((t) => spawnSync(t, ['-v'], { stdio: 'ignore' }).error === undefined);
const skip = skipWithoutSox() || skipWithoutSipp() || (hasTools ? false : process.env.CI ? false : 'tshark/dumpcap not installed; skipped outside CI');

const dir = mkdtempSync(join(tmpdir(), 'parley-pcap-wav-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const pool = portPool(import.meta.url);

interface WavJson {
  calls: Array<{
    call: string;
    mixed?: string;
    mixError?: string;
    streams: Array<{ src: string; srcPort: number; dst: string; dstPort: number; ssrc: number; file?: string; codec?: string; samples: number; startTime?: string; decodedPackets: number; telephoneEventPackets: number }>;
  }>;
}

function parleyWav(file: string, out: string, ...extra: string[]): WavJson {
  const r = spawnSync(process.execPath, [PARLEY_CLI, 'pcap', 'wav', file, '--out', out, '--json', ...extra], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as WavJson;
}

/** The data samples of a WAV file (ours: the 44-byte header; sox's: found by its "data" chunk). */
function wavSamples(path: string): Int16Array {
  const b = readFileSync(path);
  let at = 12;
  while (at + 8 <= b.length && b.toString('latin1', at, at + 4) !== 'data') at += 8 + b.readUInt32LE(at + 4);
  const n = b.readUInt32LE(at + 4) / 2;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = b.readInt16LE(at + 8 + i * 2);
  return out;
}

/** What sox decodes from the RTP payloads of one stream (SSRC and source port) of `file`, in sequence order. */
function soxOfPayloads(file: string, stream: { ssrc: number; srcPort: number }, name: string, decodeAs = ['-d', 'udp.port==2006,rtp']): Int16Array {
  const lines = execFileSync('tshark', ['-n', '-r', file, ...decodeAs, '-Y', `rtp.ssrc == ${stream.ssrc} && udp.srcport == ${stream.srcPort}`, '-T', 'fields', '-e', 'rtp.seq', '-e', 'rtp.payload'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  })
    .trim()
    .split('\n')
    .map((l) => l.split('\t'))
    .sort((a, b) => Number(a[0]) - Number(b[0]));
  const raw = join(dir, `${name}.al`);
  writeFileSync(raw, Buffer.concat(lines.map(([, hex]) => Buffer.from(hex!.replaceAll(':', ''), 'hex'))));
  const wav = join(dir, `${name}.sox.wav`);
  execFileSync('sox', ['-t', 'al', '-r', '8000', '-c', '1', raw, '-b', '16', wav]);
  return wavSamples(wav);
}

/** Runs `calls` with dumpcap capturing lo on `ports` (each with its +2 media port) into `file`. */
async function captured(file: string, ports: readonly number[], calls: () => Promise<void>): Promise<void> {
  const filter = ports.flatMap((p) => [`port ${p}`, `port ${p + 2}`]).join(' or ');
  const dumpcap = await Dumpcap.start({ file, filter });
  try {
    await calls();
    // the last packets into the file; not Dumpcap.flush: its marker datagram would be one more
    // frame in the split test's no-call.pcap
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await dumpcap.stop();
  }
}

function firstDifference(a: Int16Array, b: Int16Array): string {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `sample ${i}: ${a[i]} and ${b[i]}`;
  return 'none';
}

describe('parley pcap wav (G.711 against sox)', { skip }, () => {
  it("decodes sipp's g711a.pcap to the samples sox decodes from its payloads", () => {
    const out = join(dir, 'shipped');
    const report = parleyWav(SIPP_AUDIO, out);
    assert.equal(report.calls.length, 1);
    const [stream] = report.calls[0]!.streams;
    assert.equal(stream!.codec, 'g711A');
    assert.equal(stream!.decodedPackets, 236);
    const ours = wavSamples(stream!.file!);
    const sox = soxOfPayloads(SIPP_AUDIO, stream!, 'shipped');
    assert.equal(sox.length, 236 * 240);
    assert.equal(firstDifference(ours, sox), 'none');
    // one stream: the mix is that stream
    assert.equal(firstDifference(wavSamples(report.calls[0]!.mixed!), sox), 'none');
  });

  it('decodes both directions of a captured sipp call (play_pcap_audio, -rtp_echo) and mixes them on capture time', async () => {
    const capture = join(dir, 'call.pcapng');
    const uas = await reserveEndpoint(pool);
    const uac = await reserveEndpoint(pool);
    const ports = [uas.port, uac.port];
    await captured(capture, ports, async () => {
      const server = await startSipp({
        scenario: 'pcap-wav-uas.xml', host: '127.0.0.1', port: uac.port, transport: 'udp', pool, endpoint: uas, calls: 1,
        timeoutSecs: 30, recvTimeoutMs: 20_000, extraArgs: ['-rtp_echo'], keys: { answer_pt: '8', answer_rtpmap: 'PCMA/8000' },
      });
      const client = await startSipp(
        {
          scenario: 'pcap-wav-uac.xml', host: '127.0.0.1', port: uas.port, transport: 'udp', pool, endpoint: uac, calls: 1,
          timeoutSecs: 30, keys: { audio_pcap: SIPP_AUDIO },
        },
        false,
      );
      const [c, s] = await Promise.all([client.done, server.done]);
      assert.equal(c.code, 0, c.describe());
      assert.equal(s.code, 0, s.describe());
    });

    const out = join(dir, 'call');
    const report = parleyWav(capture, out);
    assert.equal(report.calls.length, 1, JSON.stringify(report));
    const call = report.calls[0]!;
    assert.equal(call.streams.length, 2);
    const decodeAs = ports.flatMap((p) => ['-d', `udp.port==${p + 2},rtp`]);
    // tied to its call by the SDP: named by its Call-ID, the codec by the SDP's name
    assert.equal(call.call, execFileSync('tshark', ['-n', '-r', capture, '-Y', 'sip.Method == "INVITE"', '-T', 'fields', '-e', 'sip.Call-ID'], { encoding: 'utf8' }).trim());
    for (const [k, stream] of call.streams.entries()) {
      assert.equal(stream.codec, 'PCMA');
      const ours = wavSamples(stream.file!);
      const sox = soxOfPayloads(capture, stream, `call-${k}`, decodeAs);
      assert.equal(sox.length, 236 * 240);
      assert.equal(firstDifference(ours, sox), 'none', `${stream.src}:${stream.srcPort} -> ${stream.dst}:${stream.dstPort}`);
    }
    // the echo starts a little after the original: the mix is their sum at that offset
    const [a, b] = call.streams.map((s) => wavSamples(s.file!));
    const offset = Math.round((Number(BigInt(call.streams[1]!.startTime!) - BigInt(call.streams[0]!.startTime!)) * 8000) / 1e9);
    assert.ok(offset >= 0 && offset < 800, `echo offset ${offset} samples`);
    const mixed = wavSamples(call.mixed!);
    assert.equal(mixed.length, Math.max(a!.length, offset + b!.length));
    for (let i = 0; i < mixed.length; i++) {
      const sum = (a![i] ?? 0) + (i >= offset ? (b![i - offset] ?? 0) : 0);
      const clipped = Math.max(-32768, Math.min(32767, sum));
      if (mixed[i] !== clipped) assert.fail(`mixed sample ${i}: ${mixed[i]}, expected ${clipped}`);
    }
    assert.deepEqual(readdirSync(out).sort(), [...call.streams.map((s) => s.file!.slice(out.length + 1)), call.mixed!.slice(out.length + 1)].sort());
  });
});

describe('parley pcap wav (G.722 against baresip)', { skip: skip || skipWithoutBaresip() }, () => {
  it("decodes baresip's G.722 as baresip decodes it, at the level baresip encoded", async () => {
    const capture = join(dir, 'g722.pcapng');
    const uas = await reserveEndpoint(pool);
    const base = await pool.block(10); // baresip: SIP at base, RTP in base + 3 … base + 9
    const conf = join(dir, 'baresip');
    const rec = join(conf, 'rec');
    mkdirSync(rec, { recursive: true });
    // only the g722 codec module: G.722 is all it offers; ausine's 1 kHz tone at 48 kHz, resampled to 16 kHz
    writeFileSync(join(conf, 'config'), [
      'poll_method\tepoll', `sip_listen\t127.0.0.1:${base}`, 'net_interface\t127.0.0.1',
      'audio_source\tausine,1000', 'ausrc_srate\t48000', 'ausrc_channels\t2', `rtp_ports\t${base + 3}-${base + 9}`, 'rtp_timeout\t0',
      'module_path\t/usr/lib/baresip/modules', 'module\tg722.so', 'module\tausine.so', 'module\tsndfile.so', `snd_path\t${rec}`,
      'module_app\taccount.so', 'module_app\tmenu.so', '',
    ].join('\n'));
    writeFileSync(join(conf, 'accounts'), '<sip:alice@127.0.0.1>;regint=0\n');
    writeFileSync(join(conf, 'contacts'), '');
    let baresipOutput = '';
    // sipp's SIP and media ports carry both directions of everything
    await captured(capture, [uas.port], async () => {
      const server = await startSipp({
        scenario: 'pcap-wav-uas.xml', host: '127.0.0.1', port: base, transport: 'udp', pool, endpoint: uas, calls: 1,
        timeoutSecs: 30, recvTimeoutMs: 20_000, extraArgs: ['-rtp_echo'], keys: { answer_pt: '9', answer_rtpmap: 'G722/8000' },
      });
      // -t 4: baresip quits after 4 s, hanging up (BYE) first
      const phone = spawnBounded('baresip', ['-f', conf, '-t', '4', '-e', `/dial sip:wav@127.0.0.1:${uas.port}`], { cwd: conf, timeoutMs: 20_000 });
      const [p, s] = await Promise.all([phone.done, server.done]);
      baresipOutput = `${p.stdout}${p.stderr}`;
      assert.equal(s.code, 0, `${s.describe()}\n${baresipOutput}`);
    });

    const report = parleyWav(capture, join(dir, 'g722'));
    assert.equal(report.calls.length, 1, JSON.stringify(report));
    const streams = report.calls[0]!.streams;
    assert.equal(streams.length, 2);
    assert.ok(streams.every((s) => s.codec === 'G722' && s.decodedPackets > 150), JSON.stringify(streams));
    const echo = streams.find((s) => s.dstPort !== uas.port + 2)!; // sipp → baresip
    const sent = streams.find((s) => s.dstPort === uas.port + 2)!; // baresip → sipp
    const ours = wavSamples(echo.file!);
    const recordings = readdirSync(rec);
    const decoded = wavSamples(join(rec, recordings.find((f) => f.endsWith('-dec.wav'))!));
    const encoded = wavSamples(join(rec, recordings.find((f) => f.endsWith('-enc.wav'))!));
    assert.ok(decoded.length > 16000, `baresip decoded ${decoded.length} samples`);
    // baresip's recording starts with the first packet it played: find where in ours
    let offset = -1;
    for (let off = 0; off < 8000 && offset < 0; off++) if (decoded.slice(0, 320).every((v, i) => v === ours[off + i])) offset = off;
    assert.ok(offset >= 0, 'baresip’s first 20 ms are nowhere in our first 0.5 s');
    assert.equal(firstDifference(ours.slice(offset, offset + decoded.length), decoded), 'none');
    // the two directions carry the same octets (sipp echoes them)
    assert.equal(firstDifference(wavSamples(sent.file!), ours), 'none');
    // and the tone is at the level baresip encoded
    const level = (pcm: Int16Array): number => goertzel(pcm, 1000, 16000, 3200, pcm.length - 3200);
    const db = 20 * Math.log10(level(ours) / level(encoded));
    assert.ok(Math.abs(db) < 0.5, `1 kHz: ours ${level(ours).toFixed(0)}, baresip encoded ${level(encoded).toFixed(0)} (${db.toFixed(2)} dB)`);
  });
});

/** Each frame of `file` matching `filter` as tshark shows it: time, length and the MD5 of its bytes. */
function frames(file: string, filter?: string): string[] {
  const out = execFileSync('tshark', ['-n', '-o', 'frame.generate_md5_hash:TRUE', '-r', file, ...(filter === undefined ? [] : ['-Y', filter]), '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.md5_hash'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  }).trim();
  return out === '' ? [] : out.split('\n');
}

describe('parley pcap split', { skip }, () => {
  it('writes each call’s frames to its own pcap, exactly those tshark ties to it, and the rest to no-call.pcap', () => {
    const captures = ['call.pcapng', 'g722.pcapng'].map((f) => join(dir, f)).filter((f) => existsSync(f));
    assert.ok(captures.length > 0, 'the captures of the calls above');
    const merged = join(dir, 'merged.pcapng');
    execFileSync('mergecap', ['-w', merged, ...captures, SIPP_AUDIO]);
    const out = join(dir, 'split');
    const r = spawnSync(process.execPath, [PARLEY_CLI, 'pcap', 'split', merged, '--out', out, '--json'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { packets: number; calls: Array<{ callId: string; file: string; packets: number }>; noCall?: { file: string; packets: number } };

    const callIds = execFileSync('tshark', ['-n', '-r', merged, '-Y', 'sip.Method == "INVITE"', '-T', 'fields', '-e', 'sip.Call-ID'], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(report.calls.map((c) => c.callId).sort(), [...new Set(callIds)].sort());
    assert.equal(report.calls.length, captures.length);
    const all = frames(merged);
    assert.equal(report.packets, all.length);
    const filters: string[] = [];
    for (const call of report.calls) {
      const ports = execFileSync('tshark', ['-n', '-r', merged, '-Y', `sip.Call-ID == "${call.callId}" && sdp`, '-T', 'fields', '-e', 'sdp.media.port'], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map(Number);
      assert.equal(ports.length, 2, `offer and answer of ${call.callId}`);
      const filter = `sip.Call-ID == "${call.callId}" || ${ports.map((p) => `udp.port == ${p} || udp.port == ${p + 1}`).join(' || ')}`;
      filters.push(`(${filter})`);
      const expected = frames(merged, filter);
      assert.ok(expected.length > 300, `${expected.length} frames of ${call.callId}`);
      assert.deepEqual(frames(call.file), expected, call.callId);
      assert.equal(call.packets, expected.length);
    }
    const rest = frames(merged, `!(${filters.join(' || ')})`);
    assert.equal(rest.length, 236, 'the RTP of sipp’s g711a.pcap');
    assert.deepEqual(frames(report.noCall!.file), rest);
    assert.equal(report.calls.reduce((n, c) => n + c.packets, 0) + report.noCall!.packets, all.length);
  });
});
