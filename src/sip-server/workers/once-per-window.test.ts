import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { OncePerWindow } from './once-per-window.js';

describe('OncePerWindow', () => {
  it('says yes to the first sight of a key in each window only', () => {
    const clock = new FakeClock();
    const once = new OncePerWindow(60_000, clock);
    assert.equal(once.first('192.0.2.1'), true);
    assert.equal(once.first('192.0.2.1'), false);
    assert.equal(once.first('2001:db8::/64'), true);
    clock.advance(59_999);
    assert.equal(once.first('192.0.2.1'), false);
    clock.advance(1);
    assert.equal(once.first('192.0.2.1'), true, 'a new window');
    assert.equal(once.first('2001:db8::/64'), true);
  });

  it('stays bounded: past maxKeys it starts over', () => {
    const clock = new FakeClock();
    const once = new OncePerWindow(60_000, clock, 3);
    for (const k of ['a', 'b', 'c']) assert.equal(once.first(k), true);
    assert.equal(once.first('d'), true);
    assert.equal(once.first('a'), true, 'forgotten when the set was emptied');
    assert.equal(once.first('d'), false);
  });
});
