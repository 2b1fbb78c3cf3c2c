// Parley standing in for rtpengine behind Kamailio: Kamailio's own `rtpengine` module, pointed at
// Parley's ng control socket (media.control.listen), anchors a call between two sipp phones over
// UDP in Parley's media plane. Kamailio (support/kamailio-rtpengine.cfg) is the SIP proxy and
// registrar; the Parley here serves only the media (its SIP listener carries no call). Checked:
// the module's ping is answered; the offer and answer Kamailio forwards name Parley's media
// ports; RTP goes alice → Parley → bob's sipp (-rtp_echo) → Parley → alice; the module's delete
// on BYE closes Parley's media sockets (counted from /proc/<pid>/fd); a hold (re-INVITE with
// a=sendonly) goes through Parley's media plane as a second offer and answer on the same ports.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RtpPeer, until } from '../support/rtp-peer.js';
import { describeCall } from './support/calls.js';
import { KAMAILIO_RTPENGINE_CFG, KamailioServer, kamailioMissing } from './support/kamailio.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool, sliceFirst, PORT_SLICES } from './support/ports.js';
import { register } from './support/registration.js';
import { header, received, sent } from './support/sip-trace.js';
import { reserveEndpoint, skipWithoutSipp, startSipp, type SippTransport } from './support/sipp.js';

const pool = portPool(import.meta.url);
const SLICE = sliceFirst(PORT_SLICES['media-ng.test.ts']!);
/** Parley's media ports: the top 50 of this file's slice (35: 22000-22249); the pool hands out its bottom. */
const MEDIA_PORTS = { min: SLICE + 200, max: SLICE + 249 };
/** Every user's password in that configuration (AUTH_PASSWORD). */
const PASSWORD = randomBytes(9).toString('base64url');
const ALICE = { user: 'alice', password: PASSWORD };
const BOB = { user: 'bob', password: PASSWORD };

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

/** Kamailio's rtpengine module is needed besides sipp: skipped without it outside CI. */
function skipWithoutKamailioRtpengine(): string | false {
  const sipp = skipWithoutSipp();
  if (sipp !== false) return sipp;
  const why = kamailioMissing(KAMAILIO_RTPENGINE_CFG);
  if (why === undefined) return false;
  return process.env.CI ? false : `${why}; skipped outside CI`;
}

describe("Kamailio's rtpengine module drives Parley's media plane over ng", { skip: skipWithoutKamailioRtpengine(), timeout: 120_000 }, () => {
  let parley: ParleyServer | undefined;
  let kamailio: KamailioServer | undefined;
  let ngPort: number;

  before(async () => {
    ngPort = await pool.block(1);
    parley = await ParleyServer.start({
      pool,
      logLevel: 'debug',
      transports: ['udp'],
      subscribers: [],
      config: { media: { ports: MEDIA_PORTS, address: '127.0.0.1', control: { listen: `127.0.0.1:${ngPort}` } } },
    });
    kamailio = await KamailioServer.start({
      pool,
      config: KAMAILIO_RTPENGINE_CFG,
      defines: { NG_SOCKET: `"udp:127.0.0.1:${ngPort}"`, AUTH_PASSWORD: `"${PASSWORD}"` },
    });
  });

  after(async () => {
    await kamailio?.stop();
    await stopCleanly(parley);
  });

  /** sipp's target: Kamailio's UDP listener. */
  const kamailioTarget = (): { host: string; port: number; transport: SippTransport; pool: typeof pool } => ({ host: kamailio!.host, port: kamailio!.sipPort, transport: 'udp', pool });

  it("answers the module's ping", async () => {
    const out = await kamailio!.kamcmd('rtpengine.ping', 'all');
    assert.match(out, /success/, `kamcmd rtpengine.ping all: ${out}\n--- Kamailio:\n${kamailio!.outputTail()}`);
    const show = await kamailio!.kamcmd('rtpengine.show', 'all');
    assert.match(show, new RegExp(`udp:127\\.0\\.0\\.1:${ngPort}`), show);
    assert.match(show, /disabled:\s*0/, `Kamailio took Parley's media plane for a dead rtpengine:\n${show}`);
  });

  it('relays the RTP of a call Kamailio proxies both ways, and frees its ports on the BYE', async () => {
    const bob = await reserveEndpoint(pool);
    const reg = await register({ sippTarget: () => kamailioTarget() } as unknown as ParleyServer, BOB, { endpoint: bob, expires: 3600 });
    assert.equal(reg.code, 0, `bob could not register with Kamailio:\n${reg.describe()}\n--- Kamailio:\n${kamailio!.outputTail()}`);
    const idle = openSockets(parley!.pid!);
    const uas = await startSipp({ ...kamailioTarget(), scenario: 'uas-answer.xml', endpoint: bob, calls: 1, timeoutSecs: 20, recvTimeoutMs: 8000, extraArgs: ['-rtp_echo'] });
    const alice = await RtpPeer.open(await pool.block(1));
    const dir = await mkdtemp(join(tmpdir(), 'parley-media-ng-'));
    const portFile = join(dir, 'port');
    const context = (): string => `--- Kamailio:\n${kamailio!.outputTail(4000)}\n--- Parley:\n${parley!.outputTail(30)}`;
    try {
      const uac = await startSipp(
        {
          ...kamailioTarget(), scenario: 'media-call.xml', calls: 1, timeoutSecs: 20, recvTimeoutMs: 5000,
          credentials: [ALICE], service: 'bob', pauseMs: 3000,
          keys: { rtp_port: String(alice.port), port_file: portFile },
        },
        false,
      );
      // the port alice was answered (Kamailio put Parley's answer SDP in the 200)
      let port = 0;
      for (let i = 0; i < 200 && !(port > 0); i++) {
        port = Number((await readFile(portFile, 'utf8').catch(() => '0')).trim());
        if (!(port > 0)) await new Promise((r) => setTimeout(r, 50));
      }
      if (!(port >= MEDIA_PORTS.min && port <= MEDIA_PORTS.max)) {
        const [uacRun, uasRun] = await Promise.all([uac.done, uas.done]);
        assert.fail(`alice was answered port ${port}, not one of Parley's media ports\n${describeCall(uacRun, uasRun)}\n${context()}`);
      }
      const during = openSockets(parley!.pid!);
      assert.ok(during >= idle + 4, `an anchored call holds 4 media sockets in Parley (${during} against ${idle})\n${context()}`);
      for (let i = 0; i < 20; i++) alice.sendRtp(0, port);
      // each packet went alice → Parley → bob's sipp → Parley → alice
      assert.ok(await until(() => alice.received.length >= 15, 300), `${alice.received.length} of 20 packets came back through Parley\n${context()}`);
      assert.ok(alice.received.every((r) => r.port === port && r.address === '127.0.0.1'), 'what alice hears comes from the port Parley gave her');
      const [uacRun, uasRun] = await Promise.all([uac.done, uas.done]);
      assert.equal(uacRun.code, 0, `${describeCall(uacRun, uasRun)}\n${context()}`);
      assert.equal(uasRun.code, 0, `${describeCall(uacRun, uasRun)}\n${context()}`);
      // bob was offered Parley's media address, not alice's socket; alice's BYE went through Kamailio
      const [invite] = received(uasRun.trace, { method: 'INVITE' });
      const offered = /m=audio (\d+) /.exec(invite!.text)?.[1];
      assert.ok(Number(offered) >= MEDIA_PORTS.min && Number(offered) <= MEDIA_PORTS.max, `bob was offered port ${offered}:\n${invite!.text}`);
      assert.equal(sent(uacRun.trace, { method: 'BYE' }).length, 1, describeCall(uacRun, uasRun));
      // what Kamailio's module sent Parley for this call (logged at debug level): offer, answer, delete
      const commands = parley!.logs.filter((l) => l.msg === 'ng: command' && (l as { keys?: { 'call-id'?: string } }).keys?.['call-id'] === header(invite!, 'Call-ID'));
      assert.deepEqual(commands.map((l) => (l as { command?: string }).command), ['offer', 'answer', 'delete'], context());
      const freed = await until(() => openSockets(parley!.pid!) <= idle, 300);
      assert.ok(freed, `after the BYE Parley holds ${openSockets(parley!.pid!)} sockets, ${idle} before the call\n${context()}`);
    } finally {
      alice.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("carries a hold (re-INVITE, a=sendonly) through Parley's media plane on the same ports", async () => {
    const bob = await reserveEndpoint(pool);
    const reg = await register({ sippTarget: () => kamailioTarget() } as unknown as ParleyServer, BOB, { endpoint: bob, expires: 3600 });
    assert.equal(reg.code, 0, `bob could not register with Kamailio:\n${reg.describe()}`);
    const idle = openSockets(parley!.pid!);
    const uas = await startSipp({ ...kamailioTarget(), scenario: 'uas-answer-hold.xml', endpoint: bob, calls: 1, timeoutSecs: 20, recvTimeoutMs: 8000, pauseMs: 100 });
    const alice = await RtpPeer.open(await pool.block(1));
    const dir = await mkdtemp(join(tmpdir(), 'parley-media-ng-'));
    const context = (): string => `--- Kamailio:\n${kamailio!.outputTail(4000)}\n--- Parley:\n${parley!.outputTail(30)}`;
    try {
      const uacRun = await startSipp(
        {
          ...kamailioTarget(), scenario: 'media-call-hold.xml', calls: 1, timeoutSecs: 20, recvTimeoutMs: 5000,
          credentials: [ALICE], service: 'bob', pauseMs: 500,
          keys: { rtp_port: String(alice.port), port_file: join(dir, 'port') },
        },
        false,
      ).then((r) => r.done);
      const uasRun = await uas.done;
      const both = `${describeCall(uacRun, uasRun)}\n${context()}`;
      assert.equal(uacRun.code, 0, both);
      assert.equal(uasRun.code, 0, both);
      // bob got two offers from Parley's media plane: the call's and the hold, on the same port
      const invites = received(uasRun.trace, { method: 'INVITE' });
      assert.equal(invites.length, 2, both);
      const portOf = (text: string): number => Number(/m=audio (\d+) /.exec(text)?.[1]);
      assert.ok(portOf(invites[0]!.text) >= MEDIA_PORTS.min && portOf(invites[0]!.text) <= MEDIA_PORTS.max, invites[0]!.text);
      assert.equal(portOf(invites[1]!.text), portOf(invites[0]!.text), `the hold moved bob's port:\n${invites[1]!.text}`);
      assert.ok(invites[1]!.text.includes('a=sendonly'), `the hold reached bob as:\n${invites[1]!.text}`);
      // alice's hold was answered by Parley (its port, a=recvonly from bob's answer)
      const oks = received(uacRun.trace, { status: 200 }).filter((m) => (header(m, 'CSeq') ?? '').endsWith('INVITE'));
      assert.equal(oks.length, 2, both);
      assert.equal(portOf(oks[1]!.text), portOf(oks[0]!.text), `alice's port changed with the hold:\n${oks[1]!.text}`);
      assert.ok(oks[1]!.text.includes('a=recvonly'), `alice's hold was answered:\n${oks[1]!.text}`);
      const callId = header(invites[0]!, 'Call-ID');
      const commands = parley!.logs.filter((l) => l.msg === 'ng: command' && (l as { keys?: { 'call-id'?: string } }).keys?.['call-id'] === callId);
      assert.deepEqual(commands.map((l) => (l as { command?: string }).command), ['offer', 'answer', 'offer', 'answer', 'delete'], context());
      assert.ok(await until(() => openSockets(parley!.pid!) <= idle, 300), `after the BYE Parley holds ${openSockets(parley!.pid!)} sockets, ${idle} before the call\n${context()}`);
    } finally {
      alice.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
