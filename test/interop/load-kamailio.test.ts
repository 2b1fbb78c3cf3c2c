// `parley load` against Kamailio's SIP-over-WebSocket listener (the shared benchmark
// configuration): a real, independent registrar and WebSocket server. What the tool reports is
// checked against what Kamailio's own location table holds afterwards (kamcmd ul.dump).
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KAMAILIO_PASSWORD, KamailioServer, skipWithoutKamailio } from './support/kamailio.js';
import { runLoadTool } from './support/load-tool.js';
import { portPool } from './support/ports.js';

const pool = portPool(import.meta.url);
const USERS = 50;

describe('parley load against Kamailio over WebSocket', { skip: skipWithoutKamailio(), timeout: 150_000 }, () => {
  describe('without authentication', () => {
    let kamailio: KamailioServer;
    before(async () => {
      kamailio = await KamailioServer.start({ pool });
    });
    after(() => kamailio?.stop());

    it(`registers ${USERS} users, one WebSocket each, and Kamailio's location table holds them as RFC 7118/5626 contacts`, async () => {
      const r = await runLoadTool(['--target', kamailio.wsUrl, '--users', String(USERS), '--rate', '200', '--first', '1'], 30_000);
      assert.equal(r.code, 0, r.describe());
      const rep = r.report!;
      assert.equal(rep.connections.opened, USERS);
      assert.equal(rep.registrations.ok, USERS);
      assert.equal(rep.registrations.challenges, 0, 'no auth on this listener: no challenge');
      assert.equal(rep.registrations.latencyMs.count, USERS);
      assert.ok(rep.registrations.perSecond !== null && rep.registrations.perSecond > 0);

      const bindings = await kamailio.bindings();
      const expected = Array.from({ length: USERS }, (_, i) => `user${String(i + 1).padStart(6, '0')}`);
      assert.deepEqual([...new Set(bindings.map((b) => b.aor))].sort(), expected);
      assert.equal(bindings.length, USERS, 'one contact per user');
      for (const b of bindings) {
        assert.match(b.address, new RegExp(`^sip:${b.aor}@[0-9a-f]+\\.invalid;transport=ws$`), b.address);
        assert.match(b.instance ?? '', /^<urn:uuid:[0-9a-f-]{36}>$/);
        assert.equal(b.regId, 1);
        assert.match(b.userAgent ?? '', /^Parley-load\//);
        assert.match(b.received ?? '', /^sip:127\.0\.0\.1:\d+;transport=ws$/, 'Kamailio saw each over its own WebSocket');
      }
      assert.equal(new Set(bindings.map((b) => b.received)).size, USERS, 'a connection per user');
    });
  });

  describe('with digest authentication (-A WITH_AUTH)', () => {
    let kamailio: KamailioServer;
    before(async () => {
      // short registrations, so that re-registrations happen within seconds (its nonces live 300 s:
      // stale nonces are exercised against Parley, whose nonce lifetime is configurable)
      kamailio = await KamailioServer.start({ pool, withAuth: true, cfg: [['registrar', 'min_expires', 1]] });
    });
    after(() => kamailio?.stop());

    it(`registers ${USERS} users through 401 challenges, then unregisters them (--unregister)`, async () => {
      const r = await runLoadTool(
        ['--target', kamailio.wsUrl, '--users', String(USERS), '--rate', '200', '--first', '101', '--password', KAMAILIO_PASSWORD, '--unregister'],
        30_000,
      );
      assert.equal(r.code, 0, r.describe());
      const rep = r.report!;
      assert.equal(rep.registrations.ok, USERS);
      assert.equal(rep.registrations.challenges, USERS, 'each user was challenged once');
      assert.equal(rep.unregistrations.ok, USERS);
      const left = (await kamailio.bindings()).filter((b) => /^user0001[0-4]\d$|^user000150$/.test(b.aor));
      assert.deepEqual(left, [], 'Expires: 0 removed every binding');
    });

    it('a wrong password: every registration fails with 401, said in words; exit 1; nothing bound', async () => {
      const r = await runLoadTool(['--target', kamailio.wsUrl, '--users', '5', '--first', '201', '--password', 'not-the-password'], 30_000);
      assert.equal(r.code, 1, r.describe());
      const rep = r.report!;
      assert.equal(rep.registrations.ok, 0);
      assert.deepEqual(rep.registrations.failures, { '401 Unauthorized (credentials refused: wrong password or unknown user)': 5 });
      assert.ok(rep.errors.some((e) => /5 × registration failed: 401 Unauthorized \(credentials refused/.test(e)), rep.errors.join('\n'));
      assert.deepEqual((await kamailio.bindings()).filter((b) => b.aor.startsWith('user0002')), []);
    });

    it('holds 10 users: re-registers before expiry reusing the nonce (nc 2, 3, …), WebSocket pings answered', async () => {
      const r = await runLoadTool(
        ['--target', kamailio.wsUrl, '--users', '10', '--first', '301', '--password', KAMAILIO_PASSWORD, '--expires', '3', '--hold', '12', '--keepalive', 'ping', '--keepalive-interval', '2'],
        40_000,
      );
      assert.equal(r.code, 0, r.describe());
      const rep = r.report!;
      assert.equal(rep.hold.heldAtEnd, 10);
      assert.equal(rep.hold.minHeld, 10);
      // granted 3 s, refreshed at 2.4-2.7 s: at least 4 times each in 12 s
      assert.ok(rep.refreshes.ok >= 40, `refreshes: ${rep.refreshes.ok}`);
      assert.equal(rep.refreshes.failed, 0);
      // Kamailio accepts the nonce again with the next nc: one challenge per user in all
      assert.equal(rep.registrations.challenges, 10, `challenges: ${rep.registrations.challenges}`);
      assert.equal(rep.registrations.staleChallenges, 0);
      // every ping answered, but those still in flight when the run closed the connections
      const k = rep.keepalive;
      assert.ok(k.sent >= 40 && k.pongs >= k.sent - 10 && k.timeouts === 0, JSON.stringify(k));
      const bound = (await kamailio.bindings()).filter((b) => b.aor.startsWith('user0003'));
      assert.equal(bound.length, 10, 'still registered in Kamailio after the run');
    });

    it('over UDP too (--transport udp): 30 users with digest, each from its own socket, retransmissions ready', async () => {
      const r = await runLoadTool(
        ['--transport', 'udp', '--target', `127.0.0.1:${kamailio.sipPort}`, '--domain', kamailio.domain, '--users', '30', '--first', '501', '--password', KAMAILIO_PASSWORD],
        30_000,
      );
      assert.equal(r.code, 0, r.describe());
      assert.equal(r.report!.registrations.ok, 30);
      assert.equal(r.report!.registrations.challenges, 30);
      const bound = (await kamailio.bindings()).filter((b) => b.aor.startsWith('user0005'));
      assert.equal(bound.length, 30);
      for (const b of bound) assert.match(b.address, new RegExp(`^sip:${b.aor}@127\\.0\\.0\\.1:\\d+$`), b.address);
      assert.equal(new Set(bound.map((b) => b.address.replace(/^sip:[^@]+@/, ''))).size, 30, 'a socket per user');
    });

    it('CRLF keepalives over the WebSocket are answered (RFC 5626 §4.4.1 pong)', async () => {
      const r = await runLoadTool(
        ['--target', kamailio.wsUrl, '--users', '5', '--first', '401', '--password', KAMAILIO_PASSWORD, '--hold', '5', '--keepalive', 'crlf', '--keepalive-interval', '1'],
        30_000,
      );
      assert.equal(r.code, 0, r.describe());
      const k = r.report!.keepalive;
      assert.ok(k.sent >= 15, JSON.stringify(k));
      assert.ok(k.pongs >= k.sent - 5, JSON.stringify(k));
      assert.equal(k.timeouts, 0);
    });
  });
});
