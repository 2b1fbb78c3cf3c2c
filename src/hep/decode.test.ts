import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HepChunkType, HepIpFamily, HepIpProtocol, HepProtocolType } from './chunk-types.js';
import { decodeHep, isHep3 } from './decode.js';
import { encodeHep } from './encode.js';
import { KAMAILIO_SIPTRACE_OPTIONS_HEX, KAMAILIO_SIPTRACE_OPTIONS_PAYLOAD } from './testdata/kamailio-siptrace.js';

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('utf8'));

/**
 * Made by hand from the HEP3 specification's chunk table (each chunk: vendor, type, length that
 * counts its 6-byte header, value), in the order encodeHep writes: typed chunks by type, vendor
 * chunks, the payload last.
 */
const IPV4_VECTOR = hex(`
  48455033 0085
  0000 0001 0007 02
  0000 0002 0007 11
  0000 0003 000a c0000201
  0000 0004 000a c0000202
  0000 0007 0008 13c4
  0000 0008 0008 13c5
  0000 0009 000a 5f5e1000
  0000 000a 000a 0001e240
  0000 000b 0007 01
  0000 000c 000a 000007d1
  0000 000e 000b 6d79486570
  0000 0011 000b 6162634078
  0003 0020 0008 beef
  0000 000f 000a 70696e67
`);

const IPV6_VECTOR = hex(`
  48455033 0058
  0000 0001 0007 0a
  0000 0002 0007 06
  0000 0005 0016 20010db8000000000000000000000001
  0000 0006 0016 20010db8000000000000000000000002
  0000 0007 0008 1f90
  0000 0008 0008 13c4
  0000 0012 0008 0064
`);

describe('decodeHep: hand-made vectors, field by field', () => {
  it('reads every chunk of an IPv4 SIP capture', () => {
    assert.equal(IPV4_VECTOR.length, 0x85);
    const r = decodeHep(IPV4_VECTOR);
    assert.ok(r.ok, r.ok ? '' : r.error.reason);
    const p = r.value;
    assert.equal(p.ipFamily, HepIpFamily.IPV4);
    assert.equal(p.ipProtocol, HepIpProtocol.UDP);
    assert.equal(p.sourceIpv4, '192.0.2.1');
    assert.equal(p.destinationIpv4, '192.0.2.2');
    assert.equal(p.sourcePort, 5060);
    assert.equal(p.destinationPort, 5061);
    assert.equal(p.timeSeconds, 1_600_000_000);
    assert.equal(p.timeMicroseconds, 123_456);
    assert.equal(p.protocolType, HepProtocolType.SIP);
    assert.equal(p.captureAgentId, 2001);
    assert.equal(p.authKey, 'myHep');
    assert.equal(p.correlationId, 'abc@x');
    assert.equal(text(p.payload), 'ping');
    assert.deepEqual(p.vendorChunks?.map((c) => [c.vendorId, c.type, [...c.value]]), [[3, 0x20, [0xbe, 0xef]]]);
    assert.equal(p.otherChunks, undefined);
    assert.equal(p.sourceIpv6, undefined);
  });

  it('reads IPv6 addresses (RFC 5952 text), TCP and a VLAN', () => {
    assert.equal(IPV6_VECTOR.length, 0x58);
    const r = decodeHep(IPV6_VECTOR);
    assert.ok(r.ok);
    assert.deepEqual(r.value, {
      ipFamily: 10, ipProtocol: 6, sourceIpv6: '2001:db8::1', destinationIpv6: '2001:db8::2', sourcePort: 8080, destinationPort: 5060, vlanId: 100,
    });
  });

  it('encodeHep writes the same vectors byte for byte', () => {
    for (const v of [IPV4_VECTOR, IPV6_VECTOR]) {
      const r = decodeHep(v);
      assert.ok(r.ok);
      assert.equal(Buffer.from(encodeHep(r.value)).toString('hex'), Buffer.from(v).toString('hex'));
    }
  });

  it('reads chunks in any order, keeps unknown generic chunks and vendor chunks as bytes', () => {
    const v = hex(`
      48455033 0040
      0000 000f 000a 41424344
      0003 0001 0007 09
      0000 0014 000e 0011223344556677
      0000 0010 0009 789c00
      0000 0013 000a 6e6f6465
      0000 000d 0008 003c
    `);
    assert.equal(v.length, 0x40);
    const r = decodeHep(v);
    assert.ok(r.ok, r.ok ? '' : r.error.reason);
    assert.equal(text(r.value.payload), 'ABCD');
    assert.deepEqual([...r.value.compressedPayload!], [0x78, 0x9c, 0x00]);
    assert.equal(r.value.nodeName, 'node');
    assert.equal(r.value.keepAliveTimer, 60);
    // vendor 3 type 1 is not IP_FAMILY: it stays a vendor chunk
    assert.equal(r.value.ipFamily, undefined);
    assert.deepEqual(r.value.vendorChunks?.map((c) => [c.vendorId, c.type, [...c.value]]), [[3, 1, [9]]]);
    assert.deepEqual(r.value.otherChunks?.map((c) => [c.vendorId, c.type, Buffer.from(c.value).toString('hex')]), [[0, 0x14, '0011223344556677']]);
    // and re-encoded: the same chunks, the payload moved last
    const again = decodeHep(encodeHep(r.value));
    assert.ok(again.ok);
    assert.deepEqual(again.value, r.value);
  });

  it('a packet of the header alone is an empty packet', () => {
    const r = decodeHep(hex('48455033 0006'));
    assert.ok(r.ok);
    assert.deepEqual(r.value, {});
  });

  it('values are views of the input, not copies', () => {
    const r = decodeHep(IPV4_VECTOR);
    assert.ok(r.ok);
    assert.equal(r.value.payload!.buffer, IPV4_VECTOR.buffer);
  });

  const bad: Record<string, { bytes: string; offset: number; reason: RegExp }> = {
    'fewer than 6 bytes': { bytes: '484550', offset: 3, reason: /shorter than the 6-byte HEP header/ },
    'no magic': { bytes: '48455032 0006', offset: 0, reason: /no "HEP3" magic/ },
    'HEPv2': { bytes: '02100211 13c413c4 c0000201 c0000202', offset: 0, reason: /HEPv2 is not decoded/ },
    'a total length under 6': { bytes: '48455033 0005', offset: 4, reason: /total length 5 is less than/ },
    'a total length that is not the size': { bytes: '48455033 0007 0000', offset: 4, reason: /total length 7 but 8 bytes/ },
    'a truncated chunk header': { bytes: '48455033 000b 0000000107', offset: 6, reason: /truncated chunk header: 5 bytes left/ },
    'a chunk length under 6': { bytes: '48455033 000c 000000010005', offset: 10, reason: /chunk length 5 is less than its 6-byte header/ },
    'a chunk past the end': { bytes: '48455033 000d 00000001000802', offset: 10, reason: /IP_FAMILY of 8 bytes runs past the packet's end \(7 bytes left\)/ },
    'an IPv4 address of 5 bytes': { bytes: '48455033 0011 00000003000b c000020101', offset: 10, reason: /IPV4_SOURCE has 5 value bytes, 4 expected/ },
    'a port of 1 byte': { bytes: '48455033 000d 00000007000713', offset: 10, reason: /SOURCE_PORT has 1 value bytes, 2 expected/ },
    'a duplicate payload': { bytes: '48455033 0014 0000000f000741 0000000f000742', offset: 13, reason: /duplicate chunk PAYLOAD/ },
  };
  for (const [name, c] of Object.entries(bad)) {
    it(`fails on ${name}, naming the reason and the offset`, () => {
      const bytes = hex(c.bytes);
      const r = decodeHep(bytes);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.match(r.error.reason, c.reason);
      assert.equal(r.error.offset, c.offset, r.error.reason);
    });
  }

  it('isHep3 tells HEPv3 from SIP and HEPv2', () => {
    assert.equal(isHep3(IPV4_VECTOR), true);
    assert.equal(isHep3(new TextEncoder().encode('OPTIONS sip:x SIP/2.0')), false);
    assert.equal(isHep3(hex('0210')), false);
    assert.equal(HepChunkType.PAYLOAD, 0x000f);
  });
});

describe("decodeHep: Kamailio's siptrace (a real packet, testdata/kamailio-siptrace.ts)", () => {
  it('reads every chunk, and encodeHep writes the packet back byte for byte (the same chunk order)', () => {
    const bytes = hex(KAMAILIO_SIPTRACE_OPTIONS_HEX);
    const r = decodeHep(bytes);
    assert.ok(r.ok, r.ok ? '' : r.error.reason);
    const { payload, ...fields } = r.value;
    assert.deepEqual(fields, {
      ipFamily: 2, ipProtocol: 17, sourceIpv4: '127.0.0.1', destinationIpv4: '127.0.0.1', sourcePort: 25993, destinationPort: 25992,
      timeSeconds: 0x6b1687c0, timeMicroseconds: 0x0007b8bf, protocolType: 1, captureAgentId: 2001,
    });
    assert.equal(text(payload), KAMAILIO_SIPTRACE_OPTIONS_PAYLOAD);
    assert.equal(Buffer.from(encodeHep(r.value)).toString('hex'), KAMAILIO_SIPTRACE_OPTIONS_HEX);
  });
});
