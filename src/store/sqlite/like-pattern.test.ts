import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { containsPattern } from './like-pattern.js';

describe('containsPattern (LIKE … ESCAPE \'\\\')', () => {
  it('escapes %, _ and \\ and wraps the text in %', () => {
    assert.equal(containsPattern('alice'), '%alice%');
    assert.equal(containsPattern('50%_a\\b'), '%50\\%\\_a\\\\b%');
  });

  it('finds the text anywhere, its wildcards matching only themselves (SQLite)', () => {
    const db = new DatabaseSync(':memory:');
    try {
      db.exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a_b'), ('axb'), ('50%'), ('500'), ('c\\d'), ('cd')");
      const find = (text: string): string[] => (db.prepare("SELECT v FROM t WHERE v LIKE ? ESCAPE '\\' ORDER BY v").all(containsPattern(text)) as Array<{ v: string }>).map((r) => r.v);
      assert.deepEqual(find('_'), ['a_b']);
      assert.deepEqual(find('0%'), ['50%']);
      assert.deepEqual(find('\\'), ['c\\d']);
      assert.deepEqual(find('x'), ['axb']);
    } finally {
      db.close();
    }
  });
});
