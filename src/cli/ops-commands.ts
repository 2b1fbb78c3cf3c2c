// The operator's commands (what kamcmd and kamctl give): each asks the running server through the
// control socket of its data directory (ops-client.ts) for an operation the REST API offers too.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ScriptCheck, ScriptInfo, StatsSnapshot } from '../api/operations.js';
import { NoServerError } from '../app/control-socket.js';
import { ScriptHost } from '../routing/script-host.js';
import { OpFailed, opsClient, type OpsClient } from './ops-client.js';
import { dataDirOf } from './reload-command.js';
import { formatDuration, formatTable } from './table.js';

interface Where {
  dataDir?: string;
  config?: string;
}
interface Json {
  json?: boolean;
}

/** --data-dir and --config, as `parley reload` finds its server, and --json. */
export function serverCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .option('-d, --data-dir <dir>', 'the server\'s data directory (default: PARLEY_DATA_DIR, else ./parley-data)')
    .option('-c, --config <file>', 'the server\'s configuration file (for its dataDir)')
    .option('--json', 'print the answer as JSON (as the REST API gives it)');
}

export const terminal = (): boolean => process.stdout.isTTY === true;

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

/**
 * Run a command's talk with the server: a refusal or no server is one line on stderr and exit
 * status 1, never a stack trace.
 */
export async function talking(name: string, opts: Where, run: (client: OpsClient) => Promise<void>): Promise<void> {
  let client: OpsClient;
  try {
    client = opsClient(dataDirOf(opts));
  } catch (e) {
    console.error(`parley ${name}: ${(e as Error).message}`);
    process.exitCode = 1;
    return;
  }
  try {
    await run(client);
  } catch (e) {
    const status = e instanceof OpFailed ? ` (${e.status})` : '';
    console.error(`parley ${name}: ${(e as Error).message}${e instanceof OpFailed && e.status === 503 ? '' : status}`);
    process.exitCode = 1;
  }
}

const nonNegative = (what: string) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${what} is a whole number`);
  return n;
};

export function paging(c: Command): Command {
  return c
    .option('--search <text>', 'only those whose text holds this')
    .option('--limit <n>', 'at most this many (default 100, at most 1000)', nonNegative('--limit'))
    .option('--offset <n>', 'skip this many first (paging)', nonNegative('--offset'));
}

export function pageFooter(shown: number, offset: number, total: number, what: string): string {
  if (total === 0) return `no ${what}`;
  return shown === total ? `${total} ${what}` : `${offset + 1}-${offset + shown} of ${total} ${what} (--offset, --limit for more)`;
}

// ---- status ---------------------------------------------------------------------------------

export function statusCommand(): Command {
  return serverCommand('status', 'What the running server is: version, uptime, listeners, SIP workers, routing script, TURN and media, and its counters.')
    .addHelpText('after', '\nExit status: 0 answered; 1 no server answered (the message names the control socket) or it refused.\nThe same as GET /api/v1/status.')
    .action(async (opts: Where & Json) => {
      await talking('status', opts, async (client) => {
        const s = await client.call('server', 'status');
        if (opts.json === true) return print(JSON.stringify(s));
        const lines = [
          `Parley ${s.version}, pid ${s.pid}, Node ${s.node}, up ${formatDuration(s.uptimeSeconds)} (since ${s.startedAt})`,
          `listeners: ${s.listeners.join(', ')}`,
          `SIP workers: ${s.workers === 0 ? 'none (the SIP core runs in the main thread)' : s.workers}; TURN ${s.turn ? 'on' : 'off'}; media ${s.media ? 'on' : 'off'}`,
          `routing script: version ${s.script.version} (${s.script.source})`,
          '',
          statsTable(s.counters),
        ];
        print(lines.join('\n'));
      });
    });
}

const COUNTERS: ReadonlyArray<[keyof StatsSnapshot, string]> = [
  ['requests', 'SIP requests'],
  ['responses', 'SIP responses'],
  ['transactions', 'transactions'],
  ['registrations', 'registrations'],
  ['calls', 'calls'],
  ['callsAnswered', 'calls answered'],
  ['authFailures', 'auth failures'],
  ['blockedSources', 'blocked sources'],
  ['connections', 'connections'],
  ['turnAllocations', 'TURN allocations'],
  ['turnBytes', 'TURN bytes'],
  ['mediaSessions', 'media sessions'],
  ['mediaPackets', 'media packets'],
];

/** The counters, with the rate per second since `previous` when there is one. */
function statsTable(s: StatsSnapshot, previous?: StatsSnapshot): string {
  const seconds = previous === undefined ? 0 : (s.time - previous.time) / 1000;
  const rows = COUNTERS.map(([k, label]) => {
    const v = s[k];
    const row = [label, String(v)];
    if (previous !== undefined) row.push(seconds > 0 ? `${((v - previous[k]) / seconds).toFixed(1)}/s` : '');
    return row;
  });
  return formatTable(previous === undefined ? ['COUNTER', 'VALUE'] : ['COUNTER', 'VALUE', 'RATE'], rows, terminal());
}

// ---- registrations --------------------------------------------------------------------------

export function registrationsCommand(): Command {
  return paging(serverCommand('registrations', 'The registered contacts (bindings): AOR, contact, where the REGISTER came from, seconds left, user agent.'))
    .argument('[aor]', 'only this address of record (sip:alice@example.com)')
    .addHelpText('after', '\nExamples:\n  parley registrations\n  parley registrations sip:alice@example.com --json\n  parley registrations --search Linphone --limit 20\nThe same as GET /api/v1/bindings.')
    .action(async (aor: string | undefined, opts: Where & Json & { search?: string; limit?: number; offset?: number }) => {
      await talking('registrations', opts, async (client) => {
        const page = await client.call('registrar', 'bindings', {
          ...(aor === undefined ? {} : { aor }),
          ...(opts.search === undefined ? {} : { search: opts.search }),
          ...(opts.limit === undefined ? {} : { limit: opts.limit }),
          ...(opts.offset === undefined ? {} : { offset: opts.offset }),
        });
        if (opts.json === true) return print(JSON.stringify(page));
        const rows = page.items.map((b) => [b.aor, b.contact, b.source, `${b.expiresIn}s`, b.userAgent ?? '']);
        if (rows.length > 0) print(formatTable(['AOR', 'CONTACT', 'SOURCE', 'EXPIRES IN', 'USER AGENT'], rows, terminal()));
        if (terminal() || rows.length === 0) console.error(pageFooter(rows.length, page.offset, page.total, 'bindings'));
      });
    });
}

// ---- calls ----------------------------------------------------------------------------------

export function callsCommand(): Command {
  const calls = new Command('calls').description('The calls going through the server now (`parley calls hangup CALL-ID` ends one).');
  calls.addCommand(
    paging(serverCommand('list', 'The calls now: Call-ID, caller, callee, state, duration (the default of `parley calls`).'))
      .addHelpText('after', '\nThe same as GET /api/v1/calls.')
      .action(async (opts: Where & Json & { search?: string; limit?: number; offset?: number }) => {
        await talking('calls', opts, async (client) => {
          const page = await client.call('calls', 'list', {
            ...(opts.search === undefined ? {} : { search: opts.search }),
            ...(opts.limit === undefined ? {} : { limit: opts.limit }),
            ...(opts.offset === undefined ? {} : { offset: opts.offset }),
          });
          if (opts.json === true) return print(JSON.stringify(page));
          const rows = page.items.map((c) => [c.callId, c.caller.uri, c.callee.uri, c.state, formatDuration(c.duration)]);
          if (rows.length > 0) print(formatTable(['CALL-ID', 'FROM', 'TO', 'STATE', 'DURATION'], rows, terminal()));
          if (terminal() || rows.length === 0) console.error(pageFooter(rows.length, page.offset, page.total, 'calls'));
        });
      }),
    { isDefault: true },
  );
  calls.addCommand(
    serverCommand('hangup', 'End a call: BYE to both sides once answered, CANCEL before.')
      .argument('<call-id>', 'the Call-ID (from `parley calls`)')
      .addHelpText('after', '\nExit status: 0 ended; 1 no such call, or no server answered.\nThe same as DELETE /api/v1/calls/{callId}.')
      .action(async (callId: string, opts: Where & Json) => {
        await talking('calls hangup', opts, async (client) => {
          await client.call('calls', 'hangup', callId);
          print(opts.json === true ? JSON.stringify({ ok: true, callId }) : `call ${callId} ended`);
        });
      }),
  );
  return calls;
}

// ---- stats ----------------------------------------------------------------------------------

export function statsCommand(): Command {
  return serverCommand('stats', 'The server\'s counters (summed over the SIP workers); --watch samples them again every few seconds.')
    .addOption(new Option('-w, --watch [seconds]', 'sample again every SECONDS (default 2) until Ctrl-C: a redrawn table with rates on a terminal, one JSON line per sample with --json').argParser((v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0.5 || n > 3600) throw new InvalidArgumentError('seconds between 0.5 and 3600');
      return n;
    }))
    .addHelpText('after', '\nExamples:\n  parley stats\n  parley stats --watch\n  parley stats --watch 10 --json >> samples.jsonl\nThe same as GET /api/v1/stats.')
    .action(async (opts: Where & Json & { watch?: number | true }) => {
      await talking('stats', opts, async (client) => {
        if (opts.watch === undefined) {
          const s = await client.call('metrics', 'stats');
          return print(opts.json === true ? JSON.stringify(s) : statsTable(s));
        }
        const every = opts.watch === true ? 2 : opts.watch;
        let stop = false;
        let wake: (() => void) | undefined;
        const end = (): void => {
          stop = true;
          wake?.();
        };
        process.once('SIGINT', end);
        process.once('SIGTERM', end);
        let previous: StatsSnapshot | undefined;
        try {
          while (!stop) {
            const s = await client.call('metrics', 'stats');
            if (opts.json === true) print(JSON.stringify(s));
            else if (terminal()) process.stdout.write(`\x1b[H\x1b[2J${new Date(s.time).toISOString()}  every ${every} s, Ctrl-C ends\n\n${statsTable(s, previous)}\n`);
            else print(`${new Date(s.time).toISOString()}\n${statsTable(s, previous)}\n`);
            previous = s;
            await new Promise<void>((resolve) => {
              // the timer keeps the process alive between samples; Ctrl-C clears it
              const timer = setTimeout(resolve, every * 1000);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
              if (stop) wake();
            });
          }
        } finally {
          process.off('SIGINT', end);
          process.off('SIGTERM', end);
        }
      });
    });
}

// ---- script ---------------------------------------------------------------------------------

function describeInfo(i: ScriptInfo, verb: string): string {
  return `routing script version ${i.version} ${verb} (${i.source})`;
}

function readScript(name: string, file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    console.error(`parley script ${name}: cannot read ${file}: ${(e as Error).message}`);
    process.exitCode = 1;
    return undefined;
  }
}

/** Check a script here, without a server (a scratch directory, removed after). */
export async function checkLocally(code: string, name: string): Promise<ScriptCheck> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-script-check-'));
  try {
    const c = await new ScriptHost({ outDir: dir, watch: false }).check(code, name);
    if (c.ok) return { ok: true, errors: [] };
    const at = c.error.location;
    return { ok: false, errors: [{ message: c.error.message, ...(at === undefined ? {} : { line: at.line, column: at.column }) }] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function scriptCommand(): Command {
  const script = new Command('script').description('The routing script of the running server: show, check, activate a file, roll back.');
  script.addCommand(
    serverCommand('show', 'The active routing script version, its file, and the versions of this run that `rollback` can go back to.')
      .addHelpText('after', '\nThe same as GET /api/v1/script.')
      .action(async (opts: Where & Json) => {
        await talking('script show', opts, async (client) => {
          const i = await client.call('script', 'info');
          if (opts.json === true) return print(JSON.stringify(i));
          const lines = [`version ${i.version} active since ${i.activatedAt}: ${i.source}`];
          if (i.history.length > 0) lines.push('', formatTable(['VERSION', 'ACTIVATED', 'SOURCE'], i.history.map((h) => [String(h.version), h.activatedAt, h.source]), terminal(), 200));
          print(lines.join('\n'));
        });
      }),
  );
  script.addCommand(
    serverCommand('check', 'Compile and load a routing script without activating it: the running server checks it (with its own Parley), else it is checked here.')
      .argument('<file>', 'the script (TypeScript or JavaScript; one file: its relative imports are not uploaded)')
      .addHelpText('after', '\nExit status: 0 it would load; 1 it would be refused (the error names FILE:line:column), or FILE cannot be read.\nThe same as POST /api/v1/script/check.')
      .action(async (file: string, opts: Where & Json) => {
        const code = readScript('check', file);
        if (code === undefined) return;
        await talking('script check', opts, async (client) => {
          let result: ScriptCheck;
          let where = 'the running server';
          try {
            result = await client.call('script', 'check', code, file);
          } catch (e) {
            if (!(e instanceof NoServerError)) throw e;
            result = await checkLocally(code, file);
            where = 'here (no server answered)';
          }
          if (opts.json === true) print(JSON.stringify(result));
          else if (result.ok) print(`${file}: ok (checked by ${where})`);
          else for (const err of result.errors) console.error(`parley script check: ${err.message}`);
          if (!result.ok) process.exitCode = 1;
        });
      }),
  );
  script.addCommand(
    serverCommand('activate', 'Upload a routing script to the running server and switch every SIP core to it (kept in <data-dir>/routing/uploaded/); a script that does not load is refused and the running one stays.')
      .argument('<file>', 'the script (one file: its relative imports are not uploaded)')
      .addHelpText('after', '\nExit status: 0 active; 1 refused (the error names line and column; the running version keeps serving) or no server answered.\nA change to the configured script file (routing.script, watched) replaces the upload again; `parley script rollback` goes back.\nThe same as PUT /api/v1/script.')
      .action(async (file: string, opts: Where & Json) => {
        const code = readScript('activate', file);
        if (code === undefined) return;
        await talking('script activate', opts, async (client) => {
          const i = await client.call('script', 'upload', code);
          print(opts.json === true ? JSON.stringify(i) : `${describeInfo(i, 'active on every SIP core')}, from ${basename(file)}`);
        });
      }),
  );
  script.addCommand(
    serverCommand('rollback', 'Switch every SIP core back to an earlier version of this run (default: the one before the active one), as a new version number.')
      .argument('[version]', 'the version to go back to (see `parley script show`)', nonNegative('version'))
      .addHelpText('after', '\nExit status: 0 rolled back; 1 no such version, or no server answered.\nThe same as POST /api/v1/script/rollback.')
      .action(async (version: number | undefined, opts: Where & Json) => {
        await talking('script rollback', opts, async (client) => {
          const i = version === undefined ? await client.call('script', 'rollback') : await client.call('script', 'rollback', version);
          print(opts.json === true ? JSON.stringify(i) : describeInfo(i, 'active on every SIP core'));
        });
      }),
  );
  return script;
}
