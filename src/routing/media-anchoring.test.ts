/**
 * Media anchoring as the proxy does it (sip-server/proxy/media-anchor.ts), through the routing
 * API and the default script on the test harness: the SDP of a relayed call goes to a media
 * plane and comes back rewritten. The media plane here is a fake MediaControl that records each
 * command and answers with an SDP naming the command and the branch (the real one is the media
 * thread's client; its own suites test it).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { MediaAnswerRequest, MediaControl, MediaDeleteRequest, MediaOfferRequest, MediaResult } from '../lib/media-control.js';
import type { SipRequest } from '../sip/index.js';
import { RoutingHarness, type RoutedRequest } from './test-harness.js';
import * as defaultScript from './scripts/default.js';
import type { RequestContext } from './routing-api.js';

const CALLER_SDP = 'v=0\r\no=alice 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const CALLEE_SDP = 'v=0\r\no=bob 2 2 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n';
/** What the fake media plane answers: an SDP that says which command, on which branch, wrote it. */
const rewritten = (command: string, branch: string): string => `v=0\r\no=parley 1 1 IN IP4 192.0.2.1\r\ns=${command} ${branch}\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n`;

type Command = { readonly command: 'offer'; readonly request: MediaOfferRequest } | { readonly command: 'answer'; readonly request: MediaAnswerRequest } | { readonly command: 'delete'; readonly request: MediaDeleteRequest };

class FakeMediaPlane implements MediaControl {
  readonly commands: Command[] = [];
  offerResult: (r: MediaOfferRequest) => MediaResult | Promise<MediaResult> = (r) => ({ ok: true, anchored: true, sdp: rewritten('offer', r.branch) });
  answerResult: (r: MediaAnswerRequest) => MediaResult | Promise<MediaResult> = (r) => ({ ok: true, anchored: true, sdp: rewritten('answer', r.branch) });

  async offer(request: MediaOfferRequest): Promise<MediaResult> {
    this.commands.push({ command: 'offer', request });
    return this.offerResult(request);
  }
  async answer(request: MediaAnswerRequest): Promise<MediaResult> {
    this.commands.push({ command: 'answer', request });
    return this.answerResult(request);
  }
  async delete(request: MediaDeleteRequest): Promise<void> {
    this.commands.push({ command: 'delete', request });
  }

  of(callId: string): Command[] {
    return this.commands.filter((c) => c.request.callId === callId);
  }
  names(callId: string): string[] {
    return this.of(callId).map((c) => c.command);
  }
  reset(): void {
    this.commands.length = 0;
    this.offerResult = (r) => ({ ok: true, anchored: true, sdp: rewritten('offer', r.branch) });
    this.answerResult = (r) => ({ ok: true, anchored: true, sdp: rewritten('answer', r.branch) });
  }
}

const BOB_CONTACT = 'sip:bob@198.51.100.7:5062';
const ALICE_CONTACT = 'sip:alice@198.51.100.1:5070';
const text = (m: { body: Uint8Array }): string => new TextDecoder().decode(m.body);
const viaBranch = (r: SipRequest): string => r.topVia!.branch!;

/** An INVITE from alice (over the trusted listener: no digest) to bob, with the caller's SDP unless `body` is ''. */
async function call(h: RoutingHarness, callId: string, body: string = CALLER_SDP, ruri = 'sip:bob@example.com'): Promise<RoutedRequest> {
  return h.send(h.request('INVITE', ruri, { callId, fromTag: `a-${callId}`, body }), { trusted: true });
}

describe('media anchoring (the proxy and a media plane, default script)', () => {
  let h: RoutingHarness;
  const media = new FakeMediaPlane();

  before(async () => {
    h = await RoutingHarness.start({ script: defaultScript, domains: ['example.com'], media });
    h.register('bob@example.com', BOB_CONTACT);
  });
  after(() => h.close());
  beforeEach(() => media.reset());

  it('the offer in an INVITE goes to the media plane (its branch, source, profile, mode) and its SDP replaces the body; the route carries ;media', async () => {
    const r = await call(h, 'm-offer');
    assert.equal(r.branches.length, 1);
    const branch = r.branches[0]!;
    assert.deepEqual(media.of('m-offer'), [
      {
        command: 'offer',
        request: { callId: 'm-offer', fromTag: 'a-m-offer', branch: viaBranch(branch), sdp: CALLER_SDP, source: { transport: 'udp', address: '198.51.100.1', port: 5070 }, towards: 'rtp', mode: 'auto' },
      },
    ]);
    assert.equal(text(branch), rewritten('offer', viaBranch(branch)));
    assert.equal(branch.contentLength, branch.bodyLength);
    assert.equal(branch.get('content-type'), 'application/sdp');
    assert.match(branch.get('record-route')!, /;lr;media;rrsig=/);
  });

  it('the answers in the 183 and the 200 are rewritten, and go upstream in order while the 183 waits for the media plane', async () => {
    const r = await call(h, 'm-order');
    const branch = viaBranch(r.branches[0]!);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    media.answerResult = async (a) => {
      const n = media.names('m-order').length; // 2 for the 183's answer, 3 for the 200's
      if (n === 2) await held; // the 183's answer waits
      return { ok: true, anchored: true, sdp: rewritten(`answer-${n}`, a.branch) };
    };
    await r.respond(183, { body: CALLEE_SDP, toTag: 'b-order' });
    await r.respond(200, { body: CALLEE_SDP, toTag: 'b-order' });
    assert.deepEqual(r.replies.map((m) => m.status), [], 'nothing overtakes the 183 being rewritten');
    release();
    await r.settled();
    assert.deepEqual(r.replies.map((m) => m.status), [183, 200]);
    assert.equal(text(r.replies[0]!), rewritten('answer-2', branch));
    assert.equal(text(r.replies[1]!), rewritten('answer-3', branch));
    const answers = media.of('m-order').filter((c) => c.command === 'answer').map((c) => c.request);
    assert.deepEqual(answers[0], { callId: 'm-order', fromTag: 'a-m-order', toTag: 'b-order', branch, sdp: CALLEE_SDP, source: { transport: 'udp', address: '198.51.100.7', port: 5062 } });
    assert.equal(answers.length, 2);
  });

  it('a retransmission of the 200 (RFC 6026: after the branch\'s transaction) is answered again and forwarded rewritten', async () => {
    const r = await call(h, 'm-retrans');
    await r.respond(200, { body: CALLEE_SDP, toTag: 'b-retrans' });
    await r.respond(200, { body: CALLEE_SDP, toTag: 'b-retrans', branch: 0 });
    const oks = r.replies.filter((m) => m.status === 200);
    assert.equal(oks.length, 2);
    for (const ok of oks) assert.equal(text(ok), rewritten('answer', viaBranch(r.branches[0]!)));
    assert.deepEqual(media.names('m-retrans'), ['offer', 'answer', 'answer']);
  });

  it('an offer the media plane refuses: 488 with a Warning naming Parley and the reason, no branch sent', async () => {
    media.offerResult = () => ({ ok: false, status: 488, warnCode: 305, warning: 'No "common" codec' });
    const r = await call(h, 'm-refused');
    assert.equal(r.status, 488);
    assert.equal(r.final!.get('warning'), '305 192.0.2.1 "No  common  codec"');
    assert.ok(r.final!.to.tag, 'a To tag of Parley\'s');
    assert.equal(r.branches.length, 0);
    assert.deepEqual(media.names('m-refused'), ['offer'], 'nothing anchored: nothing to delete');
  });

  it('an offer the media plane leaves alone (ok, not anchored): the body unchanged, no ;media, no delete on failure', async () => {
    media.offerResult = () => ({ ok: true, anchored: false });
    const r = await call(h, 'm-alike');
    assert.equal(text(r.branches[0]!), CALLER_SDP);
    assert.doesNotMatch(r.branches[0]!.get('record-route')!, /;media/);
    await r.respond(183, { body: CALLEE_SDP, toTag: 'b-alike' });
    await r.respond(486, { toTag: 'b-alike' });
    assert.equal(text(r.replies.find((m) => m.status === 183)!), CALLEE_SDP);
    assert.deepEqual(media.names('m-alike'), ['offer']);
  });

  it('the call fails (486 upstream): the media plane deletes the call', async () => {
    const r = await call(h, 'm-busy');
    await r.respond(486, { toTag: 'b-busy' });
    assert.equal(r.status, 486);
    assert.deepEqual(media.of('m-busy').at(-1), { command: 'delete', request: { callId: 'm-busy', reason: 'failure 486' } });
    assert.deepEqual(media.names('m-busy'), ['offer', 'delete']);
  });

  it('the caller cancels: 487 upstream and the call deleted', async () => {
    const invite = await call(h, 'm-cancel');
    await invite.respond(180, { toTag: 'b-cancel' });
    const cancel = h.request('CANCEL', 'sip:bob@example.com', { callId: 'm-cancel', cseq: invite.request.cseq.seq })
      .replace(/^Via: .*$/m, `Via: ${invite.request.topVia!.toString()}`)
      .replace(/^From: .*$/m, `From: ${invite.request.get('from')}`);
    const c = await h.send(cancel, { trusted: true });
    assert.equal(c.status, 200);
    await invite.respond(487, { toTag: 'b-cancel' });
    assert.equal(invite.status, 487);
    assert.deepEqual(media.of('m-cancel').at(-1), { command: 'delete', request: { callId: 'm-cancel', reason: 'cancel' } });
  });

  it('forking: one offer per branch (each its own branch and SDP); the branch that loses is deleted alone', async () => {
    h.register('carol@example.com', 'sip:carol@198.51.100.21:5062');
    h.register('carol@example.com', 'sip:carol@198.51.100.22:5062');
    const r = await call(h, 'm-fork', CALLER_SDP, 'sip:carol@example.com');
    assert.equal(r.branches.length, 2);
    const [one, two] = r.branches.map(viaBranch) as [string, string];
    assert.notEqual(one, two);
    assert.deepEqual(media.of('m-fork').map((c) => [c.command, c.request.branch]), [['offer', one], ['offer', two]]);
    assert.equal(text(r.branches[0]!), rewritten('offer', one));
    assert.equal(text(r.branches[1]!), rewritten('offer', two));
    await r.respond(180, { branch: 1, toTag: 'c2' });
    await r.respond(200, { branch: 0, toTag: 'c1', body: CALLEE_SDP });
    assert.ok(r.sent.some((m) => m.isRequest && m.method === 'CANCEL'), 'the other branch is cancelled');
    await r.respond(487, { branch: 1, toTag: 'c2' });
    assert.equal(r.status, 200);
    assert.deepEqual(media.of('m-fork').slice(2), [
      { command: 'answer', request: { callId: 'm-fork', fromTag: 'a-m-fork', toTag: 'c1', branch: one, sdp: CALLEE_SDP, source: { transport: 'udp', address: '198.51.100.21', port: 5062 } } },
      { command: 'delete', request: { callId: 'm-fork', branch: two, reason: 'failure 487' } },
    ]);
  });

  it('forking: a branch that fails while another still rings is deleted alone; the call is deleted once the last one fails', async () => {
    h.register('dave@example.com', 'sip:dave@198.51.100.31:5062');
    h.register('dave@example.com', 'sip:dave@198.51.100.32:5062');
    const r = await call(h, 'm-fork-fail', CALLER_SDP, 'sip:dave@example.com');
    const [one, two] = r.branches.map(viaBranch) as [string, string];
    await r.respond(180, { branch: 0, toTag: 'd1' });
    await r.respond(486, { branch: 1, toTag: 'd2' });
    assert.equal(r.status, undefined, 'the call goes on');
    assert.deepEqual(media.of('m-fork-fail').slice(2), [{ command: 'delete', request: { callId: 'm-fork-fail', branch: two, reason: 'failure 486' } }]);
    await r.respond(480, { branch: 0, toTag: 'd1' });
    assert.equal(r.status, 486, 'the best response (§16.7 step 6: the first of the class)');
    assert.deepEqual(media.of('m-fork-fail').slice(3), [{ command: 'delete', request: { callId: 'm-fork-fail', reason: 'failure 486' } }], 'the call, not the branch');
    assert.ok(one);
  });

  it('no offer in the INVITE: the 200\'s SDP is the callee\'s offer (towards the caller), the ACK\'s SDP its answer, both rewritten', async () => {
    const r = await call(h, 'm-late', '');
    const branch = viaBranch(r.branches[0]!);
    assert.equal(r.branches[0]!.bodyLength, 0);
    assert.match(r.branches[0]!.get('record-route')!, /;media/, 'a call that may be anchored comes back through Parley');
    assert.deepEqual(media.names('m-late'), []);
    await r.respond(200, { body: CALLEE_SDP, toTag: 'b-late' });
    assert.deepEqual(media.of('m-late'), [
      { command: 'offer', request: { callId: 'm-late', fromTag: 'b-late', branch, sdp: CALLEE_SDP, source: { transport: 'udp', address: '198.51.100.7', port: 5062 }, towards: 'rtp', mode: 'auto' } },
    ]);
    assert.equal(text(r.final!), rewritten('offer', branch));
    // alice's ACK along the route of the 200 (signed for bob's Contact), with her answer
    const ackText = (): string =>
      h.request('ACK', BOB_CONTACT, { callId: 'm-late', fromTag: 'a-m-late', toTag: 'b-late', to: 'sip:bob@example.com', cseq: r.request.cseq.seq, body: CALLER_SDP, headers: [['Route', h.recordRoute('m-late', 'a-m-late', BOB_CONTACT)]] });
    for (let i = 0; i < 2; i++) {
      // the second: the ACK of a retransmitted 200, the same answer again
      const ack = await h.send(ackText(), { trusted: true });
      assert.deepEqual(ack.handlerActions, ['onInDialog.looseRoute', 'onInDialog.relay']);
      assert.equal(ack.branches.length, 1, 'the ACK went on');
      assert.equal(text(ack.branches[0]!), rewritten('answer', branch));
    }
    assert.deepEqual(media.of('m-late').slice(1).map((c) => c.request), [0, 1].map(() => ({ callId: 'm-late', fromTag: 'b-late', toTag: 'a-m-late', branch, sdp: CALLER_SDP, source: { transport: 'udp', address: '198.51.100.1', port: 5070 } })));
  });

  it('in the dialog of an anchored call: a re-INVITE from the callee is offered in mode dialog and its 200 answered; the BYE deletes the call', async () => {
    const r = await call(h, 'm-dialog');
    await r.respond(200, { body: CALLEE_SDP, toTag: 'b-dialog' });
    const route = r.branches[0]!.get('record-route')!; // what bob keeps as his route set
    media.reset();
    const reinvite = await h.send(
      h.request('INVITE', ALICE_CONTACT, { callId: 'm-dialog', from: 'sip:bob@example.com', fromTag: 'b-dialog', to: 'sip:alice@example.com', toTag: 'a-m-dialog', contact: BOB_CONTACT, body: CALLEE_SDP, headers: [['Route', route]] }),
      { source: { address: '198.51.100.7', port: 5062 } },
    );
    assert.deepEqual(reinvite.handlerActions, ['onInDialog.sanityCheck', 'onInDialog.looseRoute', 'onInDialog.relay']);
    const copy = reinvite.branches[0]!;
    assert.deepEqual(media.of('m-dialog'), [
      { command: 'offer', request: { callId: 'm-dialog', fromTag: 'b-dialog', branch: viaBranch(copy), sdp: CALLEE_SDP, source: { transport: 'udp', address: '198.51.100.7', port: 5062 }, towards: 'rtp', mode: 'dialog' } },
    ]);
    assert.equal(text(copy), rewritten('offer', viaBranch(copy)));
    assert.equal(copy.get('record-route'), undefined, 'no Record-Route inside a dialog');
    await reinvite.respond(200, { body: CALLER_SDP, toTag: 'a-m-dialog' });
    assert.equal(text(reinvite.final!), rewritten('answer', viaBranch(copy)));
    assert.deepEqual(media.of('m-dialog')[1], { command: 'answer', request: { callId: 'm-dialog', fromTag: 'b-dialog', toTag: 'a-m-dialog', branch: viaBranch(copy), sdp: CALLER_SDP, source: { transport: 'udp', address: '198.51.100.1', port: 5070 } } });

    const bye = await h.send(
      h.request('BYE', ALICE_CONTACT, { callId: 'm-dialog', from: 'sip:bob@example.com', fromTag: 'b-dialog', to: 'sip:alice@example.com', toTag: 'a-m-dialog', headers: [['Route', route]] }),
      { source: { address: '198.51.100.7', port: 5062 } },
    );
    assert.equal(bye.branches.length, 1, 'the BYE is relayed');
    assert.deepEqual(media.of('m-dialog')[2], { command: 'delete', request: { callId: 'm-dialog', reason: 'bye' } });
  });

  it('a re-INVITE the callee refuses (488): its branch is deleted alone, the call goes on', async () => {
    const r = await call(h, 'm-reject');
    await r.respond(200, { body: CALLEE_SDP, toTag: 'b-reject' });
    const route = r.branches[0]!.get('record-route')!;
    media.reset();
    const reinvite = await h.send(
      h.request('INVITE', ALICE_CONTACT, { callId: 'm-reject', from: 'sip:bob@example.com', fromTag: 'b-reject', to: 'sip:alice@example.com', toTag: 'a-m-reject', contact: BOB_CONTACT, body: CALLEE_SDP, headers: [['Route', route]] }),
      { source: { address: '198.51.100.7', port: 5062 } },
    );
    await reinvite.respond(488, { toTag: 'a-m-reject' });
    assert.equal(reinvite.status, 488);
    assert.deepEqual(media.of('m-reject').map((c) => c.request), [
      media.of('m-reject')[0]!.request,
      { callId: 'm-reject', branch: viaBranch(reinvite.branches[0]!), reason: 'failure 488' },
    ]);
  });

  it('a dialog whose route carries no ;media (a call not anchored): its BYE and re-INVITE are not the media plane\'s', async () => {
    const route = h.recordRoute('m-plain', 'a-m-plain', ALICE_CONTACT);
    const reinvite = await h.send(
      h.request('INVITE', ALICE_CONTACT, { callId: 'm-plain', from: 'sip:bob@example.com', fromTag: 'b-plain', to: 'sip:alice@example.com', toTag: 'a-m-plain', contact: BOB_CONTACT, body: CALLEE_SDP, headers: [['Route', route]] }),
      { source: { address: '198.51.100.7', port: 5062 } },
    );
    assert.equal(text(reinvite.branches[0]!), CALLEE_SDP);
    const bye = await h.send(
      h.request('BYE', ALICE_CONTACT, { callId: 'm-plain', from: 'sip:bob@example.com', fromTag: 'b-plain', to: 'sip:alice@example.com', toTag: 'a-m-plain', headers: [['Route', route]] }),
      { source: { address: '198.51.100.7', port: 5062 } },
    );
    assert.equal(bye.branches.length, 1);
    assert.deepEqual(media.names('m-plain'), []);
  });

  it('an answer the media plane refuses: the 183 goes on without its SDP, the 200 with the callee\'s SDP as it came', async () => {
    const r = await call(h, 'm-answer-refused');
    media.answerResult = () => ({ ok: false, status: 488, warnCode: 305, warning: 'Incompatible media format' });
    await r.respond(183, { body: CALLEE_SDP, toTag: 'b-ar' });
    await r.respond(200, { body: CALLEE_SDP, toTag: 'b-ar' });
    const [early, ok] = r.replies;
    assert.equal(early!.status, 183);
    assert.equal(early!.bodyLength, 0);
    assert.equal(early!.get('content-type'), undefined);
    assert.equal(ok!.status, 200);
    assert.equal(text(ok!), CALLEE_SDP);
  });

  it('no offer in the INVITE, a reliable 183 with the callee\'s offer: the PRACK carries the answer, rewritten', async () => {
    const r = await call(h, 'm-prack', '');
    const branch = viaBranch(r.branches[0]!);
    await r.respond(183, { body: CALLEE_SDP, toTag: 'b-prack', headers: [['Require', '100rel'], ['RSeq', '1']] });
    assert.equal(text(r.replies[0]!), rewritten('offer', branch));
    const prack = await h.send(
      h.request('PRACK', BOB_CONTACT, { callId: 'm-prack', fromTag: 'a-m-prack', toTag: 'b-prack', to: 'sip:bob@example.com', body: CALLER_SDP, headers: [['Route', h.recordRoute('m-prack', 'a-m-prack', BOB_CONTACT)], ['RAck', `1 ${r.request.cseq.seq} INVITE`]] }),
      { trusted: true },
    );
    assert.equal(prack.branches.length, 1);
    assert.equal(text(prack.branches[0]!), rewritten('answer', branch));
    assert.deepEqual(media.of('m-prack')[1], { command: 'answer', request: { callId: 'm-prack', fromTag: 'b-prack', toTag: 'a-m-prack', branch, sdp: CALLER_SDP, source: { transport: 'udp', address: '198.51.100.1', port: 5070 } } });
  });

  it('a Content-Type that does not parse: the body is not read as SDP, and the call goes on', async () => {
    const r = await h.send(h.request('INVITE', 'sip:bob@example.com', { callId: 'm-badtype', body: CALLER_SDP, headers: [['Content-Type', 'application']] }), { trusted: true });
    assert.equal(r.branches.length, 1);
    assert.equal(text(r.branches[0]!), CALLER_SDP);
    assert.deepEqual(media.names('m-badtype'), []);
  });

  it('a body that is not SDP (multipart) is left alone', async () => {
    const body = '--b\r\nContent-Type: application/sdp\r\n\r\n' + CALLER_SDP + '\r\n--b--\r\n';
    const r = await h.send(h.request('INVITE', 'sip:bob@example.com', { callId: 'm-multi', body, headers: [['Content-Type', 'multipart/mixed;boundary=b']] }), { trusted: true });
    assert.equal(text(r.branches[0]!), body);
    assert.deepEqual(media.names('m-multi'), []);
  });
});

describe('media anchoring: the routing decides (RelayOptions.media, media.anchor)', () => {
  const media = new FakeMediaPlane();
  /** Relays to bob without Record-Route; `media` from the X-Media header when there is one. */
  const script = {
    onRequest(ctx: RequestContext): void {
      ctx.lookup('bob@example.com');
      const mode = ctx.header('x-media');
      ctx.relay(undefined, mode === undefined ? undefined : { media: mode as 'auto' | 'always' | 'off' });
    },
  };

  it('relay({ media: "off" }): the media plane is not asked, the body goes as it came', async () => {
    const h = await RoutingHarness.start({ script, media });
    try {
      h.register('bob@example.com', BOB_CONTACT);
      const r = await h.send(h.request('INVITE', 'sip:bob@example.com', { callId: 'r-off', body: CALLER_SDP, headers: [['X-Media', 'off']] }));
      await r.respond(200, { body: CALLEE_SDP, toTag: 'b' });
      assert.equal(text(r.branches[0]!), CALLER_SDP);
      assert.equal(text(r.final!), CALLEE_SDP);
      assert.equal(r.branches[0]!.get('record-route'), undefined);
      assert.deepEqual(media.names('r-off'), []);
    } finally {
      await h.close();
    }
  });

  it('the default (media.anchor, here auto) applies without options; an anchored call is record-routed though the script did not ask', async () => {
    const h = await RoutingHarness.start({ script, media });
    try {
      h.register('bob@example.com', BOB_CONTACT);
      const r = await h.send(h.request('INVITE', 'sip:bob@example.com', { callId: 'r-default', body: CALLER_SDP }));
      assert.deepEqual(media.names('r-default'), ['offer']);
      assert.equal((media.of('r-default')[0]!.request as MediaOfferRequest).mode, 'auto');
      assert.match(r.branches[0]!.get('record-route') ?? '', /;media;rrsig=/);
    } finally {
      await h.close();
    }
  });

  it('media.anchor off: no call is anchored unless the script says so (relay({ media: "always" }))', async () => {
    const h = await RoutingHarness.start({ script, media, mediaAnchor: 'off' });
    try {
      h.register('bob@example.com', BOB_CONTACT);
      const plain = await h.send(h.request('INVITE', 'sip:bob@example.com', { callId: 'r-config-off', body: CALLER_SDP }));
      assert.equal(text(plain.branches[0]!), CALLER_SDP);
      assert.deepEqual(media.names('r-config-off'), []);
      const always = await h.send(h.request('INVITE', 'sip:bob@example.com', { callId: 'r-always', body: CALLER_SDP, headers: [['X-Media', 'always']] }));
      assert.deepEqual(media.of('r-always').map((c) => [c.command, (c.request as MediaOfferRequest).mode]), [['offer', 'always']]);
      assert.equal(text(always.branches[0]!), rewritten('offer', viaBranch(always.branches[0]!)));
    } finally {
      await h.close();
    }
  });

  it('a failure route that tries another target: the new branch gets its own offer, the failed one is deleted alone', async () => {
    const failover = {
      onRequest(ctx: RequestContext): void {
        ctx.relay('sip:bob@198.51.100.7:5062');
      },
      onFailure(ctx: { relay(t: string): void }): void {
        ctx.relay('sip:bob@198.51.100.8:5062');
      },
    };
    const h = await RoutingHarness.start({ script: failover, media });
    try {
      const r = await h.send(h.request('INVITE', 'sip:bob@example.com', { callId: 'r-failover', fromTag: 'a-fo', body: CALLER_SDP }));
      await r.respond(503, { toTag: 'b1' });
      assert.equal(r.branches.length, 2);
      const [first, second] = r.branches.map(viaBranch) as [string, string];
      assert.deepEqual(media.of('r-failover').map((c) => [c.command, c.request.branch]), [['offer', first], ['delete', first], ['offer', second]]);
      assert.equal(text(r.branches[1]!), rewritten('offer', second));
      await r.respond(200, { toTag: 'b2', body: CALLEE_SDP });
      assert.equal(text(r.final!), rewritten('answer', second));
    } finally {
      await h.close();
    }
  });

  it('without a media plane nothing changes (relay({ media: "always" }) included)', async () => {
    const h = await RoutingHarness.start({ script });
    try {
      h.register('bob@example.com', BOB_CONTACT);
      const r = await h.send(h.request('INVITE', 'sip:bob@example.com', { callId: 'r-none', body: CALLER_SDP, headers: [['X-Media', 'always']] }));
      assert.equal(text(r.branches[0]!), CALLER_SDP);
      assert.equal(r.branches[0]!.get('record-route'), undefined);
    } finally {
      await h.close();
    }
  });
});

