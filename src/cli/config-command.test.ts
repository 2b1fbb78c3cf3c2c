/**
 * `parley config check FILE`: exit status 0 for a file the server takes, 1 otherwise, with every
 * key in error named with its file and line (in line order), the variable for one from the
 * environment, and a JSON form.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkConfig } from './config-command.js';

describe('parley config check', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-cfgcheck-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a good file: exit 0', async () => {
    const file = join(dir, 'good.yaml');
    await writeFile(file, 'log:\n  level: warn\nsip:\n  workers: 2\n');
    assert.deepEqual(checkConfig(file, {}, false), { code: 0, out: `${file}: ok`, err: '' });
    assert.deepEqual(JSON.parse(checkConfig(file, {}, true).out), { ok: true, file, errors: [] });
  });

  it('a bad file: exit 1 and every error with file, line and key, in line order', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'sip:\n  workers: two\n  bogus: 1\nlog:\n  level: loud\nmedia:\n  ports:\n    min: 80\n');
    const r = checkConfig(file, {}, false);
    assert.equal(r.code, 1);
    assert.deepEqual(r.err.split('\n'), [
      `parley config check: ${file}:2: sip.workers: must be an integer (got "two")`,
      `parley config check: ${file}:3: sip.bogus: unknown key (known here: listen, tls, timers, limits, serverName, domains, advertise, workers, workerYoungGeneration, workerQueue, workerWatchdog, workerUdp)`,
      `parley config check: ${file}:5: log.level: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")`,
      `parley config check: ${file}:8: media.ports.min: must be between 1024 and 65535 (got 80)`,
    ]);
    const j = JSON.parse(checkConfig(file, {}, true).out) as { ok: boolean; errors: Array<{ line: number; key: string }> };
    assert.equal(j.ok, false);
    assert.deepEqual(
      j.errors.map((e) => [e.line, e.key]),
      [
        [2, 'sip.workers'],
        [3, 'sip.bogus'],
        [5, 'log.level'],
        [8, 'media.ports.min'],
      ],
    );
  });

  it('a syntax error, a missing file: exit 1 naming them', async () => {
    const file = join(dir, 'syntax.yaml');
    await writeFile(file, 'log:\n  level: [warn\n');
    const r = checkConfig(file, {}, false);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`${file.replaceAll('.', '\\.')}:\\d+: \\(syntax\\)`));
    const missing = checkConfig(join(dir, 'nope.yaml'), {}, false);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /nope\.yaml: \(file\): ENOENT/);
  });

  it('with the environment: a bad variable is named; without --env it is not read', async () => {
    const file = join(dir, 'env.yaml');
    await writeFile(file, 'log:\n  level: warn\n');
    assert.equal(checkConfig(file, {}, false).code, 0);
    const r = checkConfig(file, { PARLEY_SIP_WORKERS: 'x', PARLEY_LOG_LEVEL: 'loud' }, false);
    assert.equal(r.code, 1);
    assert.equal(r.err, 'parley config check: PARLEY_SIP_WORKERS: expected an integer (got "x")');
    const range = checkConfig(file, { PARLEY_LOG_LEVEL: 'loud' }, true);
    assert.deepEqual(JSON.parse(range.out).errors[0].variable, 'PARLEY_LOG_LEVEL');
  });
});
