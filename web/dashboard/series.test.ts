import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StatsSnapshot } from '../../src/api/operations.js';
import { addSample, chartSeries, formatFigure, formatTick, mergeSamples, requestRate, WINDOW_MS } from './series.js';

const snap = (time: number, o: Partial<StatsSnapshot> = {}): StatsSnapshot => ({
  time, requests: 0, responses: 0, transactions: 0, registrations: 0, calls: 0, callsAnswered: 0, authFailures: 0, blockedSources: 0,
  connections: 0, turnAllocations: 0, turnBytes: 0, mediaSessions: 0, mediaPackets: 0, ...o,
});

describe('chart series from stats snapshots', () => {
  it('gauges as they are, counters as rates per second; no rate for the first sample or across a restart', () => {
    const d = chartSeries([
      snap(1_000_000, { registrations: 2, calls: 10, authFailures: 1, turnBytes: 0, mediaSessions: 1 }),
      snap(1_010_000, { registrations: 3, calls: 15, authFailures: 3, turnBytes: 10_000, mediaSessions: 2 }),
      snap(1_020_000, { registrations: 1, calls: 2, authFailures: 0, turnBytes: 0, mediaSessions: 0 }),
    ]);
    assert.deepEqual(d.x, [1000, 1010, 1020]);
    assert.deepEqual(d.y.registrations, [2, 3, 1]);
    assert.deepEqual(d.y.mediaSessions, [1, 2, 0]);
    assert.deepEqual(d.y.callRate, [null, 0.5, null]);
    assert.deepEqual(d.y.failureRate, [null, 0.2, null]);
    assert.deepEqual(d.y.turnRate, [null, 1000, null]);
  });

  it('keeps one hour, in time order', () => {
    const h: StatsSnapshot[] = [];
    for (let t = 0; t <= WINDOW_MS + 20_000; t += 10_000) addSample(h, snap(t));
    addSample(h, snap(WINDOW_MS)); // older than the newest: ignored
    assert.equal(h.length, 360);
    assert.equal(h[0]!.time, 30_000);
    assert.equal(chartSeries([snap(0), snap(WINDOW_MS), snap(WINDOW_MS + 5)]).x.length, 2);
  });

  it('merges the history in when live samples came first', () => {
    const h: StatsSnapshot[] = [];
    addSample(h, snap(100_000, { registrations: 9 }));
    mergeSamples(h, [snap(80_000), snap(90_000), snap(100_000, { registrations: 1 }), snap(100_000 - WINDOW_MS)]);
    assert.deepEqual(h.map((s) => s.time), [80_000, 90_000, 100_000]);
    assert.equal(h[2]!.registrations, 9, 'the live sample wins');
  });

  it('requests per second and figures', () => {
    assert.equal(requestRate(snap(2000, { requests: 30 }), snap(0, { requests: 10 })), 10);
    assert.equal(requestRate(snap(2000), undefined), undefined);
    assert.equal(formatFigure(1234), '1,234');
    assert.equal(formatFigure(2.345, 1), '2.3');
    assert.equal(formatFigure(2_500_000), '2.5 M');
    assert.equal(formatFigure(undefined), '–');
    assert.deepEqual([0, 0.5, 12, 1500, 2_000_000, 3.25e9].map(formatTick), ['0', '0.5', '12', '1.5k', '2M', '3.3G']);
  });
});
