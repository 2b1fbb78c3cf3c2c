import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hepAddressFields, hepDestination, hepSource } from './addresses.js';
import { decodeHep } from './decode.js';
import { encodeHep } from './encode.js';

describe('hepAddressFields: a message’s two addresses as HEP chunks', () => {
  it('IPv4 to IPv4: the IPv4 chunks', () => {
    assert.deepEqual(hepAddressFields({ address: '192.0.2.1', port: 5060 }, { address: '198.51.100.2', port: 5062 }), {
      ipFamily: 2, sourceIpv4: '192.0.2.1', destinationIpv4: '198.51.100.2', sourcePort: 5060, destinationPort: 5062,
    });
  });

  it('IPv4-mapped (a dual-stack socket) is IPv4 on the wire: the IPv4 chunks', () => {
    assert.deepEqual(hepAddressFields({ address: '::ffff:192.0.2.1', port: 1 }, { address: '::FFFF:c633:6402', port: 2 }), {
      ipFamily: 2, sourceIpv4: '192.0.2.1', destinationIpv4: '198.51.100.2', sourcePort: 1, destinationPort: 2,
    });
  });

  it('IPv6: the IPv6 chunks; an IPv4 address beside an IPv6 one written IPv4-mapped', () => {
    assert.deepEqual(hepAddressFields({ address: '2001:db8::1', port: 5060 }, { address: '::1', port: 5061 }), {
      ipFamily: 10, sourceIpv6: '2001:db8::1', destinationIpv6: '::1', sourcePort: 5060, destinationPort: 5061,
    });
    assert.deepEqual(hepAddressFields({ address: '192.0.2.1', port: 5060 }, { address: 'fe80::2%eth0', port: 5061 }), {
      ipFamily: 10, sourceIpv6: '::ffff:192.0.2.1', destinationIpv6: 'fe80::2%eth0', sourcePort: 5060, destinationPort: 5061,
    });
  });

  it('round trips through encodeHep and decodeHep, and hepSource / hepDestination read them back', () => {
    for (const [s, d] of [['192.0.2.1', '192.0.2.2'], ['2001:db8::1', '2001:db8::2']] as const) {
      const r = decodeHep(encodeHep(hepAddressFields({ address: s, port: 10 }, { address: d, port: 20 })));
      assert.ok(r.ok);
      assert.deepEqual(hepSource(r.value), { address: s, port: 10 });
      assert.deepEqual(hepDestination(r.value), { address: d, port: 20 });
    }
    assert.equal(hepSource({}), undefined);
    assert.equal(hepDestination({ payload: new Uint8Array(0) }), undefined);
  });

  it('throws ERR_INVALID_ARGUMENT on text that is not an address', () => {
    assert.throws(() => hepAddressFields({ address: 'example.com', port: 1 }, { address: '::1', port: 2 }), { code: 'ERR_INVALID_ARGUMENT', message: /"example.com" is not an IP address/ });
  });
});
