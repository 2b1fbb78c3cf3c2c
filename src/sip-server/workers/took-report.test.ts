import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Batcher } from './batcher.js';
import { TookReport } from './took-report.js';
import type { FromWorker } from './worker-messages.js';

const SEND: FromWorker = { k: 'auth-failure', a: '192.0.2.1' }; // any item the worker sends

/** A worker's `out` (items per postMessage: `max`) with its report; `posts` are what left, in order. */
function harness(max: number): { out: Batcher<FromWorker>; report: TookReport; posts: FromWorker[][] } {
  const posts: FromWorker[][] = [];
  let report: TookReport | undefined;
  const out = new Batcher<FromWorker>((items) => {
    report!.posted();
    posts.push(structuredClone(items));
  }, 0, max);
  report = new TookReport(out, 5);
  return { out, report, posts };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const after = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('TookReport: what a worker has taken, told with its sends', () => {
  it('joins a send waiting for its pair: no postMessage of its own', () => {
    const { out, report, posts } = harness(2);
    report.take(100);
    out.push(SEND);
    report.batchDone();
    assert.deepEqual(posts, [[SEND, { k: 'took', n: 1, b: 100 }]]);
    report.close();
  });

  it('raises a report still waiting in out instead of adding another', async () => {
    const { out, report, posts } = harness(8);
    report.take(100);
    out.push(SEND);
    report.batchDone();
    report.take(50);
    report.take(50);
    report.batchDone();
    await turn();
    assert.deepEqual(posts, [[SEND, { k: 'took', n: 3, b: 200 }]]);
    report.close();
  });

  it('when the sends have all left, waits for one to ride with, and goes alone only if none comes', async () => {
    const { out, report, posts } = harness(2);
    report.take(10);
    out.push(SEND);
    out.push(SEND); // a pair: posted at once
    report.batchDone(); // nothing waiting in out
    assert.equal(posts.length, 1);
    // a send comes before the report is late: it rides with it
    report.take(10);
    out.push(SEND);
    report.batchDone();
    assert.deepEqual(posts.at(-1), [SEND, { k: 'took', n: 2, b: 20 }]);
    // none comes: it goes alone, once
    report.take(10);
    report.batchDone();
    report.take(10);
    report.batchDone();
    await after(30);
    await turn();
    assert.deepEqual(posts.slice(2), [[{ k: 'took', n: 4, b: 40 }]]);
    report.close();
  });

  it('a batch that took nothing reports nothing', async () => {
    const { report, posts } = harness(2);
    report.batchDone();
    await after(20);
    assert.deepEqual(posts, []);
  });
});
