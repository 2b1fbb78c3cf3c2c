import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prng } from '../../../test/support/prng.js';
import { decodeBencode, encodeBencode, type BencodeValue } from './bencode.js';

const dec = (text: string, maxDepth?: number) => decodeBencode(Buffer.from(text, 'utf8'), maxDepth === undefined ? {} : { maxDepth });
const value = (text: string): BencodeValue => {
  const r = dec(text);
  assert.ok(r.ok, r.ok ? '' : `${r.error.reason} at ${r.error.offset}`);
  return r.value;
};
const failure = (text: string, maxDepth?: number) => {
  const r = dec(text, maxDepth);
  assert.ok(!r.ok, `decoded ${JSON.stringify(text)}`);
  return r.error;
};

describe('bencode (BEP 3)', () => {
  it('decodes the examples of BEP 3', () => {
    assert.equal(value('4:spam'), 'spam');
    assert.equal(value('0:'), '');
    assert.equal(value('i3e'), 3);
    assert.equal(value('i-3e'), -3);
    assert.equal(value('i0e'), 0);
    assert.deepEqual(value('l4:spam4:eggse'), ['spam', 'eggs']);
    assert.deepEqual({ ...(value('d3:cow3:moo4:spam4:eggse') as object) }, { cow: 'moo', spam: 'eggs' });
    const d = value('d4:spaml1:a1:bee') as Record<string, BencodeValue>;
    assert.deepEqual(d['spam'], ['a', 'b']);
  });

  it('reads an ng offer as Kamailio writes it (keys unsorted, SDP with CRLF)', () => {
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n';
    const text = `d7:command5:offer7:call-id3:abc3:sdp${Buffer.byteLength(sdp)}:${sdp}8:from-tag2:t15:flagsl13:trust-addressee`;
    const d = value(text) as Record<string, BencodeValue>;
    assert.equal(d['command'], 'offer');
    assert.equal(d['sdp'], sdp);
    assert.deepEqual(d['flags'], ['trust-address']);
  });

  it('counts string lengths in bytes, not characters', () => {
    assert.equal(value('6:caf\u00e9!'), 'caf\u00e9!'); // é is two bytes in UTF-8
    assert.equal(encodeBencode('caf\u00e9').toString('latin1').slice(0, 2), '5:');
  });

  it('refuses integers BEP 3 calls invalid', () => {
    assert.match(failure('i-0e').reason, /-0/);
    assert.match(failure('i03e').reason, /leading zero/);
    assert.match(failure('ie').reason, /no digits/);
    assert.match(failure('i1x2e').reason, /not a digit/);
    assert.match(failure('i1234567890123456e').reason, /more than 15 digits/);
    assert.match(failure('03:abc').reason, /leading zero/);
  });

  it('refuses truncated input, with where it stopped', () => {
    assert.deepEqual(failure('5:abc'), { reason: 'string of 5 bytes, 3 left', offset: 0 });
    assert.match(failure('i12').reason, /ends before its terminator/);
    assert.match(failure('l4:spam').reason, /ends where a value should start/);
    assert.match(failure('d3:cow').reason, /ends where a value should start/);
    assert.match(failure('d3:cow3:moo').reason, /ends inside a dictionary/);
    assert.match(failure('').reason, /ends where a value/);
  });

  it('refuses what is not bencoding', () => {
    assert.match(failure('x').reason, /0x78 does not start a value/);
    assert.match(failure('di1e3:mooe').reason, /key is not a string/);
    assert.match(failure('d1:a1:b1:a1:ce').reason, /appears twice/);
    assert.deepEqual(failure('i1ei2e'), { reason: '3 bytes after the value', offset: 3 });
  });

  it('keeps __proto__ a plain key', () => {
    const d = value('d9:__proto__d1:ai1eee') as Record<string, BencodeValue>;
    assert.equal(Object.getPrototypeOf(d), null);
    assert.deepEqual({ ...(d['__proto__'] as object) }, { a: 1 });
    assert.equal(({} as Record<string, unknown>)['a'], undefined);
  });

  it('stops at the depth limit without recursing further', () => {
    assert.deepEqual(value('llleee'), [[[]]]);
    assert.match(failure('llleee', 2).reason, /nested deeper than 2/);
    // a datagram of 65,000 'l's is refused at depth 17 by default, not a stack overflow
    const deep = 'l'.repeat(65000);
    assert.deepEqual(failure(deep), { reason: 'nested deeper than 16', offset: 16 });
  });

  it('encodes with sorted keys and decodes what it encodes', () => {
    const v = { 'sdp': 'v=0\r\n', 'command': 'offer', 'flags': ['a', 'b'], 'n': -7, 'nested': { z: [], a: 0 } };
    const bytes = encodeBencode(v);
    assert.equal(bytes.toString('latin1'), 'd7:command5:offer5:flagsl1:a1:be1:ni-7e6:nestedd1:ai0e1:zlee3:sdp5:v=0\r\ne');
    const back = decodeBencode(bytes);
    assert.ok(back.ok);
    assert.deepEqual(JSON.parse(JSON.stringify(back.value)), v);
  });

  it('refuses to encode what has no encoding', () => {
    assert.throws(() => encodeBencode(1.5), /not a safe integer/);
    assert.throws(() => encodeBencode(true as unknown as BencodeValue), /boolean has no encoding/);
  });

  it('never throws on mutated and truncated messages (seeded)', () => {
    const seed = 0x6e67;
    const random = prng(seed);
    const base = encodeBencode({ command: 'offer', 'call-id': 'abc', flags: ['a', 'b'], n: 12, sdp: 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n', d: { x: [1, [2, { y: 'z' }]] } });
    const alphabet = Buffer.from('0123456789ilde:-x ', 'latin1');
    let decoded = 0;
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.from(base.subarray(0, Math.floor(random() * (base.length + 1))));
      for (let m = Math.floor(random() * 4); m > 0 && bytes.length > 0; m--) bytes[Math.floor(random() * bytes.length)] = alphabet[Math.floor(random() * alphabet.length)]!;
      const r = decodeBencode(bytes); // a throw fails the test, with the seed in its name
      if (r.ok) decoded++;
      else assert.ok(r.error.offset >= 0 && r.error.offset <= bytes.length, `seed ${seed}, case ${i}: offset in range`);
    }
    assert.ok(decoded > 0, 'some mutations still decode');
  });
});
