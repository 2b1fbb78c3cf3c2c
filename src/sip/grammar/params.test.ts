import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '../message/parse.js';
import { parseNameAddr } from './name-addr.js';
import { Params } from './params.js';
import { parseSipUri } from './uri.js';
import { parseVia } from './via.js';

describe('Params (parameters as a flat array)', () => {
  it('reads as a ReadonlyMap, in the order received, names lower-case', () => {
    const p = parseNameAddr('<sip:a@example.com>;Tag=x;lr;Expires=60').params;
    assert.equal(p.size, 3);
    assert.equal(p.get('tag'), 'x');
    assert.equal(p.get('lr'), null);
    assert.equal(p.get('Tag'), undefined, 'names are looked up in lower case');
    assert.equal(p.has('expires'), true);
    assert.deepEqual([...p], [['tag', 'x'], ['lr', null], ['expires', '60']]);
    assert.deepEqual([...p.keys()], ['tag', 'lr', 'expires']);
    assert.deepEqual(new Map(p), new Map([['tag', 'x'], ['lr', null], ['expires', '60']]));
    const seen: string[] = [];
    p.forEach((v, k) => seen.push(`${k}=${v}`));
    assert.deepEqual(seen, ['tag=x', 'lr=null', 'expires=60']);
  });

  it('with / without return copies; the original does not change', () => {
    const p = Params.of<string | null>([['A', '1'], ['b', null]]);
    const q = p.with('B', '2').with('c', '3');
    assert.deepEqual([...q], [['a', '1'], ['b', '2'], ['c', '3']]);
    assert.deepEqual([...q.without('A')], [['b', '2'], ['c', '3']]);
    assert.deepEqual([...p], [['a', '1'], ['b', null]]);
    assert.equal(q.toString(), ';a=1;b=2;c=3');
  });

  it('keeps the first of a name, in short and in long lists (URI, header and Via parameters)', () => {
    assert.equal(parseSipUri('sip:a@example.com;x=1;X=2').params.get('x'), '1');
    assert.equal(parseNameAddr('<sip:a@example.com>;tag=1;TAG=2').tag, '1');
    const many = Array.from({ length: 40 }, (_, i) => `;p${i}=${i}`).join('');
    const na = parseNameAddr(`<sip:a@example.com${many};p3=x>${many};p7=y;tag=t`);
    assert.equal(na.params.size, 41);
    assert.equal(na.params.get('p7'), '7');
    assert.equal(na.tag, 't');
    const uri = na.uri;
    assert.ok(uri.kind === 'sip');
    assert.equal(uri.params.size, 40);
    assert.equal(uri.params.get('p3'), '3');
    const via = parseVia(`SIP/2.0/UDP h${many};p0=z;branch=z9hG4bK1`);
    assert.equal(via.params.get('p0'), '0');
    assert.equal(via.branch, 'z9hG4bK1');
  });
});

describe('values read in place stop at their own end', () => {
  const msg = (line: string): string =>
    'OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:b@example.com>;tag=1\r\n' +
    `${line}\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nX-Next: >"\r\nContent-Length: 0\r\n\r\n`;

  it('a To without its ">" does not borrow the next line\'s', () => {
    const r = parseMessage(msg('To: <sip:a@example.com'));
    assert.equal(r.ok, false);
    assert.equal(r.ok ? '' : r.error.place, 'header/To');
  });

  it('a quoted parameter without its closing quote does not borrow the next line\'s', () => {
    const r = parseMessage(msg('To: <sip:a@example.com>;x="open'));
    assert.equal(r.ok, false);
    assert.equal(r.ok ? '' : r.error.place, 'header/To');
  });

  it('a Contact list of one field per value is read the same as one field', () => {
    const two = parseMessage(msg('To: <sip:a@example.com>\r\nContact: <sip:c1@h>;expires=5\r\nContact: <sip:c2@h>'));
    const one = parseMessage(msg('To: <sip:a@example.com>\r\nContact: <sip:c1@h>;expires=5 ,  <sip:c2@h>'));
    assert.ok(two.ok && one.ok);
    assert.deepEqual(two.message.contact.map((c) => c.toString()), ['<sip:c1@h>;expires=5', '<sip:c2@h>']);
    assert.deepEqual(one.message.contact.map((c) => c.toString()), ['<sip:c1@h>;expires=5', '<sip:c2@h>']);
  });
});
