#!/usr/bin/env node
// Runs a command inside a new network namespace whose only interface is the loopback, up:
//   node scripts/in-loopback-netns.mjs node scripts/run-tests.mjs test/browser
//
// Why: the browser suites run Parley, sipp and Chromium together, and WebRTC's ICE gathers a
// candidate on every interface it finds. With `lo` alone, every candidate and every packet is on
// 127.0.0.1, as on a CI machine with no network, and nothing of the test leaves the machine.
// Parley, sipp and Chromium are all started inside (they are children of the command).
//
// How: `unshare --net` as root (CI runs as root), else `unshare --user --map-root-user --net`
// (an unprivileged user namespace, where the kernel allows it), then `ip link set lo up` and
// exec the command, with PARLEY_NETNS=loopback in its environment. When neither works, the
// command runs as it is with PARLEY_NETNS_UNAVAILABLE=<why>: the browser suites then skip,
// saying why (test/browser/support/netns.ts). The exit status is the command's.
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';

const command = process.argv.slice(2);
if (command.length === 0) {
  console.error('usage: node scripts/in-loopback-netns.mjs COMMAND [ARGS...]');
  process.exit(2);
}

const ENTER = 'ip link set lo up && exec "$@"';

function probe(flags) {
  const r = spawnSync('unshare', [...flags, '--', 'sh', '-c', 'ip link set lo up && test "$(ip -o link show | wc -l)" = 1'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return `unshare: ${r.error.message}`;
  return r.status === 0 ? undefined : (r.stderr.trim() || `exit ${r.status}`);
}

let argv;
let env = { ...process.env };
if (process.env.PARLEY_NETNS === 'loopback') {
  argv = command; // already inside
} else {
  const tries = [['--net'], ['--user', '--map-root-user', '--net']];
  const reasons = [];
  for (const flags of tries) {
    const why = probe(flags);
    if (why === undefined) {
      argv = ['unshare', ...flags, '--', 'sh', '-c', ENTER, 'parley-netns', ...command];
      env.PARLEY_NETNS = 'loopback';
      break;
    }
    reasons.push(`unshare ${flags.join(' ')}: ${why}`);
  }
  if (argv === undefined) {
    const why = `no network namespace could be made (${reasons.join('; ')})`;
    console.error(`in-loopback-netns: ${why}; running without one, the browser suites will skip`);
    env.PARLEY_NETNS_UNAVAILABLE = why;
    argv = command;
  } else {
    console.error(`in-loopback-netns: running in a new network namespace with only lo (${argv.slice(0, argv.indexOf('--')).join(' ')})`);
  }
}

const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', env });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  });
}
child.on('error', (e) => {
  console.error(`in-loopback-netns: ${argv[0]}: ${e.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 1) : 1)));
