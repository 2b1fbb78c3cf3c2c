import { ConfigError, formatPath, type FieldSchema } from './config-schema.js';

/**
 * Configuration from environment variables, as container deployments give it: every key of the
 * schema has a variable `PARLEY_<PATH>`, its path's names each written in SCREAMING_SNAKE_CASE
 * (an upper-case letter starts a new word: `workerQueue` → `WORKER_QUEUE`) and joined by `_`:
 * `log.level` → `PARLEY_LOG_LEVEL`, `sip.workerQueue.maxMessages` →
 * `PARLEY_SIP_WORKER_QUEUE_MAX_MESSAGES`. Leaves only (a list of listeners is one variable, in
 * JSON). No two keys share a variable (config-env.test.ts checks every key of the schema).
 *
 * Values by the key's type: integer in decimal; boolean `true`/`false` (or `1`/`0`); string as
 * it is; a list of strings as JSON (`["a","b"]`) or comma-separated (`a,b`; empty: none); a list
 * of objects (listeners, outbound routes, ICE servers) as JSON only.
 */
export const ENV_PREFIX = 'PARLEY_';

/** One variable: its name, the key it sets and the key's schema. */
export interface EnvKey {
  readonly name: string;
  readonly path: readonly string[];
  readonly schema: Exclude<FieldSchema, { kind: 'object' }>;
}

/** `workerQueue` → `WORKER_QUEUE`, `t1` → `T1`, `dataDir` → `DATA_DIR`. */
export function screamingSnake(name: string): string {
  let out = '';
  for (const ch of name) {
    const upper = ch >= 'A' && ch <= 'Z';
    if (upper && out !== '') out += '_';
    out += ch.toUpperCase();
  }
  return out;
}

/** The variable of a key path. */
export function envName(path: readonly string[]): string {
  return ENV_PREFIX + path.map(screamingSnake).join('_');
}

/** Every variable of a schema, in the schema's order. */
export function envKeys(schema: FieldSchema & { kind: 'object' }): EnvKey[] {
  const out: EnvKey[] = [];
  const walk = (s: FieldSchema, path: string[]): void => {
    if (s.kind === 'object') {
      for (const [k, f] of Object.entries(s.fields)) walk(f, [...path, k]);
      return;
    }
    out.push({ name: envName(path), path, schema: s });
  };
  walk(schema, []);
  return out;
}

/** A variable's value as its key's type; a ConfigError naming the variable when it is not one. */
export function parseEnvValue(key: EnvKey, raw: string): unknown {
  const fail = (detail: string): never => {
    throw new EnvConfigError(key.name, formatPath(key.path), detail);
  };
  const shown = JSON.stringify(raw.length > 40 ? raw.slice(0, 40) + '…' : raw);
  const s = key.schema;
  switch (s.kind) {
    case 'string':
      return raw;
    case 'integer': {
      const t = raw.trim();
      const digits = t.startsWith('-') ? t.slice(1) : t;
      if (digits === '' || [...digits].some((c) => c < '0' || c > '9')) fail(`expected an integer (got ${shown})`);
      return Number(t);
    }
    case 'boolean': {
      const t = raw.trim().toLowerCase();
      if (t === 'true' || t === '1') return true;
      if (t === 'false' || t === '0') return false;
      return fail(`expected true or false (got ${shown})`);
    }
    case 'strings': {
      const t = raw.trim();
      if (t.startsWith('[')) {
        const v = json(t, fail);
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(`expected a JSON list of strings or comma-separated values (got ${shown})`);
        return v;
      }
      return t === '' ? [] : t.split(',').map((x) => x.trim());
    }
    case 'list': {
      const v = json(raw.trim(), fail);
      if (!Array.isArray(v)) fail(`expected a JSON list (got ${shown})`);
      return v;
    }
  }
}

function json(text: string, fail: (d: string) => never): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(`expected JSON (${(e as Error).message})`);
  }
}

/** A bad value of a variable: the message names the variable first (`PARLEY_SIP_WORKERS: expected an integer`). */
export class EnvConfigError extends ConfigError {
  constructor(
    readonly variable: string,
    key: string,
    detail: string,
  ) {
    super(key, detail, undefined, 'environment');
    this.message = `${variable}: ${detail}`;
  }
}

/** What the environment sets: the document with the variables' values in, and which key came from which variable. */
export interface EnvOverlay {
  readonly document: Record<string, unknown>;
  /** Key path as formatPath writes it (`sip.workers`) → variable. */
  readonly variables: ReadonlyMap<string, string>;
}

/**
 * Lay the `PARLEY_…` variables of `env` over a parsed configuration document (a file's, or `{}`):
 * a variable replaces what the file says for its key. Variables that name no key are left alone
 * (other tools use the prefix too). Throws EnvConfigError for a value of the wrong type; ranges
 * and choices are checked with the whole document (overlayError names the variable then).
 */
export function overlayEnv(schema: FieldSchema & { kind: 'object' }, document: unknown, env: Readonly<Record<string, string | undefined>>): EnvOverlay {
  const variables = new Map<string, string>();
  // a document that is no mapping: the validation says so, with nothing laid over it
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return { document: document as Record<string, unknown>, variables };
  const out = structuredClone(document as Record<string, unknown>);
  for (const key of envKeys(schema)) {
    const raw = env[key.name];
    if (raw === undefined) continue;
    const value = parseEnvValue(key, raw);
    let at: Record<string, unknown> = out;
    for (const p of key.path.slice(0, -1)) {
      const next = at[p];
      // a file that gives a mapping here as something else is reported by the validation
      if (typeof next !== 'object' || next === null || Array.isArray(next)) at[p] = {};
      at = at[p] as Record<string, unknown>;
    }
    at[key.path.at(-1)!] = value;
    variables.set(formatPath(key.path), key.name);
  }
  return { document: out, variables };
}

/**
 * A validation error about a key a variable set (or within it: `sip.listen[0].port`) named by the
 * variable; any other error as it was.
 */
export function overlayError(e: ConfigError, variables: ReadonlyMap<string, string>): ConfigError {
  for (const [key, variable] of variables) {
    if (e.key === key || e.key.startsWith(key + '[') || e.key.startsWith(key + '.')) {
      const rest = e.key.slice(key.length);
      const within = rest === '' ? '' : ` (at ${rest.startsWith('.') ? rest.slice(1) : rest})`;
      return new EnvConfigError(variable, e.key, `${e.detail}${within}`);
    }
  }
  return e;
}
