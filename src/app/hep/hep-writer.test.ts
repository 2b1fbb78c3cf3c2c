import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeHep, hepAddressFields, HepProtocolType, type HepPacket } from '../../hep/index.js';
import { HepWriter } from './hep-writer.js';

const te = new TextEncoder();
const payload = te.encode('OPTIONS sip:a@example.com SIP/2.0\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n');

describe('HepWriter (the capture\'s HEPv3 writer)', () => {
  const cases: [string, string, { authKey?: string; nodeName?: string }, string | undefined][] = [
    ['192.0.2.1', '198.51.100.7', {}, undefined],
    ['::ffff:192.0.2.1', '198.51.100.7', { authKey: 'k' }, undefined],
    ['2001:db8::1', '2001:db8::2', { nodeName: 'parley-1' }, 'call-1@x'],
    ['2001:db8::1', '192.0.2.9', { authKey: 'secret', nodeName: 'n' }, 'c'],
  ];
  for (const [src, dst, common, cid] of cases) {
    it(`writes what encodeHep writes: ${src} -> ${dst} ${JSON.stringify(common)} ${cid ?? ''}`, () => {
      const w = new HepWriter({ captureAgentId: 0xfffffffe, ...common });
      for (let round = 0; round < 2; round++) {
        // twice: the second time from the address cache
        const mine = w.write(payload, 17, HepProtocolType.SIP, src, 5060, dst, 40000, 1_700_000_000, 999_999, cid);
        const p: HepPacket = {
          ...hepAddressFields({ address: src, port: 5060 }, { address: dst, port: 40000 }),
          ipProtocol: 17, timeSeconds: 1_700_000_000, timeMicroseconds: 999_999, protocolType: HepProtocolType.SIP, captureAgentId: 0xfffffffe,
          ...common, ...(cid === undefined ? {} : { correlationId: cid }), payload,
        };
        assert.deepEqual(mine, encodeHep(p));
      }
    });
  }

  it('refuses what is not an address, and a packet over 65535 bytes', () => {
    const w = new HepWriter({ captureAgentId: 1 });
    assert.equal(w.write(payload, 17, 1, 'nope', 1, '192.0.2.1', 2, 0, 0), undefined);
    assert.equal(w.write(new Uint8Array(65_500), 17, 1, '192.0.2.1', 1, '192.0.2.1', 2, 0, 0), undefined);
    assert.notEqual(w.write(new Uint8Array(65_000), 17, 1, '192.0.2.1', 1, '192.0.2.1', 2, 0, 0), undefined);
  });
});
