// The `parley` command line (commander): loaded by main.ts once it has checked the Node version.
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, keyOnly, readConfigEnv, readConfigFile, type ConfigLocator, type HttpListenConfig, type ListenConfig, type ParleyConfig } from '../app/config.js';
import { randomBytes } from 'node:crypto';
import { relative } from 'node:path';
import { isHttpListen, parseListenSpec, runServer, type RunningServer } from '../app/run-server.js';
import { loadCommand } from './load-command.js';
import { userCommand } from './user-command.js';
import { tokenCommand } from './token-command.js';
import { reloadCommand } from './reload-command.js';
import { traceCommand } from './trace-command.js';
import { capturesCommand } from './captures-command.js';
import { turnCheckCommand } from './turn-check-command.js';
import { configCommand } from './config-command.js';
import { pcapCommand } from './pcap/pcap-command.js';
import { hepCommand } from './hep/hep-command.js';
import { callsCommand, registrationsCommand, scriptCommand, statsCommand, statusCommand } from './ops-commands.js';
import { ServeSignals, startedInTerminal } from './serve-signals.js';

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
  .option('-l, --listen <spec...>', 'listeners, replacing the configured ones (SIP and HTTP): transport:address:port[;noauth], e.g. udp:0.0.0.0:5060 tls:[::]:5061 wss:0.0.0.0:8443 ws:127.0.0.1:8080')
  .addOption(new Option('--log-level <level>', 'log level (overrides log.level)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .option('-w, --workers <n>', 'SIP worker threads (overrides sip.workers): auto = one per core, 0 = all SIP work in the main thread', (v) => {
    if (v === 'auto') return -1;
    if (!/^\d+$/.test(v) || Number(v) > 64) throw new InvalidArgumentError('auto or a number 0-64');
    return Number(v);
  })
  .option('-s, --script <file>', 'routing script (TypeScript or JavaScript; overrides routing.script); see docs/routing.md')
  .option('--demo', 'create two demo users, alice and bob, with random passwords (if they do not exist) and print their credentials')
  .addHelpText('after', '\nExamples:\n  parley serve\n  parley serve --config parley.yaml\n  parley serve --script routes.ts\n  parley serve --listen udp:127.0.0.1:5080 tcp:127.0.0.1:5080 --data-dir /tmp/parley')
  .action(async (opts: { config?: string; dataDir?: string; listen?: string[]; logLevel?: ParleyConfig['log']['level']; demo?: boolean; workers?: number; script?: string }) => {
    let config: ParleyConfig;
    let locate: ConfigLocator = keyOnly;
    // the configuration as the server runs it: the file < PARLEY_… environment variables < the
    // command line (read again, the same way, by a configuration reload: SIGHUP, `parley reload`)
    const effective = (): { config: ParleyConfig; locate: ConfigLocator } => {
      const read = opts.config ? readConfigFile(opts.config, process.env) : readConfigEnv(process.env);
      const fromFile = read.config;
      // --listen replaces every listener, SIP and HTTP: only what is named opens
      const listen = opts.listen?.map(parseListenSpec);
      return {
        locate: commandLineLocator(read.locate, opts, listen),
        config: {
          ...fromFile,
          ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
          log: { ...fromFile.log, level: opts.logLevel ?? fromFile.log.level },
          sip: { ...fromFile.sip, listen: listen ? listen.filter((l) => !isHttpListen(l)) : fromFile.sip.listen, workers: opts.workers ?? fromFile.sip.workers },
          http: { ...fromFile.http, listen: listen ? listen.filter(isHttpListen) : fromFile.http.listen },
          routing: { ...fromFile.routing, ...(opts.script === undefined ? {} : { script: opts.script }) },
        },
      };
    };
    try {
      ({ config, locate } = effective());
    } catch (e) {
      if (e instanceof ConfigError) {
        console.error(`parley: bad configuration: ${e.message}`);
        process.exit(2);
      }
      console.error(`parley: ${(e as Error).message}`);
      process.exit(2);
    }
    // the handlers come before the server: "Parley is ready" may reach a supervisor (or a test)
    // that stops Parley at once, before this thread has run another line; a signal that arrives
    // while the server starts stops it as soon as it is up
    const signals = new ServeSignals({ foreground: startedInTerminal() });
    signals.install();
    // a closed terminal or a gone reader of a pipe: a failed write to stderr (the welcome lines)
    // is no reason to stop serving; the log stream on fd 1 mutes itself (src/app/logger.ts), and
    // process.stdout is left unmade (making it would change fd 1's mode under the logger)
    process.stderr.on('error', () => {});
    let server: RunningServer;
    // --demo: alice and bob are made before the ready line, which counts them
    let demoUsers: DemoUser[] = [];
    try {
      const file = opts.config;
      server = await runServer(config, undefined, {
        locate,
        ...(file === undefined ? {} : { reread: () => ({ ...effective(), file }) }),
        ...(opts.demo === true
          ? {
              beforeReady: async ({ subscribers, domain }) => {
                demoUsers = await createDemoUsers(subscribers, domain);
              },
            }
          : {}),
      });
    } catch (e) {
      console.error(`parley: could not start: ${(e as Error).message}`);
      process.exit(1);
    }
    signals.started(server);
    if (signals.stopRequested) return;
    await printWelcome(server, config, opts.demo === true ? demoUsers : undefined);
  });

/** A demo user: made now (with its password), or there from an earlier start. */
interface DemoUser {
  readonly user: 'alice' | 'bob';
  readonly other: 'alice' | 'bob';
  readonly password?: string;
}

/** alice and bob with random passwords, unless they exist. */
async function createDemoUsers(subscribers: RunningServer['subscribers'], domain: string): Promise<DemoUser[]> {
  const out: DemoUser[] = [];
  for (const [user, other] of [['alice', 'bob'], ['bob', 'alice']] as const) {
    if ((await subscribers.get(user, domain)) !== undefined) {
      out.push({ user, other });
      continue;
    }
    const password = randomBytes(9).toString('base64url');
    await subscribers.add({ username: user, domain, password });
    out.push({ user, other, password });
  }
  return out;
}

/**
 * What a newcomer needs after start: where to register, and how to add users (or, with --demo,
 * two users to try). Written to stderr so that stdout stays JSON log lines.
 */
async function printWelcome(server: RunningServer, config: ParleyConfig, demo: readonly DemoUser[] | undefined): Promise<void> {
  const domain = server.domain;
  const where = server.listeners.map((l) => `${l.transport} ${l.address}:${l.port}`).join(', ');
  const lines = [`Parley is listening on ${where}; domain ${domain}; data in ${config.dataDir}`];
  const ws = server.listeners.filter((l) => l.transport === 'wss' || l.transport === 'ws');
  if (ws.length > 0) {
    const urls = ws.map((l) => `${l.transport}://${l.address === '0.0.0.0' || l.address === '::' ? domain : l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}${config.http.sipPaths[0] ?? '/sip'}`);
    lines.push(`  browsers (JsSIP, SIP.js): WebSocket server ${urls.join(' or ')}`);
  }
  // the browser phone, on the first HTTPS listener (else the first plain one, fine for localhost)
  const web = server.listeners.find((l) => l.transport === 'wss') ?? server.listeners.find((l) => l.transport === 'ws');
  const phone = web === undefined ? undefined : `${web.transport === 'wss' ? 'https' : 'http'}://${web.address === '0.0.0.0' || web.address === '::' ? 'localhost' : web.address.includes(':') ? `[${web.address}]` : web.address}:${web.port}/phone`;
  if (phone !== undefined) lines.push(`  browser phone: ${phone}`);
  if (phone !== undefined && config.api.enabled) {
    const base = phone.slice(0, -'/phone'.length);
    lines.push(`  dashboard: ${base}/dashboard · REST API: ${base}/api/docs · Prometheus: ${base}/metrics`);
    lines.push(`    (an API token: ${selfCommand()} token create --name me --scope admin --data-dir ${config.dataDir})`);
  }
  if (server.turn !== undefined) {
    const turn = server.turn.listeners.map((l) => `${l.transport} ${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}`).join(', ');
    lines.push(`  STUN/TURN: ${turn} (realm ${server.turn.realm}; subscribers log in with their SIP password)`);
  }
  if (demo !== undefined) {
    const links: string[] = [];
    for (const { user, other, password } of demo) {
      // a demo link carries the password after # (never sent to the server; the page removes it)
      const link = (password?: string): string => `${phone}?username=${user}&target=${other}&autoregister=1${password === undefined ? '' : `#password=${encodeURIComponent(password)}`}`;
      if (password === undefined) {
        lines.push(`  demo user ${user}@${domain} exists already (change its password: ${selfCommand()} user passwd ${user}@${domain} --data-dir ${config.dataDir})`);
        if (phone !== undefined) links.push(`    ${user}: ${link()}  (type the password)`);
        continue;
      }
      lines.push(`  demo user: username ${user}, password ${password}, domain ${domain}`);
      if (phone !== undefined) links.push(`    ${user}: ${link(password)}`);
    }
    lines.push(`  register a phone as one of them with server ${domain} and call the other (sip:bob@${domain})`);
    if (links.length > 0) {
      lines.push('  or open these two links in two browser tabs (accept the development certificate once), then call:', ...links);
    }
  } else if ((await server.subscribers.count()) === 0) {
    lines.push(`  no users yet; add one:  ${selfCommand()} user add alice@${domain} --data-dir ${config.dataDir}`);
    lines.push('  (or restart with --demo to create alice and bob with random passwords)');
  }
  process.stderr.write(lines.join('\n') + '\n');
}

/**
 * Where a key of the running configuration came from: the command-line option that replaced it
 * (`--listen SPEC` for the listener it made, `--data-dir`, `--script`), else the file (`fromFile`).
 */
function commandLineLocator(
  fromFile: ConfigLocator,
  opts: { dataDir?: string; listen?: string[]; script?: string },
  listen: ReadonlyArray<ListenConfig | HttpListenConfig> | undefined,
): ConfigLocator {
  const specs = opts.listen ?? [];
  const sipSpecs = specs.filter((_, i) => !isHttpListen(listen![i]!));
  const httpSpecs = specs.filter((_, i) => isHttpListen(listen![i]!));
  return (path) => {
    if (listen !== undefined && path[1] === 'listen' && (path[0] === 'sip' || path[0] === 'http')) {
      const spec = (path[0] === 'sip' ? sipSpecs : httpSpecs)[path[2] as number];
      return spec === undefined ? '--listen' : `--listen ${spec}`;
    }
    if (path[0] === 'dataDir' && opts.dataDir !== undefined) return `--data-dir ${opts.dataDir}`;
    if (path[0] === 'routing' && path[1] === 'script' && opts.script !== undefined) return `--script ${opts.script}`;
    return fromFile(path);
  };
}

/**
 * How to run this CLI again: `npx parley` when run by npx (a local install: `parley` alone is not
 * on the shell's PATH), `parley` when installed as a command, else `node <path to main.js>`.
 */
function selfCommand(): string {
  const script = process.argv[1] ?? 'parley';
  if (/(^|[\\/])parley$/.test(script)) return process.env.npm_command === 'exec' ? 'npx parley' : 'parley';
  const rel = relative(process.cwd(), script);
  return `node ${rel.startsWith('..') ? script : rel}`;
}


program.addCommand(userCommand());
program.addCommand(tokenCommand());
program.addCommand(loadCommand());
program.addCommand(reloadCommand());
program.addCommand(traceCommand());
program.addCommand(turnCheckCommand());
program.addCommand(configCommand());
program.addCommand(statusCommand());
program.addCommand(registrationsCommand());
program.addCommand(callsCommand());
program.addCommand(statsCommand());
program.addCommand(scriptCommand());
program.addCommand(pcapCommand());
program.addCommand(hepCommand());
program.addCommand(capturesCommand());

await program.parseAsync(process.argv);
