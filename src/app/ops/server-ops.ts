import { readFileSync } from 'node:fs';
import type { MetricsOps, ReadyReport, ServerOps, ServerStatus, StatsSnapshot } from '../../api/operations.js';
import type { ServerParts } from './server-parts.js';

/** How long `/readyz` waits for every SIP core's answer to a ping. */
export const READY_PING_MS = 2000;

/** The value secrets are replaced with in `GET /api/v1/config`. */
export const REDACTED = '[redacted]';

/** Parley's version (package.json). */
export const PARLEY_VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * ServerOps: what runs (`parley status`, `GET /api/v1/status`), whether it is ready (`/readyz`),
 * and the effective configuration with its secrets redacted (`GET /api/v1/config`).
 */
export function serverOps(parts: ServerParts, metrics: () => MetricsOps): ServerOps {
  const listeners = (): string[] => [
    ...parts.listeners.map((l) => `${l.transport}:${hostText(l.address)}:${l.port}`),
    ...(parts.turn()?.listeners.map((l) => `turn-${l.transport}:${hostText(l.address)}:${l.port}`) ?? []),
  ];
  return {
    status: async (): Promise<ServerStatus> => {
      const now = Date.now();
      let counters: StatsSnapshot;
      try {
        counters = await metrics().stats();
      } catch {
        // the metrics part not there (or failing): the rest of the status still says something
        counters = { time: now, requests: 0, responses: 0, transactions: 0, registrations: 0, calls: 0, callsAnswered: 0, authFailures: 0, blockedSources: 0, connections: 0, turnAllocations: 0, turnBytes: 0, mediaSessions: 0, mediaPackets: 0 };
      }
      const script = parts.scripts.active;
      return {
        version: PARLEY_VERSION,
        pid: process.pid,
        node: process.version,
        startedAt: new Date(parts.startedAt).toISOString(),
        uptimeSeconds: Math.floor((now - parts.startedAt) / 1000),
        listeners: listeners(),
        workers: parts.workers,
        script: { version: script.version, source: script.source },
        turn: parts.turn() !== undefined,
        media: parts.media !== undefined,
        counters,
      };
    },
    ready: async (): Promise<ReadyReport> => {
      const checks: Array<{ name: string; ok: boolean; detail?: string }> = [];
      checks.push({ name: 'listeners', ok: parts.listeners.length > 0, detail: listeners().join(' ') });
      try {
        parts.db.handle.prepare('SELECT count(*) AS n FROM schema_version').get();
        checks.push({ name: 'store', ok: true });
      } catch (e) {
        checks.push({ name: 'store', ok: false, detail: (e as Error).message });
      }
      const cores = Math.max(1, parts.workers);
      const answers = await parts.askCores({ q: 'ping' }, READY_PING_MS).catch((e: unknown) => [{ core: -1, error: e instanceof Error ? e : new Error(String(e)) }]);
      const failed = answers.filter((a) => 'error' in a);
      const answered = answers.length - failed.length;
      checks.push({
        name: 'sip-cores',
        ok: failed.length === 0 && answered === cores,
        detail: `${answered} of ${cores} answered${failed.length === 0 ? '' : `; ${failed.map((f) => `core ${f.core}: ${'error' in f ? f.error.message : ''}`).join('; ')}`}`,
      });
      // TURN on its default ports is optional (a taken port: Parley runs without it); configured listeners are required
      if (parts.config.turn.enabled && parts.config.turn.listen.length > 0) checks.push({ name: 'turn', ok: parts.turn() !== undefined, ...(parts.turn() === undefined ? { detail: 'not running (its port could not be bound, or it stopped)' } : {}) });
      if (parts.config.media.enabled) checks.push({ name: 'media', ok: parts.media !== undefined });
      return { ready: checks.every((c) => c.ok), checks };
    },
    config: () => redactSecrets(parts.config) as Record<string, unknown>,
  };
}

/**
 * A copy of `value` with the value of every key that names a secret (`…secret…`, `…password…`,
 * `credential`, `…token…`) replaced by "[redacted]". File names (TLS key paths) stay: they are no secret.
 */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = k.toLowerCase();
    const secret = key.includes('secret') || key.includes('password') || key === 'credential' || key.includes('token');
    out[k] = secret && v !== undefined ? (Array.isArray(v) ? v.map(() => REDACTED) : REDACTED) : redactSecrets(v);
  }
  return out;
}

function hostText(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
