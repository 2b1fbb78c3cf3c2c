/** SDES key-params (sdes-key-params.ts) as RFC 4568 §9.1 writes them, and what is refused without throwing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSdesKeyParam, parseSdesKeyParams } from './index.js';

// RFC 4568 §9.1's example key-salt (30 bytes: AES_CM_128's 16 + 14)
const KEY = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';

describe('SDES key-params (RFC 4568 §9.1)', () => {
  it('inline key||salt, lifetime and MKI', () => {
    const k = parseSdesKeyParam('AES_CM_128_HMAC_SHA1_80', `inline:${KEY}|2^20|1:4`);
    assert.ok(k.ok);
    assert.equal(Buffer.from(k.value.key).toString('base64') + '', Buffer.from(Buffer.from(KEY, 'base64').subarray(0, 16)).toString('base64'));
    assert.equal(k.value.salt.length, 14);
    assert.equal(k.value.lifetime, '2^20');
    assert.deepEqual([k.value.mkiValue, k.value.mkiLength, [...k.value.mki!]], [1, 4, [0, 0, 0, 1]]);
    const plain = parseSdesKeyParam('AES_CM_128_HMAC_SHA1_32', `inline:${KEY}`);
    assert.ok(plain.ok && plain.value.mki === undefined && plain.value.lifetime === undefined);
  });

  it('several keys; the AEAD suites take 28 and 44 bytes', () => {
    const two = parseSdesKeyParams('AES_CM_128_HMAC_SHA1_80', `inline:${KEY}|2^20|1:4;inline:${KEY}|2^20|2:4`);
    assert.ok(two.ok);
    assert.deepEqual(two.value.map((k) => k.mkiValue), [1, 2]);
    assert.ok(parseSdesKeyParam('AEAD_AES_128_GCM', `inline:${Buffer.alloc(28, 1).toString('base64')}`).ok);
    assert.ok(parseSdesKeyParam('AEAD_AES_256_GCM', `inline:${Buffer.alloc(44, 1).toString('base64')}`).ok);
    assert.ok(!parseSdesKeyParam('AEAD_AES_256_GCM', `inline:${KEY}`).ok);
  });

  it('refuses what is not key-params, without throwing', () => {
    for (const bad of ['', 'uri:http://x', 'inline:', `inline:${KEY.slice(1)}`, 'inline:!!!!', `inline:${KEY}|x`, `inline:${KEY}|1:0`, `inline:${KEY}|1:129`, `inline:${KEY}|a:4`]) {
      const r = parseSdesKeyParam('AES_CM_128_HMAC_SHA1_80', bad);
      assert.equal(r.ok, false, bad);
    }
  });
});
