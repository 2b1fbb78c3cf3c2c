// `parley captures [CALL-ID]`: the calls the running server's HEP collector (`hep.listen`) stored,
// and one call's messages, through the control socket as the dashboard's Captured view gets them.
import { Command } from 'commander';
import type { CapturedCall } from '../api/operations.js';
import { pageFooter, paging, print, serverCommand, talking, terminal } from './ops-commands.js';
import { formatTable } from './table.js';

/** One line per message, as the ladder orders them: time since the first, source → destination (transport:address:port), method or status. */
export function formatCapturedCall(call: CapturedCall): string {
  const arrows = call.ladder.arrows;
  const width = Math.max(0, ...arrows.map((a) => a.from.length));
  return [
    `${call.callId}: ${arrows.length} SIP message${arrows.length === 1 ? '' : 's'}`,
    ...arrows.map((a) => `${`+${a.t.toFixed(1)} ms`.padStart(12)}  ${a.from.padStart(width)} → ${a.to}  ${a.label}`),
  ].join('\n');
}

export function capturesCommand(): Command {
  return paging(serverCommand('captures', 'Calls captured over HEP by the server\'s collector (hep.listen), the latest first; with a CALL-ID, that call\'s messages in order.'))
    .argument('[call-id]', 'a Call-ID (from `parley captures`)')
    .addHelpText('after', '\nExit status: 0 answered; 1 no such call, no collector (hep.listen unset) or no server answered.\nThe same as GET /api/v1/captures and GET /api/v1/captures/{callId}.')
    .action(async (callId: string | undefined, opts: { dataDir?: string; config?: string; json?: boolean; search?: string; limit?: number; offset?: number }) => {
      await talking('captures', opts, async (client) => {
        if (callId !== undefined) {
          const call = await client.call('captures', 'get', callId);
          return print(opts.json === true ? JSON.stringify(call) : formatCapturedCall(call));
        }
        const page = await client.call('captures', 'list', {
          ...(opts.search === undefined ? {} : { search: opts.search }),
          ...(opts.limit === undefined ? {} : { limit: opts.limit }),
          ...(opts.offset === undefined ? {} : { offset: opts.offset }),
        });
        if (opts.json === true) return print(JSON.stringify(page));
        const rows = page.items.map((c) => [c.callId, c.from ?? '', c.to ?? '', String(c.messages), c.lastAt]);
        if (rows.length > 0) print(formatTable(['CALL-ID', 'FROM', 'TO', 'MESSAGES', 'LAST'], rows, terminal()));
        if (terminal() || rows.length === 0) console.error(pageFooter(rows.length, page.offset, page.total, 'captured calls'));
      });
    });
}
