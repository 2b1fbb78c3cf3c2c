import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCsv } from './csv.js';

const fieldsOf = (text: string): string[][] => parseCsv(text).records.map((r) => [...r.fields]);

describe('parseCsv', () => {
  it('reads RFC 4180 records: quotes, doubled quotes, separators and line breaks inside quotes', () => {
    const r = parseCsv('a,b,c\r\n"x, y","say ""hi""","two\r\nlines"\r\nlast,,\r\n');
    assert.equal(r.separator, ',');
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.records.map((x) => [x.line, ...x.fields]),
      [
        [1, 'a', 'b', 'c'],
        [2, 'x, y', 'say "hi"', 'two\r\nlines'],
        [4, 'last', '', ''],
      ],
    );
  });

  it('takes the separator from the first line: "," or ";"', () => {
    assert.equal(parseCsv('a;b,c\n').separator, ';');
    assert.deepEqual(fieldsOf('a;b,c\nd;e\n'), [['a', 'b,c'], ['d', 'e']]);
    assert.equal(parseCsv('"a;b",c;d\n').separator, ',');
    assert.equal(parseCsv('\n\n  \nabc\n').separator, ',');
    assert.deepEqual(fieldsOf('a,b;c\n'), [['a', 'b;c']]);
    assert.deepEqual(parseCsv('a;b\n', { separator: ',' }).records[0]?.fields, ['a;b']);
  });

  it('trims spaces around unquoted fields only, keeps quotes inside unquoted fields', () => {
    assert.deepEqual(fieldsOf('  a , b\t,"  c  " \n'), [['a', 'b', '  c  ']]);
    assert.deepEqual(fieldsOf('pa"ss,x\n'), [['pa"ss', 'x']]);
  });

  it('skips blank lines, a BOM, and accepts LF, CRLF and CR line ends, with or without a final one', () => {
    const r = parseCsv('\ufeffa,b\n\n   \r\nc,d\re,f');
    assert.deepEqual(
      r.records.map((x) => [x.line, ...x.fields]),
      [
        [1, 'a', 'b'],
        [4, 'c', 'd'],
        [5, 'e', 'f'],
      ],
    );
    assert.deepEqual(parseCsv('').records, []);
  });

  it('reports every syntax error with its line and goes on', () => {
    const r = parseCsv('ok,1\n"bad"x,2\nok,3\n"a"  ;b\n"never closed,4\nok,5\n');
    assert.deepEqual(
      r.records.map((x) => x.line),
      [1, 3],
    );
    assert.deepEqual(
      r.errors.map((e) => e.line),
      [2, 4, 5],
    );
    assert.match(r.errors[0]!.message, /unexpected "x" after a closing quote/);
    assert.match(r.errors[2]!.message, /opened on line 5 is never closed/);
  });

  it('counts lines inside quoted fields so later records keep their numbers', () => {
    const r = parseCsv('"a\nb\nc",1\nnext,2\n"x\r\ny",3\nlast,4');
    assert.deepEqual(
      r.records.map((x) => x.line),
      [1, 4, 5, 7],
    );
  });
});
