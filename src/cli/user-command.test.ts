import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CaptureStream } from '../../test/support/capture-stream.js';
import { fileURLToPath } from 'node:url';
import { computeHa1 } from '../sip/digest/hash.js';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteSubscriberStore } from '../store/sqlite/sqlite-subscriber-store.js';
import type { Subscriber } from '../store/subscriber-store.js';
import { runUserCommand, type UserCommandIo } from './user-command.js';

/** A terminal on stdin: raw mode is recorded, keys are what the test types. */
class FakeTty extends PassThrough {
  readonly isTTY = true;
  readonly rawModes: boolean[] = [];
  setRawMode(mode: boolean): this {
    this.rawModes.push(mode);
    return this;
  }
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

describe('parley user', () => {
  let dir: string;
  let dataDir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-user-'));
    dataDir = join(dir, 'data');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Run `parley user <args> --data-dir <temp>`; stdin is a pipe with `input` (empty: nothing), or a given stream. */
  async function run(args: string[], stdin: string | UserCommandIo['stdin'] = ''): Promise<Outcome> {
    const stdout = new CaptureStream();
    const stderr = new CaptureStream();
    const input = typeof stdin === 'string' ? Readable.from(stdin === '' ? [] : [Buffer.from(stdin)]) : stdin;
    const code = await runUserCommand([...args, '--data-dir', dataDir], { stdin: input, stdout, stderr });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  async function withStore<T>(fn: (store: SqliteSubscriberStore) => Promise<T>): Promise<T> {
    const db = SqliteDatabase.open(dataDir);
    try {
      return await fn(new SqliteSubscriberStore(db));
    } finally {
      db.close();
    }
  }

  const get = (username: string, domain: string): Promise<Subscriber | undefined> => withStore((s) => s.get(username, domain));
  const count = (): Promise<number> => withStore((s) => s.count());

  async function assertPassword(username: string, domain: string, password: string): Promise<void> {
    const s = await get(username, domain);
    assert.ok(s, `${username}@${domain} is missing`);
    assert.equal(s.ha1Md5, computeHa1('MD5', username, domain, password));
    assert.equal(s.ha1Sha256, computeHa1('SHA-256', username, domain, password));
  }

  function csv(name: string, text: string): string {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  describe('add', () => {
    it('adds with --password (domain lower-cased, a leading sip: ignored)', async () => {
      const r = await run(['add', 'sip:alice@Example.COM', '--password', 's3cret']);
      assert.deepEqual(r, { code: 0, stdout: 'added alice@example.com\n', stderr: '' });
      await assertPassword('alice', 'example.com', 's3cret');
    });

    it('--admin marks a subscriber who may log in to the dashboard', async () => {
      const r = await run(['add', 'ops@example.com', '--password', 's3cret', '--admin']);
      assert.deepEqual(r, { code: 0, stdout: 'added ops@example.com (admin)\n', stderr: '' });
      await run(['add', 'plain@example.com', '--password', 's3cret']);
      assert.equal((await withStore((s) => s.get('ops', 'example.com')))?.admin, true);
      assert.equal((await withStore((s) => s.get('plain', 'example.com')))?.admin, false);
    });

    it('admin sets and clears the flag of an existing subscriber; exits 2 for an unknown one', async () => {
      await run(['add', 'ops@example.com', '--password', 's3cret']);
      assert.deepEqual(await run(['admin', 'ops@example.com']), { code: 0, stdout: 'ops@example.com is an admin (may log in to the dashboard)\n', stderr: '' });
      assert.equal((await withStore((s) => s.get('ops', 'example.com')))?.admin, true);
      assert.equal((await run(['admin', 'ops@example.com', '--off'])).code, 0);
      assert.equal((await withStore((s) => s.get('ops', 'example.com')))?.admin, false);
      const unknown = await run(['admin', 'nobody@example.com']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /no such user/u);
    });

    it('reads one line from a piped stdin', async () => {
      const r = await run(['add', 'bob@example.com'], 'piped pw\r\nsecond line ignored\n');
      assert.equal(r.code, 0, r.stderr);
      await assertPassword('bob', 'example.com', 'piped pw');
    });

    it('generates a password with --random and prints it', async () => {
      const r = await run(['add', 'carol@example.com', '--random']);
      assert.equal(r.code, 0, r.stderr);
      const printed = /^added carol@example\.com\npassword: ([A-Za-z0-9_-]{24})\n$/.exec(r.stdout);
      assert.ok(printed, r.stdout);
      await assertPassword('carol', 'example.com', printed[1]!);
    });

    it('asks twice on a terminal, without echo', async () => {
      const tty = new FakeTty();
      tty.write('hunter2x\u007f\rhunter2\r'); // a typo, Backspace, Enter; then the same again
      const r = await run(['add', 'dave@example.com'], tty);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, 'Password: \nPassword again: \n');
      assert.deepEqual(tty.rawModes, [true, false, true, false]);
      await assertPassword('dave', 'example.com', 'hunter2');
    });

    it('refuses two different passwords at the terminal, and Ctrl-C', async () => {
      const tty = new FakeTty();
      tty.write('one\rtwo\r');
      const r = await run(['add', 'dave@example.com'], tty);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /parley user add: the passwords do not match\n$/);
      const interrupted = new FakeTty();
      interrupted.write('abc\u0003');
      assert.equal((await run(['add', 'dave@example.com'], interrupted)).code, 130);
      assert.equal(await get('dave', 'example.com'), undefined);
    });

    it('exits 2 for a bad address, an existing user, no password, or conflicting options', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['add', 'alice', '--password', 'x'], /"alice": expected user@domain/],
        [['add', 'al ice@example.com', '--password', 'x'], /username: must not contain whitespace/],
        [['add', 'alice@exa_mple..com', '--password', 'x'], /domain: must not have an empty label/],
        [['add', 'alice@example.com', '--password', ''], /password: must not be empty/],
        [['add', 'alice@example.com'], /no password: pipe one line/],
        [['add', 'alice@example.com', '--random', '--password', 'x'], /cannot be used with option/],
        [['add'], /missing required argument/],
        [['add', 'alice@example.com', '--frobnicate'], /unknown option/],
      ];
      for (const [args, message] of cases) {
        const r = await run(args);
        assert.equal(r.code, 2, args.join(' '));
        assert.match(r.stderr, message, args.join(' '));
      }
      assert.equal(await count(), 0);
      assert.equal((await run(['add', 'alice@example.com', '--password', 'one'])).code, 0);
      const again = await run(['add', 'alice@EXAMPLE.com', '--password', 'two']);
      assert.deepEqual(again, { code: 2, stdout: '', stderr: 'parley user add: alice@example.com already exists\n' });
      await assertPassword('alice', 'example.com', 'one');
    });
  });

  describe('list, remove, passwd', () => {
    beforeEach(async () => {
      await withStore((s) =>
        s.addMany([
          { username: 'bob', domain: 'b.example', password: 'x' },
          { username: 'alice', domain: 'b.example', password: 'x' },
          { username: 'zed', domain: 'a.example', password: 'x' },
        ]),
      );
    });

    it('lists by domain then username, as text or JSON, optionally one domain', async () => {
      const text = await run(['list']);
      assert.equal(text.code, 0);
      assert.deepEqual(
        text.stdout.split('\n').map((l) => l.split(/\s+/)[0]),
        ['zed@a.example', 'alice@b.example', 'bob@b.example', ''],
      );
      const json = await run(['list', '--json', '--domain', 'B.EXAMPLE']);
      const parsed = JSON.parse(json.stdout) as Array<{ username: string; domain: string; createdAt: string }>;
      assert.deepEqual(
        parsed.map((s) => [s.username, s.domain]),
        [
          ['alice', 'b.example'],
          ['bob', 'b.example'],
        ],
      );
      assert.ok(!Number.isNaN(Date.parse(parsed[0]!.createdAt)));
      assert.ok(!json.stdout.includes('ha1'));
      assert.deepEqual(await run(['list', '--json', '--domain', 'c.example']), { code: 0, stdout: '[]\n', stderr: '' });
      assert.deepEqual(await run(['list', '--domain', 'c.example']), { code: 0, stdout: '', stderr: 'no subscribers in c.example\n' });
    });

    it('removes, and exits 2 for someone who is not there', async () => {
      assert.deepEqual(await run(['remove', 'bob@B.example']), { code: 0, stdout: 'removed bob@b.example\n', stderr: '' });
      assert.equal(await get('bob', 'b.example'), undefined);
      assert.deepEqual(await run(['remove', 'bob@b.example']), { code: 2, stdout: '', stderr: 'parley user remove: no such user bob@b.example\n' });
      assert.equal(await count(), 2);
    });

    it('changes a password (given, piped or random), and exits 2 for someone who is not there', async () => {
      assert.equal((await run(['passwd', 'alice@b.example', '--password', 'new one'])).code, 0);
      await assertPassword('alice', 'b.example', 'new one');
      assert.equal((await run(['passwd', 'alice@b.example'], 'piped\n')).code, 0);
      await assertPassword('alice', 'b.example', 'piped');
      const random = await run(['passwd', 'alice@b.example', '--random']);
      const printed = /password: (\S+)\n$/.exec(random.stdout);
      assert.ok(printed);
      await assertPassword('alice', 'b.example', printed[1]!);
      const missing = await run(['passwd', 'nobody@b.example', '--password', 'x']);
      assert.deepEqual(missing, { code: 2, stdout: '', stderr: 'parley user passwd: no such user nobody@b.example\n' });
    });

    it('exits 2 when the data directory has no database, without creating one', async () => {
      dataDir = join(dir, 'elsewhere');
      for (const args of [['list'], ['remove', 'bob@b.example'], ['passwd', 'bob@b.example', '--password', 'x']]) {
        const r = await run(args);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /no database at .*elsewhere.parley\.db/);
      }
      assert.equal(existsSync(dataDir), false);
    });
  });

  describe('import', () => {
    it('imports user@domain,password lines (no header), with quotes and --domain for bare users', async () => {
      const file = csv('users.csv', 'alice@example.com,pw1\n"bob@example.com","p,w ""2"""\n1001,  pw3  \n');
      const r = await run(['import', file, '--domain', 'PBX.example']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^imported 3 subscribers from .*users\.csv in \d+\.\d\d s\n$/);
      await assertPassword('alice', 'example.com', 'pw1');
      await assertPassword('bob', 'example.com', 'p,w "2"');
      await assertPassword('1001', 'pbx.example', 'pw3');
    });

    it('imports username;domain;password with a header, CRLF lines and a BOM', async () => {
      const file = csv('users.csv', '\ufeffUsername;Domain;Password\r\nalice;example.com;"a;b"\r\nbob;;pw\r\n');
      const without = await run(['import', file]);
      assert.equal(without.code, 2); // bob has no domain
      assert.match(without.stderr, /users\.csv:3: domain: missing\n/);
      const r = await run(['import', file, '--domain', 'other.example']);
      assert.equal(r.code, 0, r.stderr);
      await assertPassword('alice', 'example.com', 'a;b');
      await assertPassword('bob', 'other.example', 'pw');
    });

    it('reports every bad line with its number and field, prints the usage, imports nothing, exits 2', async () => {
      await withStore((s) => s.add({ username: 'taken', domain: 'example.com', password: 'x' }));
      const file = csv(
        'bad.csv',
        [
          'user@domain,password', // 1 header
          'ok1@example.com,pw', // 2
          'nopassword@example.com', // 3 missing field
          'extra@example.com,pw,more', // 4 too many fields
          'bad user@example.com,pw', // 5 bad username
          'x@bad_domain..com,pw', // 6 bad domain
          'ok1@EXAMPLE.com,pw2', // 7 duplicate of line 2
          'taken@example.com,pw', // 8 already in the store
          'nodomain,pw', // 9 no @domain, no --domain
          'empty@example.com,', // 10 empty password
          '"broken"quote@example.com,pw', // 11 CSV syntax
          'ok2@example.com,"multi', // 12..13 a quoted line break
          'line",x', // 13 (part of 12) -> 3 fields
          'ok3@example.com,pw', // 14
          '', // blank
        ].join('\n'),
      );
      const r = await run(['import', file]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.deepEqual(r.stderr.split('\n'), [
        `${file}:3: password: missing (lines in this file are user@domain,password)`,
        `${file}:4: record: 3 fields, expected 2 (user@domain,password)`,
        `${file}:5: username: must not contain whitespace`,
        `${file}:6: domain: must not have an empty label (two dots, or a leading dot)`,
        `${file}:7: username: ok1@example.com is already on line 2`,
        `${file}:8: username: taken@example.com already exists`,
        `${file}:9: domain: missing in "nodomain" (write user@domain, or pass --domain)`,
        `${file}:10: password: missing`,
        `${file}:11: record: unexpected "q" after a closing quote (expected "," or the end of the line)`,
        `${file}:12: record: 3 fields, expected 2 (user@domain,password)`,
        `${file}: 10 bad lines; nothing imported`,
        'Usage: parley user import [options] <file.csv>',
        '',
      ]);
      assert.deepEqual((await withStore((s) => s.list())).map((s) => s.username), ['taken']);
    });

    it('prints at most 20 bad lines and counts the rest', async () => {
      const lines = Array.from({ length: 30 }, (_, i) => `user${i} bad@example.com,pw`);
      const file = csv('many.csv', ['good@example.com,pw', ...lines].join('\n'));
      const r = await run(['import', file]);
      assert.equal(r.code, 2);
      const errors = r.stderr.split('\n').filter((l) => /:\d+: /.test(l));
      assert.equal(errors.length, 20);
      assert.equal(errors[0], `${file}:2: username: must not contain whitespace`);
      assert.equal(errors[19], `${file}:21: username: must not contain whitespace`);
      assert.match(r.stderr, /\n… and 10 more\n.*: 30 bad lines; nothing imported\nUsage: /);
      assert.equal(existsSync(dataDir), false); // no database was created for a failed import
    });

    it('names the line of bytes that are not UTF-8', async () => {
      const file = join(dir, 'latin1.csv');
      writeFileSync(file, Buffer.concat([Buffer.from('ok@example.com,pw\nj@example.com,p'), Buffer.from([0xe9]), Buffer.from('\n')]));
      const r = await run(['import', file]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /latin1\.csv:2: password: not valid UTF-8\n/);
    });

    it('exits 2 for a file that cannot be read; an empty file imports nothing', async () => {
      const missing = await run(['import', join(dir, 'nope.csv')]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /cannot read .*nope\.csv: ENOENT/);
      const empty = await run(['import', csv('empty.csv', 'username,domain,password\n')]);
      assert.equal(empty.code, 0);
      assert.match(empty.stdout, /^imported 0 subscribers/);
    });

    it('imports a 10,000-line file', async () => {
      const rows = Array.from({ length: 10_000 }, (_, i) => `user${i},example.com,pw${i}`);
      const file = csv('10k.csv', `username,domain,password\n${rows.join('\n')}\n`);
      const r = await run(['import', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^imported 10000 subscribers/);
      assert.equal(await count(), 10_000);
      await assertPassword('user9999', 'example.com', 'pw9999');
      // and again: every line is now "already exists", nothing changes
      const again = await run(['import', file]);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /10k\.csv:2: username: user0@example\.com already exists\n/);
      assert.match(again.stderr, /10000 bad lines; nothing imported/);
    });
  });

  it('has help with examples for each subcommand (exit 0)', async () => {
    for (const sub of ['add', 'list', 'remove', 'passwd', 'import']) {
      const r = await run([sub, '--help']);
      assert.equal(r.code, 0, sub);
      assert.match(r.stdout, new RegExp(`Usage: parley user ${sub} `));
      assert.match(r.stdout, new RegExp(`Examples:\\n  parley user ${sub}\\b`));
      assert.match(r.stdout, /--data-dir <dir>/);
    }
    // `parley user` alone: the list of subcommands, as a usage error
    const stderr = new CaptureStream();
    const code = await runUserCommand([], { stdin: Readable.from([]), stdout: new CaptureStream(), stderr });
    assert.equal(code, 2);
    assert.match(stderr.text, /Commands:\n  add /);
  });

  it('runs as a process: exit statuses reach the shell, and a pipe left open does not hold it', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    // what src/cli/main.ts does: program.addCommand(userCommand()); with -e, argv[1] is the first argument
    const entry = [
      "import { Command } from 'commander';",
      "import { userCommand } from './src/cli/user-command.ts';",
      "await new Command('parley').addCommand(userCommand()).parseAsync(process.argv.slice(1), { from: 'user' });",
    ].join('\n');
    /** Run `parley user <args>`, writing `input` to its stdin but never closing it. */
    const parley = (args: string[], input: string): Promise<{ status: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', entry, '--', 'user', ...args, '--data-dir', dataDir], { cwd: root });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.stdin.on('error', () => {}); // the child may exit before reading it all
        child.stdin.write(input);
        const timer = setTimeout(() => {
          child.kill();
          reject(new Error(`parley user ${args.join(' ')} did not exit; stderr: ${stderr}`));
        }, 30_000);
        child.on('close', (status) => {
          clearTimeout(timer);
          resolve({ status, stdout, stderr });
        });
      });
    const added = await parley(['add', 'alice@example.com'], 'pw\nmore input\n');
    assert.equal(added.status, 0, added.stderr);
    assert.equal(added.stdout, 'added alice@example.com\n');
    await assertPassword('alice', 'example.com', 'pw');
    assert.equal((await parley(['add', 'alice@example.com'], 'pw\n')).status, 2);
    const usage = await parley(['add', 'alice@example.com', '--bogus'], '');
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /unknown option '--bogus'/);
    const help = await parley(['import', '--help'], '');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /user@domain,password/);
  });
});
