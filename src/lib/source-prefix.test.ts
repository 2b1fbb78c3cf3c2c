import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeAddress, sourcePrefix } from './source-prefix.js';

describe('sourcePrefix and normalizeAddress', () => {
  it('an IPv4 address is its own source, also written IPv4-mapped or in brackets', () => {
    assert.equal(sourcePrefix('192.0.2.7'), '192.0.2.7');
    assert.equal(sourcePrefix('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(sourcePrefix('[::FFFF:c000:0207]'), '192.0.2.7');
    assert.equal(normalizeAddress('[::ffff:192.0.2.1]'), '192.0.2.1');
  });

  it('an IPv6 address counts as its /64 (RFC 5952 text), or as itself at 128', () => {
    assert.equal(sourcePrefix('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
    assert.equal(sourcePrefix('2001:DB8:0001:0002::1'), '2001:db8:1:2::/64');
    assert.equal(sourcePrefix('2001:db8:1:2:3:4:5:6', 48), '2001:db8:1::/48');
    assert.equal(sourcePrefix('2001:db8:1:2:3:4:5:6', 60), '2001:db8:1::/60');
    assert.equal(sourcePrefix('2001:db8:1:f:3:4:5:6', 60), '2001:db8:1::/60');
    assert.equal(sourcePrefix('2001:db8:1:1f:3:4:5:6', 60), '2001:db8:1:10::/60');
    assert.equal(sourcePrefix('2001:db8::1', 128), '2001:db8::1');
    assert.equal(sourcePrefix('fe80::1%eth0'), 'fe80::/64');
  });

  it('canonical IPv6 text: lower case, no leading zeros, the longest zero run as ::', () => {
    assert.equal(normalizeAddress('2001:0DB8:0000:0000:0001:0000:0000:0001'), '2001:db8::1:0:0:1');
    assert.equal(normalizeAddress('[::1]'), '::1');
    assert.equal(normalizeAddress('::'), '::');
  });

  it('names and what is not an address come back lower-cased, unparsed', () => {
    assert.equal(normalizeAddress('Phone.Example.COM'), 'phone.example.com');
    assert.equal(sourcePrefix('not:an:address::x'), 'not:an:address::x');
    assert.equal(sourcePrefix('1:2:3:4:5:6:7:8:9'), '1:2:3:4:5:6:7:8:9');
  });
});
