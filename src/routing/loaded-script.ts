import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FailureContext, ReplyContext, RequestContext, RoutingScript, StatelessContext } from './routing-api.js';
import { ScriptError, type ScriptLocation } from './script-error.js';

type Awaitable = void | Promise<void>;

const HANDLERS = ['onRequest', 'onInDialog', 'onResponse', 'onFailure', 'onStateless'] as const;
/** Handlers that run inside the proxy's synchronous paths: an async one would be ignored half-way. */
const SYNC_ONLY = new Set(['onResponse', 'onStateless']);

/** Where the compiled sources of Parley itself are: frames there are not the script's. */
const PARLEY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * One version of a routing script, loaded and checked: its handlers, its number and where it
 * came from. Immutable; a SIP core keeps the versions its transactions still use.
 */
export class LoadedScript {
  readonly onRequest: (ctx: RequestContext) => Awaitable;
  readonly onInDialog: ((ctx: RequestContext) => Awaitable) | undefined;
  readonly onResponse: ((ctx: ReplyContext) => void) | undefined;
  readonly onFailure: ((ctx: FailureContext) => Awaitable) | undefined;
  readonly onStateless: ((ctx: StatelessContext) => void) | undefined;
  readonly dumpVars: readonly string[] | undefined;

  private constructor(
    script: RoutingScript,
    /** Increasing with each successful load (1 for the script the server started with). */
    readonly version: number,
    /** The script file, or `builtin:default`. */
    readonly source: string,
  ) {
    this.onRequest = script.onRequest;
    this.onInDialog = script.onInDialog;
    this.onResponse = script.onResponse;
    this.onFailure = script.onFailure;
    this.onStateless = script.onStateless;
    this.dumpVars = script.dumpVars;
  }

  /**
   * Check a script module's exports: `onRequest` is a function; the other handlers, when present,
   * are functions (onResponse and onStateless not async); `dumpVars` is a list of names. Named
   * exports, or a default export object holding them. Throws ScriptError (ERR_SCRIPT_LOAD).
   */
  static fromModule(mod: Readonly<Record<string, unknown>>, version: number, source: string): LoadedScript {
    const fail = (detail: string): never => {
      throw new ScriptError('ERR_SCRIPT_LOAD', detail, { file: source, line: 1, column: 1 });
    };
    const fromDefault = typeof mod.onRequest !== 'function' && typeof mod.default === 'object' && mod.default !== null;
    const exports = (fromDefault ? mod.default : mod) as Record<string, unknown>;
    if (typeof exports.onRequest !== 'function') {
      const found = Object.keys(exports).filter((k) => k !== 'default');
      fail(`a routing script exports an onRequest function (named export, or in a default export object); found ${found.length > 0 ? found.join(', ') : 'no exports'}`);
    }
    for (const name of HANDLERS) {
      const fn = exports[name];
      if (fn === undefined) continue;
      if (typeof fn !== 'function') fail(`export ${name} is a ${typeof fn}, not a function`);
      if (SYNC_ONLY.has(name) && (fn as { constructor: { name: string } }).constructor.name === 'AsyncFunction') {
        fail(`${name} must be synchronous (it runs inside the proxy's response path / before the transaction layer); make it a plain function`);
      }
    }
    const dump = exports.dumpVars;
    if (dump !== undefined && (!Array.isArray(dump) || dump.some((d) => typeof d !== 'string'))) fail('export dumpVars is a list of variable names (strings)');
    return new LoadedScript(exports as unknown as RoutingScript, version, source);
  }

  /** Import a compiled script module and check it (ERR_SCRIPT_LOAD with the script's line when its top level throws). */
  static async import(url: string, version: number, source: string): Promise<LoadedScript> {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      throw new ScriptError('ERR_SCRIPT_LOAD', `could not load: ${err.message}`, scriptFrame(err, source), { cause: err });
    }
    return LoadedScript.fromModule(mod, version, source);
  }

  /** A script object already in memory (the built-in default, a test's). */
  static fromObject(script: RoutingScript, version: number, source: string): LoadedScript {
    return LoadedScript.fromModule(script as unknown as Record<string, unknown>, version, source);
  }
}

/**
 * The first stack frame of an error that is in the script rather than in Parley or Node (with
 * source maps on, a bundled script's frames name its own .ts files and lines).
 */
export function scriptFrame(err: Error, fallbackFile: string): ScriptLocation | undefined {
  for (const line of (err.stack ?? '').split('\n').slice(1)) {
    const m = stackFrameLocation(line.trim());
    if (m === undefined) continue;
    const file = m.file.startsWith('file://') ? fileURLToPath(m.file) : m.file;
    if (file.startsWith(PARLEY_ROOT + '/') && !file.startsWith(resolve(PARLEY_ROOT, 'routing/scripts')) && !file.startsWith(resolve(PARLEY_ROOT, 'routing/examples'))) continue;
    if (file.includes('/node_modules/')) continue;
    return { file, line: m.line, column: m.column };
  }
  return fallbackFile.startsWith('/') ? { file: fallbackFile, line: 1, column: 1 } : undefined;
}

/**
 * The location at the end of a V8 stack frame line ("at f (/a/b.js:1:2)", "at /a/b.js:1:2",
 * "at file:///a/b.js:1:2"): an absolute path or file URL, a line and a column. Read by a scan from
 * the end; the regular expression it replaces (/\(?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?\s*$/)
 * retried every start in a long path-like run (quadratic).
 */
export function stackFrameLocation(frame: string): ScriptLocation | undefined {
  const end = frame.endsWith(')') ? frame.length - 1 : frame.length;
  const c2 = frame.lastIndexOf(':', end - 1);
  const c1 = c2 <= 0 ? -1 : frame.lastIndexOf(':', c2 - 1);
  if (c1 < 0 || !isDigits(frame, c2 + 1, end) || !isDigits(frame, c1 + 1, c2)) return undefined;
  // the path: within the run of characters other than "():" that ends at c1, from its first "/"
  let runStart = c1;
  while (runStart > 0 && !isFrameDelimiter(frame.charCodeAt(runStart - 1))) runStart--;
  const slash = frame.indexOf('/', runStart);
  if (slash < 0 || slash >= c1 - 1) return undefined;
  const path = frame.slice(slash, c1);
  const isUrl = slash === runStart && path.startsWith('///') && frame.startsWith('file:', runStart - 5);
  return { file: isUrl ? `file:${path}` : path, line: Number(frame.slice(c1 + 1, c2)), column: Number(frame.slice(c2 + 1, end)) };
}

function isFrameDelimiter(c: number): boolean {
  return c === 0x28 || c === 0x29 || c === 0x3a; // ( ) :
}

function isDigits(s: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
