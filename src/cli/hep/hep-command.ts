// `parley hep`: a small HEP (Homer) collector and its export. One file per subcommand in this
// folder; each is added here.
import { Command } from 'commander';

export function hepCommand(): Command {
  const hep = new Command('hep').description('HEP (Homer Encapsulation Protocol) capture: collect what SIP servers send, export it as pcap.');
  // subcommands (one line each, in the order of `parley hep --help`):
  return hep;
}
