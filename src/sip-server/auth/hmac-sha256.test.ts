import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { HmacSha256 } from './hmac-sha256.js';

// RFC 4231 §4.3 (test case 2) and §4.7 (test case 6: a key longer than the block)
test('HmacSha256 gives the RFC 4231 HMAC-SHA-256 values', () => {
  const jefe = new HmacSha256(Buffer.from('Jefe'));
  assert.equal(jefe.mac(Buffer.from('what do ya want '), Buffer.from('for nothing?')).toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  const long = new HmacSha256(Buffer.alloc(131, 0xaa));
  assert.equal(
    long.mac(Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First')).toString('hex'),
    '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  );
});

test('HmacSha256 agrees with createHmac for keys and texts of many lengths', () => {
  for (const keyLength of [1, 16, 32, 63, 64, 65, 100]) {
    const key = Buffer.alloc(keyLength, keyLength);
    const h = new HmacSha256(key);
    for (const textLength of [0, 1, 20, 64, 200]) {
      const text = Buffer.alloc(textLength, 7);
      assert.deepEqual(h.mac(text), createHmac('sha256', key).update(text).digest());
    }
  }
});

test('HmacSha256.macText agrees with createHmac over UTF-8 text, also past its buffer and after a longer text', () => {
  const key = Buffer.alloc(32, 3);
  const h = new HmacSha256(key);
  for (const text of ['', 'a', 'call-id\0tag\0sip:127.0.0.1:5060', 'é€😀\0x', 'x'.repeat(300), 'short again', 'y'.repeat(5000), 'z']) {
    const want = createHmac('sha256', key).update(text, 'utf8').digest('hex');
    assert.equal(h.macText(text), want);
    assert.equal(h.macText(text, 24), want.slice(0, 24));
  }
});
