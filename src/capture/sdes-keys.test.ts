/** What `parley pcap crypto` says of an SDP's a=crypto and a=fingerprint lines (sdes-keys.ts), and the keys decrypt binds to senders. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSdp } from '../sdp/index.js';
import { formatCrypto } from '../cli/pcap/pcap-crypto-command.js';
import { mediaOf } from './media-hints.js';
import { DTLS_KEYS_NOTE, sdesKeysOfMedia, sdpSecurity } from './sdes-keys.js';

const KEY = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';
const SDP = [
  'v=0',
  'o=- 1 1 IN IP4 192.0.2.1',
  's=-',
  'c=IN IP4 192.0.2.1',
  't=0 0',
  'm=audio 4000 RTP/SAVP 0',
  `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}|2^20|1:4 KDR=0`,
  `a=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:${KEY}`,
  'a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:short',
  'a=rtcp:4009',
  'm=audio 5000 UDP/TLS/RTP/SAVPF 111',
  'a=fingerprint:sha-256 AB:CD',
  'a=setup:actpass',
  'a=rtcp-mux',
  '',
].join('\r\n');

describe('SDES and DTLS in a captured SDP', () => {
  const media = mediaOf((parseSdp(SDP) as { ok: true; value: Parameters<typeof mediaOf>[0] }).value);
  const hint = { role: 'offer' as const, time: 1n, messageIndex: 0, src: '192.0.2.1', srcPort: 5060, dst: '192.0.2.2', dstPort: 5060, carriedBy: 'INVITE', media };

  it('each a=crypto read: key and salt, lifetime, MKI, session parameters; unknown suites and bad keys said why', () => {
    const [report] = sdpSecurity([hint]);
    const [sdes, dtls] = report!.media;
    assert.deepEqual(sdes!.crypto[0]!.keys[0], {
      keySalt: KEY,
      key: Buffer.from(KEY, 'base64').subarray(0, 16).toString('hex'),
      salt: Buffer.from(KEY, 'base64').subarray(16).toString('hex'),
      lifetime: '2^20',
      mki: 1,
      mkiLength: 4,
    });
    assert.deepEqual(sdes!.crypto[0]!.sessionParams, ['KDR=0']);
    assert.match(sdes!.crypto[1]!.problem!, /AES_256_CM_HMAC_SHA1_80 is not one Parley reads/);
    assert.match(sdes!.crypto[2]!.problem!, /base64|bytes/);
    assert.equal(sdes!.note, undefined);
    assert.deepEqual([dtls!.fingerprint, dtls!.setup, dtls!.note], ['sha-256 AB:CD', 'actpass', DTLS_KEYS_NOTE]);
    const text = formatCrypto([{ callId: 'c1', from: 'sip:a@x', to: 'sip:b@x', state: 'completed', sdps: [report!] }]);
    assert.ok(text.includes(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 ${KEY}  lifetime 2^20, MKI 1:4`), text);
    assert.ok(text.includes('a=fingerprint:sha-256 AB:CD  a=setup:actpass  (DTLS-SRTP'), text);
  });

  it('decrypt keys: the sender of the SDP, RTP at its port and RTCP at a=rtcp, MKI kept', () => {
    const keys = sdesKeysOfMedia(media);
    assert.equal(keys.length, 1);
    assert.deepEqual(keys[0]!.source, { address: '192.0.2.1', port: 4000 });
    assert.deepEqual(keys[0]!.rtcpSource, { address: '192.0.2.1', port: 4009 });
    assert.deepEqual([...keys[0]!.master.mki!], [0, 0, 0, 1]);
  });
});
