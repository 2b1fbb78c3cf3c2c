// `parley serve` with a configuration that validates but cannot be used at start: the process
// (src/cli/main.ts under tsx, as the built dist/cli/main.js runs) exits with status 1 and one line
// on stderr naming the file, the line and the key, or the command-line option, and the cause.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { loadOrCreateCertificate } from '../sip-server/transport/tls-certificate.js';
import { silentLogger } from '../lib/logger.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Run `parley serve ARGS` to its end (bounded): its status and stderr. */
function serve(args: readonly string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--workers', '0', '--log-level', 'silent', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`parley serve ${args.join(' ')} did not exit; stderr: ${stderr}`));
    }, 30_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

describe('parley serve: start-time errors name the key and where it was set', () => {
  let dir: string;
  let udpInUse: UdpSocket;
  let tcpInUse: Server;
  let udpPort: number;
  let tcpPort: number;
  /** A certificate and the key of another one. */
  let cert: string;
  let otherKey: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-serve-errors-'));
    udpInUse = createSocket('udp4');
    await new Promise<void>((res) => udpInUse.bind(0, '127.0.0.1', () => res()));
    udpPort = udpInUse.address().port;
    tcpInUse = createServer();
    await new Promise<void>((res) => tcpInUse.listen(0, '127.0.0.1', () => res()));
    tcpPort = (tcpInUse.address() as { port: number }).port;
    const a = await loadOrCreateCertificate(join(dir, 'a'), silentLogger);
    const b = await loadOrCreateCertificate(join(dir, 'b'), silentLogger);
    cert = a.certPath!;
    otherKey = b.keyPath!;
    await writeFile(join(dir, 'garbage.pem'), 'not a certificate\n');
  });

  after(async () => {
    udpInUse.close();
    tcpInUse.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Write `yaml` as a configuration file (data in the temporary directory); its path. */
  async function config(name: string, yaml: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, `dataDir: ${join(dir, `data-${name}`)}\n${yaml}`);
    return file;
  }

  /** Asserts the one "could not start" line, and status 1. */
  function assertFails(r: { status: number | null; stderr: string }, expected: RegExp): void {
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr.trim(), expected);
  }

  it('a SIP listener whose port is in use: file, line of the list item, key', async () => {
    const file = await config(
      'in-use.yaml',
      ['sip:', '  listen:', '    - { transport: tcp, address: 127.0.0.1, port: 0 }', `    - { transport: udp, address: 127.0.0.1, port: ${udpPort} }`, 'http:', '  listen: []', ''].join('\n'),
    );
    const r = await serve(['--config', file]);
    assertFails(r, new RegExp(`^parley: could not start: ${escape(file)}:5: sip\\.listen\\[1\\]: port ${udpPort} \\(udp 127\\.0\\.0\\.1\\) is in use \\(EADDRINUSE\\)$`));
  });

  it('a TURN listener whose port is in use: file, line of the list item, key', async () => {
    const file = await config(
      'turn-in-use.yaml',
      ['sip:', '  listen:', '    - { transport: udp, address: 127.0.0.1, port: 0 }', 'http:', '  listen: []', 'turn:', '  listen:', `    - { transport: udp, address: 127.0.0.1, port: ${udpPort} }`, ''].join('\n'),
    );
    const r = await serve(['--config', file]);
    assertFails(r, new RegExp(`^parley: could not start: ${escape(file)}:9: turn\\.listen\\[0\\]: port ${udpPort} \\(udp 127\\.0\\.0\\.1\\) is in use \\(EADDRINUSE\\)$`));
  });

  it('an HTTP listener whose port is in use', async () => {
    const file = await config('http-in-use.yaml', ['sip:', '  listen: []', 'http:', '  listen:', `    - { transport: http, address: 127.0.0.1, port: ${tcpPort} }`, ''].join('\n'));
    const r = await serve(['--config', file]);
    assertFails(r, new RegExp(`^parley: could not start: ${escape(file)}:6: http\\.listen\\[0\\]: port ${tcpPort} \\(http 127\\.0\\.0\\.1\\) is in use \\(EADDRINUSE\\)$`));
  });

  it('a listener address that does not resolve, and one that is not of this host', async () => {
    const file = await config(
      'address.yaml',
      ['sip:', '  listen:', '    - transport: udp', '      address: nosuch.invalid', '      port: 0', 'http:', '  listen: []', ''].join('\n'),
    );
    assertFails(await serve(['--config', file]), new RegExp(`^parley: could not start: ${escape(file)}:5: sip\\.listen\\[0\\]\\.address: nosuch\\.invalid does not resolve \\((ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME)\\)$`));
    const foreign = await config('foreign.yaml', ['sip:', '  listen:', '    - { transport: tcp, address: 192.0.2.1, port: 0 }', 'http:', '  listen: []', ''].join('\n'));
    assertFails(await serve(['--config', foreign]), new RegExp(`^parley: could not start: ${escape(foreign)}:4: sip\\.listen\\[0\\]\\.address: 192\\.0\\.2\\.1 is not an address of this host \\(EADDRNOTAVAIL\\)$`));
  });

  it('a certificate file that is missing, one that is not PEM, and a key that is not the certificate\'s', async () => {
    const listen = ['  listen:', '    - { transport: tls, address: 127.0.0.1, port: 0 }', 'http:', '  listen: []', ''];
    const missing = await config('missing-cert.yaml', ['sip:', '  tls:', `    cert: ${join(dir, 'nowhere.pem')}`, `    key: ${otherKey}`, ...listen].join('\n'));
    assertFails(await serve(['--config', missing]), new RegExp(`^parley: could not start: ${escape(missing)}:4: sip\\.tls\\.cert: cannot read ${escape(join(dir, 'nowhere.pem'))} \\(ENOENT\\)$`));
    const garbage = await config('garbage-cert.yaml', ['sip:', '  tls:', `    cert: ${join(dir, 'garbage.pem')}`, `    key: ${otherKey}`, ...listen].join('\n'));
    assertFails(await serve(['--config', garbage]), new RegExp(`^parley: could not start: ${escape(garbage)}:4: sip\\.tls\\.cert: ${escape(join(dir, 'garbage.pem'))} is not a PEM certificate$`));
    const garbageKey = await config('garbage-key.yaml', ['sip:', '  tls:', `    cert: ${cert}`, `    key: ${join(dir, 'garbage.pem')}`, ...listen].join('\n'));
    assertFails(await serve(['--config', garbageKey]), new RegExp(`^parley: could not start: ${escape(garbageKey)}:5: sip\\.tls\\.key: ${escape(join(dir, 'garbage.pem'))} is not a PEM private key`));
    const mismatch = await config('mismatch.yaml', ['sip:', '  tls:', `    cert: ${cert}`, `    key: ${otherKey}`, ...listen].join('\n'));
    assertFails(await serve(['--config', mismatch]), new RegExp(`^parley: could not start: ${escape(mismatch)}:5: sip\\.tls\\.key: ${escape(otherKey)} is not the key of the certificate in ${escape(cert)}$`));
  });

  it('a listener given with --listen names the option', async () => {
    const file = await config('plain.yaml', 'log:\n  level: info\n');
    const spec = `udp:127.0.0.1:${udpPort}`;
    const r = await serve(['--config', file, '--listen', 'tcp:127.0.0.1:0', spec]);
    assertFails(r, new RegExp(`^parley: could not start: --listen ${escape(spec)}: port ${udpPort} \\(udp 127\\.0\\.0\\.1\\) is in use \\(EADDRINUSE\\)$`));
    const web = await serve(['--data-dir', join(dir, 'data-cli'), '--listen', `ws:127.0.0.1:${tcpPort}`]);
    assertFails(web, new RegExp(`^parley: could not start: --listen ws:127\\.0\\.0\\.1:${tcpPort}: port ${tcpPort} \\(http 127\\.0\\.0\\.1\\) is in use \\(EADDRINUSE\\)$`));
  });

  it('a data directory that cannot be made', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, '');
    const file = join(dir, 'datadir.yaml');
    await writeFile(file, `log:\n  level: info\ndataDir: ${blocker}/data\n`);
    assertFails(await serve(['--config', file]), new RegExp(`^parley: could not start: ${escape(file)}:3: dataDir: cannot create ${escape(blocker)}/data \\(ENOTDIR\\)$`));
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
