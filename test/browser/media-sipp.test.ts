// The phone page (Chromium: ICE + DTLS-SRTP, Opus/G.711) and SIP phones with plain RTP (sipp,
// Debian's baresip) through Parley's media gateway, the cases beyond a plain call:
// - sipp with RTP both directions (-rtp_echo returns the browser's own audio through Parley);
// - a transcoded call: a browser that offers Opus only calls a G.711-only baresip, and the
//   decoded audio on both sides is not silence (sox on baresip's recording; the browser's energy);
// - DTMF both ways as RFC 4733 events: the page's keypad to baresip (its CALL_DTMF events), and
//   sipp's recorded events to the page (captured with tshark on their way from Parley's port to
//   the browser: Chromium has no DTMF-receive API);
// - early media (183 with SDP and RTP before the 200), a late offer (INVITE without SDP), and
//   hold/resume from the page's Hold button.
// Run by `npm run test:browser`, inside a loopback-only network namespace (support/netns.ts).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Baresip, skipWithoutBaresip } from '../interop/support/baresip.js';
import { describeCall, registerPhone } from '../interop/support/calls.js';
import { REPO_ROOT, stopCleanly, type ParleyServer } from '../interop/support/parley.js';
import { portPool, sliceFirst, PORT_SLICES } from '../interop/support/ports.js';
import { flow, header, received, sent } from '../interop/support/sip-trace.js';
import { startSipp, skipWithoutSipp, type SippResult } from '../interop/support/sipp.js';
import { skipWithoutSox, soxStat } from '../interop/support/sox.js';
import { writeToneWav } from '../support/wav.js';
import { launchChromium, type TestBrowser } from './support/browser.js';
import { loopbackOnly } from './support/netns.js';
import { PhonePage, pollUntil } from './support/phone.js';
import { startPhoneServer } from './support/phone-server.js';

const pool = portPool(import.meta.url);
const SCENARIOS = join(REPO_ROOT, 'test/browser/scenarios');
const password = (): string => randomBytes(9).toString('base64url');
/** alice uses the browser; carol is a sipp phone, bob a baresip one. */
const ALICE = { user: 'alice', password: password() };
const BOB = { user: 'bob', password: password() };
const CAROL = { user: 'carol', password: password() };
/** The media gateway's ports: the last 100 of this file's slice (SIP, sipp and baresip take the first ones). */
const FIRST = sliceFirst(PORT_SLICES['media-sipp.test.ts']!);
const MEDIA = { min: FIRST + 150, max: FIRST + 249 };

const where = loopbackOnly();
const skip = where.run ? skipWithoutSipp() || skipWithoutBaresip() || skipWithoutSox() : where.skip;

/**
 * Opus only in the browser's offers: before JsSIP's createOffer, every audio transceiver's codec
 * preferences (RTCRtpTransceiver.setCodecPreferences) are set to Chromium's Opus alone, so its
 * offer has neither G.711 nor telephone-event (a page script, added before the page loads).
 */
const OPUS_ONLY = `(() => {
  const proto = RTCPeerConnection.prototype;
  const createOffer = proto.createOffer;
  proto.createOffer = function (...args) {
    const opus = RTCRtpReceiver.getCapabilities('audio').codecs.filter((c) => c.mimeType.toLowerCase() === 'audio/opus');
    for (const t of this.getTransceivers()) if (t.receiver.track.kind === 'audio' && !t.stopped) t.setCodecPreferences(opus);
    return createOffer.apply(this, args);
  };
})();`;

/** UDP sockets bound in the media range (from /proc/net/udp: every process of this namespace; only Parley binds there). */
async function mediaSocketsOpen(): Promise<number> {
  const table = await readFile('/proc/net/udp', 'utf8');
  let n = 0;
  for (const line of table.split('\n').slice(1)) {
    const local = line.trim().split(/\s+/)[1];
    if (local === undefined) continue;
    const port = parseInt(local.split(':')[1] ?? '', 16);
    if (port >= MEDIA.min && port <= MEDIA.max) n++;
  }
  return n;
}

/** The media ports Parley held for a call are closed again (polled: the BYE's deletion is asynchronous). */
async function assertPortsFreed(before: number, what: string, context: () => string): Promise<void> {
  const closed = await pollUntil(() => mediaSocketsOpen(), (n) => n <= before, 10_000);
  assert.ok(closed.ok, `${what}: ${closed.value - before} media ports left open\n${context()}`);
}

/** The page's phone (web/phone/phone.ts), as page.evaluate sees it. */
interface PageWindow {
  readonly parleyPhone: { readonly peerConnection?: { readonly localDescription: { sdp: string } | null; readonly remoteDescription: { sdp: string } | null } };
}

/** As OPUS_ONLY, with telephone-event at Opus's clock (48000) beside it: events that must be rescaled for a phone. */
const OPUS_AND_EVENTS_48K = OPUS_ONLY.replace(
  "(c) => c.mimeType.toLowerCase() === 'audio/opus'",
  "(c) => c.mimeType.toLowerCase() === 'audio/opus' || (c.mimeType.toLowerCase() === 'audio/telephone-event' && c.clockRate === 48000)",
);

/** One RTP packet captured on its way out of one of Parley's media ports. */
interface Captured {
  readonly time: number;
  readonly from: number;
  readonly to: number;
  readonly pt: number;
  readonly marker: boolean;
}

/**
 * tshark on loopback: every UDP datagram from Parley's media ports, read as RTP when its first
 * byte says version 2 (an SRTP header is in the clear, so the payload type of the browser's
 * packets shows too). Resolves once tshark captures.
 */
async function captureFromMedia(): Promise<{ packets: () => Captured[]; stop: () => Promise<Captured[]> }> {
  const child = spawn('tshark', ['-i', 'lo', '-l', '-n', '-a', 'duration:90', '-f', `udp src portrange ${MEDIA.min}-${MEDIA.max}`, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'udp.payload'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stderr.on('data', (d: Buffer) => (err += d.toString('latin1')));
  const closed = new Promise<void>((res) => child.once('close', () => res()));
  const started = await Promise.race([
    new Promise<boolean>((res) => {
      const check = (): void => {
        if (err.includes('Capture started') || err.includes('Capturing on')) res(true);
        else setTimeout(check, 50);
      };
      check();
    }),
    closed.then(() => false),
    new Promise<boolean>((res) => setTimeout(() => res(false), 15_000)),
  ]);
  if (!started) {
    child.kill('SIGKILL');
    throw new Error(`tshark did not start capturing on lo:\n${err}`);
  }
  // "Capturing on" comes just before the capture starts: give it that moment
  await new Promise((r) => setTimeout(r, 500));
  const parse = (): Captured[] => {
    const packets: Captured[] = [];
    for (const line of out.split('\n')) {
      const [time, from, to, payload] = line.trim().split('\t');
      if (payload === undefined || payload.length < 24) continue;
      const hex = payload.replaceAll(':', '');
      const b0 = parseInt(hex.slice(0, 2), 16);
      const b1 = parseInt(hex.slice(2, 4), 16);
      if (b0 >> 6 !== 2) continue;
      // RTCP (RFC 5761 §4: packet types 200-204 read as payload types 72-76 with the marker set)
      if ((b1 & 0x7f) >= 72 && (b1 & 0x7f) <= 76) continue;
      packets.push({ time: Number(time), from: Number(from), to: Number(to), pt: b1 & 0x7f, marker: (b1 & 0x80) !== 0 });
    }
    return packets;
  };
  return {
    packets: parse,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return parse();
    },
  };
}

/** The SDP the page's peer connection last got from Parley ('' outside a call). */
function remoteDescription(p: PhonePage): Promise<string> {
  return p.page.evaluate(() => (globalThis as unknown as PageWindow).parleyPhone.peerConnection?.remoteDescription?.sdp ?? '');
}

/** The payload type that `sdp` maps to `encoding` (e.g. "telephone-event/8000"), or undefined. */
function payloadTypeOf(sdp: string, encoding: string): number | undefined {
  for (const line of sdp.split(/\r?\n/)) {
    if (!line.startsWith('a=rtpmap:')) continue;
    const [pt, enc] = line.slice('a=rtpmap:'.length).split(' ');
    if (enc?.toLowerCase() === encoding.toLowerCase()) return Number(pt);
  }
  return undefined;
}

describe('the phone page and SIP phones with plain RTP through the media gateway', { skip, timeout: 400_000 }, () => {
  let parley: ParleyServer | undefined;
  let origin: string;
  let chromium: TestBrowser | undefined;

  before(async () => {
    const started = await startPhoneServer({ pool, subscribers: [ALICE, BOB, CAROL], config: { media: { ports: MEDIA, address: '127.0.0.1' } } });
    parley = started.parley;
    origin = started.origin;
    chromium = await launchChromium();
  });

  after(async () => {
    await chromium?.close();
    await stopCleanly(parley);
  });

  async function aliceInBrowser(o: { opusOnly?: boolean; script?: string } = {}): Promise<PhonePage> {
    const u = await chromium!.newUser('alice');
    if (o.opusOnly) await u.page.addInitScript(OPUS_ONLY);
    if (o.script !== undefined) await u.page.addInitScript(o.script);
    const alice = new PhonePage('alice', u.page, u.log, () => `--- Parley (last 40 lines):\n${parley?.outputTail(40) ?? ''}`);
    await alice.open(origin, { username: ALICE.user, password: ALICE.password, autoRegister: true });
    await alice.waitRegistration('registered', 15_000);
    return alice;
  }

  /** carol registered over UDP, then a sipp UAS on that port running `scenario` (test/browser/scenarios). */
  async function carolAnswers(scenario: string, o: { pauseMs?: number; echo?: boolean } = {}) {
    const carol = await registerPhone(parley!, CAROL, 'udp');
    return startSipp({
      ...parley!.sippTarget('udp'), scenario: join(SCENARIOS, scenario), endpoint: carol.endpoint, calls: 1, timeoutSecs: 60, recvTimeoutMs: 40_000,
      pauseMs: o.pauseMs ?? 300, ...(o.echo ? { extraArgs: ['-rtp_echo'] } : {}),
    });
  }

  /** The browser receives audio that is not silence: packets and energy grow past their values at `from`. */
  async function browserHears(alice: PhonePage, context: () => Promise<string>, packets = 100): Promise<void> {
    const start = await alice.rtpCounts();
    const startEnergy = (await alice.mediaReceived()).audioEnergy;
    const inbound = await pollUntil(() => alice.rtpCounts(), (c) => c.inbound.audio >= start.inbound.audio + packets, 20_000);
    assert.ok(inbound.ok, `the browser received ${inbound.value.inbound.audio - start.inbound.audio} audio packets through Parley\n${await context()}`);
    const energy = await pollUntil(() => alice.mediaReceived(), (m) => m.audioEnergy > startEnergy + 0.01, 10_000);
    const element = await alice.page.evaluate(() => {
      const v = (globalThis as unknown as { document: { getElementById(id: string): { paused: boolean; readyState: number; muted: boolean; volume: number; srcObject: unknown } | null } }).document.getElementById('remote-video');
      return v === null ? 'no element' : `paused ${v.paused}, readyState ${v.readyState}, muted ${v.muted}, volume ${v.volume}, srcObject ${v.srcObject === null ? 'none' : 'set'}`;
    });
    assert.ok(energy.ok, `the browser's received audio is silence (energy ${energy.value.audioEnergy - startEnergy}): ${JSON.stringify(await alice.inboundAudio())}; remote media element: ${element}\n${await context()}`);
  }

  it('the browser calls a sipp phone with plain RTP (PCMU, -rtp_echo): its own audio comes back through Parley', async () => {
    const uas = await carolAnswers('uas-rtp.xml', { echo: true });
    const alice = await aliceInBrowser();
    const context = async (): Promise<string> => `${await alice.describe()}`;
    try {
      const idle = await mediaSocketsOpen();
      await alice.call('carol');
      await alice.waitCall('in-call', 15_000);
      assert.ok((await mediaSocketsOpen()) > idle, 'the gateway holds ports during the call');
      await browserHears(alice, context);
      await alice.hangup();
      await alice.waitCall('ended', 10_000);
      const run = await uas.done;
      assert.equal(run.code, 0, `carol's sipp failed:\n${run.describe()}\n${await context()}`);
      // carol was offered plain RTP on Parley's ports, the browser got a WebRTC answer
      const [invite] = received(run.trace, { method: 'INVITE' });
      assert.match(invite!.text, /m=audio (\d+) RTP\/AVP /, invite!.text);
      const port = Number(/m=audio (\d+) /.exec(invite!.text)![1]);
      assert.ok(port >= MEDIA.min && port <= MEDIA.max, `carol was offered port ${port}, not one of Parley's:\n${invite!.text}`);
      assert.doesNotMatch(invite!.text, /a=fingerprint|a=ice-ufrag/, invite!.text);
      await assertPortsFreed(idle, 'after the BYE', () => parley!.outputTail(30));
    } finally {
      await alice.page.context().close();
    }
  });

  it('a sipp phone with plain RTP (-rtp_echo) calls the browser, which answers: its audio comes back through Parley', async () => {
    const alice = await aliceInBrowser();
    const context = async (): Promise<string> => `${await alice.describe()}`;
    try {
      const uac = startSipp({
        ...parley!.sippTarget('udp'), scenario: join(SCENARIOS, 'call-rtp.xml'), calls: 1, timeoutSecs: 60, recvTimeoutMs: 20_000,
        credentials: [CAROL], service: 'alice', pauseMs: 12_000, extraArgs: ['-rtp_echo'],
      }, false).then((r) => r.done);
      const early = await Promise.race([alice.waitCall('incoming', 15_000).then(() => undefined), uac]);
      if (early !== undefined) assert.fail(`carol's sipp ended before the page rang:\n${describeCall(early)}\n${early.stderr}\n${await context()}`);
      await alice.answer();
      await alice.waitCall('in-call', 15_000);
      await browserHears(alice, context);
      await alice.waitCall('ended', 20_000);
      const run = await uac;
      assert.equal(run.code, 0, `carol's sipp failed:\n${describeCall(run)}\n${await context()}`);
      const ok = received(run.trace, { status: 200 }).find((r) => /INVITE/.test(header(r, 'CSeq') ?? ''));
      assert.match(ok!.text, /m=audio \d+ RTP\/AVP 0/, `Parley answered carol with plain RTP, PCMU:\n${ok!.text}`);
    } finally {
      await alice.page.context().close();
    }
  });

  it('a browser offering Opus only calls a G.711-only baresip: Parley transcodes, and each side decodes sound (sox, getStats)', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-transcode-'));
    const tone = join(dir, 'tone.wav');
    await writeToneWav(tone, { hz: 800, seconds: 60 });
    const recordings = join(dir, 'rec');
    await mkdir(recordings);
    const bob = await Baresip.start({ pool, account: BOB, registrar: { host: parley!.host, port: parley!.portFor('udp'), transport: 'udp' }, audioFile: tone, recordDir: recordings });
    let alice: PhonePage | undefined;
    try {
      await bob.registered();
      alice = await aliceInBrowser({ opusOnly: true });
      const context = async (): Promise<string> => `${await alice!.describe()}\n${bob.describe()}`;
      await alice.call('bob');
      await bob.waitEvent((e) => e.type === 'CALL_INCOMING', 15_000);
      await bob.command('accept');
      await alice.waitCall('in-call', 15_000);
      await browserHears(alice, context, 150);
      const heard = await alice.inboundAudio();
      const codec = String(heard?.codec ?? '');
      assert.match(codec, /^audio\/opus\/48000/i, `the browser receives Opus: ${codec}`);
      const offer = await alice.page.evaluate(() => (globalThis as unknown as PageWindow).parleyPhone.peerConnection?.localDescription?.sdp ?? '');
      assert.equal(payloadTypeOf(offer, 'PCMU/8000'), undefined, `the browser offered no PCMU:\n${offer}`);
      const answer = await remoteDescription(alice);
      assert.notEqual(payloadTypeOf(answer, 'opus/48000/2'), undefined, `Parley answered the browser Opus:\n${answer}`);
      assert.equal(payloadTypeOf(answer, 'PCMU/8000'), undefined, `Parley answered the browser no PCMU:\n${answer}`);
      const counts = await bob.rtpFlowing(150, 20_000);
      assert.ok(counts.rx >= 150, `baresip received the browser's audio: ${JSON.stringify(counts)}`);
      // baresip (G.711 only) was offered and speaks PCMU: Parley transcodes between it and Opus
      const debug = (await bob.command('audio_debug')).replace(/\x1b\[[0-9;]*m/g, '');
      assert.match(debug, /PCMU/, `baresip's audio stream is PCMU:\n${debug}`);
      await alice.hangup();
      await alice.waitCall('ended', 10_000);
      await bob.waitEvent((e) => e.type === 'CALL_CLOSED', 15_000);
      await bob.stop();
      // what baresip decoded from the browser (through Opus → PCMU) is sound, not silence
      const files = await readdir(recordings);
      const dec = files.find((f) => f.endsWith('-dec.wav'));
      assert.ok(dec !== undefined, `baresip recorded what it decoded: ${files.join(', ')}`);
      const stat = soxStat(join(recordings, dec), 1);
      assert.ok(stat.rms > 0.005, `baresip's decoded audio is silence (sox: RMS ${stat.rms}):\n${stat.text}`);
      t.diagnostic(`baresip decoded ${stat.seconds} s, RMS ${stat.rms}, about ${stat.frequency} Hz (the browser's fake microphone); the browser: ${JSON.stringify(heard)}`);
    } finally {
      await alice?.page.context().close();
      await bob.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the page's keypad reaches baresip as RFC 4733 events (CALL_DTMF_START/END with the keys)", async () => {
    const bob = await Baresip.start({ pool, account: BOB, registrar: { host: parley!.host, port: parley!.portFor('udp'), transport: 'udp' } });
    let alice: PhonePage | undefined;
    try {
      await bob.registered();
      alice = await aliceInBrowser();
      await alice.call('bob');
      await bob.waitEvent((e) => e.type === 'CALL_INCOMING', 15_000);
      await bob.command('accept');
      await alice.waitCall('in-call', 15_000);
      await bob.rtpFlowing(50, 20_000);
      const from = bob.events.length;
      await alice.pressKeys('1');
      const first = await bob.waitEvent((e) => e.type === 'CALL_DTMF_START', 10_000, from);
      assert.equal(first.param, '1', `baresip heard key ${first.param}`);
      await bob.waitEvent((e) => e.type === 'CALL_DTMF_END', 10_000, from);
      const next = bob.events.length;
      await alice.pressKeys('#');
      const second = await bob.waitEvent((e) => e.type === 'CALL_DTMF_START', 10_000, next);
      assert.equal(second.param, '#', `baresip heard key ${second.param}`);
      await alice.hangup();
      await alice.waitCall('ended', 10_000);
      await bob.stop();
      // the events came as RTP (RFC 4733), not as SIP INFO
      assert.equal(bob.messages().filter((m) => m.startLine.startsWith('INFO ')).length, 0, 'no SIP INFO reached baresip');
    } finally {
      await alice?.page.context().close();
      await bob.stop();
    }
  });

  it("a browser offering Opus and telephone-event/48000 only: the keypad's events reach a G.711 baresip through the transcoder, rescaled to 8000 Hz", async () => {
    const bob = await Baresip.start({ pool, account: BOB, registrar: { host: parley!.host, port: parley!.portFor('udp'), transport: 'udp' } });
    let alice: PhonePage | undefined;
    try {
      await bob.registered();
      alice = await aliceInBrowser({ script: OPUS_AND_EVENTS_48K });
      await alice.call('bob');
      await bob.waitEvent((e) => e.type === 'CALL_INCOMING', 15_000);
      await bob.command('accept');
      await alice.waitCall('in-call', 15_000);
      await bob.rtpFlowing(50, 20_000);
      const answer = await remoteDescription(alice);
      assert.notEqual(payloadTypeOf(answer, 'telephone-event/48000'), undefined, `Parley answered the browser telephone-event/48000:\n${answer}`);
      assert.equal(payloadTypeOf(answer, 'PCMU/8000'), undefined, answer);
      const from = bob.events.length;
      await alice.pressKeys('5');
      const start = await bob.waitEvent((e) => e.type === 'CALL_DTMF_START', 10_000, from);
      assert.equal(start.param, '5', `baresip heard key ${start.param}`);
      await bob.waitEvent((e) => e.type === 'CALL_DTMF_END', 10_000, from);
      await alice.hangup();
      await alice.waitCall('ended', 10_000);
      await bob.stop();
      assert.equal(bob.messages().filter((m) => m.startLine.startsWith('INFO ')).length, 0, 'no SIP INFO reached baresip');
    } finally {
      await alice?.page.context().close();
      await bob.stop();
    }
  });

  for (const variant of [
    { name: 'PCMU passed through', script: undefined, clock: 8000 },
    { name: 'an Opus-only browser (transcoded; events rescaled to 48000 Hz)', script: OPUS_AND_EVENTS_48K, clock: 48000 },
  ]) {
    it(`sipp's RFC 4733 events reach the page with the page's telephone-event payload type (tshark on Parley's port towards the browser): ${variant.name}`, async () => {
      const capture = await captureFromMedia();
      let packets: Captured[] = [];
      const uas = await carolAnswers('uas-dtmf.xml');
      const alice = await aliceInBrowser(variant.script === undefined ? {} : { script: variant.script });
      const context = async (): Promise<string> => `${await alice.describe()}`;
      try {
        await alice.call('carol');
        await alice.waitCall('in-call', 15_000);
        const pair = await pollUntil(() => alice.selectedCandidatePair(), (p) => p !== undefined, 10_000);
        const browserPort = Number(pair.value?.local.split(':').at(-1));
        const remote = await remoteDescription(alice);
        const pt = payloadTypeOf(remote, `telephone-event/${variant.clock}`);
        assert.notEqual(pt, undefined, `Parley's answer to the browser has telephone-event/${variant.clock}:\n${remote}`);
        // sipp plays key 1's events three times after the ACK
        const seen = await pollUntil(async () => capture.packets().filter((p) => p.to === browserPort && p.pt === pt), (e) => e.length >= 10, 15_000);
        await alice.hangup();
        await alice.waitCall('ended', 10_000);
        const run = await uas.done;
        packets = await capture.stop();
        const events = packets.filter((p) => p.to === browserPort && p.pt === pt);
        assert.ok(seen.ok, `Parley relayed ${events.length} RFC 4733 packets (pt ${pt}) to the browser's port ${browserPort}; to it: ${JSON.stringify(packets.filter((p) => p.to === browserPort).slice(0, 20))}\n${run.describe()}\n${await context()}`);
        assert.equal(run.code, 0, `carol's sipp failed:\n${run.describe()}`);
        assert.ok(events.some((p) => p.marker), 'an event starts with the marker bit (RFC 4733 §2.5.1.3)');
      } finally {
        await capture.stop();
        await alice.page.context().close();
      }
    });
  }

  it('early media: a sipp phone answers 183 with SDP and plays PCMA before its 200: the browser hears it before the answer, then the 200 with the same SDP', async () => {
    // sipp's recording lasts 7 s (about 30 packets a second): 3.5 s before the 200, the rest after
    const uas = await carolAnswers('uas-early.xml', { pauseMs: 3500 });
    const alice = await aliceInBrowser();
    const context = async (): Promise<string> => `${await alice.describe()}`;
    try {
      await alice.call('carol');
      // before the 200: packets and sound, the call not yet answered
      const early = await pollUntil(
        async () => ({ state: await alice.callState(), counts: await alice.rtpCounts(), energy: (await alice.mediaReceived()).audioEnergy }),
        (v) => v.state === 'in-call' || (v.counts.inbound.audio >= 30 && v.energy > 0.001),
        8000,
      );
      assert.notEqual(early.value.state, 'in-call', `the call was answered before early media was heard: ${JSON.stringify(early.value)}\n${await context()}`);
      assert.ok(early.ok, `the browser heard no early media before the 200: ${JSON.stringify(early.value)}; ${JSON.stringify(await alice.inboundAudio())}\n${await context()}`);
      await alice.waitCall('in-call', 15_000);
      const codec = String((await alice.inboundAudio())?.codec ?? '');
      assert.match(codec, /^audio\/PCMA\/8000/, `the browser decodes sipp's PCMA: ${codec}`);
      await browserHears(alice, context, 30);
      await alice.hangup();
      await alice.waitCall('ended', 10_000);
      const run = await uas.done;
      assert.equal(run.code, 0, `carol's sipp failed:\n${run.describe()}\n${await context()}`);
      assert.deepEqual(flow(run.trace), ['< INVITE', '> 183', '> 200', '< ACK', '< BYE', '> 200'], run.describe());
    } finally {
      await alice.page.context().close();
    }
  });

  it("a sipp phone calls the browser without an offer (late offer): the browser's WebRTC offer reaches it as RTP/AVP with PCMU, it answers in the ACK, and its echo comes back", async () => {
    const alice = await aliceInBrowser();
    const context = async (): Promise<string> => `${await alice.describe()}`;
    try {
      const idle = await mediaSocketsOpen();
      const uac = startSipp({
        ...parley!.sippTarget('udp'), scenario: join(SCENARIOS, 'call-late.xml'), calls: 1, timeoutSecs: 60, recvTimeoutMs: 20_000,
        credentials: [CAROL], service: 'alice', pauseMs: 12_000, extraArgs: ['-rtp_echo'],
      }, false).then((r) => r.done);
      const early = await Promise.race([alice.waitCall('incoming', 15_000).then(() => undefined), uac]);
      if (early !== undefined) assert.fail(`carol's sipp ended before the page rang:\n${describeCall(early)}\n${await context()}`);
      await alice.answer();
      await alice.waitCall('in-call', 15_000);
      await browserHears(alice, context);
      await alice.waitCall('ended', 20_000);
      const run = await uac;
      assert.equal(run.code, 0, `carol's sipp failed:\n${describeCall(run)}\n${await context()}`);
      const [invite] = sent(run.trace, { method: 'INVITE' }).slice(-1);
      assert.doesNotMatch(invite!.text, /\r?\n\r?\nv=0/, `carol's INVITE has no offer:\n${invite!.text}`);
      const ok = received(run.trace, { status: 200 }).find((r) => /INVITE/.test(header(r, 'CSeq') ?? ''));
      assert.match(ok!.text, /m=audio \d+ RTP\/AVP [\d ]*\b0\b/, `Parley offered carol plain RTP with PCMU in the 200:\n${ok!.text}`);
      assert.doesNotMatch(ok!.text, /a=fingerprint|a=ice-ufrag|SAVPF/, ok!.text);
      const [ack] = sent(run.trace, { method: 'ACK' }).slice(-1);
      assert.match(ack!.text, /m=audio \d+ RTP\/AVP 0/, `carol answered in her ACK:\n${ack!.text}`);
      await assertPortsFreed(idle, 'after the BYE of a late-offer call', () => parley!.outputTail(30));
    } finally {
      await alice.page.context().close();
    }
  });

  it("hold and resume from the page's Hold button towards a sipp phone: re-INVITE sendonly answered recvonly, then sendrecv; on hold the phone still gets the browser's audio, the browser gets nothing", async () => {
    const capture = await captureFromMedia();
    const uas = await carolAnswers('uas-rtp-hold.xml', { echo: true });
    const phonePort = uas.endpoint.port + 2;
    const idle = await mediaSocketsOpen();
    const alice = await aliceInBrowser();
    const context = async (): Promise<string> => `${await alice.describe()}`;
    try {
      await alice.call('carol');
      await alice.waitCall('in-call', 15_000);
      await browserHears(alice, context);
      const pair = await alice.selectedCandidatePair();
      const browserPort = Number(pair?.local.split(':').at(-1));
      assert.ok(capture.packets().some((p) => p.to === browserPort), `tshark saw Parley's packets to the browser's port ${browserPort}: ${JSON.stringify(pair)}`);
      const first = await remoteDescription(alice);

      // hold: the page's re-INVITE (a=sendonly) is answered (a=recvonly) and the page says so
      await alice.page.getByTestId('hold').click();
      const held = await pollUntil(() => alice.callText(), (t) => /On hold: you put carol on hold/.test(t), 10_000);
      assert.ok(held.ok, `the page did not say the call is on hold: ${held.value}\n${await context()}`);
      // (the page says so at once, JsSIP before its re-INVITE is answered: wait for the answer)
      const heldAnswer = await pollUntil(() => remoteDescription(alice), (d) => /a=recvonly/.test(d), 10_000);
      assert.ok(heldAnswer.ok, `Parley answered the page's hold recvonly:\n${heldAnswer.value}`);
      const t0 = Date.now() / 1000;
      const h0 = await alice.rtpCounts();
      // the browser goes on sending (sendonly): 100 packets more
      const sending = await pollUntil(() => alice.rtpCounts(), (c) => c.outbound.audio >= h0.outbound.audio + 100, 10_000);
      assert.ok(sending.ok, `on hold, the browser still sends: ${JSON.stringify({ h0, now: sending.value })}`);
      const t1 = Date.now() / 1000;
      const h1 = sending.value;
      const window = capture.packets().filter((p) => p.time >= t0 && p.time <= t1);
      const toPhone = window.filter((p) => p.to === phonePort).length;
      assert.ok(toPhone >= 50, `on hold, Parley relayed ${toPhone} packets of the browser's audio to the phone (port ${phonePort})`);
      // what the phone echoes is dropped by Parley: the browser said sendonly (a packet or two may have been on its way)
      const toBrowser = window.filter((p) => p.to === browserPort && p.pt < 64).length;
      assert.ok(toBrowser <= 5, `on hold, Parley sent ${toBrowser} RTP packets to the browser (port ${browserPort})`);
      assert.ok(h1.inbound.audio - h0.inbound.audio <= 5, `on hold, the browser received ${h1.inbound.audio - h0.inbound.audio} packets`);

      // resume: sendrecv again, and the echo comes back
      await alice.page.getByTestId('hold').click();
      const resumed = await pollUntil(() => alice.callText(), (t) => !/On hold/.test(t), 10_000);
      assert.ok(resumed.ok, `the page still says on hold: ${resumed.value}`);
      const resumedAnswer = await pollUntil(() => remoteDescription(alice), (d) => d !== heldAnswer.value && /a=sendrecv/.test(d), 10_000);
      assert.ok(resumedAnswer.ok, `Parley answered the resume sendrecv:\n${resumedAnswer.value}`);
      await browserHears(alice, context);
      await alice.hangup();
      await alice.waitCall('ended', 10_000);
      const run = await uas.done;
      assert.equal(run.code, 0, `carol's sipp failed:\n${run.describe()}\n${await context()}`);
      const invites = received(run.trace, { method: 'INVITE' });
      assert.equal(invites.length, 3, run.describe());
      // RFC 3264 §8: "the version in the origin field MUST increment by one from the previous SDP"
      const versions = invites.map((i) => Number(/^o=\S+ \S+ (\d+) /m.exec(i.text)?.[1]));
      assert.deepEqual(versions.slice(1).map((v, i) => v - versions[i]!), [1, 1], `o= versions of Parley's offers to carol: ${versions.join(', ')}`);
      const browserVersions = [first, heldAnswer.value, resumedAnswer.value].map((d) => Number(/^o=\S+ \S+ (\d+) /m.exec(d)?.[1]));
      assert.deepEqual(browserVersions.slice(1).map((v, i) => v - browserVersions[i]!), [1, 1], `o= versions of Parley's answers to the browser: ${browserVersions.join(', ')}`);
      assert.match(invites[1]!.text, /a=sendonly/, `the hold re-INVITE reached carol as sendonly:\n${invites[1]!.text}`);
      assert.match(invites[2]!.text, /a=sendrecv/, `the resume re-INVITE reached carol as sendrecv:\n${invites[2]!.text}`);
      assert.doesNotMatch(invites[2]!.text, /a=sendonly|a=recvonly|a=inactive/, invites[2]!.text);
      await assertPortsFreed(idle, 'after the BYE of a held and resumed call', () => parley!.outputTail(30));
    } finally {
      await capture.stop();
      await alice.page.context().close();
    }
  });
});
