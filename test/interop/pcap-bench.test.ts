// A smoke run of bench/pcap (`npm run bench:pcap -- --size 3M`): the script generates a small
// capture, runs `parley pcap streams` and `tshark -q -z rtp,streams` on it, finds the same figures
// and prints its ratio lines. No timing is asserted (the machine may be busy); the 1 GB run is
// the benchmark's, by hand. No sockets: the port slice (56) is spare.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './support/parley.js';

const missing = ['tshark', '/usr/bin/time'].filter((t) => spawnSync(t, ['--version'], { stdio: 'ignore' }).error !== undefined);
const skip = missing.length === 0 ? false : process.env.CI ? false : `${missing.join(', ')} not installed (Debian packages tshark, time); skipped outside CI`;

describe('bench/pcap', () => {
  it('compares parley pcap streams with tshark on a 3 MB capture and prints the ratio', { skip, timeout: 120_000 }, () => {
    assert.ok(existsSync(join(REPO_ROOT, 'dist/cli/main.js')), 'the interop suites run on a build');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/pcap/pcap-bench.ts', '--size', '3M', '--calls', '40'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 110_000,
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^generated .*calls\.pcap: 3\.\d MB, \d+ packets \(\d+ RTP\), \d+ calls \(40 at once\)/m);
    assert.match(r.stdout, /^parley pcap streams +wall +[\d.]+ s +cpu +[\d.]+ s .*peak RSS \d+ MB$/m);
    assert.match(r.stdout, /^tshark -q -z rtp,streams +wall/m);
    assert.match(r.stdout, /^ratio \(tshark \/ parley\): wall [\d.]+x, cpu [\d.]+x/m);
    assert.match(r.stdout, /^figures identical: \d{2,} streams/m);
  });
});
