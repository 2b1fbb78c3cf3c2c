// The TLS profile of Parley's listeners, as a client sees it: Debian's `openssl s_client` offers one
// TLS 1.2 suite at a time to the SIP TLS listener and to the HTTPS/WSS listener. Suites without
// forward secrecy (static RSA key exchange, with GCM, CBC, CCM or ARIA) and ECDHE with CBC must be
// refused; ECDHE with AES-GCM or ChaCha20-Poly1305 (Mozilla's "intermediate" profile) and TLS 1.3
// must be accepted. Parley's development certificate is RSA, so the ECDHE-RSA suites are the ones
// that can be negotiated.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { spawnBounded } from './support/child.js';
import { ParleyServer, REPO_ROOT, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';

const pool = portPool(import.meta.url);

/** TLS 1.2 suites (OpenSSL names) that Node's default list accepted and the profile refuses. */
const REFUSED = [
  'AES128-GCM-SHA256', // static RSA key exchange: no forward secrecy
  'AES256-GCM-SHA384',
  'AES128-SHA256', // static RSA, CBC
  'AES256-SHA', // static RSA, CBC with SHA-1
  'AES128-CCM', // static RSA, CCM
  'ARIA128-GCM-SHA256', // static RSA, ARIA
  'ECDHE-RSA-AES128-SHA', // ECDHE, CBC with SHA-1
  'ECDHE-RSA-AES256-SHA', // ECDHE, CBC with SHA-1
  'ECDHE-RSA-AES128-SHA256', // ECDHE, CBC
  'ECDHE-RSA-AES256-SHA384', // ECDHE, CBC
  'ECDHE-ARIA128-GCM-SHA256', // ECDHE, ARIA
] as const;

/** ECDHE with an AEAD cipher: Mozilla's intermediate profile (RSA certificate). */
const ACCEPTED = ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305'] as const;

function opensslMissing(): string | false {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? false : 'openssl is not installed';
}

/** What `openssl s_client` negotiated with 127.0.0.1:`port` (no data sent: stdin is /dev/null). */
async function handshake(port: number, args: readonly string[]): Promise<{ ok: boolean; cipher: string | undefined; output: string }> {
  const r = await spawnBounded('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args], { cwd: REPO_ROOT, timeoutMs: 15_000 }).done;
  const output = `${r.stdout}\n${r.stderr}`;
  // "New, TLSv1.2, Cipher is ECDHE-RSA-AES128-GCM-SHA256" or "Cipher is (NONE)"
  const cipher = /Cipher is (\S+)/.exec(output)?.[1];
  return { ok: r.code === 0 && cipher !== undefined && cipher !== '(NONE)', cipher, output };
}

describe('TLS 1.2 suites of the SIP TLS and HTTPS/WSS listeners', { skip: opensslMissing() }, () => {
  let parley: ParleyServer;
  const listeners: Array<{ name: string; port: () => number }> = [
    { name: 'SIP TLS', port: () => parley.portFor('tls') },
    { name: 'HTTPS/WSS', port: () => parley.webPorts.wss! },
  ];

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['tls'], webSockets: { wss: 'auth' } });
  });

  after(() => stopCleanly(parley));

  for (const l of listeners) {
    for (const suite of REFUSED) {
      it(`${l.name} refuses ${suite}`, async () => {
        // @SECLEVEL=0: the client must not refuse to offer the suite itself
        const r = await handshake(l.port(), ['-tls1_2', '-cipher', `${suite}:@SECLEVEL=0`]);
        assert.equal(r.ok, false, `the handshake with ${suite} succeeded (${r.cipher}):\n${r.output}`);
        assert.notEqual(r.cipher, suite);
      });
    }
    for (const suite of ACCEPTED) {
      it(`${l.name} accepts ${suite}`, async () => {
        const r = await handshake(l.port(), ['-tls1_2', '-cipher', suite]);
        assert.equal(r.ok, true, `no handshake with ${suite}:\n${r.output}`);
        assert.equal(r.cipher, suite);
      });
    }
    it(`${l.name} still speaks TLS 1.3 (TLS_AES_128_GCM_SHA256)`, async () => {
      const r = await handshake(l.port(), ['-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256']);
      assert.equal(r.ok, true, r.output);
      assert.equal(r.cipher, 'TLS_AES_128_GCM_SHA256');
    });
    it(`${l.name} refuses TLS 1.1`, async () => {
      const r = await handshake(l.port(), ['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0']);
      assert.equal(r.ok, false, r.output);
    });
  }
});
