import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SipMessageCounts } from '../../sip-server/transport/message-counts.js';
import { aggregateMetrics, sumOf, type MetricsJson } from './aggregate.js';
import { coreRegistry, type CoreCounters } from './core-metrics.js';
import { mainRegistry } from './main-metrics.js';

/** A SIP core's registry with these figures, as a worker thread would answer CoreQuery `metrics`. */
async function core(thread: string, o: { invitesIn: number; bindings: number; transactions: number; authFailures: number }): Promise<MetricsJson> {
  const counts = new SipMessageCounts();
  for (let i = 0; i < o.invitesIn; i++) counts.request('in', 'INVITE');
  counts.response('out', 'INVITE', 200);
  const counters: CoreCounters = { authFailures: o.authFailures, scriptErrors: 0 };
  const r = coreRegistry({ counts, counters, transactions: () => o.transactions, proxyContexts: () => 1, bindings: () => o.bindings, parseErrors: () => 0, calls: () => ({ open: 0, started: 0, answered: 0, untracked: 0 }), thread });
  // through structured clone, as the answer crosses a MessagePort
  return structuredClone(await r.getMetricsAsJSON()) as MetricsJson;
}

describe('aggregating the threads\' metrics', () => {
  it('sums counters and per-core gauges, takes the largest replicated binding count, keeps each thread\'s lag apart', async () => {
    const a = await core('sip-0', { invitesIn: 3, bindings: 10, transactions: 4, authFailures: 1 });
    const b = await core('sip-1', { invitesIn: 5, bindings: 10, transactions: 2, authFailures: 2 });
    const main = (await mainRegistry({ connectionsByTransport: () => ({ tcp: 2, ws: 1 }), blockedSources: () => 1 }).getMetricsAsJSON()) as MetricsJson;
    const registry = aggregateMetrics([main, a, b]);
    const m = (await registry.getMetricsAsJSON()) as MetricsJson;
    assert.equal(sumOf(m, 'parley_sip_requests_total', { method: 'INVITE', direction: 'in' }), 8);
    assert.equal(sumOf(m, 'parley_sip_responses_total', { method: 'INVITE', class: '2xx', direction: 'out' }), 2);
    assert.equal(sumOf(m, 'parley_sip_transactions'), 6);
    assert.equal(sumOf(m, 'parley_proxy_contexts'), 2);
    // every worker holds all 10 bindings: 10, not 20
    assert.equal(sumOf(m, 'parley_registrations'), 10);
    assert.equal(sumOf(m, 'parley_auth_failures_total'), 3);
    assert.equal(sumOf(m, 'parley_connections', { transport: 'tcp' }), 2);
    assert.equal(sumOf(m, 'parley_connections'), 3);
    assert.equal(sumOf(m, 'parley_blocked_sources'), 1);
    const lag = m.find((x) => x.name === 'parley_event_loop_lag_seconds');
    assert.deepEqual(lag?.values.map((v) => v.labels.thread).sort(), ['main', 'sip-0', 'sip-1']);
    const text = await registry.metrics();
    assert.match(text, /^parley_sip_requests_total\{method="INVITE",direction="in"\} 8$/m);
    assert.match(text, /^# TYPE parley_sip_requests_total counter$/m);
    assert.match(text, /^process_cpu_seconds_total /m);
  });

  it('a thread that gave nothing (gone, or late) is left out', async () => {
    const a = await core('sip-0', { invitesIn: 1, bindings: 1, transactions: 0, authFailures: 0 });
    const m = (await aggregateMetrics([a, [], []]).getMetricsAsJSON()) as MetricsJson;
    assert.equal(sumOf(m, 'parley_sip_requests_total'), 1);
  });
});
