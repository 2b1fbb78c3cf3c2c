import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownString } from './own-string.js';

describe('ownString', () => {
  it('returns an equal string for text, non-ASCII text, lone surrogates and control characters', () => {
    const head = `REGISTER sip:example.com SIP/2.0\r\nCall-ID: a84b4c76e66710@pc33.example.com\r\nUser-Agent: Téléphone ☎ \ud800 x\u0000y\r\n`;
    for (const [start, end] of [[0, 8], [44, 74], [89, head.length - 2], [0, head.length]] as const) {
      const s = head.slice(start, end);
      assert.equal(ownString(s), s);
    }
    const key = `${head.slice(44, 74)} ${head.slice(0, 8)}`; // a concatenation of slices
    assert.equal(ownString(key), key);
    assert.equal(ownString(''), '');
  });
});
