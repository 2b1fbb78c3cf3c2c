/**
 * STUN keepalives on the SIP UDP port (RFC 5626 §8.4, RFC 8489 §6.3.1): a Binding request is
 * answered with XOR-MAPPED-ADDRESS from the socket that read it, and FINGERPRINT when the request
 * had one; other STUN is dropped and counted; none of it reaches the SIP delegate. Unit tests of
 * answerStun, then over loopback sockets through the TransportLayer (IPv4, IPv6, dual-stack).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  parseStunMessage, readErrorCode, readUnknownAttributes, readXorAddress, StunAttr, StunMessageBuilder, StunMethod, verifyFingerprint,
  type StunMessage,
} from '../../stun/index.js';
import { answerStun, newStunKeepaliveStats } from './stun-keepalive.js';
import { TransportLayer } from './transport-layer.js';
import { RecordingDelegate, UdpPeer, sampleRequest, until } from './testdata/loopback.js';

const TID = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);

function binding(options: { fingerprint?: boolean; cls?: 'request' | 'indication' | 'success'; method?: number; extra?: number } = {}): Uint8Array {
  const b = new StunMessageBuilder(options.method ?? StunMethod.Binding, options.cls ?? 'request', TID);
  if (options.extra !== undefined) b.add(options.extra, Uint8Array.of(0, 0, 0, 0));
  if (options.fingerprint === true) b.addFingerprint();
  return b.build();
}

function parsed(bytes: Uint8Array | undefined): StunMessage {
  assert.ok(bytes, 'an answer');
  const r = parseStunMessage(bytes);
  assert.ok(r.ok, r.ok ? '' : r.error.reason);
  return r.value;
}

describe('answerStun', () => {
  it('answers a Binding request with XOR-MAPPED-ADDRESS, the source (IPv4 and IPv6), without FINGERPRINT when the request had none', () => {
    const stats = newStunKeepaliveStats();
    for (const [address, family] of [['192.0.2.10', 4], ['2001:db8::7', 6]] as const) {
      const m = parsed(answerStun(binding(), address, 40000, stats));
      assert.equal(m.class, 'success');
      assert.equal(m.method, StunMethod.Binding);
      assert.deepEqual([...m.transactionId], [...TID]);
      assert.deepEqual(readXorAddress(m.get(StunAttr.XOR_MAPPED_ADDRESS)!, m.transactionId), { ok: true, value: { family, address, port: 40000 } });
      assert.equal(m.get(StunAttr.FINGERPRINT), undefined);
    }
    assert.deepEqual(stats, { answered: 2, dropped: 0 });
  });

  it('adds FINGERPRINT when the request had one', () => {
    const m = parsed(answerStun(binding({ fingerprint: true }), '192.0.2.10', 5060, newStunKeepaliveStats()));
    assert.equal(verifyFingerprint(m), true);
  });

  it('answers an unknown comprehension-required attribute with 420 and UNKNOWN-ATTRIBUTES; ignores an unknown optional one', () => {
    const m = parsed(answerStun(binding({ extra: 0x7f01 }), '192.0.2.10', 5060, newStunKeepaliveStats()));
    assert.equal(m.class, 'error');
    assert.deepEqual(readErrorCode(m.get(StunAttr.ERROR_CODE)!), { ok: true, value: { code: 420, reason: 'Unknown Attribute' } });
    assert.deepEqual(readUnknownAttributes(m.get(StunAttr.UNKNOWN_ATTRIBUTES)!), { ok: true, value: [0x7f01] });
    assert.equal(parsed(answerStun(binding({ extra: 0xc001 }), '192.0.2.10', 5060, newStunKeepaliveStats())).class, 'success');
  });

  it('drops and counts indications, responses, other methods, malformed STUN and a wrong FINGERPRINT', () => {
    const stats = newStunKeepaliveStats();
    const wrongFingerprint = binding({ fingerprint: true }).slice();
    wrongFingerprint[wrongFingerprint.length - 1]! ^= 1;
    const inputs = [
      binding({ cls: 'indication' }),
      binding({ cls: 'success' }),
      binding({ method: StunMethod.Allocate }),
      binding().subarray(0, 19),
      Uint8Array.of(0, 1, 0, 4, 0x21, 0x12, 0xa4, 0x42, ...TID), // length says 4, none there
      new TextEncoder().encode('\x00\x01garbage that is not SIP'),
      wrongFingerprint,
    ];
    for (const bytes of inputs) assert.equal(answerStun(bytes, '192.0.2.10', 5060, stats), undefined);
    assert.deepEqual(stats, { answered: 0, dropped: inputs.length });
  });
});

for (const [name, listen, client, mapped] of [
  ['IPv4', '127.0.0.1', '127.0.0.1', '127.0.0.1'],
  ['IPv6', '::1', '::1', '::1'],
  ['dual-stack listener, IPv4 client', '::', '127.0.0.1', '127.0.0.1'],
] as const) {
  describe(`STUN on the SIP UDP port (${name})`, () => {
    const delegate = new RecordingDelegate();
    const layer = new TransportLayer({ listeners: [{ transport: 'udp', address: listen, port: 0 }], delegate });
    let port = 0;
    before(async () => {
      const [info] = await layer.start();
      port = info!.port;
    });
    after(() => layer.stop());

    it('answers a Binding request from the SIP socket with the mapped address, drops other STUN, and SIP goes on on the same port', async () => {
      const peer = await UdpPeer.open(client);
      try {
        await peer.send(binding({ fingerprint: true }), port, client);
        await until(() => peer.received.length >= 1, 'the Binding response');
        const m = parsed(peer.received[0]!);
        assert.equal(m.class, 'success');
        assert.equal(verifyFingerprint(m), true);
        const family = mapped.includes(':') ? 6 : 4;
        assert.deepEqual(readXorAddress(m.get(StunAttr.XOR_MAPPED_ADDRESS)!, m.transactionId), { ok: true, value: { family, address: mapped, port: peer.port } });
        await peer.send(binding({ cls: 'indication' }), port, client);
        await peer.send(new TextEncoder().encode('\x00\x01garbage'), port, client);
        await peer.send(sampleRequest({ callId: 'after-stun' }), port, client);
        await delegate.message(1);
        assert.equal(delegate.messages[0]!.message.callId, 'after-stun');
        assert.equal(delegate.parseErrors.length, 0); // nothing of the STUN reached SIP
        assert.deepEqual(layer.stun, { answered: 1, dropped: 2 });
        assert.equal(peer.received.length, 1);
      } finally {
        await peer.close();
      }
    });
  });
}
