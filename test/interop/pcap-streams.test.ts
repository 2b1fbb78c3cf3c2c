// `parley pcap streams --json` (the built command, a real process) against `tshark -q -z
// rtp,streams` on the same files, every stream: packets, lost, lost %, sequence problems, min/mean/
// max delta and jitter as tshark prints them (three decimals: stricter than the 1 %).
// - A real call: dumpcap on `lo` around a sipp UAC calling a sipp UAS directly over UDP, with
//   sipp's shipped G.711 A-law audio and an RFC 4733 digit (PCMA and telephone-event in the SDP),
//   echoed back by the UAS (-rtp_echo): streams both ways, tied to the call by its SDP.
// - The capture bench/pcap generates (a few MB: concurrent calls with SIP, SDP, loss, jitter and
//   late packets), as `npm run bench:pcap` compares it at 1 GB; and the same with SRTP (RTP/SAVP).
// Both as tshark reads RTP by default (only what SDP announced) and with its RTP heuristic on
// every UDP datagram (--any-udp / --enable-heuristic rtp_udp).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateCapture } from '../../bench/pcap/generate-capture.js';
import { compareWithTshark, type ParleyStreamJson, parseTsharkRtpStreams } from '../../bench/pcap/tshark-table.js';
import { fixed } from '../../src/capture/rtp-streams-table.js';
import { REPO_ROOT } from './support/parley.js';
import { Dumpcap, skipWithoutLoopbackCapture } from './support/dumpcap.js';
import { portPool } from './support/ports.js';
import { reserveEndpoint, runSipp, skipWithoutSipp, startSipp } from './support/sipp.js';

const pool = portPool(import.meta.url);
const TOOLS = ['tshark', 'dumpcap'];
const missingTools = TOOLS.filter((t) => spawnSync(t, ['-v'], { stdio: 'ignore' }).error !== undefined);
const skipTools = missingTools.length === 0 ? false : process.env.CI ? false : `${missingTools.join(', ')} not installed (Debian package tshark); skipped outside CI`;
const CLI = join(REPO_ROOT, 'dist/cli/main.js');

const dir = mkdtempSync(join(tmpdir(), 'parley-pcap-streams-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Compared {
  readonly ours: ParleyStreamJson[];
  readonly tsharkStreams: number;
}

/** Both tools on `file`; asserts they agree and returns our streams. */
function compare(file: string, anyUdp: boolean): Compared {
  const out = execFileSync(process.execPath, [CLI, 'pcap', 'streams', file, '--json', ...(anyUdp ? ['--any-udp'] : [])], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ours = (JSON.parse(out) as { streams: ParleyStreamJson[] }).streams;
  const table = execFileSync('tshark', ['-n', '-q', ...(anyUdp ? ['--enable-heuristic', 'rtp_udp'] : []), '-z', 'rtp,streams', '-r', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 << 20,
  });
  const theirs = parseTsharkRtpStreams(table);
  assert.ok(theirs.size > 0, `tshark found no stream in ${file}`);
  assert.deepEqual(compareWithTshark(ours, theirs, fixed), [], `parley pcap streams and tshark differ on ${file}${anyUdp ? ' (any UDP)' : ''}`);
  return { ours, tsharkStreams: theirs.size };
}

/** Can dumpcap capture on the loopback here (root, or the capture capabilities)? */
function canCapture(): string | false {
  if (skipTools !== false) return skipTools;
  const sipp = skipWithoutSipp();
  if (sipp !== false) return sipp;
  return skipWithoutLoopbackCapture();
}

describe('parley pcap streams agrees with tshark -z rtp,streams', () => {
  it('on a captured sipp call with G.711 and RFC 4733 RTP both ways', { skip: canCapture(), timeout: 90_000 }, async () => {
    const uas = await reserveEndpoint(pool);
    const uac = await reserveEndpoint(pool);
    const markerPort = await pool.block(1);
    const file = join(dir, 'sipp-call.pcapng');
    const filter = `udp and (portrange ${uas.port}-${uas.port + 4} or portrange ${uac.port}-${uac.port + 4} or port ${markerPort})`;
    const dumpcap = await Dumpcap.start({ file, filter });
    try {
      const callee = await startSipp({
        scenario: 'uas-answer.xml', host: '127.0.0.1', port: uac.port, transport: 'udp', pool, endpoint: uas,
        calls: 1, timeoutSecs: 40, recvTimeoutMs: 30_000, pauseMs: 50, extraArgs: ['-rtp_echo'],
      });
      const caller = await runSipp({
        scenario: 'pcap-streams-uac.xml', host: '127.0.0.1', port: uas.port, transport: 'udp', pool, endpoint: uac,
        calls: 1, service: 'bob', timeoutSecs: 40, recvTimeoutMs: 10_000,
      });
      assert.equal(caller.code, 0, caller.describe());
      const answered = await callee.done;
      assert.equal(answered.code, 0, answered.describe());
      await dumpcap.flush(markerPort);
    } finally {
      await dumpcap.stop();
    }
    for (const anyUdp of [false, true]) {
      const { ours } = compare(file, anyUdp);
      // the audio and the digit, each way (the echo keeps the SSRC); the digit is
      // telephone-event to the caller, whose SDP maps 101, and RTPType-101 to the callee, whose does not
      const what = ours.map((s) => `${s.codec} ${s.packets} ${s.callId}`).join('; ');
      assert.equal(ours.filter((s) => s.codec === 'g711A' && s.packets >= 200).length, 2, what);
      assert.ok(ours.some((s) => s.codec === 'telephone-event') && ours.some((s) => s.codec === 'RTPType-101'), what);
      if (!anyUdp) assert.ok(new Set(ours.map((s) => s.callId)).size === 1 && ours[0]!.callId !== undefined, what);
    }
  });

  it('on the capture bench/pcap generates (a few MB of concurrent calls)', { skip: skipTools, timeout: 120_000 }, () => {
    const file = join(dir, 'bench.pcap');
    const g = generateCapture(file, { bytes: 4_000_000, calls: 60, minSeconds: 2, maxSeconds: 4 });
    assert.ok(g.calls > 60, 'calls ended and new ones began');
    for (const anyUdp of [false, true]) {
      const { ours, tsharkStreams } = compare(file, anyUdp);
      assert.equal(ours.length, tsharkStreams);
      assert.ok(ours.length >= 2 * g.calls - 2, `${ours.length} streams of ${g.calls} calls`);
      assert.ok(ours.some((s) => s.lost > 0) && ours.some((s) => s.sequenceErrors > s.lost), 'loss and late packets');
    }
  });

  it('on SRTP (RTP/SAVP in the SDP: tshark lists its streams by the clear header, RFC 3711 §3.1)', { skip: skipTools, timeout: 60_000 }, () => {
    const file = join(dir, 'srtp.pcap');
    generateCapture(file, { bytes: 1_000_000, calls: 10, minSeconds: 1, maxSeconds: 2, proto: 'RTP/SAVP' });
    const { ours, tsharkStreams } = compare(file, false);
    assert.equal(ours.length, tsharkStreams);
    assert.ok(ours.length >= 20 && ours.every((s) => s.callId !== undefined), `${ours.length} streams`);
  });
});
