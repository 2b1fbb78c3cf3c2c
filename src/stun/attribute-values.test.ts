import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StunAttr } from './attribute-types.js';
import {
  addressErrorCodeValue, addressFamilyValue, channelNumberValue, evenPortValue, icmpValue, readAddressErrorCode, readAddressFamily,
  readChannelNumber, readConnectionId, readDontFragment, readEvenPort, readIcmp, readLifetime, readRequestedTransport,
  readReservationToken, readText, readUnknownAttributes, readUserHash, requestedTransportValue, TransportProtocol, unknownAttributesValue,
} from './attribute-values.js';
import { StunMessageBuilder } from './builder.js';
import { parseStunMessage, StunMethod, type StunAttribute, type StunMessage } from './message.js';
import { hex } from './testdata/rfc5769.js';

const TID = hex('0102030405060708090a0b0c');

/** An Allocate request carrying each TURN attribute, built and parsed back. */
function allocate(): StunMessage {
  const bytes = new StunMessageBuilder(StunMethod.Allocate, 'request', TID)
    .add(StunAttr.REQUESTED_TRANSPORT, requestedTransportValue(TransportProtocol.UDP))
    .add(StunAttr.REQUESTED_ADDRESS_FAMILY, addressFamilyValue(6))
    .add(StunAttr.ADDITIONAL_ADDRESS_FAMILY, addressFamilyValue(6))
    .addUint32(StunAttr.LIFETIME, 3600)
    .add(StunAttr.EVEN_PORT, evenPortValue(true))
    .add(StunAttr.RESERVATION_TOKEN, hex('0011223344556677'))
    .add(StunAttr.DONT_FRAGMENT, new Uint8Array(0))
    .add(StunAttr.CHANNEL_NUMBER, channelNumberValue(0x4001))
    .addUint32(StunAttr.CONNECTION_ID, 0xfedcba98)
    .add(StunAttr.ICMP, icmpValue(3, 4, 1400))
    .add(StunAttr.ADDRESS_ERROR_CODE, addressErrorCodeValue(4, 440, 'Address Family not Supported'))
    .add(StunAttr.UNKNOWN_ATTRIBUTES, unknownAttributesValue([0x7f01, 0x0031, 0x0032]))
    .addString(StunAttr.SOFTWARE, 'Parley ☎')
    .add(StunAttr.USERHASH, new Uint8Array(32).fill(9))
    .build();
  const r = parseStunMessage(bytes);
  assert.ok(r.ok);
  return r.value;
}

describe('TURN and other structured attributes: written and read back', () => {
  const m = allocate();
  const get = (t: number): StunAttribute => m.get(t)!;
  it('every value reads back as written', () => {
    assert.deepEqual(readRequestedTransport(get(StunAttr.REQUESTED_TRANSPORT)), { ok: true, value: 17 });
    assert.deepEqual(readAddressFamily(get(StunAttr.REQUESTED_ADDRESS_FAMILY)), { ok: true, value: 6 });
    assert.deepEqual(readAddressFamily(get(StunAttr.ADDITIONAL_ADDRESS_FAMILY)), { ok: true, value: 6 });
    assert.deepEqual(readLifetime(get(StunAttr.LIFETIME)), { ok: true, value: 3600 });
    assert.deepEqual(readEvenPort(get(StunAttr.EVEN_PORT)), { ok: true, value: { reserveNext: true } });
    assert.deepEqual([...(readReservationToken(get(StunAttr.RESERVATION_TOKEN)) as { value: Uint8Array }).value], [0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]);
    assert.deepEqual(readDontFragment(get(StunAttr.DONT_FRAGMENT)), { ok: true, value: true });
    assert.deepEqual(readChannelNumber(get(StunAttr.CHANNEL_NUMBER)), { ok: true, value: 0x4001 });
    assert.deepEqual(readConnectionId(get(StunAttr.CONNECTION_ID)), { ok: true, value: 0xfedcba98 });
    assert.deepEqual(readIcmp(get(StunAttr.ICMP)), { ok: true, value: { type: 3, code: 4, data: 1400 } });
    assert.deepEqual(readAddressErrorCode(get(StunAttr.ADDRESS_ERROR_CODE)), { ok: true, value: { family: 4, code: 440, reason: 'Address Family not Supported' } });
    assert.deepEqual(readUnknownAttributes(get(StunAttr.UNKNOWN_ATTRIBUTES)), { ok: true, value: [0x7f01, 0x0031, 0x0032] });
    assert.deepEqual(readText(get(StunAttr.SOFTWARE)), { ok: true, value: 'Parley ☎' });
    assert.equal(readUserHash(get(StunAttr.USERHASH)).ok, true);
  });

  it('the wire forms are those of the RFCs', () => {
    assert.equal(Buffer.from(get(StunAttr.REQUESTED_TRANSPORT).value).toString('hex'), '11000000');
    assert.equal(Buffer.from(get(StunAttr.REQUESTED_ADDRESS_FAMILY).value).toString('hex'), '02000000');
    assert.equal(Buffer.from(get(StunAttr.EVEN_PORT).value).toString('hex'), '80');
    assert.equal(Buffer.from(get(StunAttr.CHANNEL_NUMBER).value).toString('hex'), '40010000');
    assert.equal(Buffer.from(get(StunAttr.ICMP).value).toString('hex'), '0000030400000578');
    assert.equal(Buffer.from(get(StunAttr.ADDRESS_ERROR_CODE).value.subarray(0, 4)).toString('hex'), '01000428');
    assert.equal(Buffer.from(get(StunAttr.UNKNOWN_ATTRIBUTES).value).toString('hex'), '7f0100310032');
    assert.equal(get(StunAttr.UNKNOWN_ATTRIBUTES).value.length, 6); // padded on the wire, not in the value
  });
});

describe('structured attributes: bad sizes and values give the offset', () => {
  const at = (type: number, value: string): StunAttribute => ({ type, value: hex(value), offset: 100 });
  const cases: [string, () => { ok: boolean; error?: { offset: number } }, number][] = [
    ['CHANNEL-NUMBER of 2 bytes', () => readChannelNumber(at(StunAttr.CHANNEL_NUMBER, '4001')), 102],
    ['LIFETIME of 8 bytes', () => readLifetime(at(StunAttr.LIFETIME, '0000000000000e10')), 102],
    ['REQUESTED-TRANSPORT of 1 byte', () => readRequestedTransport(at(StunAttr.REQUESTED_TRANSPORT, '11')), 102],
    ['REQUESTED-ADDRESS-FAMILY of 0 bytes', () => readAddressFamily(at(StunAttr.REQUESTED_ADDRESS_FAMILY, '')), 102],
    ['EVEN-PORT of 4 bytes', () => readEvenPort(at(StunAttr.EVEN_PORT, '80000000')), 102],
    ['RESERVATION-TOKEN of 4 bytes', () => readReservationToken(at(StunAttr.RESERVATION_TOKEN, '00112233')), 102],
    ['DONT-FRAGMENT with a value', () => readDontFragment(at(StunAttr.DONT_FRAGMENT, '00')), 102],
    ['ICMP of 4 bytes', () => readIcmp(at(StunAttr.ICMP, '00000304')), 102],
    ['ADDRESS-ERROR-CODE class 2', () => readAddressErrorCode(at(StunAttr.ADDRESS_ERROR_CODE, '01000228')), 106],
    ['ADDRESS-ERROR-CODE of 2 bytes', () => readAddressErrorCode(at(StunAttr.ADDRESS_ERROR_CODE, '0100')), 102],
    ['UNKNOWN-ATTRIBUTES of 3 bytes', () => readUnknownAttributes(at(StunAttr.UNKNOWN_ATTRIBUTES, '7f0100')), 102],
    ['USERHASH of 20 bytes', () => readUserHash(at(StunAttr.USERHASH, '00'.repeat(20))), 102],
    ['USERNAME of 509 bytes', () => readText(at(StunAttr.USERNAME, '61'.repeat(509))), 102],
    ['REALM of invalid UTF-8', () => readText(at(StunAttr.REALM, '61ff62')), 104],
  ];
  for (const [name, read, offset] of cases) {
    it(name, () => {
      const r = read();
      assert.equal(r.ok, false);
      assert.equal(r.error?.offset, offset);
    });
  }

  it('an unknown address family reads as its number (for a 440)', () => {
    assert.deepEqual(readAddressFamily(at(StunAttr.REQUESTED_ADDRESS_FAMILY, '03000000')), { ok: true, value: 3 });
  });
});
