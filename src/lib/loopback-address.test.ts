import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackAddress } from './loopback-address.js';

describe('isLoopbackAddress (a socket address as Node gives it)', () => {
  it('is 127.0.0.0/8, ::1 and 127.0.0.0/8 mapped into IPv6', () => {
    for (const a of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.2']) assert.equal(isLoopbackAddress(a), true, a);
  });

  it('is not any other address, nor a closed socket\'s', () => {
    for (const a of ['10.0.0.1', '128.0.0.1', '0.0.0.0', '::', '::2', '::ffff:10.0.0.1', '192.0.2.127', '']) assert.equal(isLoopbackAddress(a), false, a);
    assert.equal(isLoopbackAddress(undefined), false);
  });
});
