/**
 * PARLEY_… environment variables: one per key of the schema, none shared; values parsed by the
 * key's type with errors naming the variable; the file < environment precedence; the variables'
 * table in docs/configuration.md is the one the schema makes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONFIG_SCHEMA, ConfigError, envReference, readConfigEnv, readConfigFile } from './config.js';
import { envKeys, envName, screamingSnake } from './config-env.js';
import { describeSchema } from './config-schema.js';

describe('configuration from PARLEY_… environment variables', () => {
  it('every key of the schema has one variable, and no two keys share one', () => {
    const keys = envKeys(CONFIG_SCHEMA);
    // the keys of the documentation table, lists as one key each (not their items' fields)
    const documented = describeSchema(CONFIG_SCHEMA)
      .map((row) => row.split('`')[1]!)
      .filter((k) => !k.includes('[]'));
    assert.deepEqual(
      keys.map((k) => k.path.join('.')),
      documented,
    );
    const names = new Map<string, string>();
    for (const k of keys) {
      const other = names.get(k.name);
      assert.equal(other, undefined, `${k.name} would set both ${other} and ${k.path.join('.')}`);
      names.set(k.name, k.path.join('.'));
      assert.ok(k.name.startsWith('PARLEY_') && [...k.name.slice(7)].every((c) => (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_'), k.name);
    }
  });

  it('the naming rule: camelCase words split, path parts joined with _', () => {
    assert.equal(screamingSnake('workerQueue'), 'WORKER_QUEUE');
    assert.equal(screamingSnake('t1'), 'T1');
    assert.equal(envName(['log', 'level']), 'PARLEY_LOG_LEVEL');
    assert.equal(envName(['sip', 'workers']), 'PARLEY_SIP_WORKERS');
    assert.equal(envName(['media', 'ports', 'min']), 'PARLEY_MEDIA_PORTS_MIN');
    assert.equal(envName(['sip', 'workerQueue', 'maxMessages']), 'PARLEY_SIP_WORKER_QUEUE_MAX_MESSAGES');
    assert.equal(envName(['dataDir']), 'PARLEY_DATA_DIR');
  });

  it('values by type: integer, boolean, string, enum, list of strings (comma or JSON), list of objects (JSON)', () => {
    const { config, locate } = readConfigEnv({
      PARLEY_LOG_LEVEL: 'debug',
      PARLEY_SIP_WORKERS: '2',
      PARLEY_MEDIA_PORTS_MIN: '30000',
      PARLEY_MEDIA_ENABLED: 'false',
      PARLEY_ROUTING_WATCH: '0',
      PARLEY_SIP_DOMAINS: 'example.com, example.org',
      PARLEY_HTTP_ORIGINS: '["https://a.example"]',
      PARLEY_TURN_REST_SECRETS: '',
      PARLEY_SIP_LISTEN: '[{"transport":"udp","address":"127.0.0.1","port":5070}]',
      PARLEY_DATA_DIR: '/var/lib/parley',
      PARLEY_ROOT: '/somewhere', // another tool's variable: no key, left alone
    });
    assert.equal(config.log.level, 'debug');
    assert.equal(config.sip.workers, 2);
    assert.equal(config.media.ports.min, 30000);
    assert.equal(config.media.enabled, false);
    assert.equal(config.routing.watch, false);
    assert.deepEqual(config.sip.domains, ['example.com', 'example.org']);
    assert.deepEqual(config.http.origins, ['https://a.example']);
    assert.deepEqual(config.turn.restSecrets, []);
    assert.deepEqual(config.sip.listen, [{ transport: 'udp', address: '127.0.0.1', port: 5070, auth: true, algorithms: undefined }]);
    assert.equal(config.dataDir, '/var/lib/parley');
    assert.equal(locate(['sip', 'listen', 0]), 'PARLEY_SIP_LISTEN (environment): sip.listen[0]');
    assert.equal(locate(['log', 'statsInterval']), 'log.statsInterval');
  });

  it('errors name the variable: a wrong type, a value out of range or not a choice, an item of a JSON list', () => {
    const fails = (env: Record<string, string>, message: string): void => {
      assert.throws(
        () => readConfigEnv(env),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError);
          assert.equal(e.message, message);
          return true;
        },
      );
    };
    fails({ PARLEY_SIP_WORKERS: 'two' }, 'PARLEY_SIP_WORKERS: expected an integer (got "two")');
    fails({ PARLEY_SIP_WORKERS: '2.5' }, 'PARLEY_SIP_WORKERS: expected an integer (got "2.5")');
    fails({ PARLEY_MEDIA_ENABLED: 'yes please' }, 'PARLEY_MEDIA_ENABLED: expected true or false (got "yes please")');
    fails({ PARLEY_LOG_LEVEL: 'loud' }, 'PARLEY_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")');
    fails({ PARLEY_MEDIA_PORTS_MIN: '80' }, 'PARLEY_MEDIA_PORTS_MIN: must be between 1024 and 65535 (got 80)');
    fails({ PARLEY_SIP_LISTEN: '[{"transport":"udp","port":70000}]' }, 'PARLEY_SIP_LISTEN: must be between 0 and 65535 (got 70000) (at [0].port)');
    fails({ PARLEY_SIP_LISTEN: 'udp:0.0.0.0:5060' }, 'PARLEY_SIP_LISTEN: expected JSON (Unexpected token \'u\', "udp:0.0.0.0:5060" is not valid JSON)');
  });

  it('precedence: a variable replaces what the file says; the other keys stay', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-env-'));
    const file = join(dir, 'parley.yaml');
    await writeFile(file, 'log:\n  level: warn\n  statsInterval: 30\nsip:\n  workers: 4\n');
    assert.equal(readConfigFile(file).config.sip.workers, 4);
    const { config, locate } = readConfigFile(file, { PARLEY_SIP_WORKERS: '1' });
    assert.equal(config.sip.workers, 1);
    assert.equal(config.log.level, 'warn');
    assert.equal(config.log.statsInterval, 30);
    assert.equal(locate(['sip', 'workers']), 'PARLEY_SIP_WORKERS (environment): sip.workers');
    assert.equal(locate(['log', 'level']), `${file}:2: log.level`);
    // an error in the file still names the file and line
    await writeFile(file, 'log:\n  level: loud\n');
    assert.throws(() => readConfigFile(file, { PARLEY_SIP_WORKERS: '1' }), new RegExp(`${file.replaceAll('.', '\\.')}:2: log\\.level: must be one of`));
    await rm(dir, { recursive: true, force: true });
  });

  it('docs/configuration.md lists every variable (run `parley config env` to refresh it)', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    assert.ok(doc.includes(envReference()), 'docs/configuration.md: the environment variables table is out of date');
  });
});
