import { Command } from 'commander';
import { checkConfigFile, configReference, envReference, type ConfigEnv } from '../app/config.js';
import type { ConfigError } from '../app/config-schema.js';
import { EnvConfigError } from '../app/config-env.js';

/** What `parley config check` says of a file, and its exit status: 0 the server would take it, 1 not. */
export function checkConfig(file: string, env: ConfigEnv, json: boolean): { code: 0 | 1; out: string; err: string } {
  const errors = checkConfigFile(file, env).sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  const item = (e: ConfigError): Record<string, unknown> => ({
    file: e instanceof EnvConfigError ? undefined : (e.file ?? file),
    ...(e.line === undefined ? {} : { line: e.line }),
    key: e.key,
    ...(e instanceof EnvConfigError ? { variable: e.variable } : {}),
    error: e.detail,
    message: e.message,
  });
  if (json) return { code: errors.length === 0 ? 0 : 1, out: JSON.stringify({ ok: errors.length === 0, file, errors: errors.map(item) }), err: '' };
  if (errors.length === 0) return { code: 0, out: `${file}: ok`, err: '' };
  return { code: 1, out: '', err: errors.map((e) => `parley config check: ${e.message}`).join('\n') };
}

/** `parley config` (the reference of every key), `parley config env`, `parley config check FILE`. */
export function configCommand(): Command {
  const config = new Command('config').description('The configuration: every key (the default), the PARLEY_… environment variables, or check a file.');
  config.addCommand(
    new Command('reference').description('Print every configuration key with its type, default and meaning (Markdown).').action(() => {
      console.log(configReference());
    }),
    { isDefault: true },
  );
  config.addCommand(
    new Command('env').description('Print the PARLEY_… environment variable of every configuration key (Markdown).').action(() => {
      console.log(envReference());
    }),
  );
  config.addCommand(
    new Command('check')
      .description('Validate a configuration file without starting a server: every key in error with its file and line.')
      .argument('<file>', 'the configuration file (YAML or JSON)')
      .option('--env', 'with the PARLEY_… environment variables over it, as `parley serve` reads it')
      .option('--json', 'the outcome as JSON: {ok, file, errors: [{file, line, key, variable?, error, message}]}')
      .addHelpText('after', '\nExit status: 0 valid; 1 not (each error on stderr as FILE:LINE: KEY: what is wrong).\nWhat only a start can tell (a port in use, a certificate that cannot be read) is not checked.\n\nExample (CI):\n  parley config check deploy/parley.yaml')
      .action((file: string, opts: { env?: boolean; json?: boolean }) => {
        const r = checkConfig(file, opts.env === true ? process.env : {}, opts.json === true);
        if (r.out !== '') console.log(r.out);
        if (r.err !== '') console.error(r.err);
        process.exitCode = r.code;
      }),
  );
  return config;
}
