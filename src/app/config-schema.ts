/**
 * A small schema language for Parley's configuration: each field has a type, a default and a
 * sentence of documentation. `validateConfig` checks a parsed document against it and names the
 * key (and the line) of the first problem; `describeSchema` writes the documentation of defaults.
 */
export type FieldSchema =
  | { readonly kind: 'string'; readonly doc: string; readonly default?: string; readonly enum?: readonly string[]; readonly required?: boolean; readonly minLength?: number }
  | { readonly kind: 'integer'; readonly doc: string; readonly default?: number; readonly min: number; readonly max: number }
  | { readonly kind: 'boolean'; readonly doc: string; readonly default?: boolean }
  | { readonly kind: 'strings'; readonly doc: string; readonly default?: readonly string[]; readonly enum?: readonly string[]; readonly required?: boolean; readonly minItems?: number; readonly unique?: boolean }
  | { readonly kind: 'object'; readonly doc: string; readonly fields: Readonly<Record<string, FieldSchema>>; readonly optional?: boolean }
  | { readonly kind: 'list'; readonly doc: string; readonly item: FieldSchema & { kind: 'object' }; readonly default?: readonly unknown[] };

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly detail: string,
    readonly line?: number,
    readonly file?: string,
  ) {
    super(`${file ?? 'config'}${line !== undefined ? `:${line}` : ''}: ${key}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Where a key path is in the source file, if the parser knows. */
export type LineOf = (path: ReadonlyArray<string | number>) => number | undefined;

/**
 * Check `input` against `schema` and fill in the defaults. Throws the first ConfigError; with
 * `collect`, gathers every one there instead (a field in error is skipped, the others checked:
 * `parley config check`) and returns what it could.
 */
export function validateConfig(schema: FieldSchema & { kind: 'object' }, input: unknown, lineOf: LineOf = () => undefined, file?: string, collect?: ConfigError[]): unknown {
  const fail = (path: ReadonlyArray<string | number>, detail: string): never => {
    const e = new ConfigError(formatPath(path), detail, lineOf(path), file);
    if (collect === undefined) throw e;
    collect.push(e);
    throw SKIP;
  };
  /** In collect mode: a field whose check failed is left out, and the next one checked. */
  const guard = <T>(step: () => T): T | undefined => {
    try {
      return step();
    } catch (e) {
      if (e === SKIP) return undefined;
      throw e;
    }
  };

  const visit = (s: FieldSchema, v: unknown, path: Array<string | number>): unknown => {
    if (v === undefined || v === null) {
      if (s.kind === 'object') return visit(s, {}, path);
      if (s.kind === 'list') return (s.default ?? []).map((x, i) => visit(s.item, x, [...path, i]));
      if ((s.kind === 'string' || s.kind === 'strings') && s.required === true) fail(path, 'is required');
      return 'default' in s ? s.default : undefined;
    }
    switch (s.kind) {
      case 'string':
        if (typeof v !== 'string') fail(path, `must be a string (got ${show(v)})`);
        if (s.enum && !s.enum.includes(v as string)) fail(path, `must be one of ${s.enum.join(', ')} (got ${show(v)})`);
        if (s.minLength !== undefined && (v as string).length < s.minLength) fail(path, `must be at least ${s.minLength} character${s.minLength === 1 ? '' : 's'} long`);
        return v;
      case 'integer':
        if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, `must be an integer (got ${show(v)})`);
        if ((v as number) < s.min || (v as number) > s.max) fail(path, `must be between ${s.min} and ${s.max} (got ${show(v)})`);
        return v;
      case 'boolean':
        if (typeof v !== 'boolean') fail(path, `must be true or false (got ${show(v)})`);
        return v;
      case 'strings':
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(path, `must be a list of strings (got ${show(v)})`);
        if (s.enum) (v as string[]).forEach((x, i) => s.enum!.includes(x) || fail([...path, i], `must be one of ${s.enum!.join(', ')} (got ${show(x)})`));
        if (s.minItems !== undefined && (v as string[]).length < s.minItems) fail(path, `must list at least ${s.minItems} value${s.minItems === 1 ? '' : 's'}`);
        if (s.unique === true) (v as string[]).forEach((x, i) => (v as string[]).indexOf(x) === i || fail([...path, i], `${show(x)} is listed twice`));
        return v;
      case 'list':
        if (!Array.isArray(v)) fail(path, `must be a list (got ${show(v)})`);
        return (v as unknown[]).map((x, i) => guard(() => visit(s.item, x, [...path, i])));
      case 'object': {
        if (typeof v !== 'object' || Array.isArray(v)) fail(path, `must be a mapping (got ${show(v)})`);
        const obj = v as Record<string, unknown>;
        for (const k of Object.keys(obj)) {
          if (!(k in s.fields)) guard(() => fail([...path, k], `unknown key (known here: ${Object.keys(s.fields).join(', ')})`));
        }
        const out: Record<string, unknown> = {};
        for (const [k, fs] of Object.entries(s.fields)) out[k] = guard(() => visit(fs, obj[k], [...path, k]));
        return out;
      }
    }
  };
  return guard(() => visit(schema, input, []));
}

/** Thrown inside validateConfig's collect mode to leave a field; never escapes it. */
const SKIP = Symbol('skip');

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 40) + '…' : s;
}

export function formatPath(path: ReadonlyArray<string | number>): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s === '' ? '(top level)' : s;
}

/** Markdown table rows for every leaf key: key, type, default, meaning. */
export function describeSchema(schema: FieldSchema, prefix = ''): string[] {
  if (schema.kind === 'object') {
    return Object.entries(schema.fields).flatMap(([k, f]) => describeSchema(f, prefix ? `${prefix}.${k}` : k));
  }
  if (schema.kind === 'list') {
    const head = `| \`${prefix}\` | list | ${schema.default ? '`' + JSON.stringify(schema.default) + '`' : '(empty)'} | ${schema.doc} |`;
    return [head, ...describeSchema(schema.item, `${prefix}[]`)];
  }
  const type = schema.kind === 'integer' ? `integer ${schema.min}–${schema.max}` : schema.kind === 'string' && schema.enum ? schema.enum.join(' \\| ') : schema.kind;
  const def = 'default' in schema && schema.default !== undefined ? '`' + JSON.stringify(schema.default) + '`' : 'required' in schema && schema.required === true ? '(required)' : '—';
  return [`| \`${prefix}\` | ${type} | ${def} | ${schema.doc} |`];
}
