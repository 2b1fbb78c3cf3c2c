import { Command } from 'commander';
import { ConfigError, readConfigFile } from '../app/config.js';
import { envName } from '../app/config-env.js';
import { sendControl } from '../app/control-socket.js';
import type { ReloadOutcome } from '../routing/script-host.js';
import type { ConfigReloadOutcome } from '../app/config-reload.js';

/**
 * The data directory a command talks about: --data-dir, else the configuration file's (with the
 * environment over it), else PARLEY_DATA_DIR, else the default: where `parley serve` with the
 * same file and environment puts it.
 */
export function dataDirOf(opts: { dataDir?: string; config?: string }, env: NodeJS.ProcessEnv = process.env): string {
  if (opts.dataDir !== undefined) return opts.dataDir;
  if (opts.config !== undefined) {
    try {
      return readConfigFile(opts.config, env).config.dataDir;
    } catch (e) {
      if (e instanceof ConfigError) throw new Error(`bad configuration: ${e.message}`);
      throw e;
    }
  }
  const fromEnv = env[envName(['dataDir'])];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : './parley-data';
}

/** What `parley reload` prints for an outcome, and its exit status (0 loaded or unchanged, 1 refused). */
export function describeReload(o: ReloadOutcome): { text: string; code: number } {
  if (o.ok) {
    return o.changed
      ? { text: `routing script version ${o.version} active on every SIP core (${o.source}, ${o.ms} ms)`, code: 0 }
      : { text: `routing script unchanged: version ${o.version} stays (${o.source})`, code: 0 };
  }
  return { text: `routing script refused: ${o.error.message}\nversion ${o.version} keeps serving (${o.source})`, code: 1 };
}

/**
 * What `parley reload` prints for the configuration's part of a reload, and its exit status (0
 * read, 1 refused: the running configuration stays).
 */
export function describeConfigReload(o: ConfigReloadOutcome): { text: string; code: number } {
  if (!o.ok) return { text: `configuration refused: ${o.error}\nthe running configuration stays`, code: 1 };
  if (o.file === undefined) return { text: 'configuration: the server was started without a configuration file (nothing to read again)', code: 0 };
  const lines = [o.applied.length === 0 && o.restart.length === 0 ? `configuration unchanged (${o.file})` : `configuration reloaded (${o.file})${o.applied.length > 0 ? `: applied ${o.applied.join(', ')}` : ''}`];
  if (o.restart.length > 0) lines.push(`changed, applies after a restart (the running value stays): ${o.restart.join(', ')}`);
  return { text: lines.join('\n'), code: 0 };
}

/** The routing script's answer when the server runs the built-in default (no file to reload). */
function noScriptFile(o: ReloadOutcome): boolean {
  return !o.ok && o.error.detail === 'no routing script file configured';
}

/**
 * `parley reload`: ask the running server (through the control socket in its data directory)
 * to compile, check and switch to its routing script again; prints the version now active, or
 * the error with its file:line:column.
 */
export function reloadCommand(): Command {
  return new Command('reload')
    .description('Reload the running server: read its configuration file again (applying what can change live, naming what needs a restart) and its routing script (compile, check, switch every SIP core to it); prints what changed, or the error (file:line: key, or file:line:column).')
    .option('-d, --data-dir <dir>', 'the server\'s data directory (default ./parley-data)')
    .option('-c, --config <file>', 'the server\'s configuration file (for its dataDir)')
    .addHelpText('after', '\nExit status: 0 loaded (or unchanged); 1 the configuration or the script refused (the running one keeps serving) or no server answered.\nSIGHUP to the server\'s PID (<data-dir>/parley.pid) reloads too, with the outcome in its log.')
    .action(async (opts: { dataDir?: string; config?: string }) => {
      try {
        const answer = (await sendControl(dataDirOf(opts), { cmd: 'reload' })) as unknown as (ReloadOutcome & { config?: ConfigReloadOutcome }) | { ok: false; error: { message: string }; version?: undefined };
        if (answer.version === undefined) {
          console.error(`parley reload: ${answer.error.message}`);
          process.exitCode = 1;
          return;
        }
        let code = 0;
        // a server from before configuration reloads answers without `config`
        if (answer.config !== undefined) {
          const c = describeConfigReload(answer.config);
          (c.code === 0 ? console.log : console.error)(c.text);
          code = c.code;
        }
        if (answer.config !== undefined && noScriptFile(answer)) {
          console.log(`routing script: the built-in default (no file to reload)`);
        } else {
          const r = describeReload(answer as ReloadOutcome);
          (r.code === 0 ? console.log : console.error)(r.text);
          code = Math.max(code, r.code);
        }
        process.exitCode = code;
      } catch (e) {
        console.error(`parley reload: ${(e as Error).message}`);
        process.exitCode = 1;
      }
    });
}
