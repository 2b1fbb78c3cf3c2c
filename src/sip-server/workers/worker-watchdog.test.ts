import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkerWatchdog } from './worker-watchdog.js';

/** A watchdog on a hand-driven clock; `beat(i)` advances worker i's counter as its timer would. */
function harness(silentMs: number): { dog: WorkerWatchdog; silent: Array<[number, number]>; counters: Map<number, Int32Array>; at: (ms: number) => void } {
  let now = 0;
  const silent: Array<[number, number]> = [];
  const dog = new WorkerWatchdog(silentMs, (i, ms) => silent.push([i, ms]), () => now);
  const counters = new Map<number, Int32Array>();
  for (const i of [0, 1]) {
    counters.set(i, new Int32Array(dog.heartbeat(i).b));
    dog.start(i);
  }
  return { dog, silent, counters, at: (ms) => { now = ms; dog.check(); } };
}

describe('WorkerWatchdog', () => {
  it('reports a worker whose counter stops, once, and not the one that beats', () => {
    const { dog, silent, counters, at } = harness(5000);
    try {
      for (let t = 1000; t <= 9000; t += 1000) {
        Atomics.add(counters.get(1)!, 0, 1); // worker 1 beats, worker 0 is stuck
        at(t);
      }
      assert.deepEqual(silent, [[0, 6000]]);
      at(10_000);
      assert.equal(silent.length, 1, 'reported once');
    } finally {
      dog.close();
    }
  });

  it('a worker that beats again before the threshold is not reported (a long GC, a slow batch)', () => {
    const { dog, silent, counters, at } = harness(5000);
    try {
      for (let t = 1000; t <= 4000; t += 1000) at(t); // both silent 4 s
      for (const c of counters.values()) Atomics.add(c, 0, 1);
      for (let t = 5000; t <= 8000; t += 1000) at(t);
      assert.deepEqual(silent, []);
    } finally {
      dog.close();
    }
  });

  it('when its own checks come late, it blames no worker (the socket thread was held up)', () => {
    const { dog, silent, at } = harness(5000);
    try {
      at(1000);
      at(30_000); // 29 s without a check
      assert.deepEqual(silent, []);
      at(31_000);
      assert.deepEqual(silent, []);
    } finally {
      dog.close();
    }
  });

  it('a worker not started (not ready yet) or forgotten is not watched', () => {
    let now = 0;
    const silent: number[] = [];
    const dog = new WorkerWatchdog(1000, (i) => silent.push(i), () => now);
    try {
      dog.heartbeat(0); // starting: its event loop does not beat yet
      dog.heartbeat(1);
      dog.start(1);
      dog.forget(1);
      for (now = 100; now <= 5000; now += 100) dog.check();
      assert.deepEqual(silent, []);
    } finally {
      dog.close();
    }
  });
});
