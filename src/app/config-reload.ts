// A configuration reload (SIGHUP, `parley reload`): the file the server started with is read and
// checked again; what differs from the running configuration is applied at once when it can be
// (LIVE_KEYS), and named in a warning ("restart to apply") when it cannot. A file that fails its
// check changes nothing: the error names the file, the line and the key.
import type { ParleyConfig } from './config.js';
import { ConfigError } from './config-schema.js';

/**
 * Keys a reload applies to the running server. Everything else (listeners, dataDir, workers,
 * TLS files, TURN and media settings, registrar and proxy settings, ...) waits for a restart.
 *
 *   log.level                      every thread: main, SIP workers, TURN, media (not the binding writer)
 *   auth.failureLimit.maxFailures  the failed-auth limiter (main thread; it decides for SIP, HTTP and TURN)
 *   auth.failureLimit.window
 *   auth.failureLimit.blockTime
 *   registrar.minExpires           every SIP core's registrar, for REGISTERs from now on
 *   registrar.maxExpires
 *   registrar.defaultExpires
 *   proxy.outbound                 every SIP core's outbound routes (what ctx.outboundRoute answers)
 *   routing.script                 another file: the reload of the routing script that follows
 *                                  compiles it (to or from the built-in default: restart)
 */
export const LIVE_KEYS: readonly string[] = [
  'log.level',
  'auth.failureLimit.maxFailures',
  'auth.failureLimit.window',
  'auth.failureLimit.blockTime',
  'registrar.minExpires',
  'registrar.maxExpires',
  'registrar.defaultExpires',
  'proxy.outbound',
  'routing.script',
];

/** What a configuration reload did. */
export type ConfigReloadOutcome =
  | {
      readonly ok: true;
      /** The file read; undefined when the server started without one (nothing to read). */
      readonly file: string | undefined;
      /** Keys changed and applied now. */
      readonly applied: readonly string[];
      /** Keys changed in the file that apply only after a restart (the running value stays). */
      readonly restart: readonly string[];
    }
  | {
      readonly ok: false;
      readonly file: string;
      /** `file:line: key: what is wrong` (ConfigError's message). */
      readonly error: string;
      readonly key?: string;
      readonly line?: number;
    };

/** A configuration file that failed its check, as a reload outcome. */
export function refusedOutcome(e: unknown, file: string): ConfigReloadOutcome {
  if (e instanceof ConfigError) return { ok: false, file: e.file ?? file, error: e.message, key: e.key, ...(e.line === undefined ? {} : { line: e.line }) };
  return { ok: false, file, error: `${file}: ${(e as Error).message}` };
}

/**
 * The keys whose values differ, as dotted paths of leaves (`auth.failureLimit.window`); a list
 * (`sip.listen`, `sip.domains`) counts as one value. Keys absent on one side count as changed.
 */
export function changedKeys(before: ParleyConfig, after: ParleyConfig): string[] {
  const out: string[] = [];
  const visit = (a: unknown, b: unknown, path: string): void => {
    if (isMapping(a) && isMapping(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) visit(a[k], b[k], path === '' ? k : `${path}.${k}`);
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path);
  };
  visit(before, after, '');
  return out;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `config` with the values of `keys` (dotted leaf paths) taken from `from`. */
export function withKeys(config: ParleyConfig, from: ParleyConfig, keys: readonly string[]): ParleyConfig {
  const out = structuredClone(config) as unknown as Record<string, unknown>;
  for (const key of keys) {
    const parts = key.split('.');
    let src: unknown = from;
    let dst: Record<string, unknown> = out;
    for (const p of parts.slice(0, -1)) {
      src = (src as Record<string, unknown> | undefined)?.[p];
      if (!isMapping(dst[p])) dst[p] = {};
      dst = dst[p] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1]!;
    const value = (src as Record<string, unknown> | undefined)?.[last];
    if (value === undefined) delete dst[last];
    else dst[last] = structuredClone(value);
  }
  return out as unknown as ParleyConfig;
}

/** The path of a dotted key, for a ConfigLocator (`sip.listen` → ['sip', 'listen']). */
export function keyPath(key: string): string[] {
  return key.split('.');
}
