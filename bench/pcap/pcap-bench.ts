/**
 * `parley pcap streams` against `tshark -q -z rtp,streams` on one generated capture, in the same
 * run: wall and CPU time (user + system) and peak memory of each, the ratio, and a check that the
 * figures are identical. See README.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fixed } from '../../src/capture/rtp-streams-table.js';
import { generateCapture } from './generate-capture.js';
import { compareWithTshark, type ParleyStreamJson, parseTsharkRtpStreams } from './tshark-table.js';

const HELP = `Usage: npm run bench:pcap -- [--size 1G] [--calls 400] [--file F] [--keep] [--any-udp] [--runs 1]
  --size     bytes of the generated capture (K, M, G suffixes; default 1G)
  --calls    concurrent calls in it (default 400)
  --file     use this capture instead of generating one (a generated one is deleted unless --keep)
  --any-udp  both tools read every UDP datagram as possible RTP (tshark --enable-heuristic rtp_udp)
  --runs     runs of each tool, alternated; the best wall time of each is reported (default 1)`;

interface Measure {
  readonly wall: number;
  readonly cpu: number;
  readonly user: number;
  readonly system: number;
  readonly maxRssMb: number;
  readonly stdout: string;
}

const root = resolve(import.meta.dirname, '../..');

function parseSize(text: string): number {
  const unit = text.at(-1)!.toUpperCase();
  const scale = unit === 'K' ? 1e3 : unit === 'M' ? 1e6 : unit === 'G' ? 1e9 : 1;
  const n = Number(scale === 1 ? text : text.slice(0, -1));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--size ${text}: a number of bytes (K, M, G)`);
  return Math.round(n * scale);
}

/** Runs a command under /usr/bin/time: its wall, user and system seconds and peak memory. */
function measured(command: string, args: readonly string[]): Measure {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const line = r.stderr.split('\n').find((l) => l.startsWith('TIME '));
  if (r.status !== 0 || line === undefined) throw new Error(`${command} ${args.join(' ')}: status ${r.status}\n${r.stderr.slice(-2000)}`);
  const [wall, user, system, rss] = line.slice(5).split(' ').map(Number) as [number, number, number, number];
  return { wall, user, system, cpu: user + system, maxRssMb: rss / 1024, stdout: r.stdout };
}

function main(): number {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '1G' },
      calls: { type: 'string', default: '400' },
      file: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'any-udp': { type: 'boolean', default: false },
      runs: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (spawnSync('sh', ['-c', 'command -v tshark']).status !== 0) throw new Error('tshark is needed (Debian: tshark)');
  const cli = join(root, 'dist/cli/main.js');
  if (!existsSync(cli)) throw new Error('dist/cli/main.js is missing: npm run build');
  const dir = values.file === undefined ? mkdtempSync(join(tmpdir(), 'parley-pcap-bench-')) : undefined;
  try {
    let file = values.file;
    if (file === undefined) {
      file = join(dir!, 'calls.pcap');
      const started = performance.now();
      const g = generateCapture(file, { bytes: parseSize(values.size), calls: Number(values.calls) });
      console.log(
        `generated ${file}: ${(g.bytes / 1e6).toFixed(1)} MB, ${g.packets} packets (${g.rtpPackets} RTP), ${g.calls} calls (${values.calls} at once), ${g.seconds.toFixed(1)} s of traffic, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    } else console.log(`capture ${file}: ${(statSync(file).size / 1e6).toFixed(1)} MB`);
    const anyUdp = values['any-udp'];
    const parleyArgs = [cli, 'pcap', 'streams', file, '--json', ...(anyUdp ? ['--any-udp'] : [])];
    const tsharkArgs = ['-n', '-q', ...(anyUdp ? ['--enable-heuristic', 'rtp_udp'] : []), '-z', 'rtp,streams', '-r', file];
    const node = process.execPath;
    let parley: Measure | undefined;
    let tshark: Measure | undefined;
    for (let run = 0; run < Math.max(1, Number(values.runs)); run++) {
      const p = measured(node, parleyArgs);
      const t = measured('tshark', tsharkArgs);
      if (parley === undefined || p.wall < parley.wall) parley = p;
      if (tshark === undefined || t.wall < tshark.wall) tshark = t;
    }
    const ours = (JSON.parse(parley!.stdout) as { streams: ParleyStreamJson[] }).streams;
    const theirs = parseTsharkRtpStreams(tshark!.stdout);
    const differences = compareWithTshark(ours, theirs, fixed);
    const line = (name: string, m: Measure): string =>
      `${name.padEnd(28)} wall ${m.wall.toFixed(2).padStart(7)} s   cpu ${m.cpu.toFixed(2).padStart(7)} s (user ${m.user.toFixed(2)}, sys ${m.system.toFixed(2)})   peak RSS ${m.maxRssMb.toFixed(0)} MB`;
    console.log(line('parley pcap streams', parley!));
    console.log(line('tshark -q -z rtp,streams', tshark!));
    console.log(`ratio (tshark / parley): wall ${(tshark!.wall / parley!.wall).toFixed(2)}x, cpu ${(tshark!.cpu / parley!.cpu).toFixed(2)}x (goal >= 2x, first bar 1.0x)`);
    const tsharkVersion = execFileSync('tshark', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0];
    console.log(`${tsharkVersion}; node ${process.version}`);
    if (differences.length > 0) {
      console.log(`figures DIFFER on ${differences.length} point(s) of ${theirs.size} streams:`);
      for (const d of differences.slice(0, 20)) console.log(`  ${d}`);
      return 1;
    }
    console.log(`figures identical: ${theirs.size} streams (packets, lost, lost %, min/mean/max delta and jitter as printed, problems)`);
    return 0;
  } finally {
    if (dir !== undefined && !values.keep) rmSync(dir, { recursive: true, force: true });
    else if (dir !== undefined) console.log(`kept ${dir}`);
  }
}

process.exitCode = main();
