#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ConfigError, configFromObject, configReference, loadConfigFile, type ParleyConfig } from '../app/config.js';
import { parseListenSpec, runServer } from '../app/run-server.js';
import { userCommand } from './user-command.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('parley')
  .description('Parley: a SIP registrar, stateful proxy and real-time communications server, programmable in TypeScript.')
  .version(pkg.version)
  .showHelpAfterError('(run with --help for usage)');

program
  .command('serve')
  .description('Start the server. Without --config it runs with the embedded defaults: SIP on UDP and TCP 5060 and TLS 5061, data in ./parley-data.')
  .option('-c, --config <file>', 'configuration file (YAML or JSON); see docs/configuration.md')
  .option('-d, --data-dir <dir>', 'data directory (overrides dataDir)')
  .option('-l, --listen <spec...>', 'listeners, replacing the configured ones: transport:address:port, e.g. udp:0.0.0.0:5060 tls:[::]:5061')
  .addOption(new Option('--log-level <level>', 'log level (overrides log.level)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .addHelpText('after', '\nExamples:\n  parley serve\n  parley serve --config parley.yaml\n  parley serve --listen udp:127.0.0.1:5080 tcp:127.0.0.1:5080 --data-dir /tmp/parley')
  .action(async (opts: { config?: string; dataDir?: string; listen?: string[]; logLevel?: ParleyConfig['log']['level'] }) => {
    let config: ParleyConfig;
    try {
      config = opts.config ? loadConfigFile(opts.config) : configFromObject({});
      config = {
        ...config,
        ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
        log: { level: opts.logLevel ?? config.log.level },
        sip: { ...config.sip, listen: opts.listen ? opts.listen.map(parseListenSpec) : config.sip.listen },
      };
    } catch (e) {
      if (e instanceof ConfigError) {
        console.error(`parley: bad configuration: ${e.message}`);
        process.exit(2);
      }
      console.error(`parley: ${(e as Error).message}`);
      process.exit(2);
    }
    let server;
    try {
      server = await runServer(config);
    } catch (e) {
      console.error(`parley: could not start: ${(e as Error).message}`);
      process.exit(1);
    }
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      server.log.info({ signal }, 'shutting down');
      const force = setTimeout(() => process.exit(1), 5000);
      force.unref();
      server.stop().then(
        () => {
          server.log.flush();
          process.exit(0);
        },
        () => process.exit(1),
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });

program
  .command('config')
  .description('Print every configuration key with its type, default and meaning (Markdown).')
  .action(() => {
    console.log(configReference());
  });

program.addCommand(userCommand());

await program.parseAsync(process.argv);
