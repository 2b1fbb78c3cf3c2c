import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { MediaAnswerRequest, MediaControl, MediaDeleteRequest, MediaOfferRequest, MediaResult } from '../../lib/media-control.js';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { decodeBencode, encodeBencode, type BencodeDict, type BencodeValue } from './bencode.js';
import { describeCommand, NgControlServer, profileOf } from './ng-server.js';
import { NgControlStartError, parseNgListen, startNgControl } from './start-ng-control.js';

/** A MediaControl that records its requests and answers what the test sets. */
class FakeControl implements MediaControl {
  offers: MediaOfferRequest[] = [];
  answers: MediaAnswerRequest[] = [];
  deletes: MediaDeleteRequest[] = [];
  result: MediaResult = { ok: true, anchored: true, sdp: 'v=0\r\nrewritten\r\n' };
  /** When set, offers wait for it. */
  gate: Promise<void> | undefined;
  async offer(r: MediaOfferRequest): Promise<MediaResult> {
    this.offers.push(r);
    if (this.gate) await this.gate;
    return this.result;
  }
  async answer(r: MediaAnswerRequest): Promise<MediaResult> {
    this.answers.push(r);
    return this.result;
  }
  async delete(r: MediaDeleteRequest): Promise<void> {
    this.deletes.push(r);
  }
}

/** An ng client on loopback: sends `cookie bencode`, reads replies in order. */
class Client {
  readonly socket: Socket = createSocket('udp4');
  private queue: Buffer[] = [];
  private waiting: ((b: Buffer) => void) | undefined;
  constructor(private readonly port: number) {
    this.socket.on('message', (m) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(m);
      } else this.queue.push(m);
    });
  }
  async open(): Promise<void> {
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', r));
  }
  sendRaw(bytes: Buffer | string): void {
    this.socket.send(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, this.port, '127.0.0.1');
  }
  send(cookie: string, body: BencodeDict): void {
    this.sendRaw(Buffer.concat([Buffer.from(`${cookie} `, 'latin1'), encodeBencode(body)]));
  }
  /** The next reply (bounded: 5 s, so that a missing reply fails instead of hanging). */
  next(): Promise<{ cookie: string; body: Record<string, BencodeValue> }> {
    const parse = (m: Buffer) => {
      const space = m.indexOf(0x20);
      const d = decodeBencode(m.subarray(space + 1));
      assert.ok(d.ok, 'the reply decodes');
      return { cookie: m.subarray(0, space).toString('latin1'), body: d.value as Record<string, BencodeValue> };
    };
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(parse(queued));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reply from the ng server within 5 s')), 5000);
      this.waiting = (m) => {
        clearTimeout(t);
        resolve(parse(m));
      };
    });
  }
  async command(cookie: string, body: BencodeDict): Promise<Record<string, BencodeValue>> {
    this.send(cookie, body);
    const r = await this.next();
    assert.equal(r.cookie, cookie, 'the reply echoes the cookie');
    return r.body;
  }
  close(): void {
    this.socket.close();
  }
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';

describe('NgControlServer (rtpengine ng protocol over UDP)', () => {
  let control: FakeControl;
  let clock: FakeClock;
  let server: NgControlServer;
  let client: Client;
  let cookies = 0;
  const cookie = () => `c${++cookies}_${process.pid}`;

  before(async () => {
    control = new FakeControl();
    clock = new FakeClock();
    server = await startNgControl(control, { listen: '127.0.0.1:0', allowRemote: false, clock });
    client = new Client(server.address().port);
    await client.open();
  });
  after(async () => {
    client.close();
    await server.close();
  });
  beforeEach(() => {
    control.offers = [];
    control.answers = [];
    control.deletes = [];
    control.result = { ok: true, anchored: true, sdp: 'v=0\r\nrewritten\r\n' };
    control.gate = undefined;
  });

  it('answers ping with pong and the same cookie', async () => {
    assert.deepEqual({ ...(await client.command('5323_1', { command: 'ping' })) }, { result: 'pong' });
  });

  it('hands an offer to the media plane and replies with the SDP it wrote', async () => {
    const reply = await client.command(cookie(), {
      command: 'offer', 'call-id': 'call-1', 'from-tag': 'ft', sdp: SDP, 'via-branch': 'z9hG4bK1',
      'transport-protocol': 'UDP/TLS/RTP/SAVPF', flags: ['trust-address'], replace: ['origin'], ICE: 'force',
      'received-from': ['IP4', '192.0.2.7'],
    });
    assert.deepEqual({ ...reply }, { result: 'ok', sdp: 'v=0\r\nrewritten\r\n' });
    assert.deepEqual(control.offers, [{
      callId: 'call-1', fromTag: 'ft', branch: 'z9hG4bK1', sdp: SDP,
      source: { transport: 'udp', address: '192.0.2.7', port: 0 }, towards: 'webrtc', mode: 'always',
    }]);
  });

  it('defaults via-branch to empty and the source to the ng client', async () => {
    await client.command(cookie(), { command: 'offer', 'call-id': 'call-2', 'from-tag': 'ft', sdp: SDP });
    const o = control.offers[0]!;
    assert.equal(o.branch, '');
    assert.equal(o.towards, 'rtp');
    assert.deepEqual(o.source, { transport: 'udp', address: '127.0.0.1', port: client.socket.address().port });
  });

  it('reads the profile towards the answerer from transport-protocol', () => {
    assert.equal(profileOf('UDP/TLS/RTP/SAVPF'), 'webrtc');
    assert.equal(profileOf('UDP/TLS/RTP/SAVP'), 'webrtc');
    assert.equal(profileOf('RTP/SAVP'), 'sdes');
    assert.equal(profileOf('RTP/SAVPF'), 'sdes');
    assert.equal(profileOf('RTP/AVP'), 'rtp');
    assert.equal(profileOf('RTP/AVPF'), 'rtp');
    assert.equal(profileOf(undefined), 'rtp');
  });

  it("reads RTP/SAVPF with ICE=force, DTLS or SDES off as WebRTC, as Kamailio's WebRTC examples send it", () => {
    // the flags of a Kamailio offer towards a browser (rtpengine issue 433's dump)
    assert.equal(profileOf('RTP/SAVPF', { ice: 'force', dtls: 'passive', sdes: 'no' }), 'webrtc');
    assert.equal(profileOf('RTP/SAVPF', { ice: 'force' }), 'webrtc');
    assert.equal(profileOf('RTP/SAVP', { dtls: 'passive' }), 'webrtc');
    assert.equal(profileOf('RTP/SAVPF', { sdes: ['off'] }), 'webrtc');
    assert.equal(profileOf('RTP/SAVPF', { ice: 'remove', dtls: 'off' }), 'sdes');
    assert.equal(profileOf('RTP/AVP', { ice: 'force' }), 'rtp');
  });

  it('keeps the profile of the offer when no transport-protocol is given', () => {
    const offer = (proto: string): string => `v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 ${proto} 0\r\n`;
    assert.equal(profileOf(undefined, { sdp: offer('UDP/TLS/RTP/SAVPF') }), 'webrtc');
    assert.equal(profileOf(undefined, { sdp: offer('RTP/SAVP') }), 'sdes');
    assert.equal(profileOf(undefined, { sdp: offer('RTP/AVP') }), 'rtp');
    assert.equal(profileOf(undefined, { sdp: 'v=0\r\n' }), 'rtp');
  });

  it('hands the offer to the media plane towards WebRTC for RTP/SAVPF with ICE=force', async () => {
    const reply = await client.command(cookie(), { command: 'offer', 'call-id': 'call-w', 'from-tag': 'ft', sdp: SDP, 'transport-protocol': 'RTP/SAVPF', ICE: 'force', DTLS: 'passive' });
    assert.equal(reply['result'], 'ok');
    assert.equal(control.offers.at(-1)?.towards, 'webrtc');
  });

  it('hands an answer to the media plane with both tags', async () => {
    const reply = await client.command(cookie(), { command: 'answer', 'call-id': 'call-1', 'from-tag': 'ft', 'to-tag': 'tt', sdp: SDP, 'via-branch': 'z9hG4bK1' });
    assert.equal(reply['result'], 'ok');
    assert.equal(reply['sdp'], 'v=0\r\nrewritten\r\n');
    assert.deepEqual(control.answers.map((a) => [a.callId, a.fromTag, a.toTag, a.branch]), [['call-1', 'ft', 'tt', 'z9hG4bK1']]);
  });

  it('gives back the SDP received when the media plane did not anchor', async () => {
    control.result = { ok: true, anchored: false };
    const reply = await client.command(cookie(), { command: 'offer', 'call-id': 'call-3', 'from-tag': 'ft', sdp: SDP });
    assert.deepEqual({ ...reply }, { result: 'ok', sdp: SDP });
  });

  it('turns a refusal into an error reply naming the SIP status and warning', async () => {
    control.result = { ok: false, status: 488, warnCode: 305, warning: 'no common codec' };
    const reply = await client.command(cookie(), { command: 'offer', 'call-id': 'call-4', 'from-tag': 'ft', sdp: SDP });
    assert.deepEqual({ ...reply }, { result: 'error', 'error-reason': '488 no common codec' });
    assert.equal(server.stats().errors >= 1, true);
  });

  it('refuses commands without their keys, and unknown commands', async () => {
    const reason = async (body: BencodeDict) => (await client.command(cookie(), body))['error-reason'];
    assert.equal(await reason({ command: 'offer', 'from-tag': 'ft', sdp: SDP }), 'No call-id in message');
    assert.equal(await reason({ command: 'offer', 'call-id': 'x', sdp: SDP }), 'No from-tag in message');
    assert.equal(await reason({ command: 'offer', 'call-id': 'x', 'from-tag': 'ft' }), 'No SDP body in message');
    assert.equal(await reason({ command: 'answer', 'call-id': 'x', 'from-tag': 'ft', sdp: SDP }), 'No to-tag in message');
    assert.equal(await reason({ command: 'delete' }), 'No call-id in message');
    assert.equal(await reason({ command: 'query', 'call-id': 'x' }), 'Unrecognised command: query');
    assert.equal(await reason({ 'call-id': 'x' }), 'No command given');
    assert.equal(control.offers.length + control.answers.length + control.deletes.length, 0);
  });

  it('deletes a call, or one branch of it', async () => {
    assert.equal((await client.command(cookie(), { command: 'delete', 'call-id': 'call-1', 'from-tag': 'ft' }))['result'], 'ok');
    assert.equal((await client.command(cookie(), { command: 'delete', 'call-id': 'call-2', 'via-branch': 'z9hG4bK2' }))['result'], 'ok');
    assert.deepEqual(control.deletes, [
      { callId: 'call-1', reason: 'ng delete' },
      { callId: 'call-2', branch: 'z9hG4bK2', reason: 'ng delete' },
    ]);
  });

  it('answers a body that is not bencoding with an error, and drops a datagram without a cookie', async () => {
    const before = server.stats().dropped;
    client.sendRaw('c-bad d7:command');
    const r = await client.next();
    assert.equal(r.cookie, 'c-bad');
    assert.match(String(r.body['error-reason']), /could not decode the message/);
    client.sendRaw('no-space-here');
    client.sendRaw(' d7:command4:pinge'); // empty cookie
    // replies come back in order over loopback: the pong is the next one, so the two above got none
    assert.deepEqual({ ...(await client.command('after-drop', { command: 'ping' })) }, { result: 'pong' });
    assert.equal(server.stats().dropped - before, 3);
  });

  it('answers a retransmitted cookie from its cache for 30 s, without running the command again', async () => {
    const c = cookie();
    const body = { command: 'offer', 'call-id': 'call-5', 'from-tag': 'ft', sdp: SDP };
    const first = await client.command(c, body);
    control.result = { ok: false, status: 500, warnCode: 399, warning: 'would differ' };
    clock.advance(29_000);
    assert.deepEqual(await client.command(c, body), first);
    assert.equal(control.offers.length, 1, 'the media plane saw the offer once');
    assert.ok(server.stats().cachedReplies >= 1);
    clock.advance(1_000);
    const later = await client.command(c, body);
    assert.equal(later['error-reason'], '500 would differ', 'after 30 s the cookie is a new command');
    assert.equal(control.offers.length, 2);
  });

  it('drops a retransmission that arrives while its command is being worked on', async () => {
    let open!: () => void;
    control.gate = new Promise((r) => (open = r));
    const c = cookie();
    const body = { command: 'offer', 'call-id': 'call-6', 'from-tag': 'ft', sdp: SDP };
    client.send(c, body);
    client.send(c, body);
    // both datagrams are in once the ping's pong is back (one socket, in order)
    assert.equal((await client.command('between', { command: 'ping' }))['result'], 'pong');
    open();
    const r = await client.next();
    assert.equal(r.cookie, c);
    assert.equal(control.offers.length, 1);
    assert.equal((await client.command('after', { command: 'ping' }))['result'], 'pong', 'no second reply to the offer came first');
  });
});

describe('media.control.listen', () => {
  it('accepts loopback addresses', () => {
    assert.deepEqual(parseNgListen('127.0.0.1:2223', false), { ok: true, value: { address: '127.0.0.1', port: 2223, family: 4 } });
    assert.deepEqual(parseNgListen('127.1.2.3:0', false), { ok: true, value: { address: '127.1.2.3', port: 0, family: 4 } });
    assert.deepEqual(parseNgListen('[::1]:2223', false), { ok: true, value: { address: '::1', port: 2223, family: 6 } });
    assert.ok(parseNgListen('[::ffff:127.0.0.1]:2223', false).ok);
  });

  it('refuses another address unless allowRemote', () => {
    const r = parseNgListen('192.0.2.1:2223', false);
    assert.ok(!r.ok);
    assert.match(r.error, /not a loopback address.*allowRemote/);
    assert.ok(!parseNgListen('0.0.0.0:2223', false).ok);
    assert.ok(!parseNgListen('[::]:2223', false).ok);
    assert.ok(!parseNgListen('[::2]:2223', false).ok);
    assert.ok(parseNgListen('192.0.2.1:2223', true).ok);
    assert.ok(parseNgListen('[2001:db8::1]:2223', true).ok);
  });

  it('refuses what is not an address and a port', () => {
    for (const bad of ['127.0.0.1', 'localhost:2223', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:22x', '[::1]2223', '[::1', '::1:2223', ':2223']) {
      assert.ok(!parseNgListen(bad, true).ok, bad);
    }
  });

  it('startNgControl names the key when it cannot listen', async () => {
    const control = new FakeControl();
    const first = await startNgControl(control, { listen: '127.0.0.1:0', allowRemote: false });
    try {
      await assert.rejects(startNgControl(control, { listen: `127.0.0.1:${first.address().port}`, allowRemote: false }), (e: unknown) => {
        assert.ok(e instanceof NgControlStartError);
        assert.match(e.message, /^media\.control\.listen: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)$/);
        return true;
      });
      await assert.rejects(startNgControl(control, { listen: '192.0.2.1:2223', allowRemote: false }), /media\.control\.listen: 192\.0\.2\.1 is not a loopback address/);
    } finally {
      await first.close();
    }
  });
});

describe('describeCommand', () => {
  it("names the command and its keys as Kamailio's rtpengine module sends them, the SDP by its length only", () => {
    // an offer as Kamailio 5.6's rtpengine module sent it (media-ng.test.ts)
    const sdp = 'v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\n';
    const d = describeCommand({
      command: 'offer', 'call-id': '1-26144@127.0.0.1', 'from-tag': '26144C1', sdp, ICE: 'remove', flags: ['trust-address'],
      replace: ['origin', 'session-connection'], 'transport-protocol': 'RTP/AVP', 'rtcp-mux': ['demux'], 'received-from': ['IP4', '127.0.0.1'], supports: ['load limit'],
    });
    assert.equal(d['command'], 'offer');
    const keys = d['keys'] as Record<string, unknown>;
    assert.equal(keys['sdp'], `${sdp.length} bytes`);
    assert.ok(!JSON.stringify(d).includes('192.0.2.7'), 'the SDP is not logged');
    assert.deepEqual(keys['flags'], ['trust-address']);
    assert.equal(keys['transport-protocol'], 'RTP/AVP');
    assert.equal(keys['call-id'], '1-26144@127.0.0.1');
  });
});
