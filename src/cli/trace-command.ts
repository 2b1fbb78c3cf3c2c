import { join } from 'node:path';
import { Command } from 'commander';
import { formatTrace, listTraces, readTraces } from '../routing/trace-store.js';
import { dataDirOf } from './reload-command.js';

/**
 * `parley trace list` and `parley trace show CALL-ID`: the reports of traced test calls
 * (routing.traceCallIdPrefix), read from `<data-dir>/traces/`.
 */
export function traceCommand(): Command {
  const trace = new Command('trace').description('Read the traces of test calls (Call-IDs that start with routing.traceCallIdPrefix).');
  const where = (c: Command): Command =>
    c.option('-d, --data-dir <dir>', 'the server\'s data directory (default ./parley-data)').option('-c, --config <file>', 'the server\'s configuration file (for its dataDir)');

  where(trace.command('list').description('Traced calls, newest first: Call-ID, requests traced, last change.')).action(async (opts: { dataDir?: string; config?: string }) => {
    const dir = join(dataDirOf(opts), 'traces');
    const calls = await listTraces(dir);
    if (calls.length === 0) {
      console.log(`no traced calls in ${dir}`);
      return;
    }
    for (const c of calls) console.log(`${c.modified.toISOString()}  ${String(c.requests).padStart(3)} request${c.requests === 1 ? ' ' : 's'}  ${c.callId}`);
  });

  where(trace.command('show').argument('<call-id>', 'the Call-ID of the traced call').description('Every request of a traced call: the routing steps (handler, action, arguments, result), dumped variables and the messages sent, with times.'))
    .option('--json', 'the reports as JSON (an array, one per request)')
    .action(async (callId: string, opts: { dataDir?: string; config?: string; json?: boolean }) => {
      const dir = join(dataDirOf(opts), 'traces');
      const reports = await readTraces(dir, callId);
      if (reports.length === 0) {
        console.error(`parley trace: no trace of call ${callId} in ${dir} (see parley trace list)`);
        process.exitCode = 1;
        return;
      }
      if (opts.json === true) console.log(JSON.stringify(reports, null, 2));
      else console.log(reports.map(formatTrace).join('\n\n'));
    });
  return trace;
}
