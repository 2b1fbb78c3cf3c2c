import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../lib/logger.js';
import { SipMessageCounts } from '../../sip-server/transport/message-counts.js';
import { coreRegistry } from '../metrics/core-metrics.js';
import { mainRegistry } from '../metrics/main-metrics.js';
import { mediaRegistry } from '../metrics/media-metrics.js';
import { turnRegistry } from '../metrics/turn-metrics.js';
import type { TurnThread } from '../turn-thread.js';
import type { MediaThread } from '../media-thread.js';
import type { CoreAnswer, ServerParts } from './server-parts.js';
import { createMetricsOps } from './metrics-ops.js';

function coreWith(registers: number, invites: { answered: number; refused: number }): Registry {
  const counts = new SipMessageCounts();
  for (let i = 0; i < registers; i++) counts.request('in', 'REGISTER');
  for (let i = 0; i < invites.answered; i++) counts.response('out', 'INVITE', 200);
  for (let i = 0; i < invites.refused; i++) counts.response('out', 'INVITE', 486);
  counts.response('out', 'INVITE', 180);
  return coreRegistry({ counts, counters: { authFailures: 2, scriptErrors: 0 }, transactions: () => 1, proxyContexts: () => 0, bindings: () => 4, parseErrors: () => 0, calls: () => ({ open: 1, started: 3, answered: 2, untracked: 0 }) });
}

function parts(o: { cores: Registry[]; late?: boolean }): Parameters<typeof createMetricsOps>[0] & { stops: Array<() => void> } {
  const stops: Array<() => void> = [];
  const turn = turnRegistry({ allocations: () => 2, relayedBytes: () => ({ toPeer: 100, fromPeer: 50 }), stats: { requests: 9, allocationsMade: 3, relayDropped: 0 } });
  const media = mediaRegistry({ sessions: () => 1, sockets: () => 4, timedOut: () => 0, packets: () => ({ in: 7, out: 6 }) });
  return {
    stops,
    log: silentLogger as unknown as ServerParts['log'],
    mainMetrics: mainRegistry({ connectionsByTransport: () => ({ tls: 3 }) }),
    askCores: async (q) => {
      assert.deepEqual(q, { q: 'metrics' });
      const answers: CoreAnswer[] = [];
      for (const [core, r] of o.cores.entries()) answers.push({ core, answer: await r.getMetricsAsJSON() });
      answers.push({ core: o.cores.length, error: new Error('did not answer in time') });
      return answers;
    },
    turn: () => ({ metrics: async () => turn.getMetricsAsJSON() }) as unknown as TurnThread,
    // a media thread that never answers: left out after the wait
    media: { metrics: () => (o.late ? new Promise<unknown[]>(() => {}) : media.getMetricsAsJSON()) } as unknown as MediaThread,
    onStop: (fn) => stops.push(fn),
  };
}

describe('MetricsOps', () => {
  it('prometheus(): every thread\'s metrics in one text exposition', async () => {
    const p = parts({ cores: [coreWith(3, { answered: 1, refused: 0 }), coreWith(2, { answered: 0, refused: 1 })] });
    const ops = createMetricsOps(p);
    const { contentType, body } = await ops.prometheus();
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    assert.match(body, /^parley_sip_requests_total\{method="REGISTER",direction="in"\} 5$/m);
    assert.match(body, /^parley_turn_relayed_bytes_total\{direction="to_peer"\} 100$/m);
    assert.match(body, /^parley_media_packets_total\{direction="in"\} 7$/m);
    assert.match(body, /^parley_connections\{transport="tls"\} 3$/m);
    for (const fn of p.stops) fn();
  });

  it('stats(): the snapshot of the same figures (calls: the calls the cores tracked, summed)', async () => {
    const p = parts({ cores: [coreWith(3, { answered: 1, refused: 0 }), coreWith(2, { answered: 0, refused: 1 })] });
    const ops = createMetricsOps(p);
    const s = await ops.stats();
    assert.deepEqual({ ...s, time: 0 }, {
      time: 0, requests: 5, responses: 4, transactions: 2, registrations: 4, calls: 6, callsAnswered: 4, authFailures: 4, blockedSources: 0,
      connections: 3, turnAllocations: 2, turnBytes: 150, mediaSessions: 1, mediaPackets: 13,
    });
    assert.deepEqual(ops.history(), []);
    for (const fn of p.stops) fn();
  });

  it('a thread that does not answer is left out of the scrape', { timeout: 10_000 }, async () => {
    const p = parts({ cores: [coreWith(1, { answered: 0, refused: 0 })], late: true });
    const ops = createMetricsOps(p);
    const { body } = await ops.prometheus();
    assert.match(body, /^parley_turn_allocations 2$/m);
    assert.doesNotMatch(body, /parley_media_sessions/);
    for (const fn of p.stops) fn();
  });
});
