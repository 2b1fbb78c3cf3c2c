import { Counter, Gauge, Registry } from 'prom-client';
import type { SipMessageCounts } from '../../sip-server/transport/message-counts.js';
import { registerEventLoopLag } from './lag.js';
import { registerHepMetrics } from './hep-metrics.js';

/** Counters of a SIP core kept as plain numbers where the work is done (app/sip-core.ts). */
export interface CoreCounters {
  /** Digest responses that did not match (wrong password, unknown user): what the failed-auth limiter counts. */
  authFailures: number;
  /** Exceptions the routing script threw (a SipReply is an answer, not an error). */
  scriptErrors: number;
}

/** What a SIP core's metrics read when scraped. */
export interface CoreMetricSources {
  readonly counts: SipMessageCounts;
  readonly counters: Readonly<CoreCounters>;
  transactions(): number;
  proxyContexts(): number;
  bindings(): number;
  parseErrors(): number;
  /** The proxy's call tracker (proxy/calls/call-tracker.ts): open calls and totals since start. */
  calls(): { readonly open: number; readonly started: number; readonly answered: number; readonly untracked: number };
  /** The thread's name for `parley_event_loop_lag_seconds` (`sip-0`…); none: the main thread registers its own. */
  readonly thread?: string;
}

/**
 * The Prometheus metrics of one SIP core, in a registry of its own (each worker thread has one;
 * the main thread asks them with CoreQuery `metrics` and aggregates, aggregate.ts). Every value
 * is read at scrape time from the counters the core keeps anyway: nothing is added to the
 * message path but the increments of SipMessageCounts and CoreCounters.
 *
 * Aggregation: counters are summed over the cores; `parley_sip_transactions` and
 * `parley_proxy_contexts` too (each core holds its own); `parley_registrations` takes the
 * maximum, since every worker holds a replica of all the bindings.
 */
export function coreRegistry(s: CoreMetricSources): Registry {
  const registry = new Registry();
  const registers = [registry];
  // a worker's own HEP capture; the main thread's core shares the main registry's
  if (s.thread !== undefined) registerHepMetrics(registers);
  new Counter({
    name: 'parley_sip_requests_total',
    help: 'SIP requests received (direction="in") and sent (direction="out"), retransmissions included, by method (RFC methods, else "other")',
    labelNames: ['method', 'direction'],
    registers,
    collect() {
      this.reset();
      for (const e of s.counts.entries()) if (e.kind === 'request') this.inc({ method: e.method, direction: e.direction }, e.value);
    },
  });
  new Counter({
    name: 'parley_sip_responses_total',
    help: 'SIP responses received (direction="in") and sent (direction="out"), retransmissions included, by CSeq method and status class',
    labelNames: ['method', 'class', 'direction'],
    registers,
    collect() {
      this.reset();
      for (const e of s.counts.entries()) if (e.kind === 'response') this.inc({ method: e.method, class: e.class, direction: e.direction }, e.value);
    },
  });
  new Counter({
    name: 'parley_sip_parse_errors_total',
    help: 'SIP input that did not parse (answered 400/505/513 when a response was possible)',
    registers,
    collect() {
      this.reset();
      this.inc(s.parseErrors());
    },
  });
  new Gauge({
    name: 'parley_sip_transactions',
    help: 'SIP transactions in flight (client and server, RFC 3261 §17)',
    registers,
    aggregator: 'sum',
    collect() {
      this.set(s.transactions());
    },
  });
  new Gauge({
    name: 'parley_proxy_contexts',
    help: 'Requests being proxied (response contexts, RFC 3261 §16.7): the calls being set up and other forwarded requests awaiting a final response',
    registers,
    aggregator: 'sum',
    collect() {
      this.set(s.proxyContexts());
    },
  });
  new Gauge({
    name: 'parley_registrations',
    help: 'Registered contacts (bindings) in the location service',
    registers,
    // each SIP worker holds a replica of every binding
    aggregator: 'max',
    collect() {
      this.set(s.bindings());
    },
  });
  new Counter({
    name: 'parley_auth_failures_total',
    help: 'Failed digest authentications (wrong password or unknown user) of SIP requests',
    registers,
    collect() {
      this.reset();
      this.inc(s.counters.authFailures);
    },
  });
  new Counter({
    name: 'parley_routing_script_errors_total',
    help: 'Exceptions thrown by the routing script (each answered 500 or logged)',
    registers,
    collect() {
      this.reset();
      this.inc(s.counters.scriptErrors);
    },
  });
  new Gauge({
    name: 'parley_calls',
    help: 'Calls in progress (INVITE dialogs the proxy record-routed and tracks, from the INVITE to their end)',
    registers,
    collect() {
      this.set(s.calls().open);
    },
  });
  new Counter({
    name: 'parley_calls_total',
    help: 'Calls started (tracked INVITE dialogs) since start',
    registers,
    collect() {
      this.reset();
      this.inc(s.calls().started);
    },
  });
  new Counter({
    name: 'parley_calls_answered_total',
    help: 'Tracked calls answered (a 2xx to the INVITE) since start',
    registers,
    collect() {
      this.reset();
      this.inc(s.calls().answered);
    },
  });
  new Counter({
    name: 'parley_calls_untracked_total',
    help: 'Calls relayed but not tracked because proxy.maxCalls were open',
    registers,
    collect() {
      this.reset();
      this.inc(s.calls().untracked);
    },
  });
  if (s.thread !== undefined) registerEventLoopLag(registry, s.thread);
  return registry;
}
