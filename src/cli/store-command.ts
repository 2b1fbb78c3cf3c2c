import { existsSync } from 'node:fs';
import { Option } from 'commander';
import { StoreError } from '../store/store-error.js';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.js';

/**
 * What the commands that edit the database of a data directory (`parley user …`,
 * `parley token …`) share: their exit statuses, how a subcommand fails, the --data-dir option,
 * and the database opened for the length of a subcommand.
 */

/** Done. */
export const EXIT_OK = 0;
/** The database could not be opened, read or written; or something unexpected. */
export const EXIT_FAILURE = 1;
/** Bad usage or input (an argument, a line of a file, a record that exists or does not). */
export const EXIT_USAGE = 2;

export const DEFAULT_DATA_DIR = './parley-data';

/** The reason a subcommand stops early: what to print (nothing when empty) and the exit status. */
export class CommandFailure {
  constructor(
    readonly message: string,
    readonly exitCode: number,
  ) {}
}

export interface DataDirOptions {
  dataDir: string;
}

/** `-d, --data-dir <dir>` (default ./parley-data). */
export function dataDirOption(): Option {
  return new Option('-d, --data-dir <dir>', 'data directory').default(DEFAULT_DATA_DIR);
}

/**
 * The action wrapper of `parley <command>`'s subcommands: run a subcommand body, print its
 * failure as `parley <command> <name>: <message>`, and hand its status to setExitCode.
 */
export function storeActions(command: string, stderr: NodeJS.WritableStream, setExitCode: (code: number) => void) {
  return <A extends unknown[]>(name: string, body: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      let code = EXIT_OK;
      try {
        await body(...args);
      } catch (e) {
        const failure = asFailure(e);
        if (failure.message !== '') stderr.write(`parley ${command} ${name}: ${failure.message}\n`);
        code = failure.exitCode;
      }
      setExitCode(code);
    };
}

/**
 * Open the database of a data directory for the length of `body`. `existing`: fail (bad usage,
 * with `hint` on what may be wrong) when there is none yet rather than create it.
 */
export async function withDatabase(dataDir: string, mode: 'create' | 'existing', hint: string, body: (db: SqliteDatabase) => Promise<void>): Promise<void> {
  const file = SqliteDatabase.fileIn(dataDir);
  if (mode === 'existing' && !existsSync(file)) {
    throw new CommandFailure(`no database at ${file} (${hint})`, EXIT_USAGE);
  }
  const db = SqliteDatabase.open(dataDir);
  try {
    await body(db);
  } finally {
    db.close();
  }
}

/** A thrown value as a failure: a store's I/O error is 1, its other errors 2, anything else 1. */
export function asFailure(e: unknown): CommandFailure {
  if (e instanceof CommandFailure) return e;
  if (e instanceof StoreError) return new CommandFailure(e.message, e.storeCode === 'ERR_STORE_IO' ? EXIT_FAILURE : EXIT_USAGE);
  return new CommandFailure(e instanceof Error ? e.message : String(e), EXIT_FAILURE);
}
