import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prng } from '../../test/support/prng.js';
import { HepIpFamily, HepIpProtocol, HepProtocolType } from './chunk-types.js';
import { decodeHep } from './decode.js';
import { encodeHep, hepEncodedSize } from './encode.js';
import { HEP_MAX_SIZE, type HepPacket, type HepRawChunk } from './packet.js';

const enc = new TextEncoder();

const FULL: HepPacket = {
  ipFamily: HepIpFamily.IPV6,
  ipProtocol: HepIpProtocol.TCP,
  sourceIpv4: '10.0.0.1',
  destinationIpv4: '255.255.255.255',
  sourceIpv6: '::ffff:192.0.2.7',
  destinationIpv6: 'fe80::1:2',
  sourcePort: 0,
  destinationPort: 65535,
  timeSeconds: 0xffffffff,
  timeMicroseconds: 999_999,
  protocolType: HepProtocolType.LOG,
  captureAgentId: 0x80000001,
  keepAliveTimer: 30,
  authKey: 'clé',
  payload: enc.encode('INVITE sip:bob@example.com SIP/2.0\r\n\r\n'),
  compressedPayload: Uint8Array.of(0x1f, 0x8b, 8, 0),
  correlationId: 'a84b4c76e66710@pc33.atlanta.example.com',
  vlanId: 4095,
  nodeName: 'parley-1',
  otherChunks: [{ vendorId: 0, type: 0x0014, value: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }, { vendorId: 0, type: 0x7777, value: new Uint8Array(0) }],
  vendorChunks: [{ vendorId: 0x0002, type: 0x0001, value: enc.encode('kamailio') }, { vendorId: 0xffff, type: 0xffff, value: Uint8Array.of(0) }],
};

describe('encodeHep', () => {
  it('round trips every field, the other generic chunks and the vendor chunks', () => {
    const bytes = encodeHep(FULL);
    assert.equal(bytes.length, hepEncodedSize(FULL));
    const r = decodeHep(bytes);
    assert.ok(r.ok, r.ok ? '' : r.error.reason);
    assert.deepEqual(r.value, FULL);
    assert.deepEqual(encodeHep(r.value), bytes);
  });

  it('writes the payload last (after vendor chunks), as siptrace does', () => {
    const bytes = encodeHep(FULL);
    const tail = FULL.compressedPayload!.length + 6 + FULL.payload!.length + 6;
    // the payload chunk's header: vendor 0, type 0x000f
    assert.deepEqual([...bytes.subarray(bytes.length - tail, bytes.length - tail + 4)], [0, 0, 0, 0x0f]);
  });

  it('round trips random packets (seeded)', () => {
    const seed = 0x4e9;
    const random = prng(seed);
    const int = (n: number): number => Math.floor(random() * n);
    const maybe = <T>(f: () => T): T | undefined => (random() < 0.5 ? f() : undefined);
    const bytes = (n: number): Uint8Array => Uint8Array.from({ length: int(n) }, () => int(256));
    const v4 = (): string => [int(256), int(256), int(256), int(256)].join('.');
    const v6 = (): string => {
      // random bytes (zero runs likely) through the decoder's RFC 5952 formatting: the text a decoded packet holds
      const b = Uint8Array.from({ length: 16 }, () => (random() < 0.4 ? 0 : int(256)));
      const p = decodeHep(Uint8Array.from([0x48, 0x45, 0x50, 0x33, 0, 28, 0, 0, 0, 5, 0, 22, ...b]));
      assert.ok(p.ok);
      return p.value.sourceIpv6!;
    };
    for (let i = 0; i < 500; i++) {
      const p: Record<string, unknown> = {
        ipFamily: maybe(() => int(256)), ipProtocol: maybe(() => int(256)), sourceIpv4: maybe(v4), destinationIpv4: maybe(v4),
        sourceIpv6: maybe(v6), destinationIpv6: maybe(v6), sourcePort: maybe(() => int(65536)), destinationPort: maybe(() => int(65536)),
        timeSeconds: maybe(() => int(2 ** 32)), timeMicroseconds: maybe(() => int(1_000_000)), protocolType: maybe(() => int(256)),
        captureAgentId: maybe(() => int(2 ** 32)), keepAliveTimer: maybe(() => int(65536)), authKey: maybe(() => `k${int(1e6)}`),
        payload: maybe(() => bytes(2000)), compressedPayload: maybe(() => bytes(50)), correlationId: maybe(() => `c${int(1e9)}@h`),
        vlanId: maybe(() => int(65536)), nodeName: maybe(() => `n${int(100)}`),
        otherChunks: maybe(() => Array.from({ length: 1 + int(3) }, (): HepRawChunk => ({ vendorId: 0, type: 0x14 + int(0xffeb), value: bytes(20) }))),
        vendorChunks: maybe(() => Array.from({ length: 1 + int(3) }, (): HepRawChunk => ({ vendorId: 1 + int(0xffff), type: int(0x10000), value: bytes(20) }))),
      };
      for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k];
      const packet = p as HepPacket;
      const encoded = encodeHep(packet);
      const r = decodeHep(encoded);
      assert.ok(r.ok, `seed ${seed} packet ${i}: ${r.ok ? '' : r.error.reason}`);
      assert.deepEqual(r.value, packet, `seed ${seed} packet ${i}`);
      assert.deepEqual(encodeHep(r.value), encoded, `seed ${seed} packet ${i}`);
    }
  });

  it('writes a packet of exactly 65535 bytes, and refuses one byte more', () => {
    const payload = new Uint8Array(HEP_MAX_SIZE - 6 - 6);
    assert.equal(encodeHep({ payload }).length, HEP_MAX_SIZE);
    const more = { payload: new Uint8Array(payload.length + 1) };
    assert.equal(hepEncodedSize(more), HEP_MAX_SIZE + 1);
    assert.throws(() => encodeHep(more), { code: 'ERR_INVALID_ARGUMENT', message: /65536 bytes, more than the 65535/ });
  });

  const wrong: Record<string, { p: HepPacket; message: RegExp }> = {
    'a port over 65535': { p: { sourcePort: 65536 }, message: /SOURCE_PORT 65536 is not an integer from 0 to 65535/ },
    'a negative capture ID': { p: { captureAgentId: -1 }, message: /CAPTURE_AGENT_ID -1/ },
    'a fractional time': { p: { timeSeconds: 1.5 }, message: /TIME_SECONDS 1.5/ },
    'an IPv6 address in an IPv4 field': { p: { sourceIpv4: '::1' }, message: /IPV4_SOURCE "::1" is not an IPv4 address/ },
    'a bad IPv6 address': { p: { destinationIpv6: '1:2:3' }, message: /IPV6_DESTINATION "1:2:3" is not an IPv6 address/ },
    'a vendor chunk of vendor 0': { p: { vendorChunks: [{ vendorId: 0, type: 1, value: new Uint8Array(1) }] }, message: /vendor ID 0/ },
    'a typed chunk in otherChunks': { p: { otherChunks: [{ vendorId: 0, type: 0x000f, value: new Uint8Array(1) }] }, message: /PAYLOAD: use its field/ },
    'a vendor chunk in otherChunks': { p: { otherChunks: [{ vendorId: 7, type: 0x20, value: new Uint8Array(1) }] }, message: /vendor 7/ },
  };
  for (const [name, c] of Object.entries(wrong)) {
    it(`throws ERR_INVALID_ARGUMENT on ${name}`, () => {
      assert.throws(() => encodeHep(c.p), { code: 'ERR_INVALID_ARGUMENT', message: c.message });
    });
  }
});
