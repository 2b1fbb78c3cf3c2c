// The event stream and the log lines an operator reads (issue 18), on a spawned Parley with two SIP
// worker threads: an SSE client (every type, and one filtered to auth.failed) and a WebSocket
// client (the `ws` package) subscribed with an API token; sipp registers (registration.added),
// registers with a wrong password (auth.failed), unregisters (registration.removed); a source on
// 127.0.0.2 fails three times, once retransmitted (source.blocked); `parley reload`
// (script.reloaded). Each event is checked with its fields, and the log holds exactly one info line
// for each of them, none for the retransmission. Then Parley on a pseudo-terminal (util-linux
// `script`): its lines are readable, not JSON, one per event.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { appendFile, copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { apiToken } from './support/api-token.js';
import { signalPid } from './support/child.js';
import { importSubscribers, PARLEY_CLI, REPO_ROOT, ParleyServer, stopCleanly, type LogLine } from './support/parley.js';
import { portPool } from './support/ports.js';
import { register, registrationRun } from './support/registration.js';
import { reserveEndpoint, skipWithoutSipp, type SippEndpoint } from './support/sipp.js';

const pool = portPool(import.meta.url);
const ALICE = { user: 'alice', password: 'secret1' };
const CAROL = { user: 'carol', password: 'secret3' };
const run = promisify(execFile);

/** Wait (bounded) until `check` holds. */
async function until(what: string, check: () => boolean, describe: () => string, boundMs = 10_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what} did not come within ${boundMs} ms:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Ev = Record<string, unknown> & { type: string; id: number };

/** An SSE client: the events parsed as they come. */
function sseClient(port: number, path: string, token: string): Promise<{ events: Ev[]; res: IncomingMessage; raw: () => string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` } }, (res) => {
      const events: Ev[] = [];
      let text = '';
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        rest += d;
        let end: number;
        while ((end = rest.indexOf('\n\n')) >= 0) {
          const block = rest.slice(0, end);
          rest = rest.slice(end + 2);
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            fields.set(line.slice(0, colon), line.slice(colon + 2));
          }
          const data = fields.get('data');
          if (data === undefined) continue;
          const e = JSON.parse(data) as Ev;
          assert.equal(fields.get('event'), e.type ?? 'dropped', `SSE event: names the type:\n${block}`);
          assert.equal(fields.get('id'), String(e.id), `SSE id: is the event's number:\n${block}`);
          events.push(e);
        }
      });
      resolve({ events, res, raw: () => text });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A REGISTER with credentials that cannot be right (realm 127.0.0.1, any nonce), one Via branch. */
function badRegister(port: number, from: { address: string; port: number }, n: number): Buffer {
  const uri = `sip:127.0.0.1:${port}`;
  return Buffer.from(
    [
      `REGISTER ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${from.address}:${from.port};branch=z9hG4bK-events-${n}-${process.pid};rport`,
      'Max-Forwards: 70',
      `From: <sip:mallory@127.0.0.1>;tag=m${n}`,
      'To: <sip:mallory@127.0.0.1>',
      // one Call-ID: every request reaches the same SIP worker, and its events come in order
      `Call-ID: events-mallory-${process.pid}@${from.address}`,
      `CSeq: ${n} REGISTER`,
      `Contact: <sip:mallory@${from.address}:${from.port}>`,
      `Authorization: Digest username="mallory", realm="127.0.0.1", nonce="0123456789abcdef", uri="${uri}", response="00000000000000000000000000000000", algorithm=MD5`,
      'Expires: 60',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

describe('the event stream and the log lines, with two SIP workers', { skip: skipWithoutSipp(), timeout: 180_000 }, () => {
  let parley: ParleyServer;
  let httpPort: number;
  let token: string;
  let script: string;
  let dir: string;
  let all: Awaited<ReturnType<typeof sseClient>>;
  let failures: Awaited<ReturnType<typeof sseClient>>;
  let ws: WebSocket;
  const wsEvents: Ev[] = [];
  let mallory: Socket;
  let malloryPort: number;
  /** alice's phone: she registers and unregisters from it. */
  let alicePhone: SippEndpoint;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-events-'));
    // a routing script of our own (the default one), so that a reload can activate a new version
    script = join(dir, 'routes.ts');
    await copyFile(join(REPO_ROOT, 'src/routing/scripts/default.ts'), script);
    parley = await ParleyServer.start({
      pool,
      workers: 2,
      transports: ['udp'],
      webSockets: { ws: 'auth' },
      subscribers: [ALICE, CAROL],
      script,
      // no watch: the reload below is `parley reload`'s
      config: { auth: { failureLimit: { maxFailures: 3 } }, routing: { watch: false } },
    });
    httpPort = parley.webPorts.ws!;
    token = apiToken(parley.dataDir, 'read');
    all = await sseClient(httpPort, '/api/v1/events', token);
    failures = await sseClient(httpPort, '/api/v1/events?types=auth.*', token);
    assert.equal(all.res.statusCode, 200, all.raw());
    ws = new WebSocket(`ws://127.0.0.1:${httpPort}/api/v1/events?token=${encodeURIComponent(token)}`);
    ws.on('message', (m) => wsEvents.push(JSON.parse(String(m)) as Ev));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    alicePhone = await reserveEndpoint(pool);
    malloryPort = await pool.block(1);
    mallory = createSocket('udp4');
    await new Promise<void>((res) => mallory.bind(malloryPort, '127.0.0.2', () => res()));
  });

  after(async () => {
    ws?.terminate();
    all?.res.destroy();
    failures?.res.destroy();
    mallory?.close();
    await stopCleanly(parley);
    await rm(dir, { recursive: true, force: true });
  });

  const seen = (events: readonly Ev[], type: string, match: (e: Ev) => boolean = () => true): Ev[] => events.filter((e) => e.type === type && match(e));
  const infoLines = (event: string): LogLine[] => parley.logs.filter((l) => l.level === 30 && l.event === event);
  const dump = (): string => `SSE:\n${all.raw()}\nlog:\n${parley.logs.map((l) => JSON.stringify(l)).join('\n')}`;

  it('a registration: registration.added on both streams, with the AOR, contact, expiry and source; one info line', async () => {
    const r = await register(parley, ALICE, { expires: 600, endpoint: alicePhone });
    assert.equal(r.code, 0, r.describe());
    const isAlice = (e: Ev): boolean => e.aor === 'alice@127.0.0.1';
    await until('registration.added', () => seen(all.events, 'registration.added', isAlice).length > 0 && seen(wsEvents, 'registration.added', isAlice).length > 0, dump);
    const e = seen(all.events, 'registration.added', isAlice)[0]!;
    assert.match(String(e.contact), /^sip:alice@127\.0\.0\.1:\d+/);
    assert.ok(Number(e.expires) > 590 && Number(e.expires) <= 600, JSON.stringify(e));
    assert.match(String(e.source), /^udp:127\.0\.0\.1:\d+$/);
    assert.equal(typeof e.time, 'number');
    assert.deepEqual(seen(wsEvents, 'registration.added', isAlice)[0], e, 'the WebSocket carries the same event');
    await until('its log line', () => infoLines('registration.added').length > 0, dump);
    assert.equal(infoLines('registration.added').length, 1, dump());
  });

  it('a wrong password: auth.failed with username, realm, method and source, on the filtered stream too; one info line', async () => {
    const r = await registrationRun(parley, 'reg-wrong-password.xml', { user: CAROL.user, password: 'not-hers' }, { expires: 600 });
    assert.equal(r.code, 0, r.describe());
    const isCarol = (e: Ev): boolean => e.username === 'carol';
    await until('auth.failed', () => seen(failures.events, 'auth.failed', isCarol).length > 0, dump);
    const e = seen(all.events, 'auth.failed', isCarol)[0]!;
    assert.deepEqual({ source: e.source, realm: e.realm, method: e.method }, { source: '127.0.0.1', realm: '127.0.0.1', method: 'REGISTER' });
    await until('its log line', () => infoLines('auth.failed').length > 0, dump);
    assert.equal(infoLines('auth.failed').filter((l) => l.username === 'carol').length, 1, dump());
  });

  it('an unregistration: registration.removed; one info line', async () => {
    const r = await register(parley, ALICE, { expires: 0, endpoint: alicePhone });
    assert.equal(r.code, 0, r.describe());
    await until('registration.removed', () => seen(all.events, 'registration.removed', (e) => e.aor === 'alice@127.0.0.1').length > 0, dump);
    const e = seen(all.events, 'registration.removed')[0]!;
    assert.equal(e.expires, 0);
    await until('its log line', () => infoLines('registration.removed').length > 0, dump);
    assert.equal(infoLines('registration.removed').length, 1, dump());
  });

  it('three failures from 127.0.0.2 (one retransmitted): three auth.failed, one source.blocked, one log line each', async () => {
    const send = (b: Buffer): Promise<void> => new Promise((res, rej) => mallory.send(b, parley.port!, '127.0.0.1', (e) => (e ? rej(e) : res())));
    const from = { address: '127.0.0.2', port: malloryPort };
    const first = badRegister(parley.port!, from, 1);
    await send(first);
    await until('the first failure', () => seen(all.events, 'auth.failed', (e) => e.source === '127.0.0.2').length === 1, dump);
    await send(first); // a retransmission: the transaction answers it again, nothing more is counted
    await send(badRegister(parley.port!, from, 2));
    // the second request's event comes after any the retransmission made (one worker, in order)
    await until('the second failure', () => seen(all.events, 'auth.failed', (e) => e.source === '127.0.0.2').length >= 2, dump);
    assert.equal(seen(all.events, 'auth.failed', (e) => e.source === '127.0.0.2').length, 2, `the retransmission counted:\n${dump()}`);
    assert.equal(seen(all.events, 'source.blocked').length, 0, dump());
    await send(badRegister(parley.port!, from, 3));
    await until('source.blocked', () => seen(all.events, 'source.blocked').length > 0, dump);
    const blocked = seen(all.events, 'source.blocked')[0]!;
    assert.equal(blocked.source, '127.0.0.2');
    assert.equal(typeof blocked.seconds, 'number');
    await until('the third failure', () => seen(all.events, 'auth.failed', (e) => e.source === '127.0.0.2').length >= 3, dump);
    // the filtered stream got the failures and nothing else
    assert.deepEqual([...new Set(failures.events.map((e) => e.type))], ['auth.failed'], JSON.stringify(failures.events));
    await until('the log lines', () => infoLines('auth.failed').filter((l) => l.source === '127.0.0.2').length >= 3, dump);
    assert.equal(infoLines('auth.failed').filter((l) => l.source === '127.0.0.2').length, 3, `one line per failure, none for the retransmission:\n${dump()}`);
    assert.equal(seen(all.events, 'auth.failed', (e) => e.source === '127.0.0.2').length, 3, dump());
    assert.equal(parley.logs.filter((l) => String(l.msg).includes('source blocked') && l.source === '127.0.0.2').length, 1, dump());
  });

  it('`parley reload` of a changed script: script.reloaded (reloaded, by command); one log line', async () => {
    await appendFile(script, '\nexport const revision = 2;\n');
    const out = await run(process.execPath, [PARLEY_CLI, 'reload', '--data-dir', parley.dataDir], { timeout: 30_000 });
    void out;
    await until('script.reloaded', () => seen(all.events, 'script.reloaded').length > 0, dump);
    const e = seen(all.events, 'script.reloaded')[0]!;
    assert.deepEqual({ version: e.version, outcome: e.outcome, trigger: e.trigger }, { version: 2, outcome: 'reloaded', trigger: 'command' });
    assert.equal(parley.logs.filter((l) => l.msg === 'routing script reloaded').length, 1, dump());
  });

  it('the stream numbers events in order, and the WebSocket got what the SSE stream got', async () => {
    const ids = all.events.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    await until('the WebSocket catches up', () => wsEvents.length >= all.events.length, dump);
    assert.deepEqual(
      wsEvents.map((e) => e.id),
      ids,
    );
  });

  it('without a token, or a wrong one: 401 on both', async () => {
    const status = await new Promise<number | undefined>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: httpPort, path: '/api/v1/events', headers: { accept: 'text/event-stream' } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.end();
    });
    assert.equal(status, 401);
    const wsStatus = await new Promise<number | undefined>((resolve) => {
      const bad = new WebSocket(`ws://127.0.0.1:${httpPort}/api/v1/events?token=pk_00000000000000000000000000000000_nope`);
      bad.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      bad.on('open', () => resolve(101));
      bad.on('error', () => {});
    });
    assert.equal(wsStatus, 401);
  });
});

const hasScript = spawnSync('sh', ['-c', 'command -v script'], { encoding: 'utf8' }).status === 0;

describe('the log on a terminal', { skip: hasScript ? skipWithoutSipp() : 'needs util-linux script', timeout: 120_000 }, () => {
  it('readable lines, not JSON, one per event (a registration, a wrong password)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-events-tty-'));
    const sipPort = await pool.block(1);
    const pidFile = join(dir, 'pid');
    const data = join(dir, 'data');
    // the subscriber first (`parley user import`), then Parley on a new pseudo-terminal
    await mkdir(data, { recursive: true });
    await importSubscribers(data, [ALICE]);
    const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    const cmd = `echo $$ > ${q(pidFile)}; exec ${q(process.execPath)} ${q(PARLEY_CLI)} serve --listen udp:127.0.0.1:${sipPort} --data-dir ${q(data)} --workers 1`;
    const term = spawn('script', ['-q', '-f', '-e', '-c', cmd, '/dev/null'], { cwd: dir, env: { ...process.env, SHELL: '/bin/sh' }, stdio: ['pipe', 'pipe', 'pipe'] });
    term.stdin!.on('error', () => {});
    let text = '';
    term.stdout!.on('data', (b: Buffer) => (text += b.toString()));
    const exited = new Promise<void>((res) => term.once('exit', () => res()));
    const out = (): string => text.slice(-4000);
    try {
      await until('Parley is ready on the terminal', () => text.includes('Parley is ready'), out, 20_000);
      // register() needs only where Parley is: a stand-in for the ParleyServer this test spawned itself
      const target = { sippTarget: () => ({ host: '127.0.0.1', port: sipPort, transport: 'udp' as const, pool }) } as unknown as ParleyServer;
      const ok = await register(target, ALICE, { expires: 600 });
      assert.equal(ok.code, 0, ok.describe());
      const bad = await registrationRun(target, 'reg-wrong-password.xml', { user: 'alice', password: 'wrong' }, { expires: 600 });
      assert.equal(bad.code, 0, bad.describe());
      await until('both lines', () => text.includes('registered alice@127.0.0.1') && text.includes('authentication failed for alice'), out);
      // eslint-disable-next-line no-control-regex
      const lines = text.replace(/\u001b\[[0-9;]*m/g, '').split(/\r?\n/).filter((l) => l.trim().length > 0);
      for (const l of lines.filter((x) => x.includes('INFO'))) assert.throws(() => JSON.parse(l), SyntaxError, `a JSON line on the terminal: ${l}`);
      assert.equal(lines.filter((l) => l.includes('registered alice@127.0.0.1')).length, 1, out());
      assert.equal(lines.filter((l) => l.includes('authentication failed for alice')).length, 1, out());
      assert.match(lines.find((l) => l.includes('registered alice@127.0.0.1'))!, /INFO.*events: registered alice@127\.0\.0\.1 at sip:alice@127\.0\.0\.1:\d+.* for 600 s/);
    } finally {
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (pid > 0) signalPid(pid, 'SIGTERM');
      await until('Parley stopped', () => text.includes('Parley stopped'), out, 15_000).catch(() => {
        if (pid > 0) signalPid(pid, 'SIGKILL');
      });
      signalPid(term.pid!, 'SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
