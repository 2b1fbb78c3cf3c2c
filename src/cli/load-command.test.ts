import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaptureStream } from '../../test/support/capture-stream.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { MemoryRegistrar } from '../load/testdata/memory-registrar.js';
import { LOAD_EXIT, runLoadCommand, type LoadCommandOptions } from './load-command.js';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[], hooks: Partial<LoadCommandOptions> = {}): Promise<Outcome> {
  const stdout = new CaptureStream();
  const stderr = new CaptureStream();
  const code = await runLoadCommand(args, {
    stdout,
    stderr,
    fdLimit: () => ({ soft: 20_000, hard: 20_000 }),
    lookup: async (host) => (host === 'localhost' ? ['127.0.0.1'] : ['192.0.2.1']),
    // nothing is ever opened unless a test says so
    connect: async () => {
      throw new Error('connection refused (nothing listens there?)');
    },
    ...hooks,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('parley load (command line)', () => {
  it('--help lists the options, the safety rules and examples, exit 0', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, LOAD_EXIT.ok);
    for (const text of ['--target <url>', '--users <n>', '--rate <per-second>', '--user-pattern', '--password-file', '--hold', '--duration', '--expires', '--insecure', '--json', '--allow-remote', 'ulimit -n', 'Examples:', 'parley load --target wss://127.0.0.1:8443/sip']) {
      assert.ok(r.stdout.includes(text), `help lacks ${text}`);
    }
  });

  const usage: Array<[string, string[], RegExp]> = [
    ['no target', [], /parley load: --target is required/],
    ['a bad rate', ['--target', 'ws://127.0.0.1:8070', '--rate', 'fast'], /parley load: --rate "fast"/],
    ['zero users', ['--target', 'ws://127.0.0.1:8070', '--users', '0'], /parley load: --users 0: must be from 1/],
    ['an unknown option', ['--target', 'ws://127.0.0.1:8070', '--userz', '5'], /unknown option '--userz'/],
    ['a bad keepalive', ['--target', 'ws://127.0.0.1:8070', '--keepalive', 'tcp'], /argument 'tcp' is invalid.*ping, crlf, none/],
    ['an http target', ['--target', 'http://127.0.0.1:8070'], /the scheme must be wss: or ws:/],
  ];
  for (const [name, args, message] of usage) {
    it(`${name}: a clear error, the usage line, exit 2`, async () => {
      const r = await run(args);
      assert.equal(r.code, LOAD_EXIT.usage);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /Usage: parley load --target ws\[s\]:\/\/HOST:PORT\/PATH \[options\]/);
      assert.equal(r.stdout, '');
    });
  }

  it('refuses a target that is not loopback, unless --allow-remote', async () => {
    const r = await run(['--target', 'wss://192.0.2.1:8443/sip']);
    assert.equal(r.code, LOAD_EXIT.usage);
    assert.match(r.stderr, /refusing --target wss:\/\/192\.0\.2\.1:8443\/sip: 192\.0\.2\.1 is not a loopback address/);
    const named = await run(['--target', 'wss://sip.example.com/sip']);
    assert.match(named.stderr, /sip\.example\.com resolves to 192\.0\.2\.1, not a loopback address/);
    // with --allow-remote it goes on (and fails to connect: this test opens nothing)
    const allowed = await run(['--target', 'wss://192.0.2.1:8443/sip', '--allow-remote', '--users', '1']);
    assert.equal(allowed.code, LOAD_EXIT.failures);
    assert.match(allowed.stdout, /1 × connection failed: connection refused/);
  });

  it('stops before connecting when the open-files limit is too low, saying how to raise it', async () => {
    let connects = 0;
    const r = await run(['--target', 'ws://localhost:8070', '--users', '5000'], {
      fdLimit: () => ({ soft: 1024, hard: 20_000 }),
      connect: async () => {
        connects++;
        throw new Error('x');
      },
    });
    assert.equal(r.code, LOAD_EXIT.usage);
    assert.match(r.stderr, /5000 connections need about 5064 open files, but this process may open only 1024 \(ulimit -n\); raise it in this shell first: ulimit -n 5064/);
    assert.equal(connects, 0);
  });

  it('runs and prints the report as JSON without the password, exit 0 when all registered', async () => {
    const registrar = new MemoryRegistrar({ domain: '127.0.0.1:8070', users: { a1: 'pw', a2: 'pw', a3: 'pw' }, clock: new FakeClock() });
    const r = await run(['--target', 'ws://127.0.0.1:8070', '--users', '3', '--rate', '1000', '--user-pattern', 'a%d', '--password', 'pw', '--json'], {
      connect: async () => registrar.connect(),
    });
    assert.equal(r.code, LOAD_EXIT.ok, r.stderr);
    const report = JSON.parse(r.stdout) as Record<string, any>;
    assert.equal(report.success, true);
    assert.equal(report.registrations.ok, 3);
    assert.equal(report.registrations.challenges, 3);
    assert.equal(report.settings.users, 3);
    assert.ok(!r.stdout.includes('"pw"'), 'the password is not in the report');
    assert.deepEqual(
      registrar.flows.map((f) => f.requests[0]!.to.uri.toString()),
      ['sip:a1@127.0.0.1:8070', 'sip:a2@127.0.0.1:8070', 'sip:a3@127.0.0.1:8070'],
    );
    assert.equal(r.stderr, '', 'no progress bar when the output is not a terminal');
  });

  it('exit 1 and the failures in words when registrations fail', async () => {
    const registrar = new MemoryRegistrar({ domain: '127.0.0.1:8070', users: { user000001: 'right' }, clock: new FakeClock() });
    const r = await run(['--target', 'ws://127.0.0.1:8070', '--users', '2', '--password', 'wrong'], { connect: async () => registrar.connect() });
    assert.equal(r.code, LOAD_EXIT.failures);
    assert.match(r.stdout, /registrations {2}ok 0 of 2, failed 2/);
    assert.match(r.stdout, /2 × registration failed: 401 Unauthorized \(credentials refused: wrong password or unknown user\)/);
  });
});
