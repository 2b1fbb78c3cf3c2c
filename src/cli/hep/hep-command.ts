// `parley hep`: a small HEP (Homer) collector and its export. One file per subcommand in this
// folder; each is added here.
import { Command } from 'commander';
import { hepListenCommand } from './hep-listen-command.js';
import { hepExportCommand } from './hep-export-command.js';

export function hepCommand(): Command {
  const hep = new Command('hep').description('HEP (Homer Encapsulation Protocol) capture: collect what SIP servers send, export it as pcap.');
  // subcommands (one line each, in the order of `parley hep --help`):
  hep.addCommand(hepListenCommand());
  hep.addCommand(hepExportCommand());
  return hep;
}
