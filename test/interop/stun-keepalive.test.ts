// STUN keepalives on the SIP UDP port (RFC 5626 §8.4, RFC 8489 §6.3.1): coturn's
// turnutils_stunclient (a real STUN client) sends a Binding request to Parley's SIP UDP port, with
// SIP worker threads (the workers' own sockets) and without (the main thread's socket), and must
// print as its reflexive address the address and port its request came from. tshark, when it can
// capture on loopback, says which source port that was. SIP goes on on the same port right after.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { spawnBounded, signalPid } from './support/child.js';
import { ParleyServer, REPO_ROOT, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { openUdpProbe } from './support/udp-probe.js';

const pool = portPool(import.meta.url);
/** The client binds this loopback address (-L), so the mapped address cannot be a constant 127.0.0.1. */
const CLIENT_ADDRESS = '127.0.0.5';

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

const skipWithoutStunclient = has('turnutils_stunclient') ? false : 'turnutils_stunclient (Debian coturn) is not installed';

/** A tshark capture of UDP datagrams to `port` on loopback: source address and port of each. */
async function captureTo(port: number): Promise<{ stop: () => Promise<string[]> } | undefined> {
  if (!has('tshark')) return undefined;
  const child = spawn('tshark', ['-i', 'lo', '-l', '-n', '-a', 'duration:30', '-f', `udp dst port ${port}`, '-T', 'fields', '-e', 'ip.src', '-e', 'udp.srcport'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const closed = new Promise<void>((res) => child.once('close', () => res()));
  // capturing once it says so ("Capture started", after "Capturing on"); without capture rights it exits instead
  const started = await Promise.race([
    new Promise<boolean>((res) => {
      const check = (): void => {
        if (err.includes('Capture started')) res(true);
      };
      child.stderr.on('data', check);
    }),
    closed.then(() => false),
    new Promise<boolean>((res) => setTimeout(() => res(false), 10_000)),
  ]);
  if (!started) {
    if (child.pid !== undefined && child.exitCode === null) signalPid(child.pid, 'SIGKILL');
    await closed;
    return undefined;
  }
  return {
    stop: async () => {
      await new Promise((res) => setTimeout(res, 500)); // let the last datagram reach the output
      if (child.pid !== undefined && child.exitCode === null) signalPid(child.pid, 'SIGINT');
      await closed;
      return out.split('\n').filter((l) => l.trim() !== '');
    },
  };
}

function optionsRequest(port: number, from: number, callId: string): Buffer {
  return Buffer.from(
    [
      `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${from};branch=z9hG4bK-${callId}`,
      'From: <sip:probe@example.org>;tag=stun1',
      `To: <sip:127.0.0.1:${port}>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
    'latin1',
  );
}

for (const workers of [2, 0]) {
  describe(`turnutils_stunclient against the SIP UDP port (--workers ${workers})`, { skip: skipWithoutStunclient }, () => {
    let parley: ParleyServer;

    before(async () => {
      parley = await ParleyServer.start({ pool, transports: ['udp'], workers, config: { log: { statsInterval: 1 } } });
    });

    after(() => stopCleanly(parley));

    it('prints as its reflexive address the address and port its Binding request came from', async () => {
      const capture = await captureTo(parley.port!);
      const run = spawnBounded('turnutils_stunclient', ['-p', String(parley.port), '-L', CLIENT_ADDRESS, parley.host], { cwd: REPO_ROOT, timeoutMs: 15_000 });
      const exit = await run.done;
      const captured = (await capture?.stop()) ?? [];
      const output = `${exit.stdout}${exit.stderr}\n---- Parley's log:\n${parley.outputTail(10)}`;
      assert.equal(exit.code, 0, output);
      const printed = /UDP reflexive addr: ([0-9.]+):(\d+)/.exec(exit.stdout);
      assert.ok(printed, `no reflexive address printed:\n${output}`);
      assert.equal(printed[1], CLIENT_ADDRESS, output);
      const port = Number(printed[2]);
      assert.ok(port > 0 && port < 65536 && port !== parley.port, output);
      if (capture !== undefined) {
        // every Binding request the client sent came from the port it printed
        const sources = captured.map((l) => l.split('\t')).filter(([address]) => address === CLIENT_ADDRESS);
        assert.ok(sources.length >= 1, `tshark saw no datagram from ${CLIENT_ADDRESS}:\n${captured.join('\n')}`);
        for (const [, source] of sources) assert.equal(Number(source), port, `captured:\n${captured.join('\n')}`);
      }
    });

    it('answers SIP on the same port right after (OPTIONS → 200)', async () => {
      const probe = await openUdpProbe(pool);
      try {
        const answers = await probe.exchange(optionsRequest(parley.port!, probe.port, `stun-keepalive-${workers}`), parley.host, parley.port!, 1000);
        const texts = answers.map((b) => b.toString('latin1'));
        assert.ok(texts.some((t) => t.startsWith('SIP/2.0 200 ')), `no 200:\n${texts.join('\n----\n')}\n---- Parley's log:\n${parley.outputTail(10)}`);
      } finally {
        await probe.close();
      }
    });

    it('counts the answered Binding requests in its stats lines, and no parse error for them', async () => {
      const deadline = Date.now() + 10_000;
      let answered = 0;
      while (Date.now() < deadline) {
        // with workers each thread writes its own stats line: the last line of each thread counts
        const last = new Map<unknown, Record<string, unknown>>();
        for (const l of parley.logs) if (l.msg === 'stats') last.set(l.worker ?? 'main', l);
        answered = [...last.values()].reduce((n, l) => n + Number(l.stunAnswered ?? 0), 0);
        if (answered >= 1) break;
        await new Promise((res) => setTimeout(res, 200));
      }
      assert.ok(answered >= 1, `no stats line counted the Binding request:\n${parley.outputTail(20)}`);
      const parseErrors = parley.logs.filter((l) => l.msg === 'stats').reduce((n, l) => Math.max(n, Number(l.parseErrors ?? 0)), 0);
      assert.equal(parseErrors, 0, 'a STUN datagram reached the SIP parser');
    });

    it('logged no warning or error', () => {
      assert.deepEqual(parley.problems(), []);
      assert.equal(parley.alive, true);
    });
  });
}
