import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { generate } from 'selfsigned';
import { loadCertificateFiles, loadOrCreateCertificate } from './tls-certificate.js';
import type { Logger } from '../../lib/logger.js';
import { RecordingLogger } from './testdata/loopback.js';

describe('loadOrCreateCertificate', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-tls-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('generates a development certificate once, key 0600, and logs its SHA-256 fingerprint', async () => {
    const log = new RecordingLogger();
    const c = await loadOrCreateCertificate(dir, log);
    assert.equal(c.development, true);
    const keyMode = (await stat(join(dir, 'tls', 'dev-key.pem'))).mode & 0o777;
    assert.equal(keyMode, 0o600);
    assert.equal(await readFile(join(dir, 'tls', 'dev-cert.pem'), 'utf8'), c.cert);
    const x509 = new X509Certificate(c.cert);
    assert.equal(c.fingerprint256, x509.fingerprint256);
    assert.ok(x509.checkIP('127.0.0.1') && x509.checkIP('::1') && x509.checkHost('localhost'), 'loopback names are in the SAN');
    assert.equal(x509.publicKey.asymmetricKeyType, 'rsa');
    const line = log.lines.find((l) => l.level === 'warn');
    assert.ok(line);
    assert.match(line.msg ?? '', /development certificate/);
    assert.ok((line.msg ?? '').includes(c.fingerprint256));

    const again = await loadOrCreateCertificate(dir, new RecordingLogger());
    assert.equal(again.fingerprint256, c.fingerprint256, 'loaded, not generated again');
  });

  it('replaces an expired development certificate', async () => {
    const old = await generate([{ name: 'commonName', value: 'old' }], {
      algorithm: 'sha256',
      notBeforeDate: new Date(Date.now() - 3 * 86_400_000),
      notAfterDate: new Date(Date.now() - 86_400_000),
    });
    const d = join(dir, 'expired');
    await mkdir(join(d, 'tls'), { recursive: true });
    await writeFile(join(d, 'tls', 'dev-cert.pem'), old.cert);
    await writeFile(join(d, 'tls', 'dev-key.pem'), old.private, { mode: 0o600 });
    const c = await loadOrCreateCertificate(d, new RecordingLogger());
    assert.notEqual(c.fingerprint256, new X509Certificate(old.cert).fingerprint256);
  });

  it('loads an operator certificate from files', async () => {
    const c = await loadCertificateFiles(join(dir, 'tls', 'dev-cert.pem'), join(dir, 'tls', 'dev-key.pem'));
    assert.equal(c.development, false);
    await assert.rejects(loadCertificateFiles(join(dir, 'tls', 'dev-key.pem'), join(dir, 'tls', 'dev-key.pem')), /not a PEM certificate/);
  });

  it('accepts a pino logger as Logger', () => {
    const log: Logger = pino({ level: 'silent' });
    log.child({ module: 'transport' }).info({ a: 1 }, 'typed');
  });
});
