#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, configFromObject, configReference, loadConfigFile, type ParleyConfig } from '../app/config.js';
import { randomBytes } from 'node:crypto';
import { relative } from 'node:path';
import { parseListenSpec, runServer, type RunningServer } from '../app/run-server.js';
import { userCommand } from './user-command.js';
import { reloadCommand } from './reload-command.js';
import { traceCommand } from './trace-command.js';

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
  .option('-w, --workers <n>', 'SIP worker threads (overrides sip.workers; 0 = one per core, 1 = main thread only)', (v) => {
    if (!/^\d+$/.test(v) || Number(v) > 64) throw new InvalidArgumentError('a number 0-64');
    return Number(v);
  })
  .option('-s, --script <file>', 'routing script (TypeScript or JavaScript; overrides routing.script); see docs/routing.md')
  .option('--demo', 'create two demo users, alice and bob, with random passwords (if they do not exist) and print their credentials')
  .addHelpText('after', '\nExamples:\n  parley serve\n  parley serve --config parley.yaml\n  parley serve --script routes.ts\n  parley serve --listen udp:127.0.0.1:5080 tcp:127.0.0.1:5080 --data-dir /tmp/parley')
  .action(async (opts: { config?: string; dataDir?: string; listen?: string[]; logLevel?: ParleyConfig['log']['level']; demo?: boolean; workers?: number; script?: string }) => {
    let config: ParleyConfig;
    try {
      config = opts.config ? loadConfigFile(opts.config) : configFromObject({});
      config = {
        ...config,
        ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
        log: { ...config.log, level: opts.logLevel ?? config.log.level },
        sip: { ...config.sip, listen: opts.listen ? opts.listen.map(parseListenSpec) : config.sip.listen, workers: opts.workers ?? config.sip.workers },
        routing: { ...config.routing, ...(opts.script === undefined ? {} : { script: opts.script }) },
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
    await printWelcome(server, config, opts.demo === true);
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      server.log.info({ signal }, 'shutting down');
      const force = setTimeout(() => process.exit(1), 5000);
      force.unref();
      server.stop().then(
        () => server.log.flush(() => process.exit(0)),
        () => process.exit(1),
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    // SIGHUP reloads the routing script (the outcome is logged; `parley reload` also prints it)
    process.on('SIGHUP', () => {
      if (!stopping) void server.reload('signal');
    });
  });

/**
 * What a newcomer needs after start: where to register, and how to add users (or, with --demo,
 * two users to try). Written to stderr so that stdout stays JSON log lines.
 */
async function printWelcome(server: RunningServer, config: ParleyConfig, demo: boolean): Promise<void> {
  const domain = server.domain;
  const where = server.listeners.map((l) => `${l.transport} ${l.address}:${l.port}`).join(', ');
  const lines = [`Parley is listening on ${where}; domain ${domain}; data in ${config.dataDir}`];
  if (demo) {
    for (const user of ['alice', 'bob']) {
      const existing = await server.subscribers.get(user, domain);
      if (existing !== undefined) {
        lines.push(`  demo user ${user}@${domain} exists already (change its password: ${selfCommand()} user passwd ${user}@${domain} --data-dir ${config.dataDir})`);
        continue;
      }
      const password = randomBytes(9).toString('base64url');
      await server.subscribers.add({ username: user, domain, password });
      lines.push(`  demo user: username ${user}, password ${password}, domain ${domain}`);
    }
    lines.push(`  register a phone as one of them with server ${domain} and call the other (sip:bob@${domain})`);
  } else if ((await server.subscribers.count()) === 0) {
    lines.push(`  no users yet; add one:  ${selfCommand()} user add alice@${domain} --data-dir ${config.dataDir}`);
    lines.push('  (or restart with --demo to create alice and bob with random passwords)');
  }
  process.stderr.write(lines.join('\n') + '\n');
}

/** How to run this CLI again: `parley` when installed as a command, else `node <path to main.js>`. */
function selfCommand(): string {
  const script = process.argv[1] ?? 'parley';
  if (/(^|[\\/])parley$/.test(script)) return 'parley';
  const rel = relative(process.cwd(), script);
  return `node ${rel.startsWith('..') ? script : rel}`;
}

program
  .command('config')
  .description('Print every configuration key with its type, default and meaning (Markdown).')
  .action(() => {
    console.log(configReference());
  });

program.addCommand(userCommand());
program.addCommand(reloadCommand());
program.addCommand(traceCommand());

await program.parseAsync(process.argv);
