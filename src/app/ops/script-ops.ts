import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OpsError, type ScriptCheck, type ScriptInfo, type ScriptOps } from '../../api/operations.js';
import type { ReloadOutcome, ScriptHost } from '../../routing/script-host.js';

/** The longest script text `check` and `upload` take (a routing script is a page or two). */
export const MAX_SCRIPT_BYTES = 1024 * 1024;

/**
 * The routing script operations (`parley script …`, `/api/v1/script`) over the server's
 * ScriptHost: what runs and what ran before, a check that activates nothing, an upload that
 * becomes the next version through the same two-step switch as `parley reload`, a rollback.
 */
export function scriptOps(scripts: ScriptHost, dataDir: string, configuredFile: string | undefined): ScriptOps {
  const uploads = join(dataDir, 'routing', 'uploaded');

  const info = async (): Promise<ScriptInfo> => {
    const [active, ...earlier] = scripts.history;
    const iso = (ms: number): string => new Date(ms).toISOString();
    return {
      version: scripts.active.version,
      source: scripts.active.source,
      activatedAt: active === undefined ? new Date().toISOString() : iso(active.activatedAt),
      history: earlier.map((a) => ({ version: a.version, source: a.source, activatedAt: iso(a.activatedAt) })),
    };
  };

  const bounded = (code: unknown): string => {
    if (typeof code !== 'string') throw new OpsError(400, 'the script is a string', 'script');
    if (Buffer.byteLength(code) > MAX_SCRIPT_BYTES) throw new OpsError(413, `the script is longer than ${MAX_SCRIPT_BYTES} bytes`, 'script');
    if (code.trim() === '') throw new OpsError(400, 'the script is empty', 'script');
    return code;
  };

  /** The outcome of a switch as the answer: the info, or 422 with the error (the old version runs on). */
  const outcome = async (o: ReloadOutcome): Promise<ScriptInfo> => {
    if (!o.ok) throw new OpsError(422, `routing script refused: ${o.error.message}; version ${o.version} keeps serving`, 'script');
    return info();
  };

  return {
    info,
    async check(code, name): Promise<ScriptCheck> {
      if (name !== undefined && (typeof name !== 'string' || name.length > 256)) throw new OpsError(400, 'name is a string of at most 256 characters', 'name');
      const c = await scripts.check(bounded(code), name);
      if (c.ok) return { ok: true, errors: [] };
      const at = c.error.location;
      return { ok: false, errors: [{ message: c.error.message, ...(at === undefined ? {} : { line: at.line, column: at.column }) }] };
    },
    async upload(code): Promise<ScriptInfo> {
      const text = bounded(code);
      await mkdir(uploads, { recursive: true });
      // the next free number (`wx`: two uploads at once never write the same file)
      let file = '';
      for (let attempt = 0; file === ''; attempt++) {
        const numbers = (await readdir(uploads)).map((f) => (f.endsWith('.ts') ? Number(f.slice(0, -3)) : NaN)).filter(Number.isInteger);
        const candidate = join(uploads, `${Math.max(0, ...numbers) + 1}.ts`);
        try {
          await writeFile(candidate, text, { mode: 0o600, flag: 'wx' });
          file = candidate;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 10) throw e;
        }
      }
      const o = await scripts.activateFile(file);
      // a refused upload is not kept (the numbers of the kept ones are the uploads that ran)
      if (!o.ok) await rm(file, { force: true });
      return outcome(o);
    },
    async reload(): Promise<ScriptInfo> {
      if (configuredFile === undefined) throw new OpsError(409, 'no routing script file is configured (routing.script / --script): the built-in default cannot be reloaded');
      return outcome(await scripts.reload('command'));
    },
    async rollback(version): Promise<ScriptInfo> {
      if (version !== undefined && (!Number.isInteger(version) || version < 1)) throw new OpsError(400, 'version is a positive integer', 'version');
      const known = scripts.history.slice(1).map((a) => a.version);
      if (version === undefined ? known.length === 0 : !known.includes(version)) {
        throw new OpsError(
          version === undefined ? 409 : 404,
          version === undefined ? 'no earlier routing script version to roll back to in this run' : `no version ${version} to roll back to (kept: ${known.join(', ') || 'none'})`,
          'version',
        );
      }
      return outcome(await scripts.rollback(version));
    },
  };
}
