/** `parley pcap decrypt --key`: the forms it takes (any stream, a sender's address, an SSRC) and the errors it gives. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { parseKeyOption } from './pcap-decrypt-command.js';

const KEY = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';

describe('parley pcap decrypt --key', () => {
  it('SUITE:KEY for any stream, @ADDRESS:PORT, @[IPv6]:PORT, @ssrc=, with lifetime and MKI', () => {
    const any = parseKeyOption(`AES_CM_128_HMAC_SHA1_80:${KEY}`, 1);
    assert.deepEqual([any.suite, any.source, any.ssrc, any.origin, any.master.key.length, any.master.salt.length], ['AES_CM_128_HMAC_SHA1_80', undefined, undefined, '--key 1', 16, 14]);
    assert.deepEqual(parseKeyOption(`AES_CM_128_HMAC_SHA1_32:${KEY}@192.0.2.1:4000`, 2).source, { address: '192.0.2.1', port: 4000 });
    assert.deepEqual(parseKeyOption(`AES_CM_128_HMAC_SHA1_32:${KEY}@[2001:db8::1]:4000`, 2).source, { address: '2001:db8::1', port: 4000 });
    assert.equal(parseKeyOption(`AES_CM_128_HMAC_SHA1_80:${KEY}@ssrc=0x1234ABCD`, 3).ssrc, 0x1234abcd);
    assert.equal(parseKeyOption(`AES_CM_128_HMAC_SHA1_80:${KEY}@ssrc=42`, 3).ssrc, 42);
    assert.deepEqual([...parseKeyOption(`AES_CM_128_HMAC_SHA1_80:${KEY}|2^31|7:2`, 4).master.mki!], [0, 7]);
    assert.equal(parseKeyOption(`AEAD_AES_256_GCM:${Buffer.alloc(44, 9).toString('base64')}`, 5).master.key.length, 32);
  });

  it('says what is wrong', () => {
    const cases: [string, RegExp][] = [
      [KEY, /not a suite Parley knows/],
      [`AES_256_CM_HMAC_SHA1_80:${KEY}`, /not a suite Parley knows/],
      [`AEAD_AES_128_GCM:${KEY}`, /28 bytes of key and salt, not 30/],
      [`AES_CM_128_HMAC_SHA1_80:${KEY}@192.0.2.1`, /not ADDRESS:PORT/],
      [`AES_CM_128_HMAC_SHA1_80:${KEY}@192.0.2.1:70000`, /not ADDRESS:PORT/],
      [`AES_CM_128_HMAC_SHA1_80:${KEY}@ssrc=0x1ffffffff`, /SSRC is 0 to 0xffffffff/],
    ];
    for (const [text, message] of cases) assert.throws(() => parseKeyOption(text, 1), (e: unknown) => e instanceof InvalidArgumentError && message.test(e.message), text);
  });
});
