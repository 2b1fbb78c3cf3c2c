// `parley turn-check`, run from the built CLI as an operator runs it, against coturn's turnserver
// (Debian's coturn: a real TURN server, the one most deployments use) and against Parley's own
// TURN server: each step passes on a working setup, and each broken setup fails at its step with
// the cause in words.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnBounded } from './support/child.js';
import { Coturn, skipWithoutCoturn } from './support/coturn.js';
import { PARLEY_CLI, ParleyServer, REPO_ROOT } from './support/parley.js';
import { portPool } from './support/ports.js';
import { runTurnCheck, type CheckReport } from '../../src/turn-check/turn-check.js';
import { parseIceServerUrl } from '../../src/turn-check/ice-server-url.js';
import { randomBytes } from 'node:crypto';
import { longTermKey, PasswordAlgorithm, passwordAlgorithmsValue, userHash } from '../../src/stun/credentials.js';
import { parseStunMessage, StunAttr, StunMessageBuilder, StunMethod, verifyMessageIntegritySha256, type StunMessage } from '../../src/stun/index.js';
import { openUdpProbe } from './support/udp-probe.js';

const pool = portPool(import.meta.url);
const skip = skipWithoutCoturn();

interface Run {
  readonly code: number | null;
  readonly report: CheckReport | undefined;
  readonly text: string;
}

/** `parley turn-check ARGS` (JSON report), bounded. */
async function turnCheck(args: readonly string[], json = true): Promise<Run> {
  const argv = [PARLEY_CLI, 'turn-check', ...args, ...(json ? ['--json'] : [])];
  const r = await spawnBounded(process.execPath, argv, { cwd: REPO_ROOT, timeoutMs: 60_000 }).done;
  let report: CheckReport | undefined;
  try {
    report = json ? (JSON.parse(r.stdout) as CheckReport) : undefined;
  } catch {
    report = undefined;
  }
  return { code: r.code, report, text: `parley ${argv.slice(1).join(' ')}\nexit ${r.code ?? r.signal}\n${r.stdout}\n${r.stderr}` };
}

const step = (r: Run, name: string) => r.report?.steps.find((s) => s.name === name);
/** The step that failed, with its detail; everything before it passed and everything after was skipped. */
function failedAt(r: Run, name: string): string {
  assert.equal(r.code, 1, r.text);
  const steps = r.report!.steps;
  const i = steps.findIndex((s) => s.status === 'failed');
  assert.equal(steps[i]?.name, name, r.text);
  assert.ok(steps.slice(0, i).every((s) => s.status === 'ok'), r.text);
  assert.ok(steps.slice(i + 1).every((s) => s.status === 'skipped'), r.text);
  return steps[i]!.detail;
}
function passed(r: Run): void {
  assert.equal(r.code, 0, r.text);
  assert.ok(r.report!.ok && r.report!.steps.every((s) => s.status === 'ok'), r.text);
}

describe('parley turn-check against coturn', { skip }, () => {
  let coturn: Coturn;
  let rest: Coturn;
  let strict: Coturn;
  const url = (c: Coturn, q = '') => `turn:127.0.0.1:${c.port}${q}`;

  before(async () => {
    coturn = await Coturn.start({ pool, auth: { kind: 'long-term', users: [{ user: 'alice', password: 'wonderland' }] }, tls: true });
    rest = await Coturn.start({ pool, auth: { kind: 'rest', secrets: ['rest-secret-1'] } });
    strict = await Coturn.start({ pool, auth: { kind: 'long-term', users: [{ user: 'alice', password: 'wonderland' }] }, allowLoopbackPeers: false });
  });
  after(async () => {
    await Promise.all([coturn?.stop(), rest?.stop(), strict?.stop()]);
  });

  it('over UDP every step passes: srflx and relay candidates, data both ways, a channel, the release', async () => {
    const r = await turnCheck([url(coturn), '--user', 'alice', '--password', 'wonderland']);
    passed(r);
    assert.deepEqual(
      r.report!.steps.map((s) => s.name),
      ['resolve', 'binding', 'challenge', 'allocate', 'peer', 'permission', 'relay-out', 'relay-in', 'channel', 'release'],
    );
    assert.equal(r.report!.realm, 'example.org');
    // coturn's turnserver answers as RFC 5389 does (no PASSWORD-ALGORITHMS): the MD5 key
    assert.match(step(r, 'allocate')!.detail, /, MD5 key$/, r.text);
    const relayPort = Number(r.report!.candidates.relay!.split(':')[1]);
    assert.ok(relayPort >= coturn.relayRange.min && relayPort <= coturn.relayRange.max, r.text);
    assert.match(r.report!.candidates.srflx!, /^127\.0\.0\.1:\d+$/);
  });

  it('over TCP (ChannelData padded) and over TLS', async () => {
    passed(await turnCheck([url(coturn, '?transport=tcp'), '--user', 'alice', '--password', 'wonderland']));
    const tls = await turnCheck([`turns:127.0.0.1:${coturn.tlsPort}`, '--user', 'alice', '--password', 'wonderland', '--insecure']);
    passed(tls);
    assert.equal(step(tls, 'connect')?.status, 'ok');
  });

  it('a stun: URL checks the Binding only', async () => {
    const r = await turnCheck([`stun:127.0.0.1:${coturn.port}`]);
    passed(r);
    assert.deepEqual(r.report!.steps.map((s) => s.name), ['resolve', 'binding']);
  });

  it('time-limited REST credentials made from the shared secret', async () => {
    passed(await turnCheck([url(rest), '--user', 'carol', '--secret', 'rest-secret-1']));
    const wrong = await turnCheck([url(rest), '--user', 'carol', '--secret', 'another-secret']);
    assert.match(failedAt(wrong, 'allocate'), /time-limited credentials .* the secret differs/);
  });

  it('a wrong password and an unknown user: the same words (the server answers both alike)', async () => {
    const wrong = failedAt(await turnCheck([url(coturn), '--user', 'alice', '--password', 'mirror']), 'allocate');
    const unknown = failedAt(await turnCheck([url(coturn), '--user', 'mallory', '--password', 'x']), 'allocate');
    assert.match(wrong, /^wrong password or unknown user: the server refused "alice" in realm "example\.org"/);
    assert.equal(unknown, wrong.replace('"alice"', '"mallory"'));
  });

  it('a realm other than the one expected is named', async () => {
    const detail = failedAt(await turnCheck([url(coturn), '--user', 'alice', '--password', 'mirror', '--realm', 'sip.example.com']), 'allocate');
    assert.match(detail, /The server's realm is "example\.org", not "sip\.example\.com"/);
  });

  it('without credentials it stops after the challenge and says what to give', async () => {
    const detail = failedAt(await turnCheck([url(coturn)]), 'challenge');
    assert.match(detail, /asks for credentials in realm "example\.org": give --user and --password/);
  });

  it('a server that refuses loopback peers: relay to peer denied, in words', async () => {
    const detail = failedAt(await turnCheck([url(strict), '--user', 'alice', '--password', 'wonderland']), 'permission');
    assert.match(detail, /^relay to peer denied: the server refuses to relay to 127\.0\.0\.1:\d+ \(403/);
  });

  it('a port nobody listens on: UDP port unreachable, TCP connection refused, TLS on a plain port', async () => {
    const [free] = [await pool.block(1)];
    assert.match(failedAt(await turnCheck([`turn:127.0.0.1:${free}`, '--user', 'a', '--password', 'b']), 'binding'), /nothing listens on UDP port \d+ at 127\.0\.0\.1/);
    assert.match(failedAt(await turnCheck([`turn:127.0.0.1:${free}?transport=tcp`, '--user', 'a', '--password', 'b']), 'connect'), /connection refused: nothing listens on TCP port/);
    assert.match(failedAt(await turnCheck([`turns:127.0.0.1:${coturn.port}`, '--user', 'a', '--password', 'b', '--timeout', '1500']), 'connect'), /TLS/);
  });

  it('TLS: a self-signed certificate, and a certificate for another name', async () => {
    const selfSigned = failedAt(await turnCheck([`turns:127.0.0.1:${coturn.tlsPort}`, '--user', 'alice', '--password', 'wonderland']), 'connect');
    assert.match(selfSigned, /self-signed/);
    // trusted, but asked for by a name the certificate does not carry (resolved to 127.0.0.1 here)
    const parsed = parseIceServerUrl(`turns:turn.example.net:${coturn.tlsPort}`);
    assert.ok(parsed.ok);
    const report = await runTurnCheck({
      url: parsed.value,
      credentials: { username: 'alice', password: 'wonderland' },
      ca: coturn.certificatePem!,
      lookup: async () => ({ address: '127.0.0.1', family: 4 }),
    });
    const failed = report.steps.find((s) => s.status === 'failed');
    assert.equal(failed?.name, 'connect');
    assert.match(failed!.detail, /TLS name mismatch: the server's certificate does not name "turn\.example\.net"/);
  });

  it('the text report: one line per step and the verdict', async () => {
    const r = await turnCheck([url(coturn), '--user', 'alice', '--password', 'mirror'], false);
    assert.equal(r.code, 1, r.text);
    assert.match(r.text, /\n {2}ok {4}resolve the server name/);
    assert.match(r.text, /\n {2}FAIL {2}Allocate with credentials \(relayed candidate\)/);
    assert.match(r.text, /\n {2}skip {2}CreatePermission for the peer/);
    assert.match(r.text, /\nresult: FAILED at "Allocate with credentials \(relayed candidate\)": wrong password or unknown user/);
  });
});

describe("parley turn-check against Parley's TURN server", { skip }, () => {
  const ALICE = { user: 'alice', password: 'looking-glass' };
  let open: ParleyServer;
  let closed: ParleyServer;
  let openTurn: number;
  let closedTurn: number;
  let configFile: string;

  before(async () => {
    openTurn = await pool.block(1);
    closedTurn = await pool.block(1);
    const relays = await pool.block(40);
    const turn = (port: number, min: number, extra: Record<string, unknown>) => ({
      listen: [{ transport: 'udp', address: '127.0.0.1', port }],
      minPort: min,
      maxPort: min + 19,
      restSecrets: ['parley-rest'],
      ...extra,
    });
    open = await ParleyServer.start({ pool, transports: ['udp'], subscribers: [ALICE], config: { turn: turn(openTurn, relays, { peers: { allow: ['127.0.0.1/32'] } }) } });
    closed = await ParleyServer.start({ pool, transports: ['udp'], subscribers: [ALICE], config: { turn: turn(closedTurn, relays + 20, {}) } });
    configFile = join(tmpdir(), `parley-turn-check-${process.pid}.json`);
    await writeFile(configFile, JSON.stringify({ turn: turn(openTurn, relays, { peers: { allow: ['127.0.0.1/32'] } }) }));
  });
  after(async () => {
    await Promise.all([open?.stop(), closed?.stop()]);
  });

  it("a subscriber's long-term credentials (realm = SIP domain) and REST credentials pass every step, with the SHA-256 key Parley offers first", async () => {
    const r = await turnCheck([`turn:127.0.0.1:${openTurn}`, '--user', 'alice', '--password', 'looking-glass']);
    passed(r);
    assert.equal(r.report!.realm, '127.0.0.1');
    // RFC 8489 §9.2: the nonce cookie and PASSWORD-ALGORITHMS (SHA-256, MD5): the client takes
    // SHA-256, and Parley checks it against the subscriber's stored SHA-256 HA1
    assert.match(step(r, 'allocate')!.detail, /, SHA-256 key$/, r.text);
    const rest = await turnCheck([`turn:127.0.0.1:${openTurn}`, '--user', 'alice', '--secret', 'parley-rest']);
    passed(rest);
    assert.match(step(rest, 'allocate')!.detail, /, SHA-256 key$/, rest.text);
  });

  it('USERHASH (RFC 8489 §14.4) instead of USERNAME: the subscriber is found by SHA-256(username:realm), on a raw UDP exchange', async () => {
    const probe = await openUdpProbe(pool);
    try {
      const allocate = (signed?: { nonce: string; user: string; password: string }): Buffer => {
        const b = new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12)).add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0));
        if (signed === undefined) return Buffer.from(b.build());
        b.add(StunAttr.USERHASH, userHash(signed.user, '127.0.0.1'))
          .addString(StunAttr.REALM, '127.0.0.1')
          .addString(StunAttr.NONCE, signed.nonce)
          .add(StunAttr.PASSWORD_ALGORITHM, passwordAlgorithmsValue([PasswordAlgorithm.SHA256]))
          .add(StunAttr.PASSWORD_ALGORITHMS, passwordAlgorithmsValue([PasswordAlgorithm.SHA256, PasswordAlgorithm.MD5]));
        return Buffer.from(b.addMessageIntegritySha256(longTermKey(signed.user, '127.0.0.1', signed.password, 'sha256')).build());
      };
      const answer = async (bytes: Buffer): Promise<StunMessage> => {
        const got = await probe.exchange(bytes, '127.0.0.1', openTurn, 500);
        const m = got.length === 1 ? parseStunMessage(got[0]!) : undefined;
        assert.ok(m?.ok, `one STUN answer expected, got ${got.length}`);
        return m.value;
      };
      const nonceOf = (m: StunMessage): string => new TextDecoder().decode(m.get(StunAttr.NONCE)!.value);
      const challenge = await answer(allocate());
      assert.equal(challenge.class, 'error');
      const unknown = await answer(allocate({ nonce: nonceOf(challenge), user: 'nobody', password: 'x' }));
      assert.equal(unknown.class, 'error', 'an unknown USERHASH is refused');
      const ok = await answer(allocate({ nonce: nonceOf(unknown), user: ALICE.user, password: ALICE.password }));
      assert.equal(ok.class, 'success');
      assert.ok(verifyMessageIntegritySha256(ok, longTermKey(ALICE.user, '127.0.0.1', ALICE.password, 'sha256')));
      // released: a Refresh with LIFETIME 0 under the same USERHASH
      const refresh = new StunMessageBuilder(StunMethod.Refresh, 'request', randomBytes(12))
        .addUint32(StunAttr.LIFETIME, 0)
        .add(StunAttr.USERHASH, userHash(ALICE.user, '127.0.0.1'))
        .addString(StunAttr.REALM, '127.0.0.1')
        .addString(StunAttr.NONCE, nonceOf(unknown))
        .add(StunAttr.PASSWORD_ALGORITHM, passwordAlgorithmsValue([PasswordAlgorithm.SHA256]))
        .add(StunAttr.PASSWORD_ALGORITHMS, passwordAlgorithmsValue([PasswordAlgorithm.SHA256, PasswordAlgorithm.MD5]))
        .addMessageIntegritySha256(longTermKey(ALICE.user, '127.0.0.1', ALICE.password, 'sha256'))
        .build();
      assert.equal((await answer(Buffer.from(refresh))).class, 'success');
    } finally {
      await probe.close();
    }
  });

  it("--config takes the URL and the REST secret from Parley's configuration", async () => {
    const r = await turnCheck(['--config', configFile, '--user', 'alice']);
    passed(r);
    assert.equal(r.report!.url, `turn:127.0.0.1:${openTurn}?transport=udp`);
  });

  it('by default Parley refuses this machine as the peer (loopback): the check says so', async () => {
    const detail = failedAt(await turnCheck([`turn:127.0.0.1:${closedTurn}`, '--user', 'alice', '--password', 'looking-glass']), 'permission');
    assert.match(detail, /^relay to peer denied: .*turn\.peers\.allow/);
  });

  it('an unknown user and a wrong password read alike', async () => {
    const wrong = failedAt(await turnCheck([`turn:127.0.0.1:${openTurn}`, '--user', 'alice', '--password', 'x']), 'allocate');
    const unknown = failedAt(await turnCheck([`turn:127.0.0.1:${openTurn}`, '--user', 'nobody', '--password', 'x']), 'allocate');
    assert.equal(unknown, wrong.replace('"alice"', '"nobody"'));
  });
});
