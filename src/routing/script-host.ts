import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { silentLogger, type Logger } from '../lib/logger.js';
import { LoadedScript } from './loaded-script.js';
import { compileScript, moduleUrl } from './script-compiler.js';
import { ScriptError, type ScriptLocation } from './script-error.js';
import * as defaultScript from './scripts/default.js';

/** The name of the built-in default script in logs, traces and reload answers. */
export const BUILTIN_DEFAULT = 'builtin:default';

/** What a SIP core is told to load: a compiled module (`url`) or, without one, the built-in default. */
export interface ScriptVersion {
  readonly version: number;
  readonly source: string;
  readonly url?: string;
}

/**
 * The SIP cores a host keeps on one version (src/app: the main thread's core and the worker
 * threads'). Two steps: every core loads and checks the version (`prepare`), then every core
 * switches to it (`commit`), so that a version some core cannot load is never active anywhere.
 */
export interface ScriptCores {
  /** Load `v` in every core, keeping the active one running; rejects with the first failure. */
  prepare(v: ScriptVersion, loaded: LoadedScript): Promise<void>;
  /** Switch every core to `v`; resolves once each has. */
  commit(version: number): Promise<void>;
  /** Forget `v` where it was prepared. */
  abort(version: number): void;
}

/** What `reload` did: the version now active, or why the new one was refused (the old one still runs). */
export type ReloadOutcome =
  | { readonly ok: true; readonly version: number; readonly source: string; readonly changed: boolean; readonly ms: number }
  | { readonly ok: false; readonly version: number; readonly source: string; readonly error: ScriptErrorJson; readonly ms: number };

/** A ScriptError as JSON (for `parley reload`). */
export interface ScriptErrorJson {
  readonly code: string;
  readonly message: string;
  readonly detail: string;
  readonly location?: ScriptLocation;
}

/** A version that was active during this run (`history`), and what `rollback` activates again. */
export interface ScriptActivation {
  readonly version: number;
  /** The script file (the configured one, an uploaded one), or `builtin:default`. */
  readonly source: string;
  /** ms since the epoch. */
  readonly activatedAt: number;
  /** For a rollback: the version whose compiled module this one runs again. */
  readonly rollbackOf?: number;
}

/** What `check` found: nothing (ok) or the error, with its line and column in the checked code. */
export type CheckOutcome = { readonly ok: true } | { readonly ok: false; readonly error: ScriptErrorJson };

export interface ScriptHostOptions {
  /** The script file; none: the built-in default script (nothing to reload). */
  readonly file?: string;
  /** Where compiled versions are written (`<dataDir>/routing`). */
  readonly outDir: string;
  readonly log?: Logger;
  /** Reload when a file of the script changes. Default true. */
  readonly watch?: boolean;
  /** Quiet time after a change before reloading, ms (editors write in several steps). Default 200. */
  readonly debounceMs?: number;
  /**
   * Told after each attempt to change the version (reload, upload, rollback; not `start`): the
   * hook for the `script.reloaded` event and the log. Must not throw.
   */
  readonly onOutcome?: (outcome: ReloadOutcome, trigger: ScriptTrigger) => void;
}

/** What asked for a new version. */
export type ScriptTrigger = 'watch' | 'command' | 'signal' | 'upload' | 'rollback';

interface Built {
  readonly loaded: LoadedScript;
  readonly version: ScriptVersion;
  readonly hash: string | undefined;
  /** The files to watch afterwards (none: keep the watch as it is). */
  readonly inputs: readonly string[] | undefined;
  readonly rollbackOf?: number;
}

/** The built-in default script, as version 1 (or `version`: a rollback to it). */
export function builtinDefault(version = 1): LoadedScript {
  return LoadedScript.fromObject(defaultScript, version, BUILTIN_DEFAULT);
}

/** Versions kept for `rollback` (their compiled modules stay on disk). */
const HISTORY_MAX = 20;

function errorJson(e: unknown): ScriptErrorJson {
  if (e instanceof ScriptError) return { code: e.code, message: e.message, detail: e.detail, ...(e.location === undefined ? {} : { location: e.location }) };
  const err = e instanceof Error ? e : new Error(String(e));
  return { code: 'ERR_SCRIPT_LOAD', message: err.message, detail: err.message };
}

/**
 * The routing script of a server (main thread): compiles the file with esbuild, imports and checks
 * it, numbers its versions and hands them to the SIP cores, on a file change (watch), on
 * `parley reload` and on SIGHUP. One reload at a time; a version that does not compile, does not
 * load or lacks the handlers is refused with its place (file:line:column) and the running one
 * keeps serving. Each version is written to `<outDir>/<name>.v<N>.mjs` and imported from there
 * (a module cannot be unloaded: each version costs its code's memory until the server restarts).
 */
export class ScriptHost {
  private readonly log: Logger;
  private file: string | undefined;
  private activeVersion: ScriptVersion;
  private activeHash: string | undefined;
  private counter = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private cores: ScriptCores | undefined;
  private watchers: FSWatcher[] = [];
  /** The files watched now, as one string (the watch is renewed only when they change). */
  private watchKey = '';
  private debounce: NodeJS.Timeout | undefined;
  private closed = false;
  /** Versions active during this run, oldest first (at most HISTORY_MAX). */
  private readonly activations: Array<ScriptActivation & { readonly url?: string; readonly hash?: string }> = [];
  private checks = 0;
  private readonly listeners = new Set<(outcome: ReloadOutcome, trigger: ScriptTrigger) => void>();

  constructor(private readonly options: ScriptHostOptions) {
    this.log = options.log ?? silentLogger;
    this.file = options.file === undefined ? undefined : resolve(options.file);
    this.activeVersion = { version: 0, source: this.file ?? BUILTIN_DEFAULT };
    // stack traces of script errors name the script's own files and lines
    if (this.file !== undefined) process.setSourceMapsEnabled(true);
  }

  /** The version every core runs. */
  get active(): ScriptVersion {
    return this.activeVersion;
  }

  /**
   * Be told of every attempt to change the version from now on (as the `onOutcome` option): the
   * event hub's `script.reloaded`. Returns the unsubscribe.
   */
  onOutcome(listener: (outcome: ReloadOutcome, trigger: ScriptTrigger) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private tell(outcome: ReloadOutcome, trigger: ScriptTrigger): void {
    for (const l of this.options.onOutcome === undefined ? this.listeners : [this.options.onOutcome, ...this.listeners]) {
      try {
        l(outcome, trigger);
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'a listener of routing script outcomes failed');
      }
    }
  }

  /** The versions active during this run, newest first; the first is the active one. */
  get history(): readonly ScriptActivation[] {
    return this.activations
      .map(({ version, source, activatedAt, rollbackOf }) => ({ version, source, activatedAt, ...(rollbackOf === undefined ? {} : { rollbackOf }) }))
      .reverse();
  }

  private remember(v: ScriptVersion, hash: string | undefined, rollbackOf?: number): void {
    this.activations.push({ version: v.version, source: v.source, activatedAt: Date.now(), ...(v.url === undefined ? {} : { url: v.url }), ...(hash === undefined ? {} : { hash }), ...(rollbackOf === undefined ? {} : { rollbackOf }) });
    if (this.activations.length > HISTORY_MAX) this.activations.splice(0, this.activations.length - HISTORY_MAX);
  }

  /**
   * Load the first version (1): the file, or the built-in default. Throws ScriptError when the
   * file cannot be used (the server does not start). Old compiled versions are removed first.
   */
  async start(): Promise<LoadedScript> {
    await mkdir(this.options.outDir, { recursive: true });
    for (const f of await readdir(this.options.outDir)) if (f.endsWith('.mjs')) await rm(join(this.options.outDir, f), { force: true });
    if (this.file === undefined) {
      const loaded = builtinDefault();
      this.counter = 1;
      this.activeVersion = { version: 1, source: BUILTIN_DEFAULT };
      this.remember(this.activeVersion, undefined);
      return loaded;
    }
    const { loaded, version, hash, inputs } = (await this.build(this.file))!;
    this.activeVersion = version;
    this.activeHash = hash;
    this.remember(version, hash);
    if (this.options.watch ?? true) this.follow(inputs!);
    this.log.info({ script: version.version, source: version.source }, 'routing script loaded');
    return loaded;
  }

  /**
   * Take the routing script from `file` from the next reload on (routing.script changed in a
   * configuration reload). Only from a file to a file: false (nothing changes) when the server
   * runs the built-in default, whose cores were never given a file.
   */
  useFile(file: string): boolean {
    if (this.file === undefined) return false;
    this.file = resolve(file);
    return true;
  }

  /** The cores to keep on the active version (set once they exist). */
  attach(cores: ScriptCores): void {
    this.cores = cores;
  }

  /**
   * Compile, load and check the script again and make it active on every core. Never rejects:
   * the outcome says what happened. Reloads queue behind each other.
   */
  reload(trigger: 'watch' | 'command' | 'signal' = 'command'): Promise<ReloadOutcome> {
    return this.queued(() => this.reloadNow(trigger));
  }

  /**
   * Compile and load `file` (an uploaded script) and make it active on every core, as `reload`
   * does for the configured file: a version that is refused leaves the running one. The watch
   * keeps following the configured file (a change to it replaces the upload).
   */
  activateFile(file: string): Promise<ReloadOutcome> {
    return this.queued(() => this.switchTo('upload', resolve(file), async () => (await this.build(resolve(file), this.activeHash, false))));
  }

  /**
   * Activate again the compiled module of an earlier version of this run (default: the one before
   * the active one), as a new version number (the cores know each number once). Refused (ok
   * false) when no such version is kept or it is the active one.
   */
  rollback(to?: number): Promise<ReloadOutcome> {
    return this.queued(async () => {
      const active = this.activeVersion.version;
      const earlier = this.activations.filter((a) => a.version !== active);
      const target = to === undefined ? earlier.at(-1) : earlier.find((a) => a.version === to);
      if (target === undefined) {
        const message =
          to === undefined
            ? 'no earlier routing script version to roll back to in this run'
            : to === active
              ? `version ${to} is the active one`
              : `no version ${to} to roll back to (kept: ${earlier.map((a) => a.version).join(', ') || 'none'})`;
        return { ok: false, version: active, source: this.activeVersion.source, ms: 0, error: { code: 'ERR_SCRIPT_LOAD', message, detail: message } };
      }
      return this.switchTo('rollback', target.source, async () => {
        const next = ++this.counter;
        const version: ScriptVersion = { version: next, source: target.source, ...(target.url === undefined ? {} : { url: target.url }) };
        const loaded = target.url === undefined ? builtinDefault(next) : await LoadedScript.import(target.url, next, target.source);
        return { loaded, version, hash: target.hash, inputs: undefined, rollbackOf: target.version };
      });
    });
  }

  /**
   * Compile and load `code` (a script's text) as a scratch module in `<outDir>/check`, and say
   * whether it could replace the running one; activates nothing. Locations name `name` (the
   * line and column are the code's own). Its top level runs (that is part of loading it).
   */
  async check(code: string, name = 'script.ts'): Promise<CheckOutcome> {
    const dir = join(this.options.outDir, 'check');
    await mkdir(dir, { recursive: true });
    const n = ++this.checks;
    const stem = join(dir, `${process.pid}-${n}`);
    const src = `${stem}.ts`;
    const out = `${stem}.mjs`;
    try {
      await writeFile(src, code);
      const compiled = await compileScript(src, out);
      await writeFile(out, compiled.code);
      await LoadedScript.import(moduleUrl(out), 0, src);
      return { ok: true };
    } catch (e) {
      const error = errorJson(e);
      const location = error.location === undefined ? undefined : { ...error.location, file: error.location.file === src ? name : error.location.file };
      const detail = error.detail;
      return { ok: false, error: { code: error.code, detail, message: location === undefined ? detail : `${location.file}:${location.line}:${location.column}: ${detail}`, ...(location === undefined ? {} : { location }) } };
    } finally {
      await rm(src, { force: true });
      await rm(out, { force: true });
    }
  }

  private queued(step: () => Promise<ReloadOutcome>): Promise<ReloadOutcome> {
    const run = this.queue.then(step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.debounce);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  private async reloadNow(trigger: 'watch' | 'command' | 'signal'): Promise<ReloadOutcome> {
    if (this.file === undefined) {
      const current = this.activeVersion;
      const message = 'no routing script file is configured (routing.script / --script): the built-in default cannot be reloaded';
      const outcome: ReloadOutcome = { ok: false, version: current.version, source: current.source, ms: 0, error: { code: 'ERR_SCRIPT_LOAD', message, detail: 'no routing script file configured' } };
      this.tell(outcome, trigger);
      return outcome;
    }
    const file = this.file;
    return this.switchTo(trigger, file, () => this.build(file, this.activeHash));
  }

  /**
   * Build a version (undefined: the same code as the active one) and switch every core to it in
   * two steps; the outcome, never a rejection.
   */
  private async switchTo(trigger: ScriptTrigger, source: string, make: () => Promise<Built | undefined>): Promise<ReloadOutcome> {
    const started = performance.now();
    const ms = (): number => Math.round((performance.now() - started) * 10) / 10;
    const current = this.activeVersion;
    const told = (o: ReloadOutcome): ReloadOutcome => {
      this.tell(o, trigger);
      return o;
    };
    let built: Built | undefined;
    try {
      built = await make();
      if (built === undefined) {
        this.log.info({ script: current.version, source: current.source, trigger }, 'routing script unchanged');
        return told({ ok: true, version: current.version, source: current.source, changed: false, ms: ms() });
      }
      const cores = this.cores;
      if (cores !== undefined) {
        try {
          await cores.prepare(built.version, built.loaded);
        } catch (e) {
          cores.abort(built.version.version);
          throw e;
        }
        try {
          await cores.commit(built.version.version);
        } catch (e) {
          // the switch went out to every core; one did not confirm it (it died meanwhile: a
          // restarted worker catches up with the active version by itself)
          this.log.error({ script: built.version.version, err: (e as Error).message }, 'routing script switched, but not every SIP core confirmed it');
        }
      }
    } catch (e) {
      const error = errorJson(e);
      this.log.error({ script: current.version, source, trigger, err: error.message, code: error.code, location: error.location }, 'routing script refused; the running version keeps serving');
      // a new module that was refused goes; a rolled-back one stays (its version still uses it)
      if (built !== undefined && built.rollbackOf === undefined && built.version.url !== undefined) await rm(new URL(built.version.url), { force: true }).catch(() => undefined);
      return told({ ok: false, version: current.version, source: current.source, error, ms: ms() });
    }
    this.activeVersion = built.version;
    this.activeHash = built.hash;
    this.remember(built.version, built.hash, built.rollbackOf);
    if ((this.options.watch ?? true) && built.inputs !== undefined) this.follow(built.inputs);
    this.log.info({ script: built.version.version, previous: current.version, source: built.version.source, trigger, ms: ms(), ...(built.rollbackOf === undefined ? {} : { rollbackOf: built.rollbackOf }) }, 'routing script reloaded');
    return told({ ok: true, version: built.version.version, source: built.version.source, changed: true, ms: ms() });
  }

  /**
   * Compile the file, write it as the next version and import it here (which checks its exports).
   * Undefined when it compiles to `unlessHash` (nothing changed).
   */
  private async build(file: string, unlessHash?: string, watchInputs = true): Promise<Built | undefined> {
    const next = this.counter + 1;
    const out = join(this.options.outDir, `${basename(file).replace(/\.[^.]*$/, '')}.v${next}.mjs`);
    const compiled = await compileScript(file, out);
    if (unlessHash !== undefined && compiled.hash === unlessHash) return undefined;
    this.counter = next;
    await writeFile(out, compiled.code);
    const url = moduleUrl(out);
    let loaded: LoadedScript;
    try {
      loaded = await LoadedScript.import(url, next, file);
    } catch (e) {
      await rm(out, { force: true });
      throw e;
    }
    return { loaded, version: { version: next, source: file, url }, hash: compiled.hash, inputs: watchInputs ? compiled.inputs : undefined };
  }

  /** Watch the directories of the script's files; a change to one of them reloads (debounced). */
  private follow(inputs: readonly string[]): void {
    const files = new Set(inputs);
    const dirs = new Set([...files].map((f) => dirname(f)));
    const key = [...files].sort().join('\0');
    if (key === this.watchKey) return;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    this.watchKey = key;
    for (const dir of dirs) {
      try {
        const w = watch(dir, (_event, name) => {
          if (name === null || !files.has(join(dir, name.toString()))) return;
          this.changed();
        });
        w.on('error', (e) => this.log.warn({ dir, err: e.message }, 'cannot watch the routing script any more'));
        this.watchers.push(w);
      } catch (e) {
        this.log.warn({ dir, err: (e as Error).message }, 'cannot watch the routing script (reload with `parley reload`)');
      }
    }
  }

  private changed(): void {
    if (this.closed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      void this.reload('watch');
    }, this.options.debounceMs ?? 200);
  }
}
