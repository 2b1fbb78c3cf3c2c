import { Command, CommanderError } from 'commander';

/** The streams a `parley <command>` writes to (the process's own, or a test's). */
export interface CommandOutput {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** How a command built for `program.addCommand` ends (the process's ways, or a test's). */
export interface CommandHooks {
  /** Receives the exit status of a finished subcommand. Default: sets `process.exitCode`. */
  readonly setExitCode?: (code: number) => void;
  /** Called by commander after `--help` or a usage error, with 0 or 2; must not return. Default: `process.exit`. */
  readonly exit?: (code: number) => never;
}

/** `hooks` with the process's defaults filled in. */
export function processHooks(hooks: CommandHooks): Required<CommandHooks> {
  return {
    setExitCode:
      hooks.setExitCode ??
      ((code: number): void => {
        process.exitCode = code;
      }),
    exit: hooks.exit ?? ((code: number): never => process.exit(code)),
  };
}

/**
 * Send a command's help and errors to `io`, 100 columns wide, and give commander's own exits
 * (help, usage errors) Parley's statuses: 0, or `usage` for bad usage.
 */
export function commandOutput(cmd: Command, io: CommandOutput, exit: (code: number) => never, usage: number): Command {
  return cmd
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      getOutHelpWidth: () => 100,
      getErrHelpWidth: () => 100,
    })
    .exitOverride((e: CommanderError) => exit(e.exitCode === 0 ? 0 : usage));
}

/**
 * Run `parley <name> <args…>` as the command line would, with the command `make` builds from a
 * test's hooks, and resolve to the exit status: nothing touches process.exit or process.exitCode.
 * Commander's own exits resolve to 0 (help) or `usage`.
 */
export async function runCommand(name: string, args: readonly string[], io: CommandOutput, usage: number, make: (hooks: Required<CommandHooks>) => Command): Promise<number> {
  let status = 0;
  class Exit {
    constructor(readonly code: number) {}
  }
  const program = new Command('parley').exitOverride().configureOutput({
    writeOut: (s) => void io.stdout.write(s),
    writeErr: (s) => void io.stderr.write(s),
  });
  program.addCommand(
    make({
      setExitCode: (code) => {
        status = code;
      },
      exit: (code) => {
        throw new Exit(code);
      },
    }),
  );
  try {
    await program.parseAsync([name, ...args], { from: 'user' });
  } catch (e) {
    if (e instanceof Exit) return e.code;
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : usage;
    throw e;
  }
  return status;
}
