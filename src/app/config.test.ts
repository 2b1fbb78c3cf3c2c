import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configFromObject, parseConfigText, readConfigFile } from './config.js';

describe('configuration', () => {
  it('fills every default for an empty file', () => {
    const c = parseConfigText('');
    assert.equal(c.dataDir, './parley-data');
    assert.deepEqual(c.sip.listen.map((l) => `${l.transport}:${l.port}`), ['udp:5060', 'tcp:5060', 'tls:5061']);
    assert.equal(c.sip.timers.t1, 500);
    assert.equal(c.sip.limits.maxMessageSize, 65535);
  });

  it('turns TURN on by default: UDP 3478 derived from the SIP listeners, RFC lifetimes, peers denied by default, no REST secret', () => {
    const c = parseConfigText('');
    assert.equal(c.turn.enabled, true);
    assert.deepEqual(c.turn.listen, []);
    assert.equal(c.turn.realm, undefined);
    assert.deepEqual([c.turn.minPort, c.turn.maxPort], [49152, 65535]);
    assert.deepEqual(c.turn.lifetime, { default: 600, max: 3600 });
    assert.deepEqual(c.turn.peers, { allow: [], deny: [] });
    assert.deepEqual(c.turn.restSecrets, []);
    const off = parseConfigText('turn:\n  enabled: false\n  listen:\n    - { transport: udp, port: 3479 }\n');
    assert.equal(off.turn.enabled, false);
    assert.deepEqual(off.turn.listen, [{ transport: 'udp', address: '0.0.0.0', port: 3479 }]);
    assert.throws(() => parseConfigText('turn:\n  listen:\n    - { transport: sctp, port: 3478 }\n'), /turn\.listen\[0\]\.transport: must be one of udp, tcp, tls/);
  });

  it('reads YAML and JSON alike', () => {
    const y = parseConfigText('sip:\n  listen:\n    - transport: udp\n      port: 5070\n');
    const j = parseConfigText('{"sip": {"listen": [{"transport": "udp", "port": 5070}]}}');
    assert.deepEqual(y, j);
    assert.equal(y.sip.listen[0]!.address, '0.0.0.0');
  });

  it('names the line and key of an unknown key', () => {
    assert.throws(() => parseConfigText('dataDir: /tmp/x\nsip:\n  listn: []\n', 'parley.yaml'), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.key, 'sip.listn');
      assert.equal(e.line, 3);
      assert.match(e.message, /^parley\.yaml:3: sip\.listn: unknown key/);
      return true;
    });
  });

  it('locates a key for start-time errors: its line when the file sets it, else the default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
    try {
      const file = join(dir, 'parley.yaml');
      writeFileSync(file, 'sip:\n  tls:\n    cert: /x/cert.pem\n    key: /x/key.pem\n  listen:\n    - { transport: udp, port: 5060 }\n    - transport: tcp\n      address: example.invalid\n      port: 5060\n');
      const { config, locate } = readConfigFile(file);
      assert.equal(config.sip.listen.length, 2);
      assert.equal(locate(['sip', 'tls', 'key']), `${file}:4: sip.tls.key`);
      assert.equal(locate(['sip', 'listen', 1]), `${file}:7: sip.listen[1]`);
      assert.equal(locate(['sip', 'listen', 1, 'address']), `${file}:8: sip.listen[1].address`);
      assert.equal(locate(['http', 'listen', 0]), `${file}: http.listen[0] (default)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the line and key of a bad value', () => {
    assert.throws(() => parseConfigText('sip:\n  listen:\n    - transport: udp\n      port: 70000\n'), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.key, 'sip.listen[0].port');
      assert.equal(e.line, 4);
      return true;
    });
    assert.throws(() => parseConfigText('sip:\n  listen:\n    - transport: sctp\n      port: 5060\n'), /sip\.listen\[0\]\.transport: must be one of udp, tcp, tls/);
    assert.throws(() => parseConfigText('log:\n  level: loud\n'), /config:2: log\.level/);
    assert.throws(() => configFromObject({ sip: { timers: { t1: 'fast' } } }), /sip\.timers\.t1: must be an integer/);
  });

  it('routing: a script file, watch on by default, a trace prefix that is not empty', () => {
    const c = parseConfigText('routing:\n  script: routes.ts\n  traceCallIdPrefix: TEST-\n');
    assert.deepEqual(c.routing, { script: 'routes.ts', watch: true, traceCallIdPrefix: 'TEST-' });
    assert.deepEqual(parseConfigText('').routing, { script: undefined, watch: true, traceCallIdPrefix: undefined });
    assert.throws(() => parseConfigText('routing:\n  traceCallIdPrefix: ""\n'), /config:2: routing\.traceCallIdPrefix: must be at least 1 character long/);
  });

  it('reports a syntax error with its line, and a duplicate key', () => {
    assert.throws(() => parseConfigText('sip:\n  listen: [\n'), (e: unknown) => e instanceof ConfigError && e.key === '(syntax)' && e.line !== undefined);
    assert.throws(() => parseConfigText('dataDir: a\ndataDir: b\n'), /syntax/);
  });
});

describe('digest algorithms: auth.algorithms and per listener', () => {
  it('offers MD5 alone by default, and no listener has algorithms of its own', () => {
    const c = parseConfigText('');
    assert.deepEqual(c.auth.algorithms, ['MD5']);
    for (const l of [...c.sip.listen, ...c.http.listen]) assert.equal(l.algorithms, undefined);
  });

  it('reads algorithms for a SIP and an HTTP listener', () => {
    const c = parseConfigText('sip:\n  listen:\n    - { transport: udp, port: 5060 }\n    - { transport: tls, port: 5061, algorithms: [SHA-256, MD5] }\nhttp:\n  listen:\n    - { transport: https, port: 8443, algorithms: [MD5, SHA-256] }\nauth:\n  algorithms: [MD5]\n');
    assert.deepEqual(c.sip.listen.map((l) => l.algorithms), [undefined, ['SHA-256', 'MD5']]);
    assert.deepEqual(c.http.listen[0]!.algorithms, ['MD5', 'SHA-256']);
  });

  it('refuses an unknown algorithm, an empty list and a repeated one, naming the key', () => {
    assert.throws(() => parseConfigText('auth:\n  algorithms: [MD5, SHA-512-256]\n'), /config:2: auth\.algorithms\[1\]: must be one of MD5, SHA-256/);
    assert.throws(() => parseConfigText('auth:\n  algorithms: []\n'), /auth\.algorithms: must list at least 1 value/);
    assert.throws(() => parseConfigText('sip:\n  listen:\n    - { transport: udp, port: 5060, algorithms: [MD5, MD5] }\n'), /sip\.listen\[0\]\.algorithms\[1\]: "MD5" is listed twice/);
  });
});

describe('phone.iceServers', () => {
  it('is empty by default', () => {
    assert.deepEqual(parseConfigText('').phone.iceServers, []);
  });

  it('reads STUN and TURN servers', () => {
    const c = parseConfigText('phone:\n  iceServers:\n    - urls: [stun:stun.example.net]\n    - urls: [turn:turn.example.net?transport=tcp]\n      username: u\n      credential: p\n');
    assert.deepEqual(c.phone.iceServers, [
      { urls: ['stun:stun.example.net'], username: undefined, credential: undefined },
      { urls: ['turn:turn.example.net?transport=tcp'], username: 'u', credential: 'p' },
    ]);
  });

  it('needs urls, as a list', () => {
    assert.throws(() => parseConfigText('phone:\n  iceServers:\n    - username: u\n'), /config:3: phone\.iceServers\[0\]\.urls: is required/);
    assert.throws(() => parseConfigText('phone:\n  iceServers:\n    - urls: stun:x\n'), /phone\.iceServers\[0\]\.urls: must be a list of strings/);
  });
});

describe('docs/configuration.md', () => {
  it('holds the table the code generates (run `parley config` to refresh it)', async () => {
    const { readFileSync } = await import('node:fs');
    const { configReference } = await import('./config.js');
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    assert.ok(doc.includes(configReference()), 'docs/configuration.md is out of date');
  });
});
