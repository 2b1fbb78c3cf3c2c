/**
 * The DTLS certificate of a media plane: one self-signed ECDSA P-256 certificate, made when the
 * media plane starts (or read from files when the operator keeps one), and its fingerprint as
 * SDP writes it (RFC 8122 §5: `a=fingerprint:sha-256 AB:CD:...`).
 *
 * RFC 5763 §5: the certificates are self-signed; each end checks the other's against the
 * fingerprint in the signaling, not against a certificate authority. RFC 8827 §6.5 asks for a
 * fresh key per browsing context; a media gateway keeps one per process, as rtpengine does.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { CipherContext, HashAlgorithm, NamedCurveAlgorithm, SignatureAlgorithm, type SignatureHash } from 'werift';

export interface DtlsCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** werift's name for what the certificate's key signs with (ECDSA with SHA-256). */
  readonly signatureHash: SignatureHash;
  /** The fingerprint for a=fingerprint: hash name in lower case, colon-separated upper-case hex. */
  readonly fingerprint: { readonly algorithm: 'sha-256'; readonly value: string };
}

const ECDSA_SHA256: SignatureHash = { hash: HashAlgorithm.sha256_4, signature: SignatureAlgorithm.ecdsa_3 };

/** `AB:CD:...` of the SHA-256 of `der` (RFC 8122 §5: upper-case hex, pairs separated by colons). */
export function sha256Fingerprint(der: Uint8Array): string {
  return certificateFingerprint(der, 'sha-256')!;
}

/**
 * The fingerprint of a DER certificate under the hash function SDP names (`sha-1`, `sha-256`,
 * `sha-384`, `sha-512`; RFC 8122 §5 "hash-func"), or undefined for a name Parley does not
 * compute (`md5`, `md2`, unknown ones).
 */
export function certificateFingerprint(der: Uint8Array, algorithm: string): string | undefined {
  const name = HASHES.get(algorithm.toLowerCase());
  if (name === undefined) return undefined;
  const digest = createHash(name).update(der).digest('hex').toUpperCase();
  let out = '';
  for (let i = 0; i < digest.length; i += 2) out += (i === 0 ? '' : ':') + digest.slice(i, i + 2);
  return out;
}

const HASHES = new Map([['sha-1', 'sha1'], ['sha-224', 'sha224'], ['sha-256', 'sha256'], ['sha-384', 'sha384'], ['sha-512', 'sha512']]);

/**
 * True when `der` matches one of the a=fingerprint lines (RFC 8122 §5, compared without regard
 * to case). An SDP may carry several (RFC 8122 §5); a match under any supported hash of at
 * least SHA-256 is enough, and SHA-1 counts only when nothing stronger is offered.
 */
export function fingerprintMatches(der: Uint8Array, fingerprints: readonly { readonly algorithm: string; readonly value: string }[]): boolean {
  const usable = fingerprints.filter((f) => HASHES.has(f.algorithm.toLowerCase()));
  const strong = usable.filter((f) => f.algorithm.toLowerCase() !== 'sha-1');
  const candidates = strong.length > 0 ? strong : usable;
  return candidates.some((f) => certificateFingerprint(der, f.algorithm) === f.value.toUpperCase());
}

/** The certificate of `certPem` with `keyPem` (both PEM), its fingerprint computed. */
export function dtlsCertificateFrom(certPem: string, keyPem: string): DtlsCertificate {
  const der = new X509Certificate(certPem).raw;
  return { certPem, keyPem, signatureHash: ECDSA_SHA256, fingerprint: { algorithm: 'sha-256', value: sha256Fingerprint(der) } };
}

/** A new self-signed ECDSA P-256 certificate (werift's generator: WebCrypto and @fidm/x509). */
export async function createDtlsCertificate(): Promise<DtlsCertificate> {
  const made = await CipherContext.createSelfSignedCertificateWithKey(ECDSA_SHA256, NamedCurveAlgorithm.secp256r1_23);
  return dtlsCertificateFrom(made.certPem, made.keyPem);
}

/**
 * The certificate in `files` (PEM certificate and key) when both can be read, else a new one,
 * written there when `files` is given (so that fingerprints survive a restart of the media
 * plane). Without `files`, a new certificate each time.
 */
export async function loadOrCreateCertificate(files?: { readonly cert: string; readonly key: string }): Promise<DtlsCertificate> {
  if (files !== undefined) {
    try {
      const [certPem, keyPem] = await Promise.all([readFile(files.cert, 'utf8'), readFile(files.key, 'utf8')]);
      return dtlsCertificateFrom(certPem, keyPem);
    } catch {
      // missing or unreadable: make one below
    }
  }
  const made = await createDtlsCertificate();
  if (files !== undefined) {
    await writeFile(files.key, made.keyPem, { mode: 0o600 });
    await writeFile(files.cert, made.certPem, { mode: 0o644 });
  }
  return made;
}
