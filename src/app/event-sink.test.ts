import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import type { ParleyEvent } from '../lib/events.js';
import { BatchedEventSink } from './event-sink.js';

const blocked = (n: number): ParleyEvent => ({ type: 'source.blocked', time: n, source: `192.0.2.${n}`, seconds: 60 });

describe('BatchedEventSink (a worker thread\'s events)', () => {
  it('posts the events of an interval together, once, when it ends', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const posts: ParleyEvent[][] = [];
      const s = new BatchedEventSink((e) => posts.push(e), 100);
      s.sink(blocked(1));
      s.sink(blocked(2));
      mock.timers.tick(99);
      assert.equal(posts.length, 0, 'nothing posted before the interval ends');
      s.sink(blocked(3));
      mock.timers.tick(1);
      assert.deepEqual(
        posts.map((p) => p.map((e) => e.time)),
        [[1, 2, 3]],
      );
      mock.timers.tick(1000);
      assert.equal(posts.length, 1, 'no empty posts');
      s.sink(blocked(4));
      mock.timers.tick(100);
      assert.deepEqual(
        posts.map((p) => p.length),
        [3, 1],
      );
    } finally {
      mock.timers.reset();
    }
  });

  it('holds at most `max` events between posts (the rest are counted as dropped); close posts what is left', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const posts: ParleyEvent[][] = [];
      const s = new BatchedEventSink((e) => posts.push(e), 100, 2);
      for (let i = 1; i <= 5; i++) s.sink(blocked(i));
      assert.equal(posts.length, 0);
      s.close();
      assert.deepEqual(
        posts.map((p) => p.map((e) => e.time)),
        [[1, 2]],
      );
      assert.equal(s.dropped, 3);
      s.sink(blocked(6));
      mock.timers.tick(200);
      assert.equal(posts.length, 1, 'nothing taken after close');
    } finally {
      mock.timers.reset();
    }
  });
});
