import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { minimumMajor, nodeTooOld } from './node-version.js';

describe('the Node.js version check of the parley command', () => {
  it('reads the lowest major version of engines.node', () => {
    assert.equal(minimumMajor('>=24'), 24);
    assert.equal(minimumMajor('>=24.3.0'), 24);
    assert.equal(minimumMajor('>= 20.10'), 20);
    assert.equal(minimumMajor('^24.1'), 24);
    assert.equal(minimumMajor('24.x'), 24);
    assert.equal(minimumMajor('>=22 <23 || >=24'), undefined);
    assert.equal(minimumMajor(undefined), undefined);
  });

  it('names the version needed, the one found and where it came from', () => {
    const m = nodeTooOld('v20.20.2', '>=24', '/usr/bin/node');
    assert.ok(m !== undefined);
    assert.match(m, /needs Node\.js 24 or later/);
    assert.match(m, /this is Node\.js v20\.20\.2 \(\/usr\/bin\/node\)/);
  });

  it('accepts the major version asked for and later ones, and a range it cannot read', () => {
    assert.equal(nodeTooOld('v24.0.0', '>=24', '/n'), undefined);
    assert.equal(nodeTooOld('v26.1.0', '>=24', '/n'), undefined);
    assert.equal(nodeTooOld('v20.0.0', '>=22 <23 || >=24', '/n'), undefined);
  });
});
