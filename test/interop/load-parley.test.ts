// `parley load` against Parley itself over WSS (RFC 7118, subprotocol sip, the development
// certificate): users imported with `parley user import`, digest authentication by Parley's
// authenticator, bindings checked in Parley's own database while the tool holds them.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { runLoadTool } from './support/load-tool.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';

const pool = portPool(import.meta.url);
const PASSWORD = 'load-Pa55';
const user = (n: number): string => `user${String(n).padStart(6, '0')}`;

interface BindingRow {
  aor: string;
  contact: string;
  instance: string | null;
  reg_id: number | null;
  /** JSON: the transport and address Parley received the REGISTER from. */
  received: string;
}

describe('parley load against Parley over WSS', { timeout: 150_000 }, () => {
  let parley: ParleyServer;

  before(async () => {
    parley = await ParleyServer.start({
      pool,
      transports: ['udp'],
      webSockets: { wss: 'auth' },
      subscribers: Array.from({ length: 120 }, (_, i) => ({ user: user(i + 1), password: PASSWORD })),
      // short nonces and registrations: stale nonces and re-registrations within seconds
      config: { auth: { nonceLifetime: 10 }, registrar: { minExpires: 1 } },
    });
  });
  after(() => stopCleanly(parley));

  const target = (): string => parley.webSocketUrl('wss');

  /** Parley's bindings of the AORs user(first)..user(first+count-1), from its database. */
  function bindings(first: number, count: number): BindingRow[] {
    const db = new DatabaseSync(join(parley.dataDir, 'parley.db'), { readOnly: true });
    try {
      const aors = Array.from({ length: count }, (_, i) => `${user(first + i)}@127.0.0.1`);
      const rows = db.prepare('SELECT aor, contact, instance, reg_id, received FROM bindings').all() as unknown as BindingRow[];
      return rows.filter((r) => aors.includes(r.aor));
    } finally {
      db.close();
    }
  }

  it('registers 50 users over WSS with digest auth; Parley holds their bindings while the tool holds them', async () => {
    const running = runLoadTool(['--target', target(), '--insecure', '--users', '50', '--rate', '100', '--password', PASSWORD, '--hold', '6'], 60_000);
    // during the hold: Parley's own table (written behind within 50 ms)
    let rows: BindingRow[] = [];
    for (let i = 0; i < 40 && rows.length < 50; i++) {
      await new Promise((r) => setTimeout(r, 250));
      rows = bindings(1, 50);
    }
    const r = await running;
    assert.equal(r.code, 0, `${r.describe()}\n--- Parley\n${parley.outputTail(20)}`);
    const rep = r.report!;
    assert.equal(rep.registrations.ok, 50);
    assert.equal(rep.registrations.challenges, 50);
    assert.equal(rep.hold.heldAtEnd, 50);
    assert.equal(rows.length, 50, `Parley holds ${rows.length} of the 50 bindings`);
    for (const row of rows) {
      assert.match(row.contact, /^<?sip:user\d{6}@[0-9a-f]+\.invalid;transport=ws>?/, row.contact);
      assert.match(row.instance ?? '', /urn:uuid:[0-9a-f-]{36}/);
      assert.equal(row.reg_id, 1);
      assert.equal((JSON.parse(row.received) as { transport: string }).transport, 'wss');
    }
    assert.equal(new Set(rows.map((row) => row.received)).size, 50, 'each over its own connection');
  });

  it('re-registers through stale nonces silently (10 s nonces, 4 s registrations, 25 s hold)', async () => {
    const r = await runLoadTool(
      ['--target', target(), '--insecure', '--users', '5', '--first', '101', '--password', PASSWORD, '--expires', '4', '--hold', '25', '--keepalive-interval', '5'],
      60_000,
    );
    assert.equal(r.code, 0, r.describe());
    const rep = r.report!;
    assert.ok(rep.refreshes.ok >= 5 * 6, `refreshes ${rep.refreshes.ok}`);
    assert.equal(rep.refreshes.failed, 0);
    assert.ok(rep.registrations.staleChallenges >= 5, `stale challenges ${rep.registrations.staleChallenges}: Parley's nonces outlived`);
    assert.equal(rep.hold.heldAtEnd, 5);
    // every ping answered, but those still in flight when the run closed the connections
    const k = rep.keepalive;
    assert.ok(k.sent >= 20 && k.pongs >= k.sent - 5 && k.timeouts === 0, JSON.stringify(k));
  });

  it('answers the MD5 or the SHA-256 challenge as told (--algorithm), whatever their order', async () => {
    for (const [algorithm, first] of [['MD5', 111], ['SHA-256', 114]] as const) {
      const r = await runLoadTool(['--target', target(), '--insecure', '--users', '3', '--first', String(first), '--password', PASSWORD, '--algorithm', algorithm], 30_000);
      assert.equal(r.code, 0, r.describe());
      assert.equal(r.report!.registrations.ok, 3, algorithm);
    }
  });

  it('without --insecure the development certificate is refused, and the report says why', async () => {
    const r = await runLoadTool(['--target', target(), '--users', '2', '--password', PASSWORD], 30_000);
    assert.equal(r.code, 1, r.describe());
    const failures = Object.keys(r.report!.connections.failures);
    assert.equal(failures.length, 1, failures.join('\n'));
    assert.match(failures[0]!, /^TLS: the server's certificate .*\(--insecure accepts it\)$/);
  });

  it('a path that is not a SIP WebSocket path: the HTTP status of the refused upgrade, in words', async () => {
    const r = await runLoadTool(['--target', parley.webSocketUrl('wss', '/not-sip'), '--insecure', '--users', '2', '--password', PASSWORD], 30_000);
    assert.equal(r.code, 1, r.describe());
    const failures = Object.keys(r.report!.connections.failures);
    assert.equal(failures.length, 1, failures.join('\n'));
    assert.match(failures[0]!, /^HTTP 4\d\d .*instead of a WebSocket upgrade$/);
  });
});
