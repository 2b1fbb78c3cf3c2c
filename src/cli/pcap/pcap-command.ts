// `parley pcap`: reading capture files (pcap, pcapng) as a VoIP engineer reads them with sngrep and
// tshark. One file per subcommand in this folder; each is added here.
import { Command } from 'commander';
import { pcapStreamsCommand } from './streams-command.js';

export function pcapCommand(): Command {
  const pcap = new Command('pcap')
    .description('Read capture files (pcap, pcapng): SIP calls and their ladders, RTP/SRTP streams, SRTP keys and decryption, WAV, one file per call.')
    .addHelpText('after', '\nEvery subcommand streams the file (constant memory), shows a progress bar on a terminal and takes --json.');
  // subcommands (one line each, in the order of `parley pcap --help`):
  pcap.addCommand(pcapStreamsCommand());
  return pcap;
}
