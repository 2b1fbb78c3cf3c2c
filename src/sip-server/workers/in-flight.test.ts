import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InFlight } from './in-flight.js';

describe('InFlight: the bound on what a worker has been handed and has not taken', () => {
  it('takes up to maxMessages, then sheds datagrams; the episode ends once half is taken', () => {
    let now = 1000;
    const q = new InFlight({ maxMessages: 4, maxBytes: 1 << 20 }, () => now);
    for (let i = 0; i < 4; i++) assert.equal(q.admit(100, undefined), 'take');
    assert.equal(q.shedding, false);
    assert.equal(q.admit(100, undefined), 'shed');
    assert.equal(q.admit(100, undefined), 'shed');
    assert.equal(q.shedding, true);
    assert.deepEqual([q.messages, q.bytes], [4, 400]);
    // one announcement per episode
    assert.equal(q.announce(), true);
    assert.equal(q.announce(), false);
    // 3 of 4 still waiting: above half, the episode goes on
    assert.equal(q.took(1, 100), undefined);
    assert.equal(q.admit(100, undefined), 'take');
    assert.equal(q.admit(100, undefined), 'shed');
    now = 1700;
    const end = q.took(3, 300);
    assert.deepEqual(end, { shed: 3, paused: [], ms: 700 });
    assert.equal(q.shedding, false);
    assert.deepEqual([q.messages, q.bytes], [2, 200]);
    // a new episode is announced again, its count starts from zero
    q.admit(100, undefined);
    q.admit(100, undefined);
    assert.equal(q.admit(100, undefined), 'shed');
    assert.equal(q.announce(), true);
    assert.deepEqual(q.took(5, 500)?.shed, 1);
  });

  it('counts bytes: a few large messages reach the bound before the count does', () => {
    const q = new InFlight({ maxMessages: 1000, maxBytes: 10_000 });
    assert.equal(q.admit(6000, undefined), 'take');
    assert.equal(q.admit(6000, undefined), 'take'); // under the limit when it came
    assert.equal(q.admit(10, undefined), 'shed');
    assert.equal(q.took(1, 6000), undefined); // 6,000 of 10,000 bytes still waiting: above half
    assert.equal(q.took(2, 12_000)?.shed, 1);
  });

  it('never sheds a stream message: it is taken, and its connection paused once per episode', () => {
    const q = new InFlight({ maxMessages: 2, maxBytes: 1 << 20 });
    assert.equal(q.admit(10, 7), 'take');
    assert.equal(q.admit(10, 8), 'take');
    assert.equal(q.admit(10, 7), 'pause');
    assert.equal(q.admit(10, 7), 'take');
    assert.equal(q.admit(10, 9), 'pause');
    assert.equal(q.admit(10, undefined), 'shed');
    assert.equal(q.pausedConnections, 2);
    assert.equal(q.messages, 5);
    const episode = q.took(5, 50);
    // ms is how long the episode lasted: a clock reading, not asserted beyond its type
    assert.deepEqual({ ...episode, ms: typeof episode?.ms }, { shed: 1, paused: [7, 9], ms: 'number' });
    assert.equal(q.pausedConnections, 0);
  });

  it('retire: what was in flight is lost, and the episode ends with its paused connections', () => {
    const q = new InFlight({ maxMessages: 2, maxBytes: 1 << 20 });
    q.admit(10, undefined);
    q.admit(10, 3);
    q.admit(10, 3);
    const { lost, episode } = q.retire();
    assert.equal(lost, 3);
    assert.deepEqual(episode?.paused, [3]);
    assert.equal(q.messages, 0);
  });

  it('a report older than one already applied changes nothing', () => {
    const q = new InFlight({ maxMessages: 10, maxBytes: 1 << 20 });
    for (let i = 0; i < 5; i++) q.admit(10, undefined);
    q.took(4, 40);
    q.took(2, 20);
    assert.equal(q.messages, 1);
  });
});
