// `parley pcap`: reading capture files (pcap, pcapng) as a VoIP engineer reads them with sngrep and
// tshark. One file per subcommand in this folder; each is added here.
import { Command } from 'commander';
import { callsCommand } from './calls-command.js';
import { ladderCommand } from './ladder-command.js';
import { wavCommand } from './wav-command.js';
import { splitCommand } from './split-command.js';
import { pcapCryptoCommand } from './pcap-crypto-command.js';
import { pcapDecryptCommand } from './pcap-decrypt-command.js';
import { pcapStreamsCommand } from './streams-command.js';

export function pcapCommand(): Command {
  const pcap = new Command('pcap')
    .description('Read capture files (pcap, pcapng): SIP calls and their ladders, RTP/SRTP streams, SRTP keys and decryption, WAV, one file per call.')
    .addHelpText('after', '\nEvery subcommand streams the file (constant memory), shows a progress bar on a terminal and takes --json.');
  // subcommands (one line each, in the order of `parley pcap --help`):
  pcap.addCommand(callsCommand());
  pcap.addCommand(ladderCommand());
  pcap.addCommand(pcapStreamsCommand());
  pcap.addCommand(wavCommand());
  pcap.addCommand(splitCommand());
  pcap.addCommand(pcapCryptoCommand());
  pcap.addCommand(pcapDecryptCommand());
  return pcap;
}
