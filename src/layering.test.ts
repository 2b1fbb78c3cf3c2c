/**
 * Imports point one way (docs/architecture.md, "Layers point one way"): each top folder of src may
 * import only the folders its row names, besides itself, Node's built-in modules and packages.
 * A new folder fails this test until it has a row: where it sits is a decision, written here.
 * Test data (`testdata/` folders) and tests are not product code and may reach further.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = dirname(fileURLToPath(import.meta.url));

/** Folder → the other folders it may import. */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  lib: [],
  // protocol libraries: bytes in, typed values out
  sip: ['lib'],
  stun: ['lib'],
  sdp: ['lib'],
  // HEPv3 (Homer's capture protocol): encode, decode, the TCP framer
  hep: ['lib'],
  // capture files (pcap, pcapng) down to UDP and TCP: `parley pcap` reads through it
  pcap: ['lib'],
  store: ['lib', 'sip'],
  // the servers, one per plane; neither imports the other
  'sip-server': ['lib', 'sip', 'stun', 'store'],
  turn: ['lib', 'stun'],
  // the media plane (rtpengine's job): sockets, ICE-lite, DTLS-SRTP, relay, transcoding
  media: ['lib', 'stun', 'sdp'],
  routing: ['lib', 'sip', 'sip-server', 'store'],
  http: ['lib', 'sip-server'],
  web: ['lib', 'store'],
  // the operator's REST API: routes over the Operations facade the composition root implements
  api: ['lib', 'store', 'http'],
  // tools beside the servers, each on one protocol library: they test any server alike
  load: ['lib', 'sip'],
  'turn-check': ['lib', 'stun'],
  // the analysis of captured traffic (issue 19: RTP streams; calls, HEP to come)
  capture: ['lib', 'sip', 'sdp', 'pcap', 'hep'],
  // the HEP collector (`parley hep listen`): listeners, SIP summaries, its own SQLite file
  collector: ['lib', 'hep', 'sip', 'pcap', 'store'],
  // the composition root wires the planes; the command line sits on top
  app: ['lib', 'sip', 'stun', 'sdp', 'hep', 'store', 'sip-server', 'turn', 'media', 'routing', 'http', 'web', 'api', 'collector'],
  cli: ['lib', 'sip', 'stun', 'sdp', 'hep', 'pcap', 'capture', 'store', 'sip-server', 'turn', 'media', 'routing', 'http', 'web', 'api', 'load', 'turn-check', 'app', 'collector'],
};

/**
 * Known exceptions, by file: each says why. `parley/routing/testing` gives script authors a whole
 * SIP core in one process (the default script, a registrar, a proxy), built as a worker builds
 * its own (app/sip-core.ts), so that a script is tested against what runs in production.
 */
const EXCEPTIONS: Readonly<Record<string, readonly string[]>> = {
  [`routing${sep}test-harness.ts`]: ['app'],
};

function productFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'testdata') productFiles(p, out);
    } else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

describe('layering of src (docs/architecture.md)', () => {
  const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());

  it('every top folder has its place in the table', () => {
    assert.deepEqual(
      folders.filter((f) => MAY_IMPORT[f] === undefined),
      [],
      'a new folder of src: add it to MAY_IMPORT with the folders it may import, and to docs/architecture.md',
    );
  });

  it('each folder imports only what its row allows', () => {
    const wrong: string[] = [];
    for (const folder of folders) {
      const allowed = new Set([folder, ...(MAY_IMPORT[folder] ?? [])]);
      for (const file of productFiles(join(SRC, folder))) {
        const rel = relative(SRC, file);
        const extra = EXCEPTIONS[rel] ?? [];
        for (const { fileName: spec } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
          if (!spec.startsWith('.')) continue;
          const target = relative(SRC, resolve(dirname(file), spec)).split(sep)[0]!;
          if (!allowed.has(target) && !extra.includes(target)) wrong.push(`${rel} imports ${spec} (${folder} → ${target})`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('nothing imports the command line, and only the command line imports the tools', () => {
    for (const [folder, may] of Object.entries(MAY_IMPORT)) {
      if (folder !== 'cli') assert.ok(!may.includes('cli'), folder);
      if (folder !== 'cli') assert.ok(!may.includes('load') && !may.includes('turn-check'), folder);
    }
  });
});
