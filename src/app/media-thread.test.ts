import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { audioOf, phoneSdp } from '../../test/support/phone-sdp.js';
import { RtpPeer, until } from '../../test/support/rtp-peer.js';
import type { MediaResult } from '../lib/media-control.js';
import { configFromObject, keyOnly } from './config.js';
import { MediaControlClient, mediaAddresses, startMediaThread } from './media-thread.js';

const ENTRY = new URL('./media-worker.ts', import.meta.url);
const log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const SOURCE = { transport: 'udp', address: '127.0.0.1', port: 5060 } as const;
// media ports of this file: 21840-21859 (slice 34 of test/interop/support/ports.ts)
const config = configFromObject({ log: { level: 'silent' }, media: { ports: { min: 21840, max: 21859 } } });

function sdpOf(r: MediaResult): string {
  assert.ok(r.ok && r.anchored, JSON.stringify(r));
  return r.sdp;
}

describe('media thread', () => {
  it('binds on the first SIP listener\'s address and writes it in SDP, or the configured ones', () => {
    assert.deepEqual(mediaAddresses(config, ['127.0.0.1', '::1']), { address: '127.0.0.1', advertise: '127.0.0.1' });
    assert.deepEqual(mediaAddresses(configFromObject({ media: { address: '10.0.0.5', advertise: '203.0.113.9' } }), ['127.0.0.1']), { address: '10.0.0.5', advertise: '203.0.113.9' });
    const ifaces = { eth0: [{ address: '192.0.2.7', family: 'IPv4', internal: false } as never] };
    assert.deepEqual(mediaAddresses(config, ['0.0.0.0'], ifaces), { address: '0.0.0.0', advertise: '192.0.2.7' });
    assert.equal(mediaAddresses(configFromObject({ media: { enabled: false } }), []).address, '0.0.0.0');
  });

  it('does not start on an address that is not this host\'s, and says which key', async () => {
    const bad = configFromObject({ log: { level: 'silent' }, media: { address: '192.0.2.1', ports: { min: 21840, max: 21859 } } });
    await assert.rejects(startMediaThread({ config: bad, entry: ENTRY, sipAddresses: ['127.0.0.1'], locate: keyOnly, log }), (e: Error) => e.message.includes('media.address') && e.message.includes('192.0.2.1'));
  });

  it('a SIP core\'s client decides the first auto offers the thread would not anchor; the others, and every later offer of a call asked about, go to the thread', async () => {
    const thread = await startMediaThread({ config, entry: ENTRY, sipAddresses: ['127.0.0.1'], locate: keyOnly, log });
    assert.ok(thread);
    assert.deepEqual(thread.plane, { family: 4, profiles: ['rtp', 'sdes', 'webrtc'] });
    // as a SIP worker makes it: its channel and the plane from its worker data
    const client = new MediaControlClient(thread.channel(), thread.plane);
    const auto = (callId: string, address: string, branch = 'z9hG4bK-1'): Parameters<MediaControlClient['offer']>[0] =>
      ({ callId, fromTag: 'a', branch, sdp: phoneSdp(address, 4000), source: SOURCE, towards: 'rtp', mode: 'auto' });
    try {
      // a phone on its own address, to a phone: not anchored, without a word to the thread
      assert.deepEqual(await client.offer(auto('alike', '127.0.0.1')), { ok: true, anchored: false });
      assert.deepEqual(client.offers, { decidedHere: 1, asked: 0 });
      assert.equal((await thread.stats()).sessions, 0);
      // behind NAT (a UDP source whose SDP names another address): the thread anchors it
      sdpOf(await client.offer(auto('natted', '127.0.0.2')));
      assert.deepEqual(client.offers, { decidedHere: 1, asked: 1 });
      // a later branch of that call goes to the thread too, though alone it would not be anchored:
      // the call has a session there, and the thread adds the branch to it
      sdpOf(await client.offer(auto('natted', '127.0.0.1', 'z9hG4bK-2')));
      assert.deepEqual(client.offers, { decidedHere: 1, asked: 2 });
      assert.equal((await thread.stats()).sessions, 1);
      // once the whole call is deleted there, its next first offer is decided here again
      await client.delete({ callId: 'natted', reason: 'failure 486' });
      assert.deepEqual(await client.offer(auto('natted', '127.0.0.1', 'z9hG4bK-3')), { ok: true, anchored: false });
      assert.deepEqual(client.offers, { decidedHere: 2, asked: 2 });
      // an SDP the thread refuses goes there, for its 488 and Warning; `always` always goes
      const bad = await client.offer({ ...auto('bad', '127.0.0.1'), sdp: 'v=0\r\nnonsense' });
      assert.ok(!bad.ok && bad.status === 488, JSON.stringify(bad));
      sdpOf(await client.offer({ ...auto('always', '127.0.0.1'), mode: 'always' }));
      assert.deepEqual(client.offers, { decidedHere: 2, asked: 4 });
      await client.delete({ callId: 'always', reason: 'bye' });
    } finally {
      client.close();
      await thread.stop();
    }
  });

  it('relays a call through the thread for a client of the main thread and one over a SIP worker\'s channel; 503 once it is gone', async () => {
    const thread = await startMediaThread({ config, entry: ENTRY, sipAddresses: ['127.0.0.1'], locate: keyOnly, log });
    assert.ok(thread);
    const main = thread.client();
    // a SIP worker makes its client from the channel it was given
    const worker = new MediaControlClient(thread.channel());
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    try {
      const toB = audioOf(sdpOf(await main.offer({ callId: 'c1', fromTag: 'a', branch: 'z9hG4bK-1', sdp: phoneSdp('127.0.0.1', a.port), source: SOURCE, towards: 'rtp', mode: 'always' })));
      assert.ok(toB.port >= 21840 && toB.port <= 21859);
      // the answer comes through another core's client: the media thread holds the session
      const toA = audioOf(sdpOf(await worker.answer({ callId: 'c1', fromTag: 'a', toTag: 'b', branch: 'z9hG4bK-1', sdp: phoneSdp('127.0.0.1', b.port), source: SOURCE })));
      a.sendRtp(0, toA.port);
      b.sendRtp(0, toB.port);
      assert.ok(await until(() => a.received.length === 1 && b.received.length === 1));
      assert.deepEqual(await thread.stats(), { sessions: 1, sockets: 4, timedOut: 0 });
      await worker.delete({ callId: 'c1', reason: 'bye' });
      assert.deepEqual(await thread.stats(), { sessions: 0, sockets: 0, timedOut: 0 });
      const bad = await main.offer({ callId: 'c2', fromTag: 'a', branch: 'z9hG4bK-2', sdp: 'v=0\r\nnonsense', source: SOURCE, towards: 'rtp', mode: 'always' });
      assert.ok(!bad.ok && bad.status === 488, JSON.stringify(bad));
    } finally {
      a.close();
      b.close();
    }
    // the thread ends (as if it had died): every client answers 503
    await thread.worker.terminate();
    assert.ok(await until(() => true));
    const after = await worker.offer({ callId: 'c3', fromTag: 'a', branch: 'z9hG4bK-3', sdp: phoneSdp('127.0.0.1', 4000), source: SOURCE, towards: 'rtp', mode: 'always' });
    assert.deepEqual(after, { ok: false, status: 503, warnCode: 399, warning: 'media plane unavailable' });
    const fromMain = await main.answer({ callId: 'c3', fromTag: 'a', toTag: 'b', branch: 'z9hG4bK-3', sdp: phoneSdp('127.0.0.1', 4000), source: SOURCE });
    assert.equal(fromMain.ok, false);
    await thread.stop();
    worker.close();
  });
});
