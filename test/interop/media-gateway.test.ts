// Calls whose media Parley anchors (media.anchor: always), between sipp phones over UDP: RTP goes
// through Parley's media ports both ways, the ports are freed when the call ends (BYE, CANCEL, a
// 486) and an offer Parley cannot serve gets 488 with a Warning. Alice's audio is a socket of
// this test (her SDP names it; media-call.xml writes the port Parley answered into a file), bob
// is a sipp UAS echoing the RTP it receives (-rtp_echo) back to where it came from: Parley.
// Parley's open sockets are counted from /proc/<pid>/fd before and after each call; a second Parley
// with media.timeout 1 s frees the ports of a silent call while the call goes on.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { RtpPeer, until } from '../support/rtp-peer.js';
import { describeCall, registerPhone, startUas } from './support/calls.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { clearBindings } from './support/registration.js';
import { flow, header, received, sent } from './support/sip-trace.js';
import { runSipp, skipWithoutSipp, startSipp } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret1' };
const BOB = { user: 'bob', password: 'secret2' };
const pool = portPool(import.meta.url);
/** Parley's media ports: the top of this file's slice (34: 21750-21999), apart from sipp's blocks at its bottom. */
const MEDIA_PORTS = { min: 21950, max: 21999 };

/** Sockets the Parley process holds open (every thread's): UDP and TCP, listeners and media. */
function openSockets(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

describe('media anchored through Parley between sipp phones over UDP', { skip: skipWithoutSipp(), timeout: 150_000 }, () => {
  let parley: ParleyServer;
  let idle: number;

  before(async () => {
    parley = await ParleyServer.start({
      pool,
      logLevel: 'debug',
      transports: ['udp'],
      subscribers: [ALICE, BOB],
      config: { media: { anchor: 'always', ports: MEDIA_PORTS } },
    });
  });

  beforeEach(async () => {
    if (parley === undefined) return;
    await clearBindings(parley, BOB);
    // what Parley holds with no call: SIP listeners, workers' sockets, the control socket
    idle = openSockets(parley.pid!);
  });

  after(() => stopCleanly(parley));

  /** Parley's sockets are back to what they were before the call. */
  async function assertFreed(what: string): Promise<void> {
    const freed = await until(() => openSockets(parley.pid!) <= idle, 200);
    assert.ok(freed, `${what}: Parley holds ${openSockets(parley.pid!)} sockets, ${idle} before the call`);
  }

  it('relays RTP both ways through its own ports, and frees them after the BYE', async () => {
    const bob = await registerPhone(parley, BOB);
    const uas = await startSipp({ ...parley.sippTarget('udp'), scenario: 'uas-answer.xml', endpoint: bob.endpoint, calls: 1, timeoutSecs: 20, recvTimeoutMs: 8000, extraArgs: ['-rtp_echo'] });
    // bob's sipp echoes what reaches its media port back to the sender
    const alice = await RtpPeer.open(await pool.block(1));
    const dir = await mkdtemp(join(tmpdir(), 'parley-media-'));
    const portFile = join(dir, 'port');
    try {
      const uac = await startSipp(
        {
          ...parley.sippTarget('udp'), scenario: 'media-call.xml', calls: 1, timeoutSecs: 20, recvTimeoutMs: 5000,
          credentials: [ALICE], service: 'bob', pauseMs: 3000,
          keys: { rtp_port: String(alice.port), port_file: portFile },
        },
        false,
      );
      // the port Parley answered alice with, once her sipp has the 200
      let port = 0;
      for (let i = 0; i < 200 && !(port > 0); i++) {
        port = Number((await readFile(portFile, 'utf8').catch(() => '0')).trim());
        if (!(port > 0)) await new Promise((r) => setTimeout(r, 50));
      }
      if (!(port >= MEDIA_PORTS.min && port <= MEDIA_PORTS.max)) {
        const [uacRun, uasRun] = await Promise.all([uac.done, uas.done]);
        assert.fail(`alice was answered port ${port}, not one of Parley's media ports\n${describeCall(uacRun, uasRun)}\n${uacRun.stderr}`);
      }
      const during = openSockets(parley.pid!);
      assert.ok(during >= idle + 4, `an anchored call holds 4 media sockets (${during} against ${idle})`);
      for (let i = 0; i < 20; i++) alice.sendRtp(0, port);
      // each packet went alice → Parley → bob's sipp → Parley → alice
      assert.ok(await until(() => alice.received.length >= 15, 200), `${alice.received.length} of 20 packets came back through Parley`);
      assert.ok(alice.received.every((r) => r.port === port && r.address === '127.0.0.1'), 'what alice hears comes from the port Parley gave her');
      const [uacRun, uasRun] = await Promise.all([uac.done, uas.done]);
      assert.equal(uacRun.code, 0, describeCall(uacRun, uasRun));
      assert.equal(uasRun.code, 0, describeCall(uacRun, uasRun));
      // bob was offered Parley's address, not alice's socket
      const [invite] = received(uasRun.trace, { method: 'INVITE' });
      assert.ok(!invite!.text.includes(`m=audio ${alice.port} `), invite!.text);
      await assertFreed('after the BYE');
    } finally {
      alice.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('frees the ports of a call bob answers 486, and of one alice CANCELs', async () => {
    const bob = await registerPhone(parley, BOB);
    const busy = await startUas(parley, bob.endpoint, 'uas-busy.xml');
    const uac = await runSipp({ ...parley.sippTarget('udp'), scenario: 'call-busy.xml', calls: 1, timeoutSecs: 15, credentials: [ALICE], service: 'bob' });
    const bobRun = await busy.done;
    assert.equal(uac.code, 0, describeCall(uac, bobRun));
    // bob was offered Parley's media address (anchored), and then the call failed
    const [invite] = received(bobRun.trace, { method: 'INVITE' });
    assert.ok(invite!.text.includes('o=parley '), invite!.text);
    await assertFreed('after the 486');

    const ringing = await startUas(parley, bob.endpoint, 'uas-ring-cancel.xml');
    const cancelled = await runSipp({ ...parley.sippTarget('udp'), scenario: 'call-cancel.xml', calls: 1, timeoutSecs: 15, credentials: [ALICE], service: 'bob', pauseMs: 500 });
    const bobRang = await ringing.done;
    assert.equal(cancelled.code, 0, describeCall(cancelled, bobRang));
    assert.ok(flow(cancelled.trace).includes('< 487'), describeCall(cancelled, bobRang));
    await assertFreed('after the CANCEL');
  });

  it('answers an offer it cannot serve (IPv6 media) 488 with a Warning, and holds no port for it', async () => {
    await registerPhone(parley, BOB);
    const uac = await runSipp({ ...parley.sippTarget('udp'), scenario: 'media-bad-sdp.xml', calls: 1, timeoutSecs: 15, credentials: [ALICE], service: 'bob' });
    assert.equal(uac.code, 0, uac.describe());
    const [refused] = received(uac.trace, { status: 488 });
    const warning = header(refused!, 'Warning') ?? '';
    assert.ok(warning.startsWith('301 '), `Warning: ${warning}\n${refused!.text}`);
    assert.ok(warning.includes('IPv4'), warning);
    assert.equal(sent(uac.trace, { method: 'ACK' }).length, 2, uac.describe());
    await assertFreed('after the 488');
  });
});

describe('a silent anchored call loses its media session after media.timeout', { skip: skipWithoutSipp(), timeout: 60_000 }, () => {
  let parley: ParleyServer;

  before(async () => {
    parley = await ParleyServer.start({
      pool,
      transports: ['udp'],
      subscribers: [ALICE, BOB],
      config: { media: { anchor: 'always', ports: MEDIA_PORTS, timeout: 1 } },
    });
  });

  after(() => stopCleanly(parley));

  it('frees the ports of a call without media while the call goes on, and the BYE still gets through', async () => {
    const bob = await registerPhone(parley, BOB);
    const idle = openSockets(parley.pid!);
    const uas = await startUas(parley, bob.endpoint, 'uas-answer.xml', { timeoutSecs: 20, recvTimeoutMs: 12_000 });
    const alice = await RtpPeer.open(await pool.block(1));
    const dir = await mkdtemp(join(tmpdir(), 'parley-media-'));
    try {
      // alice holds the call 8 s, sending nothing; media.timeout is 1 s
      const uac = await startSipp(
        { ...parley.sippTarget('udp'), scenario: 'media-call.xml', calls: 1, timeoutSecs: 20, recvTimeoutMs: 10_000, credentials: [ALICE], service: 'bob', pauseMs: 8000, keys: { rtp_port: String(alice.port), port_file: join(dir, 'port') } },
        false,
      );
      assert.ok(await until(() => openSockets(parley.pid!) >= idle + 4, 500), 'the call took its media ports');
      assert.ok(await until(() => parley.logs.some((l) => l.msg === 'media session deleted: no media'), 500), `no timeout logged:\n${parley.outputTail()}`);
      assert.ok(await until(() => openSockets(parley.pid!) <= idle, 200), 'the ports are freed');
      const [uacRun, uasRun] = await Promise.all([uac.done, uas.done]);
      assert.equal(uacRun.code, 0, describeCall(uacRun, uasRun));
      assert.deepEqual(flow(uasRun.trace).slice(-2), ['< BYE', '> 200'], describeCall(uacRun, uasRun));
    } finally {
      alice.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
