// Packaging for operators (issue 18): the systemd unit as systemd itself reads it
// (`systemd-analyze verify`, and `systemd-analyze security --offline` for its exposure), the
// example configuration it starts with, and the configuration reload a unit's ExecReload (SIGHUP)
// and `parley reload` ask for, on a spawned daemon: log.level applies at once in the main thread
// and the SIP worker (debug lines appear), a changed key that needs a restart is named in a
// warning and keeps its running value, and a file that fails its check is refused with its file,
// line and key while the server keeps serving; POST /api/v1/config/reload does the same.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { loadConfigFile } from '../../src/app/config.js';
import { apiToken } from './support/api-token.js';
import { signalPid, spawnBounded } from './support/child.js';
import { PARLEY_CLI, REPO_ROOT, type LogLine } from './support/parley.js';
import { portPool } from './support/ports.js';
import { openUdpProbe, type UdpProbe } from './support/udp-probe.js';

const pool = portPool(import.meta.url);
const UNIT = join(REPO_ROOT, 'packaging/systemd/parley.service');
const BOUND_MS = 30_000;

const NO_SYSTEMD_ANALYZE = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0 ? false : 'needs systemd-analyze (Debian package systemd)';

async function until(what: string, check: () => boolean | Promise<boolean>, output: () => string): Promise<void> {
  const end = Date.now() + BOUND_MS;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail(`${what}: not within ${BOUND_MS} ms; output:\n${output()}`);
}

describe('the systemd unit', { skip: NO_SYSTEMD_ANALYZE }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-unit-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** The unit with its ExecStart pointing at an executable that exists (verify checks it). */
  async function unitCopy(): Promise<string> {
    const exe = join(dir, 'parley');
    await writeFile(exe, '#!/bin/sh\nexit 0\n');
    await chmod(exe, 0o755);
    const text = await readFile(UNIT, 'utf8');
    assert.match(text, /^ExecStart=\/usr\/local\/bin\/parley /m, 'the unit runs the parley of npm install -g');
    const copy = join(dir, 'parley.service');
    await writeFile(copy, text.replace(/^ExecStart=\/usr\/local\/bin\/parley /m, `ExecStart=${exe} `));
    return copy;
  }

  it('systemd-analyze verify finds nothing to say', async () => {
    const copy = await unitCopy();
    const r = await spawnBounded('systemd-analyze', ['verify', copy], { cwd: dir, timeoutMs: BOUND_MS }).done;
    assert.equal(r.code, 0, `systemd-analyze verify: status ${r.code}\n${r.stdout}${r.stderr}`);
    assert.equal((r.stdout + r.stderr).trim(), '', `systemd-analyze verify warned:\n${r.stdout}${r.stderr}`);
  });

  it('has the hardening issue 18 asks for', async () => {
    const text = await readFile(UNIT, 'utf8');
    const settings = new Map<string, string>();
    for (const line of text.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0 && !line.startsWith('#')) settings.set(line.slice(0, eq), line.slice(eq + 1));
    }
    const expected: Record<string, string> = {
      User: 'parley',
      AmbientCapabilities: 'CAP_NET_BIND_SERVICE',
      CapabilityBoundingSet: 'CAP_NET_BIND_SERVICE',
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      StateDirectory: 'parley',
      ConfigurationDirectory: 'parley',
      ExecReload: '/bin/kill -HUP $MAINPID',
      Restart: 'on-failure',
      Type: 'simple',
      MemoryDenyWriteExecute: 'no',
      SystemCallFilter: '@system-service',
    };
    for (const [k, v] of Object.entries(expected)) assert.equal(settings.get(k), v, `${k}=`);
    assert.match(settings.get('ExecStart') ?? '', / serve --config \/etc\/parley\/parley\.yaml --data-dir \/var\/lib\/parley$/);
  });

  it('systemd-analyze security --offline rates it (exposure reported, no error)', async (t) => {
    const copy = await unitCopy();
    const r = await spawnBounded('systemd-analyze', ['security', '--offline=yes', copy], { cwd: dir, timeoutMs: BOUND_MS }).done;
    if (/unrecognized option|unknown option/i.test(r.stderr)) {
      t.skip('this systemd has no --offline');
      return;
    }
    assert.equal(r.code, 0, `systemd-analyze security: status ${r.code}\n${r.stderr}`);
    const exposure = /Overall exposure level for [^:]+: ([\d.]+) (\w+)/.exec(r.stdout);
    assert.ok(exposure, r.stdout.slice(-500));
    t.diagnostic(`systemd-analyze security --offline=yes: exposure ${exposure[1]} ${exposure[2]}`);
  });

  it('its example /etc/parley/parley.yaml is a valid configuration', () => {
    const config = loadConfigFile(join(REPO_ROOT, 'packaging/systemd/parley.yaml'));
    assert.equal(config.log.level, 'info');
    assert.ok(config.sip.listen.length > 0);
  });
});

/** A response whose top Via is not Parley's: a SIP core drops it, with a debug line. */
function strayResponse(): Buffer {
  return Buffer.from(
    ['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-stray', 'From: <sip:a@127.0.0.1>;tag=1', 'To: <sip:b@127.0.0.1>;tag=2', `Call-ID: stray-${Math.random()}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'),
  );
}

/** A request from the probe at `probePort` (UDP), with a fresh Call-ID. */
function request(method: string, uri: string, to: string, probePort: number, extra: readonly string[] = []): Buffer {
  const branch = `z9hG4bK-${method.toLowerCase()}-${Math.random().toString(36).slice(2)}`;
  return Buffer.from(
    [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${probePort};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:probe@127.0.0.1>;tag=${branch.slice(-8)}`,
      `To: <${to}>`,
      `Call-ID: ${branch}@127.0.0.1`,
      `CSeq: 1 ${method}`,
      ...extra,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

function options(port: number, probePort: number): Buffer {
  const branch = `z9hG4bK-reload-${Math.random().toString(36).slice(2)}`;
  return Buffer.from(
    [
      `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${probePort};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:probe@127.0.0.1>;tag=${branch.slice(-8)}`,
      'To: <sip:127.0.0.1>',
      `Call-ID: ${branch}@127.0.0.1`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

describe('configuration reload (SIGHUP, parley reload)', { timeout: 300_000 }, () => {
  let dir: string;
  let probe: UdpProbe;
  /** The next hop of an outbound route a reload adds. */
  let nextHop: UdpProbe;
  let child: ChildProcess | undefined;
  const logs: LogLine[] = [];
  const other: string[] = [];
  const output = (): string => [...logs.slice(-40).map((l) => JSON.stringify(l)), ...other.slice(-20)].join('\n');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-reload-'));
    probe = await openUdpProbe(pool);
    nextHop = await openUdpProbe(pool);
  });
  after(async () => {
    if (child?.pid !== undefined && child.exitCode === null) signalPid(child.pid, 'SIGKILL');
    await probe?.close();
    await nextHop?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The first answer to an OPTIONS (resent up to 10 times), or undefined. */
  async function ask(port: number): Promise<string | undefined> {
    for (let i = 0; i < 10; i++) {
      const got = await probe.exchange(options(port, probe.port), '127.0.0.1', port, 500);
      if (got.length > 0) return got[0]!.toString();
    }
    return undefined;
  }

  /** A TCP connection opened and closed (the main thread logs "connection accepted" at debug). */
  async function touchTcp(port: number): Promise<void> {
    await new Promise<void>((res, rej) => {
      const s = connect(port, '127.0.0.1', () => s.end(() => res()));
      s.on('error', rej);
    });
  }

  /** The first answer of Parley's trusted listener to `message` (resent up to 5 times), or ''. */
  async function trusted(port: number, message: () => Buffer): Promise<string> {
    for (let i = 0; i < 5; i++) {
      const got = await probe.exchange(message(), '127.0.0.1', port, 500);
      if (got.length > 0) return got[0]!.toString();
    }
    return '';
  }
  const register = (port: number): Buffer => request('REGISTER', 'sip:127.0.0.1', 'sip:carol@127.0.0.1', probe.port, [`Contact: <sip:carol@127.0.0.1:${probe.port}>`, 'Expires: 90']);
  const message = (): Buffer => request('MESSAGE', 'sip:bob@elsewhere.example', 'sip:bob@elsewhere.example', probe.port);

  it('applies log.level, registrar and outbound at once in every thread, names a restart-only key, refuses a bad file with file, line and key', async () => {
    const port = await pool.block(1);
    const trustedPort = await pool.block(1);
    const httpPort = await pool.block(1);
    const data = join(dir, 'data');
    const config = join(dir, 'parley.yaml');
    const base = 'turn: { enabled: false }\nmedia: { enabled: false }\nrouting: { watch: false }\n';
    await writeFile(config, `log:\n  level: info\n${base}`);
    // no --log-level: the file's log.level is the one in force
    child = spawn(process.execPath, [PARLEY_CLI, 'serve', '--config', config, '--listen', `udp:127.0.0.1:${port}`, `tcp:127.0.0.1:${port}`, `udp:127.0.0.1:${trustedPort};noauth`, `http:127.0.0.1:${httpPort}`, '--data-dir', data, '--workers', '1'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid!;
    createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        logs.push(JSON.parse(l) as LogLine);
      } catch {
        other.push(l);
      }
    });
    createInterface({ input: child.stderr! }).on('line', (l) => other.push(l));
    const exited = new Promise<number | null>((res) => child!.once('exit', (code) => res(code)));
    await until('Parley is ready', () => logs.some((l) => l.msg === 'Parley is ready') || child!.exitCode !== null, output);
    assert.equal(child.exitCode, null, output());

    // at info: a stray response and a TCP connection leave no line
    await probe.exchange(strayResponse(), '127.0.0.1', port, 100);
    await touchTcp(port);
    assert.match((await ask(port)) ?? 'no answer', /^SIP\/2\.0 200 [^]*\r\nServer: Parley\r\n/i);
    assert.equal(logs.filter((l) => l.level === 20).length, 0, `debug lines at info:\n${output()}`);
    // registrar.minExpires 60: 90 s granted; no outbound route: another domain is refused
    assert.match(await trusted(trustedPort, () => register(trustedPort)), /^SIP\/2\.0 200 /);
    assert.match(await trusted(trustedPort, message), /^SIP\/2\.0 403 /);

    // debug, a stricter limiter (both live), and another Server header (only after a restart)
    await writeFile(
      config,
      `log:\n  level: debug\nauth:\n  failureLimit: { maxFailures: 5 }\nsip:\n  serverName: Renamed\nregistrar:\n  minExpires: 120\nproxy:\n  outbound: [{ domain: elsewhere.example, uri: "sip:127.0.0.1:${nextHop.port}" }]\n${base}`,
    );
    signalPid(pid, 'SIGHUP');
    await until('the configuration reload', () => logs.some((l) => l.msg === 'configuration reloaded'), output);
    const reloaded = logs.find((l) => l.msg === 'configuration reloaded')!;
    assert.deepEqual([...(reloaded.applied as string[])].sort(), ['auth.failureLimit.maxFailures', 'log.level', 'proxy.outbound', 'registrar.minExpires']);
    assert.deepEqual(reloaded.restart, ['sip.serverName']);
    assert.equal(reloaded.trigger, 'signal');
    const warning = logs.find((l) => l.key === 'sip.serverName' && l.level === 40);
    assert.ok(warning, `no warning for the restart-only key:\n${output()}`);
    assert.match(String(warning.msg), /restart to apply/);
    assert.equal(warning.where, `${config}:6: sip.serverName`);

    // debug lines now: the SIP worker's (a stray response) and the main thread's (a connection)
    await probe.exchange(strayResponse(), '127.0.0.1', port, 100);
    await touchTcp(port);
    await until('a debug line of the SIP worker', () => logs.some((l) => l.level === 20 && l.worker !== undefined), output);
    await until('a debug line of the main thread', () => logs.some((l) => l.level === 20 && l.worker === undefined), output);
    // the restart-only key kept its running value
    assert.match((await ask(port)) ?? 'no answer', /^SIP\/2\.0 200 [^]*\r\nServer: Parley\r\n/i);
    // the SIP core's registrar has the new bound: 90 s is too brief now
    assert.match(await trusted(trustedPort, () => register(trustedPort)), /^SIP\/2\.0 423 [^]*\r\nMin-Expires: 120\r\n/i);
    // and its outbound route: the MESSAGE goes to the next hop
    nextHop.inbox.length = 0;
    await probe.exchange(message(), '127.0.0.1', trustedPort, 200);
    const relayedMessage = (): string => nextHop.inbox.map((m) => m.toString()).find((m) => m.startsWith('MESSAGE ')) ?? '';
    await until('the MESSAGE at the next hop', () => relayedMessage() !== '', output);
    const relayed = relayedMessage();
    assert.match(relayed, /^MESSAGE sip:bob@elsewhere\.example SIP\/2\.0\r\n/, `the outbound route was not taken:\n${output()}`);

    // a file that fails its check: `parley reload` prints file, line and key, exits 1; nothing changes
    await writeFile(config, `log:\n  level: loud\n${base}`);
    const r = await spawnBounded(process.execPath, [PARLEY_CLI, 'reload', '--data-dir', data], { cwd: dir, timeoutMs: BOUND_MS }).done;
    assert.equal(r.code, 1, `parley reload: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`configuration refused: ${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: log\\.level: must be one of`));
    const refused = logs.find((l) => l.msg === 'configuration refused; the running configuration stays');
    assert.ok(refused, output());
    assert.deepEqual({ file: refused.file, line: refused.line, key: refused.key, trigger: refused.trigger }, { file: config, line: 2, key: 'log.level', trigger: 'command' });
    assert.match((await ask(port)) ?? 'no answer', /^SIP\/2\.0 200 /);

    // the same through the API: 422 naming the key
    const token = apiToken(data, 'admin');
    const viaApi = (): Promise<Response> => fetch(`http://127.0.0.1:${httpPort}/api/v1/config/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(BOUND_MS) });
    const refusedByApi = await viaApi();
    assert.equal(refusedByApi.status, 422, await refusedByApi.clone().text());
    assert.equal(((await refusedByApi.json()) as { field?: string }).field, 'log.level');

    // fixed again, through `parley reload`: back to info, said on stdout, status 0
    await writeFile(config, `log:\n  level: info\n${base}`);
    const ok = await spawnBounded(process.execPath, [PARLEY_CLI, 'reload', '--data-dir', data], { cwd: dir, timeoutMs: BOUND_MS }).done;
    assert.equal(ok.code, 0, `parley reload: ${ok.stdout}${ok.stderr}`);
    assert.match(ok.stdout, /configuration reloaded \(.*\): applied .*log\.level/);
    for (const key of ['auth.failureLimit.maxFailures', 'registrar.minExpires', 'proxy.outbound']) assert.ok(ok.stdout.includes(key), ok.stdout);
    assert.match(ok.stdout, /routing script: the built-in default/);
    // and the API: nothing changed since
    const unchanged = await viaApi();
    assert.equal(unchanged.status, 200, await unchanged.clone().text());
    assert.deepEqual(await unchanged.json(), { file: config, applied: [], restart: [] });

    signalPid(pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'late'>((res) => (timer = setTimeout(() => res('late'), BOUND_MS)))]);
    clearTimeout(timer);
    assert.equal(code, 0, output());
  });
});
