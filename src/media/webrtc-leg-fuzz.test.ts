/**
 * A WebRTC leg under malformed DTLS: a source that passed an ICE check (a call's own party: only
 * it knows the ICE password) sends thousands of broken DTLS records (every content type of RFC
 * 7983's DTLS range, truncated and flipped handshakes, lengths that lie). The leg drops what it
 * cannot read, never throws, leaves no unhandled rejection behind (the media thread would die of
 * one), and still answers ICE checks afterwards.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { StunAttr } from '../stun/attribute-types.js';
import { StunMessageBuilder } from '../stun/builder.js';
import { newTransactionId, parseStunMessage, StunMethod } from '../stun/message.js';
import { createDtlsCertificate } from './certificate.js';
import type { RemoteSide } from './side.js';
import { createWebRtcLeg } from './webrtc-leg.js';
import { prng } from '../../test/support/prng.js';

const LOCAL = { ufrag: 'prly', pwd: 'parleyparleyparleypassword' };
const REMOTE_UFRAG = 'brws';

function check(): Uint8Array {
  const b = new StunMessageBuilder(StunMethod.Binding, 'request', newTransactionId());
  b.addString(StunAttr.USERNAME, `${LOCAL.ufrag}:${REMOTE_UFRAG}`);
  b.addUint32(StunAttr.PRIORITY, 1853824767);
  b.add(StunAttr.ICE_CONTROLLING, new Uint8Array(8).fill(1));
  b.add(StunAttr.USE_CANDIDATE, new Uint8Array(0));
  b.addMessageIntegrity(new TextEncoder().encode(LOCAL.pwd));
  b.addFingerprint();
  return b.build().slice();
}

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

/** A DTLS 1.2 record header (RFC 6347 §4.1) around `body`, with its length field as given. */
function record(type: number, epoch: number, seq: number, body: Buffer, length = body.length): Buffer {
  const h = Buffer.alloc(13);
  h[0] = type;
  h.writeUInt16BE(0xfefd, 1);
  h.writeUInt16BE(epoch, 3);
  h.writeUIntBE(seq, 5, 6);
  h.writeUInt16BE(length & 0xffff, 11);
  return Buffer.concat([h, body]);
}

describe('WebRTC leg: malformed DTLS from a checked source', () => {
  const closers: Array<() => void> = [];
  after(() => closers.forEach((c) => c()));

  it('drops thousands of broken records without a throw or an unhandled rejection, and still answers checks', async () => {
    const rejections: unknown[] = [];
    const onRejection = (r: unknown): void => void rejections.push(r);
    process.on('unhandledRejection', onRejection);
    closers.push(() => process.off('unhandledRejection', onRejection));
    const socket = await bound();
    const port = socket.address().port;
    const remote: RemoteSide = {
      profile: 'webrtc', mIndex: 0, address: '127.0.0.1', family: 4, port: 9, rtcpPort: 9, rtcpMux: true, direction: 'sendrecv',
      codecs: [{ pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 }], ssrcs: [],
      ice: { ufrag: REMOTE_UFRAG, pwd: 'browserbrowserbrowserpwd', candidates: [], lite: false },
      dtls: { setup: 'actpass', fingerprints: [{ algorithm: 'sha-256', value: '00'.repeat(32).match(/../g)!.join(':') }] },
    };
    const failures: string[] = [];
    const leg = createWebRtcLeg({ socket, local: { address: '127.0.0.1', port, rtcpPort: port }, ice: LOCAL, certificate: await createDtlsCertificate(), remote, onFailure: (r) => failures.push(r) });
    closers.push(() => leg.close());
    const attacker = await bound();
    closers.push(() => attacker.close());
    const answers: Buffer[] = [];
    attacker.on('message', (m) => answers.push(m));
    attacker.send(check(), port, '127.0.0.1');
    for (let i = 0; i < 100 && answers.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(answers.length, 1, 'the check is answered (the source is now checked)');

    const random = prng(17);
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
    for (let i = 0; i < 3000; i++) {
      const type = 20 + Math.floor(random() * 44); // RFC 7983: 20-63 is DTLS
      const body = bytes(Math.floor(random() * 200));
      let packet: Buffer;
      const kind = i % 4;
      if (kind === 0) packet = record(type, 0, i, body);
      else if (kind === 1) packet = record(22, 0, i, Buffer.concat([Buffer.from([1, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x40]), body])); // a ClientHello that lies about its length
      else if (kind === 2) packet = record(type, Math.floor(random() * 3), i, body, Math.floor(random() * 70000));
      else packet = Buffer.concat([record(22, 0, i, body), record(20, 0, i + 1, bytes(1)), bytes(5)]).subarray(0, 13 + Math.floor(random() * (body.length + 19)));
      attacker.send(packet, port, '127.0.0.1');
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 500));
    answers.length = 0;
    attacker.send(check(), port, '127.0.0.1');
    for (let i = 0; i < 100 && answers.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(answers.length, 1, `checks are still answered (leg ${leg.dtlsState}, failures: ${failures.join('; ')})`);
    const parsed = parseStunMessage(answers[0]!);
    assert.ok(parsed.ok && parsed.value.class === 'success');
    assert.deepEqual(rejections, [], 'no unhandled rejection');
    assert.notEqual(leg.dtlsState, 'failed', 'broken records do not end the association (RFC 6347 §4.1.2.7)');
    assert.ok(leg.lastDtlsError !== undefined, 'the records reached the DTLS library, which refused them');
    assert.deepEqual(failures, []);
  });
});
