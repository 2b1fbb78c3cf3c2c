import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { Logger } from '../../lib/logger.js';

/**
 * A configured certificate or key file that cannot be used: `which` of the two, the file, and why
 * (`detail`, in words); the system error, if any, is `cause`. The composition root names the
 * configuration key (`sip.tls.cert`, `sip.tls.key`) it came from.
 */
export class CertificateFileError extends Error {
  constructor(
    readonly which: 'cert' | 'key',
    readonly file: string | undefined,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(detail, options);
    this.name = 'CertificateFileError';
  }
}

/** A certificate and its private key, PEM-encoded, ready for a TLS secure context. */
export interface TlsCertificate {
  /** The certificate (chain), PEM. */
  readonly cert: string;
  /** The private key, PEM. */
  readonly key: string;
  /** SHA-256 fingerprint of the certificate, colon-separated hex (as browsers and openssl show it). */
  readonly fingerprint256: string;
  /** True for the self-signed development certificate of `loadOrCreateCertificate`. */
  readonly development: boolean;
  readonly certPath?: string;
  readonly keyPath?: string;
}

/** Where the development certificate lives inside the data directory. */
export const DEV_CERT_FILE = join('tls', 'dev-cert.pem');
export const DEV_KEY_FILE = join('tls', 'dev-key.pem');

/**
 * The self-signed development certificate of this data directory: loaded from
 * `<dataDir>/tls/dev-cert.pem` and `dev-key.pem`, or generated there (key written with mode 0600)
 * when absent or expired. Its subject alternative names are localhost, 127.0.0.1, ::1 and this
 * machine's host name. The log says it is a development certificate and gives its SHA-256
 * fingerprint, so that a user can check what a browser or phone shows.
 */
export async function loadOrCreateCertificate(dataDir: string, log: Logger): Promise<TlsCertificate> {
  const certPath = join(dataDir, DEV_CERT_FILE);
  const keyPath = join(dataDir, DEV_KEY_FILE);
  const existing = await readPair(certPath, keyPath);
  if (existing !== undefined) {
    const x509 = parseCertificate(existing.cert);
    if (x509 !== undefined && Date.parse(x509.validTo) > Date.now() + 86_400_000) {
      const certificate = { ...existing, fingerprint256: x509.fingerprint256, development: true, certPath, keyPath };
      log.warn(
        { certPath, fingerprint256: certificate.fingerprint256 },
        `TLS: using the self-signed development certificate (SHA-256 ${certificate.fingerprint256}); configure a real certificate for production`,
      );
      return certificate;
    }
    log.info({ certPath }, 'TLS: development certificate unreadable or about to expire; generating a new one');
  }

  const host = hostname();
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 365 * 86_400_000);
  const pems = await generate([{ name: 'commonName', value: 'Parley development certificate' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          ...(host && host !== 'localhost' ? [{ type: 2 as const, value: host }] : []),
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });

  await mkdir(join(dataDir, 'tls'), { recursive: true, mode: 0o700 });
  await writePrivate(keyPath, pems.private, 0o600);
  await writePrivate(certPath, pems.cert, 0o644);
  const x509 = new X509Certificate(pems.cert);
  log.warn(
    { certPath, keyPath, fingerprint256: x509.fingerprint256 },
    `TLS: generated a self-signed development certificate (SHA-256 ${x509.fingerprint256}); configure a real certificate for production`,
  );
  return { cert: pems.cert, key: pems.private, fingerprint256: x509.fingerprint256, development: true, certPath, keyPath };
}

/**
 * The certificate of a TLS server of Parley (SIP over TLS, HTTPS): from the configured files when
 * there are some (both needed), else the development certificate of `dataDir`.
 */
export async function loadServerCertificate(files: { readonly certFile?: string; readonly keyFile?: string }, dataDir: string | undefined, log: Logger): Promise<TlsCertificate> {
  if (files.certFile !== undefined || files.keyFile !== undefined) {
    if (files.certFile === undefined) throw new CertificateFileError('cert', undefined, 'a key file is configured without its certificate');
    if (files.keyFile === undefined) throw new CertificateFileError('key', undefined, 'a certificate file is configured without its key');
    const c = await loadCertificateFiles(files.certFile, files.keyFile);
    log.info({ certPath: c.certPath, fingerprint256: c.fingerprint256 }, 'TLS certificate loaded');
    return c;
  }
  if (dataDir !== undefined) return loadOrCreateCertificate(dataDir, log);
  throw new TypeError('a TLS listener needs tls.certFile and tls.keyFile, or a dataDir for a development certificate');
}

/**
 * A certificate (chain) and key from PEM files, as configured by the operator. Rejects with a
 * CertificateFileError when a file cannot be read, is not PEM, or the key is not the certificate's.
 */
export async function loadCertificateFiles(certPath: string, keyPath: string): Promise<TlsCertificate> {
  const read = async (which: 'cert' | 'key', path: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      throw new CertificateFileError(which, path, `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
    }
  };
  const [cert, key] = await Promise.all([read('cert', certPath), read('key', keyPath)]);
  const x509 = parseCertificate(cert);
  if (x509 === undefined) throw new CertificateFileError('cert', certPath, `${certPath} is not a PEM certificate`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    throw new CertificateFileError('key', keyPath, `${keyPath} is not a PEM private key (or it is encrypted)`, { cause: e });
  }
  if (!x509.checkPrivateKey(privateKey)) throw new CertificateFileError('key', keyPath, `${keyPath} is not the key of the certificate in ${certPath}`);
  return { cert, key, fingerprint256: x509.fingerprint256, development: false, certPath, keyPath };
}

async function readPair(certPath: string, keyPath: string): Promise<{ cert: string; key: string } | undefined> {
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { cert, key };
  } catch {
    return undefined;
  }
}

function parseCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/** Write through a temporary file and rename, so a crash never leaves half a key behind. */
async function writePrivate(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode); // the umask may have removed bits; never leaves more than `mode`
  await rename(tmp, path);
}
