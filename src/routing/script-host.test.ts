/**
 * ScriptHost: compiling, checking and swapping script versions. A script that does not compile,
 * does not load or lacks the handlers is refused with its file, line and column, and the running
 * version stays; a no-op reload keeps the version; a core that cannot load a version means no
 * core switches; a changed file is picked up by the watch.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LoadedScript } from './loaded-script.js';
import { ScriptError } from './script-error.js';
import { ScriptHost, type ScriptCores, type ScriptVersion } from './script-host.js';

const GOOD = (label: string): string => `import type { RequestContext } from 'parley/routing';
export function onRequest(ctx: RequestContext): void {
  ctx.reply(200, '${label}');
}
`;

/** Cores that record what they were told; `failPrepare` makes the next prepare fail. */
class FakeCores implements ScriptCores {
  readonly events: string[] = [];
  loaded: LoadedScript | undefined;
  failPrepare = false;
  async prepare(v: ScriptVersion, loaded: LoadedScript): Promise<void> {
    this.events.push(`prepare ${v.version}`);
    if (this.failPrepare) {
      this.failPrepare = false;
      throw new Error('worker 1 could not load it');
    }
    this.loaded = loaded;
  }
  async commit(version: number): Promise<void> {
    this.events.push(`commit ${version}`);
  }
  abort(version: number): void {
    this.events.push(`abort ${version}`);
  }
}

describe('ScriptHost', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-host-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const write = async (name: string, text: string): Promise<string> => {
    const file = join(dir, name);
    // as an editor saves: a new file renamed over the old one
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
    return file;
  };
  const host = (file: string | undefined, watch = false): ScriptHost => new ScriptHost({ ...(file === undefined ? {} : { file }), outDir: join(dir, 'out'), watch });

  it('without a file: the built-in default script as version 1, which cannot be reloaded', async () => {
    const h = host(undefined);
    const s = await h.start();
    assert.equal(s.version, 1);
    assert.equal(s.source, 'builtin:default');
    assert.equal(typeof s.onStateless, 'function');
    const o = await h.reload();
    assert.equal(o.ok, false);
    assert.equal(o.version, 1);
  });

  it('a syntax error: refused at start with the file, line and column', async () => {
    const file = await write('syntax.ts', `import type { RequestContext } from 'parley/routing';\nexport function onRequest(ctx: RequestContext): void {\n  ctx.reply(200,;\n}\n`);
    await assert.rejects(host(file).start(), (e: unknown) => {
      assert.ok(e instanceof ScriptError);
      assert.equal(e.code, 'ERR_SCRIPT_COMPILE');
      assert.deepEqual(e.location, { file, line: 3, column: 17 });
      assert.match(e.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:17: Unexpected ";"`));
      return true;
    });
  });

  it('an import that does not resolve: a compile error naming it', async () => {
    const file = await write('missing-import.ts', `import { x } from './nowhere.js';\nexport function onRequest(): void { x(); }\n`);
    await assert.rejects(host(file).start(), (e: unknown) => e instanceof ScriptError && e.code === 'ERR_SCRIPT_COMPILE' && /nowhere/.test(e.message) && e.location?.line === 1);
  });

  it('a script whose top level throws: a load error at the line that threw (source maps)', async () => {
    const file = await write('throws.ts', `const table: Record<string, string> = {};\n\nif (table.x === undefined) {\n  throw new Error('table x is missing');\n}\nexport function onRequest(): void {}\n`);
    await assert.rejects(host(file).start(), (e: unknown) => {
      assert.ok(e instanceof ScriptError);
      assert.equal(e.code, 'ERR_SCRIPT_LOAD');
      assert.match(e.detail, /table x is missing/);
      assert.equal(e.location?.file, file);
      assert.equal(e.location?.line, 4);
      return true;
    });
  });

  it('missing or malformed handlers are refused, naming what was found', async () => {
    const none = await write('no-handler.ts', `export function onrequest(): void {}\nexport const x = 1;\n`);
    await assert.rejects(host(none).start(), /exports an onRequest function.*found onrequest, x/);
    const asyncResponse = await write('async-response.ts', `export function onRequest(): void {}\nexport async function onResponse(): Promise<void> {}\n`);
    await assert.rejects(host(asyncResponse).start(), /onResponse must be synchronous/);
    const badDump = await write('bad-dump.ts', `export function onRequest(): void {}\nexport const dumpVars = 'trunk';\n`);
    await assert.rejects(host(badDump).start(), /dumpVars is a list/);
  });

  it('a default export made with defineScript is accepted', async () => {
    const file = await write('default-export.ts', `import { defineScript } from 'parley/routing';\nexport default defineScript({ onRequest(ctx) { ctx.reply(200); } });\n`);
    const s = await host(file).start();
    assert.equal(typeof s.onRequest, 'function');
  });

  it('reload: a new version on every core, an unchanged one kept, a broken one refused with the running one kept', async () => {
    const file = await write('routes.ts', GOOD('one'));
    const h = host(file);
    const cores = new FakeCores();
    const first = await h.start();
    h.attach(cores);
    assert.equal(first.version, 1);

    await write('routes.ts', GOOD('two'));
    const two = await h.reload();
    assert.deepEqual({ ok: two.ok, version: two.version, changed: two.ok && two.changed }, { ok: true, version: 2, changed: true });
    assert.deepEqual(cores.events, ['prepare 2', 'commit 2']);
    assert.equal(cores.loaded?.version, 2);
    assert.equal(h.active.version, 2);

    const same = await h.reload();
    assert.deepEqual({ ok: same.ok, version: same.version, changed: same.ok && same.changed }, { ok: true, version: 2, changed: false });
    assert.equal(cores.events.length, 2, 'nothing sent to the cores for an unchanged script');

    await write('routes.ts', `export function onRequest(ctx) {\n  ctx.reply(200\n}\n`);
    const broken = await h.reload();
    assert.equal(broken.ok, false);
    assert.equal(broken.version, 2, 'the running version stays');
    if (!broken.ok) {
      assert.equal(broken.error.code, 'ERR_SCRIPT_COMPILE');
      assert.equal(broken.error.location?.file, file);
      assert.equal(broken.error.location?.line, 3);
    }
    assert.equal(h.active.version, 2);

    await write('routes.ts', GOOD('three'));
    cores.failPrepare = true;
    const refusedByCore = await h.reload();
    assert.equal(refusedByCore.ok, false);
    assert.match(refusedByCore.ok ? '' : refusedByCore.error.message, /worker 1 could not load it/);
    assert.deepEqual(cores.events.slice(-2), ['prepare 3', 'abort 3']);
    assert.equal(h.active.version, 2);

    const three = await h.reload();
    assert.equal(three.ok && three.changed, true);
    assert.equal(three.version, 4, 'versions only grow');
    assert.deepEqual(cores.events.slice(-2), ['prepare 4', 'commit 4']);
    h.close();
  });

  it('useFile: the next reload compiles the other file; the built-in default takes no file', async () => {
    const first = await write('first.ts', GOOD('first'));
    const second = await write('second.ts', GOOD('second'));
    const h = host(first);
    await h.start();
    h.attach(new FakeCores());
    assert.equal(h.useFile(second), true);
    const o = await h.reload();
    assert.deepEqual({ ok: o.ok, version: o.version, source: o.source }, { ok: true, version: 2, source: second });
    h.close();
    const builtin = host(undefined);
    await builtin.start();
    assert.equal(builtin.useFile(second), false);
    assert.equal((await builtin.reload()).ok, false, 'still the built-in default');
  });

  it('onOutcome is told of every reload, its trigger, and refused ones too', async () => {
    const file = await write('told.ts', GOOD('a'));
    const told: string[] = [];
    const h = new ScriptHost({ file, outDir: join(dir, 'out-told'), watch: false, onOutcome: (o, trigger) => told.push(`${trigger} ${o.ok ? (o.changed ? 'reloaded' : 'unchanged') : 'refused'} ${o.version}`) });
    await h.start();
    await write('told.ts', GOOD('b'));
    await h.reload('command');
    await h.reload('signal');
    await write('told.ts', `export function onRequest(ctx) {\n  ctx.reply(200\n}\n`);
    await h.reload('watch');
    assert.deepEqual(told, ['command reloaded 2', 'signal unchanged 2', 'watch refused 2']);
    h.close();
    const builtin = new ScriptHost({ outDir: join(dir, 'out-told2'), watch: false, onOutcome: (o, trigger) => told.push(`${trigger} ${o.ok ? 'ok' : 'refused'} ${o.version}`) });
    await builtin.start();
    await builtin.reload('command');
    assert.equal(told.at(-1), 'command refused 1');
  });

  it('concurrent reloads run one after the other', async () => {
    const file = await write('queued.ts', GOOD('a'));
    const h = host(file);
    await h.start();
    await write('queued.ts', GOOD('b'));
    const [x, y] = await Promise.all([h.reload(), h.reload()]);
    assert.equal(x.ok && x.changed, true);
    assert.equal(y.ok && !y.changed, true, 'the second saw the first one\'s result');
    assert.equal(x.version, y.version);
    h.close();
  });

  it('watch: a saved change is compiled and activated', async () => {
    const file = await write('watched.ts', GOOD('before'));
    const h = new ScriptHost({ file, outDir: join(dir, 'out'), watch: true, debounceMs: 50 });
    await h.start();
    await write('watched.ts', GOOD('after'));
    const deadline = Date.now() + 5000;
    while (h.active.version === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    assert.equal(h.active.version, 2);
    h.close();
  });

  it('check: a broken script is refused with its line and column, naming the given name, and nothing is activated', async () => {
    const file = await write('checked.ts', GOOD('running'));
    const h = host(file);
    const cores = new FakeCores();
    await h.start();
    h.attach(cores);
    const bad = await h.check(`import type { RequestContext } from 'parley/routing';\nexport function onRequest(ctx: RequestContext): void {\n  ctx.reply(200,;\n}\n`, 'new-routes.ts');
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok);
    assert.deepEqual(bad.error.location, { file: 'new-routes.ts', line: 3, column: 17 });
    assert.match(bad.error.message, /^new-routes\.ts:3:17: Unexpected ";"/);
    const noHandler = await h.check('export const x = 1;\n');
    assert.ok(!noHandler.ok);
    assert.match(noHandler.error.message, /exports an onRequest function/);
    const good = await h.check(GOOD('checked'));
    assert.deepEqual(good, { ok: true });
    assert.deepEqual(cores.events, [], 'a check activates nothing');
    assert.equal(h.active.version, 1);
    h.close();
  });

  it('activateFile, rollback and history: an upload becomes the next version, rollback runs an earlier module again, an outcome hook is told', async () => {
    const file = await write('configured.ts', GOOD('configured'));
    const told: string[] = [];
    const h = new ScriptHost({ file, outDir: join(dir, 'out'), watch: false, onOutcome: (o, t) => told.push(`${t} ${o.ok} ${o.version}`) });
    const cores = new FakeCores();
    await h.start();
    h.attach(cores);
    const heard: number[] = [];
    const stopHearing = h.onOutcome((o) => heard.push(o.version));
    const uploaded = await write('uploaded.ts', GOOD('uploaded'));
    const up = await h.activateFile(uploaded);
    assert.equal(up.ok && up.changed, true);
    assert.equal(up.version, 2);
    assert.equal(h.active.source, uploaded);
    const broken = await write('broken-upload.ts', 'export function onRequest(: void {}\n');
    const refused = await h.activateFile(broken);
    assert.equal(refused.ok, false);
    assert.equal(h.active.version, 2, 'a refused upload leaves the running version');

    stopHearing();
    const back = await h.rollback();
    assert.equal(back.ok, true);
    assert.deepEqual(heard, [2, 2], 'a listener hears until it unsubscribes');
    assert.equal(back.version, 3, 'a rollback is a new version number');
    assert.equal(h.active.source, file);
    assert.equal(cores.loaded?.version, 3);
    assert.deepEqual(
      h.history.map((a) => [a.version, a.source, a.rollbackOf]),
      [
        [3, file, 1],
        [2, uploaded, undefined],
        [1, file, undefined],
      ],
    );
    const toTwo = await h.rollback(2);
    assert.equal(toTwo.ok && h.active.source === uploaded, true);
    const none = await h.rollback(99);
    assert.equal(none.ok, false);
    assert.ok(!none.ok && /no version 99/.test(none.error.message));
    assert.deepEqual(told, ['upload true 2', 'upload false 2', 'rollback true 3', 'rollback true 4']);
    h.close();
  });

  it('rollback to the built-in default', async () => {
    const h = host(undefined);
    const cores = new FakeCores();
    await h.start();
    h.attach(cores);
    const uploaded = await write('over-default.ts', GOOD('x'));
    assert.equal((await h.activateFile(uploaded)).ok, true);
    const back = await h.rollback(1);
    assert.equal(back.ok, true);
    assert.equal(h.active.source, 'builtin:default');
    assert.equal(cores.loaded?.version, back.version);
    h.close();
  });
});
