// The pieces of a configuration reload: which keys differ, the running configuration with the
// applied ones taken over, and a refused file as an outcome that names file, line and key.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from './config.js';
import { changedKeys, LIVE_KEYS, refusedOutcome, withKeys } from './config-reload.js';

describe('configuration reload', () => {
  const before = parseConfigText('log: { level: info }\nsip: { listen: [{ transport: udp, port: 5060 }] }\n', 'a.yaml');

  it('changedKeys: leaves by their dotted path, a list as one value, nothing for an equal file', () => {
    assert.deepEqual(changedKeys(before, parseConfigText('log: { level: info }\nsip: { listen: [{ transport: udp, port: 5060 }] }\n')), []);
    const after = parseConfigText('log: { level: debug }\nsip: { listen: [{ transport: udp, port: 5070 }] }\nauth: { failureLimit: { window: 30 } }\nrouting: { script: r.ts }\n');
    assert.deepEqual(changedKeys(before, after).sort(), ['auth.failureLimit.window', 'log.level', 'routing.script', 'sip.listen']);
  });

  it('withKeys: only the applied keys are taken over (a restart-only change stays as it runs)', () => {
    const after = parseConfigText('log: { level: debug }\nsip: { listen: [{ transport: udp, port: 5070 }] }\n');
    const applied = changedKeys(before, after).filter((k) => LIVE_KEYS.includes(k));
    assert.deepEqual(applied, ['log.level']);
    const effective = withKeys(before, after, applied);
    assert.equal(effective.log.level, 'debug');
    assert.equal(effective.sip.listen[0]!.port, 5060);
    assert.equal(before.log.level, 'info', 'the configuration it was made from is not changed');
    // the next reload of the same file still names the key that waits for a restart
    assert.deepEqual(changedKeys(effective, after), ['sip.listen']);
  });

  it('refusedOutcome: a file that fails its check names file, line and key', () => {
    let error: unknown;
    try {
      parseConfigText('log:\n  level: loud\n', 'parley.yaml');
    } catch (e) {
      error = e;
    }
    const o = refusedOutcome(error, 'parley.yaml');
    assert.equal(o.ok, false);
    if (!o.ok) {
      assert.equal(o.file, 'parley.yaml');
      assert.equal(o.line, 2);
      assert.equal(o.key, 'log.level');
      assert.match(o.error, /^parley\.yaml:2: log\.level: must be one of/);
    }
  });
});
