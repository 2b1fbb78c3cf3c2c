import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readAddress, readXorAddress, type TransportAddress } from './address.js';
import { StunAttr } from './attribute-types.js';
import { StunMessageBuilder } from './builder.js';
import { formatIpv6, ipv4Bytes, ipv6Bytes } from '../lib/ip-address.js';
import { parseStunMessage, StunMethod, type StunAttribute } from './message.js';
import { hex } from './testdata/rfc5769.js';

const TID = hex('b7e7a701bc34d686fa87dfae');

function attr(value: Uint8Array): StunAttribute {
  return { type: StunAttr.XOR_PEER_ADDRESS, value, offset: 40 };
}

describe('address attributes (RFC 8489 §14.1, §14.2)', () => {
  const addresses: TransportAddress[] = [
    { family: 4, address: '192.0.2.1', port: 32853 },
    { family: 4, address: '0.0.0.0', port: 0 },
    { family: 4, address: '255.255.255.255', port: 65535 },
    { family: 6, address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 },
    { family: 6, address: '::1', port: 5060 },
    { family: 6, address: '::', port: 1 },
    { family: 6, address: '::ffff:127.0.0.1', port: 3478 },
    { family: 6, address: 'fe80::1', port: 9 },
    { family: 6, address: '2001:db8::1:0:0:1', port: 9 },
  ];
  for (const a of addresses) {
    it(`writes and reads back ${a.address} port ${a.port}, plain and XOR'd`, () => {
      const bytes = new StunMessageBuilder(StunMethod.Allocate, 'success', TID)
        .addAddress(StunAttr.MAPPED_ADDRESS, a)
        .addXorAddress(StunAttr.XOR_RELAYED_ADDRESS, a)
        .build();
      const r = parseStunMessage(bytes);
      assert.ok(r.ok);
      assert.deepEqual(readAddress(r.value.get(StunAttr.MAPPED_ADDRESS)!), { ok: true, value: a });
      assert.deepEqual(readXorAddress(r.value.get(StunAttr.XOR_RELAYED_ADDRESS)!, r.value.transactionId), { ok: true, value: a });
      // the XOR'd form differs from the plain one (port and address)
      const plain = r.value.get(StunAttr.MAPPED_ADDRESS)!.value;
      const xored = r.value.get(StunAttr.XOR_RELAYED_ADDRESS)!.value;
      assert.notDeepEqual([...plain.subarray(2)], [...xored.subarray(2)]);
    });
  }

  it('reads an IPv6 address with a zone as the address without it', () => {
    const bytes = new StunMessageBuilder(StunMethod.Binding, 'success', TID)
      .addXorAddress(StunAttr.XOR_MAPPED_ADDRESS, { family: 6, address: 'fe80::1%lo', port: 9 }).build();
    const r = parseStunMessage(bytes);
    assert.ok(r.ok);
    assert.deepEqual(readXorAddress(r.value.get(StunAttr.XOR_MAPPED_ADDRESS)!, TID), { ok: true, value: { family: 6, address: 'fe80::1', port: 9 } });
  });

  const bad: Record<string, { value: string; offset: number }> = {
    'shorter than 4 bytes': { value: '0001a1', offset: 42 },
    'unknown family': { value: '0003a147e112a643', offset: 45 },
    'IPv4 of 12 bytes': { value: '0001a147e112a64300000000', offset: 42 },
    'IPv6 of 8 bytes': { value: '0002a147e112a643', offset: 42 },
  };
  for (const [name, c] of Object.entries(bad)) {
    it(`fails on ${name}, naming the offset`, () => {
      for (const r of [readAddress(attr(hex(c.value))), readXorAddress(attr(hex(c.value)), TID)]) {
        assert.equal(r.ok, false);
        if (!r.ok) assert.equal(r.error.offset, c.offset, r.error.reason);
      }
    });
  }
});

describe('IP address text', () => {
  it('reads the IPv4 and IPv6 text forms and refuses others', () => {
    assert.deepEqual([...ipv4Bytes('10.1.2.255')!], [10, 1, 2, 255]);
    for (const t of ['10.1.2', '10.1.2.3.4', '256.1.1.1', '1..2.3', '1.2.3.4 ', '', 'a.b.c.d', '1234.1.1.1']) assert.equal(ipv4Bytes(t), undefined, t);
    assert.equal(formatIpv6(ipv6Bytes('2001:DB8:0:0:8:800:200C:417A')!), '2001:db8::8:800:200c:417a');
    assert.equal(formatIpv6(ipv6Bytes('::')!), '::');
    assert.equal(formatIpv6(ipv6Bytes('1::')!), '1::');
    assert.equal(formatIpv6(ipv6Bytes('::ffff:10.0.0.1')!), '::ffff:10.0.0.1');
    assert.equal(formatIpv6(ipv6Bytes('::127.0.0.1')!), '::7f00:1');
    assert.equal(formatIpv6(ipv6Bytes('64:ff9b::192.0.2.33')!), '64:ff9b::c000:221');
    assert.equal(formatIpv6(ipv6Bytes('1:0:0:2:0:0:0:3')!), '1:0:0:2::3');
    assert.equal(formatIpv6(ipv6Bytes('1:0:0:2:0:0:3:4')!), '1::2:0:0:3:4');
    assert.equal(formatIpv6(ipv6Bytes('1:2:3:4:5:6:7:0')!), '1:2:3:4:5:6:7:0');
    for (const t of ['', ':', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', ':1::', '1:', 'g::', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4', '1.2.3.4']) {
      assert.equal(ipv6Bytes(t), undefined, t);
    }
  });
});
