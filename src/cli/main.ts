#!/usr/bin/env node
// The `parley` command (package.json "bin"). It runs on whatever `node` comes first on PATH: check
// that Node first, with nothing loaded but node:fs, then load the program (program.ts), whose
// imports need the newer Node.
import { readFileSync } from 'node:fs';
import { nodeTooOld } from './node-version.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines?: { node?: string } };
const tooOld = nodeTooOld(process.version, pkg.engines?.node, process.execPath);
if (tooOld !== undefined) {
  process.stderr.write(tooOld + '\n');
  process.exit(1);
}
await import('./program.js');
