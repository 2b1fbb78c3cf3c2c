import { Command, Option } from 'commander';
import { SqliteTokenStore } from '../store/sqlite/sqlite-token-store.js';
import { API_TOKEN_SCOPES, tokenJson, type ApiTokenScope } from '../store/token-store.js';
import { commandOutput, processHooks, runCommand, type CommandHooks, type CommandOutput } from './command-hooks.js';
import { CommandFailure, dataDirOption, EXIT_USAGE, storeActions, withDatabase, type DataDirOptions } from './store-command.js';

/** The streams `parley token` writes to (the process's own, or a test's). */
export type TokenCommandIo = CommandOutput;

/** How `tokenCommand` reaches the world. Every field defaults to the process's. */
export interface TokenCommandOptions extends Partial<TokenCommandIo>, CommandHooks {}

/**
 * Exit statuses of `parley token …` (as `parley user`): 0 done; 1 the database failed; 2 bad
 * usage or input (an argument, a token that does not exist for revoke).
 */
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './store-command.js';

const TOKENS_HELP = `
An API token is Authorization: Bearer pk_<id>_<secret> for the REST API (/api/v1/…) and /metrics.
Scopes: read (GET everything), write (read, and change subscribers, bindings, calls), admin
(write, and tokens, the routing script, the configuration). The token is printed once, by create;
only a SHA-256 of its secret is stored. A running server sees new and revoked tokens at its next
request: there is nothing to reload.

Exit status: 0 done; 1 the database failed; 2 bad usage or input (including revoking a token that
does not exist).`;

const EXAMPLES = {
  create: `
Examples:
  parley token create --name grafana --scope read
  parley token create --name crm-sync --scope write --data-dir /var/lib/parley --json`,
  list: `
Examples:
  parley token list
  parley token list --json`,
  revoke: `
Examples:
  parley token revoke 3f9a0c1b2d4e`,
} as const;

/**
 * `parley token`: create, list and revoke API tokens in the SQLite database of a data directory.
 * Register it with `program.addCommand(tokenCommand())`; tests call `runTokenCommand`.
 */
export function tokenCommand(options: TokenCommandOptions = {}): Command {
  const io: TokenCommandIo = { stdout: options.stdout ?? process.stdout, stderr: options.stderr ?? process.stderr };
  const { setExitCode, exit } = processHooks(options);

  const token = commandOutput(new Command('token'), io, exit, EXIT_USAGE)
    .description('Manage API tokens: who may use the REST API and /metrics (stored in <data-dir>/parley.db).')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', TOKENS_HELP);

  const action = storeActions('token', io.stderr, setExitCode);

  token
    .command('create')
    .description('Create a token and print it (this once: it cannot be shown again).')
    .requiredOption('-n, --name <name>', 'what the token is for (shown by list and in the audit log)')
    .addOption(new Option('-s, --scope <scope>', 'what it may do').choices(API_TOKEN_SCOPES).makeOptionMandatory())
    .option('--json', 'print {"id","name","scope","createdAt","token"}')
    .addOption(dataDirOption())
    .addHelpText('after', `${EXAMPLES.create}\n${TOKENS_HELP}`)
    .action(
      action('create', async (opts: DataDirOptions & { name: string; scope: ApiTokenScope; json?: boolean }) => {
        await withStore(opts.dataDir, 'create', async (store) => {
          const made = await store.create(opts.name, opts.scope);
          const createdAt = new Date(made.info.createdAt).toISOString();
          if (opts.json) {
            io.stdout.write(`${JSON.stringify({ id: made.info.id, name: made.info.name, scope: made.info.scope, createdAt, token: made.token })}\n`);
          } else {
            io.stdout.write(`created token ${made.info.id} (${made.info.name}, scope ${made.info.scope})\n`);
            io.stdout.write(`token: ${made.token}\n`);
            io.stdout.write('(keep it now: it is not stored and cannot be shown again)\n');
          }
        });
      }),
    );

  token
    .command('list')
    .description('List the tokens that are not revoked (never their secrets).')
    .option('--json', 'print a JSON array of {id, name, scope, createdAt, lastUsedAt?, expiresAt?}')
    .addOption(dataDirOption())
    .addHelpText('after', `${EXAMPLES.list}\n${TOKENS_HELP}`)
    .action(
      action('list', async (opts: DataDirOptions & { json?: boolean }) => {
        await withStore(opts.dataDir, 'existing', async (store) => {
          const tokens = await store.list();
          if (opts.json) {
            io.stdout.write(`${JSON.stringify(tokens.map(tokenJson), null, 2)}\n`);
            return;
          }
          if (tokens.length === 0) {
            io.stderr.write('no tokens\n');
            return;
          }
          const width = Math.max(4, ...tokens.map((t) => t.name.length));
          io.stdout.write(`${'ID'.padEnd(12)}  ${'NAME'.padEnd(width)}  ${'SCOPE'.padEnd(5)}  ${'CREATED'.padEnd(24)}  LAST USED\n`);
          for (const t of tokens) {
            const j = tokenJson(t);
            io.stdout.write(`${t.id.padEnd(12)}  ${t.name.padEnd(width)}  ${t.scope.padEnd(5)}  ${j.createdAt.padEnd(24)}  ${j.lastUsedAt ?? 'never'}\n`);
          }
        });
      }),
    );

  token
    .command('revoke')
    .description('Revoke a token: it stops working at once, also on a running server.')
    .argument('<id>', 'the token id (the part after pk_, as list shows it)')
    .addOption(dataDirOption())
    .addHelpText('after', `${EXAMPLES.revoke}\n${TOKENS_HELP}`)
    .action(
      action('revoke', async (id: string, opts: DataDirOptions) => {
        await withStore(opts.dataDir, 'existing', async (store) => {
          if (!(await store.revoke(id))) throw new CommandFailure(`no such token ${id}`, EXIT_USAGE);
          io.stdout.write(`revoked token ${id}\n`);
        });
      }),
    );

  return token;
}

/**
 * Run `parley token <args…>` as the command line would, with the given streams, and resolve to
 * the exit status. For tests: nothing touches process.exit or process.exitCode.
 */
export async function runTokenCommand(args: readonly string[], io: TokenCommandIo): Promise<number> {
  return runCommand('token', args, io, EXIT_USAGE, (hooks) => tokenCommand({ ...io, ...hooks }));
}

/** Open the token store of a data directory for the length of `body`. */
async function withStore(dataDir: string, mode: 'create' | 'existing', body: (store: SqliteTokenStore) => Promise<void>): Promise<void> {
  await withDatabase(dataDir, mode, 'no token or user added yet, or the wrong --data-dir?', (db) => body(new SqliteTokenStore(db)));
}
