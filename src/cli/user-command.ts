import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { controlSocketPath, sendControl } from '../app/control-socket.js';
import type { NewSubscriber } from '../store/subscriber-store.js';
import { checkDomain, checkPassword, checkUsername } from '../store/check-subscriber.js';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteSubscriberStore } from '../store/sqlite/sqlite-subscriber-store.js';
import { readSubscriberCsv, stripScheme, type LineProblem } from '../store/subscriber-csv.js';
import { commandOutput, processHooks, runCommand, type CommandHooks } from './command-hooks.js';
import { CommandFailure, dataDirOption, EXIT_USAGE, storeActions, withDatabase, type DataDirOptions } from './store-command.js';

/** The streams `parley user` talks through (the process's own, or a test's). */
export interface UserCommandIo {
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
}

/** How `userCommand` reaches the world. Every field defaults to the process's. */
export interface UserCommandOptions extends Partial<UserCommandIo>, CommandHooks {}

/**
 * Exit statuses of `parley user …`: 0 done; 1 the database failed, or something unexpected; 2 bad
 * usage or input (an argument, a CSV line, a user that exists for add or does not for remove, passwd).
 */
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './store-command.js';

/** At most this many bad CSV lines are printed (the rest are counted). */
const MAX_REPORTED_LINES = 20;
/** Files with at least this many records get a progress bar (when stderr is a terminal). */
const PROGRESS_MIN_RECORDS = 2000;

const EXIT_CODES_HELP = `
Exit status: 0 done; 1 the database failed; 2 bad usage or input (including a user that already
exists for add and import, or does not exist for remove and passwd); 130 the password prompt was
interrupted.`;

const PASSWORD_HELP = `
The password comes from --password, or --random (a new one, printed once), or else is read:
from the terminal without echo (asked twice), or as one line from standard input when it is
piped. Only HA1 digests (MD5 and SHA-256, realm = the domain) are stored, never the password.
Prefer the prompt or a pipe to --password, which other local users can see in the process list.`;

const USERNAME_HELP = `
A username is 1 to 128 of: letters, digits and - _ . ! ~ * ' ( ) & = + $ , ; ? /
(RFC 3261 user characters, unescaped; case matters). A domain is a host name or an IP address
(case does not matter; it is stored lower-case). A leading sip: is ignored.`;

const IMPORT_HELP = `
CSV format (RFC 4180): one subscriber per line, in one of two layouts:
  user@domain,password          e.g.  alice@example.com,s3cret
  username,domain,password      e.g.  alice,example.com,s3cret
An optional first line names the layout: "user@domain,password" or "username,domain,password".
Without it, the first line's field count decides (2 or 3), and every line must have as many.
With --domain, a user without @domain (2 fields) or an empty domain field (3 fields) gets that domain.
Fields are separated by "," or ";" (the first one on the first line decides). Quote a field with
"..." to keep spaces around it or to put the separator or a quote ("" inside quotes) in it; spaces
around unquoted fields are ignored. Blank lines are skipped.

The import is all or nothing. If any line is bad (a missing field, a bad username, domain or
password, a user twice in the file, a user already in the database) nothing is imported: each bad
line is printed as FILE:LINE: field: problem (the first ${MAX_REPORTED_LINES}), and the exit status is 2.`;

const EXAMPLES = {
  add: `
Examples:
  parley user add alice@example.com                     # asks for the password
  parley user add bob@example.com --random              # prints a new password
  parley user add ops@example.com --random --admin      # may log in to the dashboard
  printf '%s\\n' "$PASSWORD" | parley user add carol@example.com
  parley user add dave@192.0.2.10 --password 's3cret' --data-dir /var/lib/parley`,
  list: `
Examples:
  parley user list
  parley user list --domain example.com
  parley user list --json > users.json`,
  remove: `
Examples:
  parley user remove alice@example.com
  parley user remove alice@example.com --data-dir /var/lib/parley`,
  passwd: `
Examples:
  parley user passwd alice@example.com                  # asks for the new password
  parley user passwd alice@example.com --random`,
  admin: `
Examples:
  parley user admin ops@example.com
  parley user admin ops@example.com --off`,
  import: `
Examples:
  parley user import users.csv
  parley user import phones.csv --domain example.com    # lines: 1001,s3cret
  parley user import users.csv --data-dir /var/lib/parley`,
} as const;

/**
 * `parley user`: add, list, remove, passwd and import subscribers in the SQLite database of a data
 * directory. Register it with `program.addCommand(userCommand())`. Tests pass their own streams
 * and exit hooks, or call `runUserCommand`.
 */
export function userCommand(options: UserCommandOptions = {}): Command {
  const io: UserCommandIo = {
    stdin: options.stdin ?? process.stdin,
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
  };
  const { setExitCode, exit } = processHooks(options);

  const user = commandOutput(new Command('user'), io, exit, EXIT_USAGE)
    .description('Manage subscribers: the users who may register and call (stored in <data-dir>/parley.db).')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `${USERNAME_HELP}\n${EXIT_CODES_HELP}`);

  const passwordOption = (): Option => new Option('-p, --password <password>', 'the password (see below for safer ways)');
  const randomOption = (): Option => new Option('-r, --random', 'generate a random password and print it').conflicts('password');

  /** Run a subcommand body, print its failure, and hand its status to setExitCode. */
  const action = storeActions('user', io.stderr, setExitCode);

  user
    .command('add')
    .description('Add a subscriber.')
    .argument('<user@domain>', 'the new address, e.g. alice@example.com')
    .addOption(passwordOption())
    .addOption(randomOption())
    .option('--admin', 'may log in to the dashboard (/dashboard) with this password')
    .addOption(dataDirOption())
    .addHelpText('after', `${PASSWORD_HELP}\n${USERNAME_HELP}\n${EXAMPLES.add}\n${EXIT_CODES_HELP}`)
    .action(
      action('add', async (address: string, opts: PasswordOptions & DataDirOptions & { admin?: boolean }) => {
        const { username, domain } = parseAddress(address);
        await withStore(opts.dataDir, 'create', async (store) => {
          if (await store.get(username, domain)) throw new CommandFailure(`${username}@${domain} already exists`, EXIT_USAGE);
          const { password, generated } = await obtainPassword(opts, io);
          const added = await store.add({ username, domain, password, admin: opts.admin === true });
          await tellServer(opts.dataDir, username, domain);
          io.stdout.write(`added ${added.username}@${added.domain}${added.admin === true ? ' (admin)' : ''}\n`);
          if (generated) io.stdout.write(`password: ${password}\n`);
        });
      }),
    );

  user
    .command('list')
    .description('List subscribers, ordered by domain then username.')
    .option('--domain <domain>', 'only this domain')
    .option('--json', 'print a JSON array of {username, domain, createdAt}')
    .addOption(dataDirOption())
    .addHelpText('after', `${EXAMPLES.list}\n${EXIT_CODES_HELP}`)
    .action(
      action('list', async (opts: DataDirOptions & { domain?: string; json?: boolean }) => {
        const domain = opts.domain === undefined ? undefined : checked('domain', checkDomain(opts.domain));
        await withStore(opts.dataDir, 'existing', async (store) => {
          const page = 1000;
          let count = 0;
          if (opts.json) io.stdout.write('[');
          for (let offset = 0; ; offset += page) {
            const list = await store.list({ ...(domain === undefined ? {} : { domain }), limit: page, offset });
            const width = Math.max(0, ...list.map((s) => s.username.length + 1 + s.domain.length));
            for (const s of list) {
              const createdAt = new Date(s.createdAt).toISOString();
              if (opts.json) io.stdout.write(`${count > 0 ? ',' : ''}\n  ${JSON.stringify({ username: s.username, domain: s.domain, createdAt })}`);
              else io.stdout.write(`${`${s.username}@${s.domain}`.padEnd(width)}  ${createdAt}\n`);
              count++;
            }
            if (list.length < page) break;
          }
          if (opts.json) io.stdout.write(count > 0 ? '\n]\n' : ']\n');
          else if (count === 0) io.stderr.write(domain === undefined ? 'no subscribers\n' : `no subscribers in ${domain}\n`);
        });
      }),
    );

  user
    .command('remove')
    .description('Remove a subscriber.')
    .argument('<user@domain>', 'the address to remove')
    .addOption(dataDirOption())
    .addHelpText('after', `${EXAMPLES.remove}\n${EXIT_CODES_HELP}`)
    .action(
      action('remove', async (address: string, opts: DataDirOptions) => {
        const { username, domain } = parseAddress(address);
        await withStore(opts.dataDir, 'existing', async (store) => {
          if (!(await store.remove(username, domain))) throw new CommandFailure(`no such user ${username}@${domain}`, EXIT_USAGE);
          await tellServer(opts.dataDir, username, domain);
          io.stdout.write(`removed ${username}@${domain}\n`);
        });
      }),
    );

  user
    .command('passwd')
    .description("Change a subscriber's password.")
    .argument('<user@domain>', 'the address whose password changes')
    .addOption(passwordOption())
    .addOption(randomOption())
    .addOption(dataDirOption())
    .addHelpText('after', `${PASSWORD_HELP}\n${EXAMPLES.passwd}\n${EXIT_CODES_HELP}`)
    .action(
      action('passwd', async (address: string, opts: PasswordOptions & DataDirOptions) => {
        const { username, domain } = parseAddress(address);
        await withStore(opts.dataDir, 'existing', async (store) => {
          if (!(await store.get(username, domain))) throw new CommandFailure(`no such user ${username}@${domain}`, EXIT_USAGE);
          const { password, generated } = await obtainPassword(opts, io);
          if (!(await store.setPassword(username, domain, password))) throw new CommandFailure(`no such user ${username}@${domain}`, EXIT_USAGE);
          await tellServer(opts.dataDir, username, domain);
          io.stdout.write(`changed the password of ${username}@${domain}\n`);
          if (generated) io.stdout.write(`password: ${password}\n`);
        });
      }),
    );

  user
    .command('admin')
    .description('Let a subscriber log in to the dashboard (/dashboard) with the password, or (--off) no longer.')
    .argument('<user@domain>', 'the subscriber')
    .option('--off', 'take the right away')
    .addOption(dataDirOption())
    .addHelpText('after', `${EXAMPLES.admin}\n${EXIT_CODES_HELP}`)
    .action(
      action('admin', async (address: string, opts: DataDirOptions & { off?: boolean }) => {
        const { username, domain } = parseAddress(address);
        await withStore(opts.dataDir, 'existing', async (store) => {
          if (!(await store.setAdmin(username, domain, opts.off !== true))) throw new CommandFailure(`no such user ${username}@${domain}`, EXIT_USAGE);
          io.stdout.write(opts.off === true ? `${username}@${domain} is no longer an admin\n` : `${username}@${domain} is an admin (may log in to the dashboard)\n`);
        });
      }),
    );

  const importCommand = user
    .command('import')
    .description('Add many subscribers from a CSV file, all or nothing.')
    .argument('<file.csv>', 'the CSV file (see below)')
    .option('--domain <domain>', 'domain for lines that give none')
    .addOption(dataDirOption())
    .addHelpText('after', `${IMPORT_HELP}\n${USERNAME_HELP}\n${EXAMPLES.import}\n${EXIT_CODES_HELP}`);
  importCommand.action(
    action('import', async (file: string, opts: DataDirOptions & { domain?: string }) => {
      const started = performance.now();
      const defaultDomain = opts.domain === undefined ? undefined : checked('domain', checkDomain(opts.domain));
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (e) {
        throw new CommandFailure(`cannot read ${file}: ${(e as Error).message}`, EXIT_USAGE);
      }
      const { subscribers, problems } = readSubscriberCsv(bytes, defaultDomain);
      const usage = `Usage: ${commandPath(importCommand)} ${importCommand.usage()}`;
      if (problems.length > 0 && !existsSync(SqliteDatabase.fileIn(opts.dataDir))) {
        // no database yet, so nobody "already exists": report without creating one
        reportProblems(file, problems, io, usage);
        throw new CommandFailure('', EXIT_USAGE);
      }
      await withStore(opts.dataDir, 'create', async (store) => {
        const progress = progressBar(io.stderr, subscribers.length);
        // rows that are fine on their own: are they in the database already?
        let checkedRows = 0;
        for (const [line, s] of subscribers) {
          if (await store.get(s.username, s.domain)) problems.push({ line, field: 'username', problem: `${s.username}@${s.domain} already exists` });
          progress?.update('checking', ++checkedRows / subscribers.length / 3);
        }
        if (problems.length > 0) {
          progress?.clear();
          reportProblems(file, problems, io, usage);
          throw new CommandFailure('', EXIT_USAGE);
        }
        let added: number;
        try {
          added = await store.addMany(
            subscribers.map(([, s]) => s),
            (done, total) => progress?.update('importing', 1 / 3 + (2 / 3) * (done / total)),
          );
        } finally {
          progress?.clear();
        }
        await tellServer(opts.dataDir);
        const seconds = (performance.now() - started) / 1000;
        io.stdout.write(`imported ${added} subscriber${added === 1 ? '' : 's'} from ${file} in ${seconds.toFixed(2)} s\n`);
      });
    }),
  );

  return user;
}

/**
 * Run `parley user <args…>` as the command line would, with the given streams, and resolve to the
 * exit status. For tests: nothing touches process.exit or process.exitCode.
 */
export async function runUserCommand(args: readonly string[], io: UserCommandIo): Promise<number> {
  return runCommand('user', args, io, EXIT_USAGE, (hooks) => userCommand({ ...io, ...hooks }));
}

interface PasswordOptions {
  password?: string;
  random?: boolean;
}


function reportProblems(file: string, problems: LineProblem[], io: UserCommandIo, usage: string): void {
  problems.sort((a, b) => a.line - b.line);
  for (const p of problems.slice(0, MAX_REPORTED_LINES)) io.stderr.write(`${file}:${p.line}: ${p.field}: ${p.problem}\n`);
  if (problems.length > MAX_REPORTED_LINES) io.stderr.write(`… and ${problems.length - MAX_REPORTED_LINES} more\n`);
  const lines = new Set(problems.map((p) => p.line)).size;
  io.stderr.write(`${file}: ${lines} bad line${lines === 1 ? '' : 's'}; nothing imported\n${usage}\n`);
}

/** `user@domain` (or `sip:user@domain`) → checked username and canonical domain. */
function parseAddress(text: string): { username: string; domain: string } {
  const address = stripScheme(text);
  const at = address.indexOf('@');
  if (at < 0) throw new CommandFailure(`${JSON.stringify(text)}: expected user@domain`, EXIT_USAGE);
  return {
    username: checked('username', checkUsername(address.slice(0, at))),
    domain: checked('domain', checkDomain(address.slice(at + 1))),
  };
}


function checked(field: string, result: { ok: true; value: string } | { ok: false; error: string }): string {
  if (!result.ok) throw new CommandFailure(`${field}: ${result.error}`, EXIT_USAGE);
  return result.value;
}

/**
 * Tell the server running on this data directory, if any, that a subscriber (or, without a
 * name, many) changed, so that its SIP threads stop using cached copies at once
 * (auth.subscriberCache). No server, or no answer within 2 s: nothing to do (a server started
 * later reads the database).
 */
async function tellServer(dataDir: string, username?: string, domain?: string): Promise<void> {
  if (!existsSync(controlSocketPath(dataDir))) return;
  try {
    await sendControl(dataDir, { cmd: 'subscriber-changed', ...(username === undefined || domain === undefined ? {} : { username, domain }) }, 2000);
  } catch {
    // a stale socket file, or a server that stopped meanwhile
  }
}

/** Open the subscriber store of a data directory for the length of `body`. */
async function withStore(dataDir: string, mode: 'create' | 'existing', body: (store: SqliteSubscriberStore) => Promise<void>): Promise<void> {
  await withDatabase(dataDir, mode, 'no user added yet, or the wrong --data-dir?', (db) => body(new SqliteSubscriberStore(db)));
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The password for add and passwd: given, generated, typed at a terminal, or piped. */
async function obtainPassword(opts: PasswordOptions, io: UserCommandIo): Promise<{ password: string; generated: boolean }> {
  let password: string;
  let generated = false;
  if (opts.password !== undefined) password = opts.password;
  else if (opts.random) {
    // 144 random bits as 24 characters of [A-Za-z0-9_-]: easy to paste into a phone's settings
    password = randomBytes(18).toString('base64url');
    generated = true;
  } else if (io.stdin.isTTY && typeof io.stdin.setRawMode === 'function') {
    password = await readHiddenLine(io, 'Password: ');
    const again = await readHiddenLine(io, 'Password again: ');
    if (again !== password) throw new CommandFailure('the passwords do not match', EXIT_USAGE);
  } else {
    const line = await readOneLine(io.stdin);
    if (line === undefined) throw new CommandFailure('no password: pipe one line to standard input, or use --password or --random', EXIT_USAGE);
    password = line;
  }
  return { password: checked('password', checkPassword(password)), generated };
}

/** The first line of a piped stream (without its CR LF), or undefined at once-empty input. */
function readOneLine(stream: NodeJS.ReadableStream): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const finish = (value: string | undefined): void => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
      stream.pause();
      // a paused pipe still holds the event loop: `yes pw | parley user add …` must not wait for EOF
      (stream as { unref?: () => void }).unref?.();
      resolve(value);
    };
    const onData = (chunk: Buffer | string): void => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const nl = b.indexOf(0x0a);
      if (nl < 0) {
        chunks.push(b);
        return;
      }
      chunks.push(b.subarray(0, nl));
      finish(Buffer.concat(chunks).toString('utf8').replace(/\r$/u, ''));
    };
    const onEnd = (): void => finish(chunks.length === 0 ? undefined : Buffer.concat(chunks).toString('utf8').replace(/\r$/u, ''));
    const onError = (e: Error): void => {
      finish(undefined);
      reject(e);
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.resume();
  });
}

/**
 * Read a line from a terminal without echo (raw mode): Enter ends it, Backspace deletes, Ctrl-C
 * (or Ctrl-D on an empty line) cancels with status 130 as a shell would report for an interrupt.
 */
function readHiddenLine(io: UserCommandIo, prompt: string): Promise<string> {
  const stdin = io.stdin;
  io.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (rest: string, error?: CommandFailure): void => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      // typed ahead (or pasted with the Enter): keep it for the next prompt
      if (rest !== '') stdin.unshift(Buffer.from(rest, 'utf8'));
      io.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string): void => {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      for (let i = 0; i < text.length; i++) {
        const ch = text[i]!;
        const rest = (): string => text.slice(text[i + 1] === '\n' && ch === '\r' ? i + 2 : i + 1);
        if (ch === '\r' || ch === '\n') return done(rest());
        if (ch === '\u0003' || (ch === '\u0004' && value === '')) return done('', new CommandFailure('cancelled', 130));
        if (ch === '\u0004') return done(rest());
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.setRawMode?.(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** A one-line text bar on a terminal's stderr, for files big enough to wait for; undefined otherwise. */
function progressBar(stream: UserCommandIo['stderr'], records: number): { update(label: string, fraction: number): void; clear(): void } | undefined {
  if (!stream.isTTY || records < PROGRESS_MIN_RECORDS) return undefined;
  const width = 30;
  let shown = '';
  return {
    update(label, fraction) {
      const f = Math.min(1, Math.max(0, fraction));
      const filled = Math.round(f * width);
      const text = `${label.padEnd(9)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(f * 100)
        .toString()
        .padStart(3)}%`;
      if (text === shown) return;
      stream.write(`\r${text}`);
      shown = text;
    },
    clear() {
      if (shown !== '') stream.write(`\r${' '.repeat(shown.length)}\r`);
      shown = '';
    },
  };
}
