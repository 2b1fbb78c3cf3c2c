import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StunAttr } from './attribute-types.js';
import { StunMessageBuilder } from './builder.js';
import { readErrorCode } from './error-code.js';
import { parseStunMessage, StunMethod } from './message.js';
import { hex } from './testdata/rfc5769.js';

const TID = hex('0102030405060708090a0b0c');

describe('ERROR-CODE (RFC 8489 §14.8)', () => {
  it('writes class and number and reads them back with the reason', () => {
    for (const [code, reason] of [[300, 'Try Alternate'], [420, 'Unknown Attribute'], [438, 'Stale Nonce'], [508, 'Insufficient Capacity'], [699, ''], [401, 'Non-ASCII é ☎']] as const) {
      const bytes = new StunMessageBuilder(StunMethod.Allocate, 'error', TID).addErrorCode(code, reason).build();
      const r = parseStunMessage(bytes);
      assert.ok(r.ok);
      const a = r.value.get(StunAttr.ERROR_CODE)!;
      assert.equal(a.value[2], Math.floor(code / 100));
      assert.equal(a.value[3], code % 100);
      assert.deepEqual(readErrorCode(a), { ok: true, value: { code, reason } });
    }
  });

  it('cuts a long reason at 509 bytes, not inside a character', () => {
    const bytes = new StunMessageBuilder(StunMethod.Allocate, 'error', TID).addErrorCode(400, 'é'.repeat(300)).build();
    const r = parseStunMessage(bytes);
    assert.ok(r.ok);
    const e = readErrorCode(r.value.get(StunAttr.ERROR_CODE)!);
    assert.ok(e.ok);
    assert.equal(e.value.reason, 'é'.repeat(254));
  });

  const bad: Record<string, { value: string; offset: number }> = {
    'shorter than 4 bytes': { value: '000004', offset: 12 },
    'class 2': { value: '00000200', offset: 16 },
    'class 7': { value: '00000700', offset: 16 },
    'number 100': { value: '00000464', offset: 17 },
  };
  for (const [name, c] of Object.entries(bad)) {
    it(`fails on ${name}, naming the offset`, () => {
      const r = readErrorCode({ type: StunAttr.ERROR_CODE, value: hex(c.value), offset: 10 });
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error.offset, c.offset, r.error.reason);
    });
  }
});
