import { createHash } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ScriptError } from './script-error.js';

/** A script compiled to one ES module, ready to be written and imported. */
export interface CompiledScript {
  /** The module's code (an inline source map points back to the script's files). */
  readonly code: string;
  /** SHA-256 of the code: the same source compiles to the same hash, so a no-op reload is seen as one. */
  readonly hash: string;
  /** Every file of the script (the entry and what it imports, not packages): what a watch follows. */
  readonly inputs: readonly string[];
}

/** Parley's own modules a script may import: bound to the running server's copies, never bundled. */
function parleyModules(): Record<string, string> {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const at = (p: string): string => new URL(p + ext, import.meta.url).href;
  return {
    'parley/routing': at('./index'),
    'parley/routing/testing': at('./test-harness'),
    'parley/sip': at('../sip/index'),
    parley: at('../index'),
  };
}

type Esbuild = typeof import('esbuild');
let esbuild: Promise<Esbuild> | undefined;

function loadEsbuild(): Promise<Esbuild> {
  esbuild ??= import('esbuild').catch((e: unknown) => {
    esbuild = undefined;
    throw new ScriptError('ERR_SCRIPT_COMPILE', `routing scripts are compiled with esbuild, which is not installed (npm install esbuild): ${(e as Error).message}`);
  });
  return esbuild;
}

/**
 * Compile a routing script (TypeScript or JavaScript) with esbuild into one ES module for Node:
 * its own imports bundled in, `parley/routing` (and `parley/sip`) bound to this server's modules
 * so that `SipReply` and the contexts are the server's own. Types are stripped, not checked
 * (run `tsc --noEmit` for that). `outFile` is where the module will be written (the source map's
 * paths are relative to it). Throws ScriptError ERR_SCRIPT_COMPILE with the file, line and
 * column of the first error.
 */
export async function compileScript(file: string, outFile: string): Promise<CompiledScript> {
  const entry = isAbsolute(file) ? file : resolve(file);
  const { build } = await loadEsbuild();
  const modules = parleyModules();
  let result: Awaited<ReturnType<Esbuild['build']>>;
  try {
    result = await build({
      entryPoints: [entry],
      absWorkingDir: dirname(entry),
      outfile: outFile,
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      sourcesContent: false,
      metafile: true,
      logLevel: 'silent',
      plugins: [
        {
          name: 'parley-modules',
          setup(b) {
            b.onResolve({ filter: /^parley(\/.*)?$/ }, (args) => {
              const url = modules[args.path];
              return url === undefined ? undefined : { path: url, external: true };
            });
          },
        },
      ],
    });
  } catch (e) {
    throw compileError(e, entry);
  }
  const out = result.outputFiles?.find((f) => f.path.endsWith('.mjs') || f.path.endsWith('.js')) ?? result.outputFiles?.[0];
  if (out === undefined) throw new ScriptError('ERR_SCRIPT_COMPILE', 'esbuild produced no output', { file: entry, line: 1, column: 1 });
  const code = out.text;
  const base = dirname(entry);
  const inputs = Object.keys(result.metafile?.inputs ?? {})
    .filter((p) => !p.includes('node_modules/') && !p.startsWith('file:'))
    .map((p) => resolve(base, p));
  return { code, hash: createHash('sha256').update(code).digest('hex'), inputs };
}

interface EsbuildMessage {
  readonly text: string;
  readonly location: { readonly file: string; readonly line: number; readonly column: number } | null;
}

function compileError(e: unknown, entry: string): ScriptError {
  const errors = (e as { errors?: EsbuildMessage[] }).errors;
  const first = errors?.[0];
  if (first === undefined) return new ScriptError('ERR_SCRIPT_COMPILE', (e as Error).message ?? String(e), { file: entry, line: 1, column: 1 }, { cause: e });
  const more = errors!.length > 1 ? ` (and ${errors!.length - 1} more error${errors!.length > 2 ? 's' : ''})` : '';
  const loc = first.location;
  // esbuild's columns count from 0; editors and compilers count from 1
  const location = loc === null ? { file: entry, line: 1, column: 1 } : { file: resolve(dirname(entry), loc.file), line: loc.line, column: loc.column + 1 };
  return new ScriptError('ERR_SCRIPT_COMPILE', first.text + more, location, { cause: e });
}

/** The URL to import a compiled script from. */
export function moduleUrl(path: string): string {
  return pathToFileURL(path).href;
}
